import { describe, expect, it } from "vitest";
import {
  applyConfigChange,
  type ConfigChange,
  type Configuration,
  configChangeInEffect,
  configChangeProblem,
  emptyConfiguration,
  initialConfiguration,
  isQuorum,
  memberKey,
  parseMemberKey,
  quorumSize,
} from "./configuration.ts";

const config = (voters: string[], rest: Partial<Configuration> = {}): Configuration => ({
  voters,
  learners: [],
  fenced: [],
  evicted: [],
  ...rest,
});

describe("member keys", () => {
  it("round-trip name and incarnation, and reject malformed keys", () => {
    expect(memberKey({ name: "orders-0", incarnation: "ab12" })).toBe("orders-0#ab12");
    expect(parseMemberKey("orders-0#ab12")).toEqual({ name: "orders-0", incarnation: "ab12" });
    expect(parseMemberKey("a#b#c")).toEqual({ name: "a#b", incarnation: "c" });
    for (const bad of ["", "#x", "x#", "plain"])
      expect(() => parseMemberKey(bad)).toThrow(/not a member key/);
  });
});

describe("quorums", () => {
  it("are strict majorities", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(quorumSize)).toEqual([1, 2, 2, 3, 3, 4, 4]);
    const four = config(["a#1", "b#1", "c#1", "d#1"]);
    expect(isQuorum(four, new Set(["a#1", "b#1"]))).toBe(false);
    expect(isQuorum(four, new Set(["a#1", "b#1", "c#1"]))).toBe(true);
    // Acknowledgements from non-voters never count.
    expect(isQuorum(four, new Set(["a#1", "b#1", "x#1", "y#1"]))).toBe(false);
  });
});

describe("initialConfiguration", () => {
  it("sorts voters and rejects duplicates, empty lists and bad keys", () => {
    expect(initialConfiguration(["c#1", "a#1", "b#1"]).voters).toEqual(["a#1", "b#1", "c#1"]);
    expect(() => initialConfiguration(["a#1", "a#1"])).toThrow(/twice/);
    expect(() => initialConfiguration([])).toThrow(/at least one voter/);
    expect(() => initialConfiguration(["nokey"])).toThrow(/not a member key/);
  });
});

describe("configuration changes", () => {
  const three = config(["a#1", "b#1", "c#1"]);

  it("add a learner, promote it, fence, unfence, remove and evict", () => {
    let current = applyConfigChange(three, { type: "addLearner", member: "d#1" });
    expect(current).toEqual(config(["a#1", "b#1", "c#1"], { learners: ["d#1"] }));
    current = applyConfigChange(current, { type: "promote", member: "d#1" });
    expect(current).toEqual(config(["a#1", "b#1", "c#1", "d#1"]));
    current = applyConfigChange(current, { type: "fence", member: "b#1" });
    expect(current.fenced).toEqual(["b#1"]);
    current = applyConfigChange(current, { type: "unfence", member: "b#1" });
    expect(current.fenced).toEqual([]);
    current = applyConfigChange(current, { type: "fence", member: "c#1" });
    current = applyConfigChange(current, { type: "remove", member: "c#1" });
    expect(current).toEqual(config(["a#1", "b#1", "d#1"]));
    current = applyConfigChange(current, { type: "evict", member: "d#1" });
    expect(current).toEqual(config(["a#1", "b#1"], { evicted: ["d#1"] }));
  });

  it("evicts a learner and a fenced member too, and bans the incarnation for good", () => {
    const withLearner = config(["a#1", "b#1", "c#1"], { learners: ["d#1"], fenced: ["d#1"] });
    const evicted = applyConfigChange(withLearner, { type: "evict", member: "d#1" });
    expect(evicted).toEqual(config(["a#1", "b#1", "c#1"], { evicted: ["d#1"] }));
    expect(configChangeProblem(evicted, { type: "addLearner", member: "d#1" })).toBe(
      "d#1 was evicted; a new incarnation must join instead",
    );
    expect(configChangeProblem(evicted, { type: "evict", member: "d#1" })).toBe("d#1 is already evicted");
    expect(configChangeProblem(evicted, { type: "addLearner", member: "d#2" })).toBeUndefined();
  });

  it("explains every change it refuses", () => {
    const cases: [Configuration, Parameters<typeof configChangeProblem>[1], string][] = [
      [three, { type: "addLearner", member: "bad" }, 'not a member key: "bad"'],
      [
        three,
        { type: "addLearner", member: "a#2" },
        "a member named a already exists (a#1); remove or evict it first",
      ],
      [three, { type: "promote", member: "d#1" }, "d#1 is not a learner"],
      [three, { type: "remove", member: "d#1" }, "d#1 is not a member"],
      [config(["a#1"]), { type: "remove", member: "a#1" }, "a#1 is the last voter"],
      [config(["a#1"]), { type: "evict", member: "a#1" }, "a#1 is the last voter"],
      [
        config(["a#1", "b#1"], { fenced: ["b#1"] }),
        { type: "remove", member: "a#1" },
        "removing a#1 would leave no voter that may lead",
      ],
      [three, { type: "fence", member: "d#1" }, "d#1 is not a member"],
      [
        config(["a#1", "b#1", "c#1"], { fenced: ["a#1"] }),
        { type: "fence", member: "a#1" },
        "a#1 is already fenced",
      ],
      [
        config(["a#1", "b#1", "c#1"], { fenced: ["a#1"] }),
        { type: "fence", member: "b#1" },
        "fencing b#1 would leave fewer unfenced voters than a quorum",
      ],
      [three, { type: "unfence", member: "a#1" }, "a#1 is not fenced"],
    ];
    for (const [configuration, change, reason] of cases) {
      expect(configChangeProblem(configuration, change), `${change.type} ${change.member}`).toBe(reason);
      expect(() => applyConfigChange(configuration, change)).toThrow(reason);
    }
  });

  it("allows fencing a learner and removing a fenced voter", () => {
    const withLearner = config(["a#1", "b#1", "c#1"], { learners: ["d#1"] });
    expect(configChangeProblem(withLearner, { type: "fence", member: "d#1" })).toBeUndefined();
    const fenced = config(["a#1", "b#1", "c#1"], { fenced: ["c#1"] });
    expect(applyConfigChange(fenced, { type: "remove", member: "c#1" })).toEqual(config(["a#1", "b#1"]));
    expect(applyConfigChange(withLearner, { type: "remove", member: "d#1" })).toEqual(three);
  });
});

