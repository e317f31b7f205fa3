import { describe, expect, it } from "vitest";
import type { PaxosMemberStatus } from "./builders/index.ts";
import {
  assessMembers,
  laggingThresholdEntries,
  type MemberProbe,
  type MemberReport,
  parseMemberReport,
  withNodes,
} from "./members.ts";

const now = "2026-01-01T00:01:00Z";
const voters = ["orders-0#a0", "orders-1#b1", "orders-2#c2"];

const report = (name: string, overrides: Partial<MemberReport> = {}): MemberReport => {
  const key = voters.find((candidate) => candidate.startsWith(`${name}#`)) ?? `${name}#new`;
  return {
    member: key,
    name,
    incarnation: key.slice(key.indexOf("#") + 1),
    role: name === "orders-0" ? "leader" : "follower",
    leader: "orders-0#a0",
    fenced: false,
    evicted: false,
    committedIndex: 500,
    appliedIndex: 500,
    configuration: { voters, learners: [], fenced: [], evicted: [] },
    peers: [],
    ...overrides,
  };
};
const ok = (r: MemberReport): MemberProbe => ({ pod: r.name, ok: true, report: r });
const down = (pod: string, error = "connect ECONNREFUSED"): MemberProbe => ({ pod, ok: false, error });

describe("parseMemberReport", () => {
  const body = {
    member: "orders-1#b1",
    name: "orders-1",
    incarnation: "b1",
    role: "follower",
    leader: "orders-0#a0",
    fenced: false,
    evicted: false,
    committedIndex: 7,
    appliedIndex: 6,
    configuration: { voters, learners: ["orders-3#d3"], fenced: [], evicted: [] },
  };

  it("reads a replica's /v1/status answer", () => {
    expect(parseMemberReport(body)).toEqual({
      ...body,
      role: "follower",
      configuration: { voters, learners: ["orders-3#d3"], fenced: [], evicted: [] },
      peers: [],
    });
    const withPeers = {
      ...body,
      members: [
        { member: "orders-0#a0", committedIndex: 7, idleTicks: 1 },
        { member: "orders-2#c2", idleTicks: -4 },
        "junk",
      ],
    };
    expect(parseMemberReport(withPeers)).toMatchObject({ peers: [{ member: "orders-0#a0", idleTicks: 1 }] });
    expect(parseMemberReport({ ...body, leader: null })).toMatchObject({ leader: undefined });
    expect(parseMemberReport({ ...body, role: "dancer" })).toMatchObject({ role: "unknown" });
  });

  it.each([
    [null, "the status is not a JSON object"],
    [{ ...body, member: 3 }, "the status lacks member, name or incarnation"],
    [{ ...body, appliedIndex: -1 }, "the status lacks committedIndex or appliedIndex"],
    [{ ...body, configuration: { voters: [1] } }, "the status lacks a valid configuration"],
    [{ ...body, configuration: undefined }, "the status lacks a valid configuration"],
  ])("rejects %j", (input, error) => {
    expect(parseMemberReport(input)).toEqual({ error });
  });
});