describe("configurations", () => {
  it("the empty configuration, of a member that joins, has no one in it", () => {
    expect(emptyConfiguration).toEqual({ voters: [], learners: [], fenced: [], evicted: [] });
    expect(initialConfiguration(["b#1", "a#1"])).toEqual({
      voters: ["a#1", "b#1"],
      learners: [],
      fenced: [],
      evicted: [],
    });
  });

  it("keep every list sorted", () => {
    const withLearner = applyConfigChange(config(["a#1", "b#1"]), { type: "addLearner", member: "d#1" });
    expect(applyConfigChange(withLearner, { type: "addLearner", member: "c#1" }).learners).toEqual([
      "c#1",
      "d#1",
    ]);
  });

  it("an incarnation that was never a member may be evicted ahead of time; removing it is refused", () => {
    const three = config(["a#1", "b#1", "c#1"]);
    expect(applyConfigChange(three, { type: "evict", member: "x#1" })).toEqual(
      config(["a#1", "b#1", "c#1"], { evicted: ["x#1"] }),
    );
    const evicted = config(["a#1", "b#1", "c#1"], { evicted: ["x#1"] });
    expect(configChangeProblem(evicted, { type: "remove", member: "x#1" })).toBe("x#1 is not a member");
  });

  it("removing one of two unfenced voters, or a learner, leaves a voter that may lead", () => {
    expect(applyConfigChange(config(["a#1", "b#1"]), { type: "remove", member: "a#1" })).toEqual(
      config(["b#1"]),
    );
    const oneMayLead = config(["a#1", "b#1"], { fenced: ["b#1"], learners: ["d#1"] });
    expect(configChangeProblem(oneMayLead, { type: "remove", member: "d#1" })).toBeUndefined();
  });
});

describe("configChangeInEffect", () => {
  // a, b, c vote (c fenced); d learns; x#1 was evicted; y#1 was never a member.
  const current = config(["a#1", "b#1", "c#1"], { learners: ["d#1"], fenced: ["c#1"], evicted: ["x#1"] });
  type Verdict = "applied" | "not applied" | "invalid";
  const cases: [ConfigChange["type"], string, Verdict][] = [
    ["addLearner", "d#1", "applied"],
    ["addLearner", "a#1", "applied"],
    ["addLearner", "y#1", "not applied"],
    ["addLearner", "d#2", "invalid"],
    ["addLearner", "a#2", "invalid"],
    ["addLearner", "x#1", "invalid"],
    ["promote", "a#1", "applied"],
    ["promote", "c#1", "applied"],
    ["promote", "d#1", "not applied"],
    ["promote", "y#1", "invalid"],
    ["promote", "x#1", "invalid"],
    ["promote", "a#2", "invalid"],
    ["remove", "y#1", "applied"],
    ["remove", "x#1", "applied"],
    ["remove", "a#2", "applied"],
    ["remove", "b#1", "not applied"],
    ["remove", "d#1", "not applied"],
    ["evict", "x#1", "applied"],
    ["evict", "y#1", "not applied"],
    ["evict", "d#1", "not applied"],
    ["fence", "c#1", "applied"],
    ["fence", "d#1", "not applied"],
    ["fence", "a#1", "invalid"],
    ["fence", "y#1", "invalid"],
    ["fence", "x#1", "invalid"],
    ["unfence", "a#1", "applied"],
    ["unfence", "d#1", "applied"],
    ["unfence", "c#1", "not applied"],
    ["unfence", "y#1", "invalid"],
    ["unfence", "x#1", "invalid"],
  ];

  // Every change in effect is one that configChangeProblem refuses: the leader asks
  // configChangeInEffect first, so a retried call succeeds instead.
  it.each(cases)("%s %s is %s", (type, member, verdict) => {
    const change = { type, member } as ConfigChange;
    const inEffect = configChangeInEffect(current, change);
    const problem = configChangeProblem(current, change);
    expect({ inEffect, allowed: problem === undefined }).toEqual({
      inEffect: verdict === "applied",
      allowed: verdict === "not applied",
    });
  });

  it("covers every change type, and a change just applied is in effect", () => {
    const types = new Set(cases.map(([type]) => type));
    expect([...types].sort()).toEqual(["addLearner", "evict", "fence", "promote", "remove", "unfence"]);
    for (const [type, member, verdict] of cases) {
      if (verdict !== "not applied") continue;
      const change = { type, member } as ConfigChange;
      expect(configChangeInEffect(applyConfigChange(current, change), change), `${type} ${member}`).toBe(
        true,
      );
    }
  });

  it("a malformed key is never in effect", () => {
    for (const type of ["addLearner", "promote", "remove", "evict", "fence", "unfence"] as const)
      expect(configChangeInEffect(current, { type, member: "bad" })).toBe(false);
  });
});