describe("assessMembers", () => {
  it("lists every voter with its role, leader and health", () => {
    const assessment = assessMembers(
      [ok(report("orders-0")), ok(report("orders-1", { appliedIndex: 499 })), ok(report("orders-2"))],
      [],
      now,
    );
    expect(assessment).toMatchObject({ leader: "orders-0", voters: 3, healthyVoters: 3, formed: true });
    expect(assessment.members).toEqual([
      {
        name: "orders-0",
        incarnation: "a0",
        role: "leader",
        health: "healthy",
        voter: true,
        lag: 0,
        fenced: false,
        lastContactTime: now,
      },
      {
        name: "orders-1",
        incarnation: "b1",
        role: "follower",
        health: "healthy",
        voter: true,
        lag: 1,
        fenced: false,
        lastContactTime: now,
      },
      {
        name: "orders-2",
        incarnation: "c2",
        role: "follower",
        health: "healthy",
        voter: true,
        lag: 0,
        fenced: false,
        lastContactTime: now,
      },
    ]);
  });

  it("marks unreachable, lagging, fenced and evicted members", () => {
    const previous: PaxosMemberStatus[] = [
      {
        name: "orders-2",
        incarnation: "c2",
        health: "unreachable",
        lastContactTime: "2026-01-01T00:00:00Z",
        unreachableSince: "2026-01-01T00:00:05Z",
      },
    ];
    const assessment = assessMembers(
      [
        ok(
          report("orders-0", {
            configuration: { voters, learners: [], fenced: ["orders-1#b1"], evicted: [] },
          }),
        ),
        ok(report("orders-1", { fenced: true })),
        down("orders-2"),
      ],
      previous,
      now,
    );
    expect(assessment.healthyVoters).toBe(1);
    expect(assessment.members[1]).toMatchObject({ name: "orders-1", health: "fenced", fenced: true });
    expect(assessment.members[2]).toEqual({
      name: "orders-2",
      incarnation: "c2",
      role: "unknown",
      health: "unreachable",
      voter: true,
      fenced: false,
      lastContactTime: "2026-01-01T00:00:00Z",
      unreachableSince: "2026-01-01T00:00:05Z",
      message: "connect ECONNREFUSED",
    });

    const lagging = assessMembers(
      [ok(report("orders-0")), ok(report("orders-1", { appliedIndex: 500 - laggingThresholdEntries - 1 }))],
      [],
      now,
    );
    expect(lagging.members[1]).toMatchObject({ health: "lagging", lag: laggingThresholdEntries + 1 });
    // Not probed at all (no pod): still a voter, unreachable since now.
    expect(lagging.members[2]).toMatchObject({
      name: "orders-2",
      health: "unreachable",
      unreachableSince: now,
    });

    const evicted = assessMembers(
      [ok(report("orders-0")), ok(report("orders-1", { evicted: true }))],
      [],
      now,
    );
    expect(evicted.members[1]).toMatchObject({ health: "evicted" });
  });

  it("trusts the majority over a deposed leader that still claims to lead", () => {
    const newConfig = { voters, learners: [], fenced: [], evicted: [] };
    const assessment = assessMembers(
      [
        ok(report("orders-0", { role: "leader", committedIndex: 400, appliedIndex: 400 })),
        ok(
          report("orders-1", {
            role: "leader",
            leader: "orders-1#b1",
            committedIndex: 600,
            appliedIndex: 600,
            configuration: newConfig,
          }),
        ),
        ok(report("orders-2", { leader: "orders-1#b1", committedIndex: 600, appliedIndex: 600 })),
      ],
      [],
      now,
    );
    expect(assessment.leader).toBe("orders-1");
    // Lag is measured against the real leader's commit index.
    expect(assessment.members[0]).toMatchObject({ lag: 200 });
  });

  it("shows pods that are not in the configuration yet, and a member back with a new incarnation", () => {
    const assessment = assessMembers(
      [
        ok(report("orders-0")),
        ok(report("orders-1", { member: "orders-1#z9", incarnation: "z9" })),
        ok(report("orders-3")),
      ],
      [],
      now,
    );
    expect(assessment.members.map((m) => m.name)).toEqual(["orders-0", "orders-1", "orders-2", "orders-3"]);
    expect(assessment.members[1]).toMatchObject({
      incarnation: "z9",
      message: "answers as incarnation z9, the configuration lists orders-1#b1",
    });
    expect(assessment.members[3]).toMatchObject({ name: "orders-3", voter: false });
  });

  it("has no leader and is not formed when nobody answers", () => {
    const assessment = assessMembers([down("orders-0"), down("orders-1", "the pod has no IP yet")], [], now);
    expect(assessment).toMatchObject({ leader: undefined, formed: false, voters: 0, healthyVoters: 0 });
    expect(assessment.members.map((m) => m.health)).toEqual(["unreachable", "unreachable"]);
  });

  it("orders members by ordinal", () => {
    const names = ["orders-10", "orders-2", "orders-1"];
    const assessment = assessMembers(
      names.map((pod) => down(pod)),
      [],
      now,
    );
    expect(assessment.members.map((m) => m.name)).toEqual(["orders-1", "orders-2", "orders-10"]);
  });

  it("marks who both the operator and the leader hear from, and since when", () => {
    const contact = { tickMs: 50, heardWithinMs: 1000 };
    const leader = report("orders-0", {
      peers: [
        { member: "orders-1#b1", idleTicks: 2 },
        { member: "orders-2#c2", idleTicks: 400 },
      ],
    });
    const probes = [ok(leader), ok(report("orders-1")), ok(report("orders-2"))];
    const first = assessMembers(probes, [], now, contact);
    const since = (assessment: typeof first, name: string) =>
      assessment.members.find((member) => member.name === name)?.reachableSince;
    expect(first.leaderContactAgeMs.get("orders-2")).toBe(20_000);
    expect(since(first, "orders-0")).toBe(now);
    expect(since(first, "orders-1")).toBe(now);
    // The operator reaches orders-2, but the leader has not heard from it for 20 s.
    expect(since(first, "orders-2")).toBeUndefined();
    // Kept while it lasts; without the leader's view nobody counts as heard by both.
    const later = assessMembers(probes, first.members, "2026-01-01T00:02:00Z", contact);
    expect(since(later, "orders-1")).toBe(now);
    expect(since(assessMembers(probes, first.members, now), "orders-1")).toBeUndefined();
  });

  it("names each member's Node, and blames a Node that is not Ready for an unhealthy member", () => {
    const members = assessMembers([ok(report("orders-0")), ok(report("orders-1"))], [], now).members;
    const placed = withNodes(
      members,
      new Map([
        ["orders-0", "node-a"],
        ["orders-1", "node-b"],
        ["orders-2", "node-c"],
      ]),
      new Map([
        ["node-a", { ready: true, notReadySince: undefined }],
        ["node-c", { ready: undefined, notReadySince: "2026-01-01T00:00:30Z" }],
      ]),
    );
    const byName = new Map(placed.map((member) => [member.name, member]));
    expect(byName.get("orders-0")).toMatchObject({ node: "node-a", nodeReady: true, health: "healthy" });
    expect(byName.get("orders-0")?.message).toBeUndefined();
    expect(byName.get("orders-1")).toMatchObject({ node: "node-b", nodeReady: false });
    expect(byName.get("orders-2")).toMatchObject({ node: "node-c", nodeReady: false, health: "unreachable" });
    expect(byName.get("orders-2")?.message).toContain(
      "its Node node-c is not reporting (Unknown) since 2026-01-01T00:00:30Z",
    );
  });
});
