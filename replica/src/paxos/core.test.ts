import { describe, expect, it } from "vitest";
import { ballotGreater, compareBallots, zeroBallot } from "./ballot.ts";
import { initialConfiguration } from "./configuration.ts";
import { chunkEntries, defaultPaxosOptions, emptyDurableState, PaxosNode, valueBytes } from "./core.ts";
import { Harness, request, requestsOf } from "./testHarness.ts";

const [a, b, c, d] = ["a#1", "b#1", "c#1", "d#1"] as const;

function threeMembers(): Harness {
  const harness = new Harness([a, b, c]);
  harness.elect(a);
  return harness;
}

describe("election", () => {
  it("a single member elects itself and commits its own no-op", () => {
    const harness = new Harness([a]);
    harness.elect(a);
    const status = harness.node(a).status();
    expect(status.role).toBe("leader");
    expect(status.committedThrough).toBe(1);
    expect(harness.member(a).committed.map((entry) => entry.value.kind)).toEqual(["noop"]);
  });

  it("three members elect one leader, whose barrier no-op every member learns", () => {
    const harness = threeMembers();
    expect(harness.node(b).status()).toMatchObject({ role: "follower", leader: a });
    expect(harness.node(c).status()).toMatchObject({ role: "follower", leader: a });
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    for (const key of [a, b, c]) expect(harness.node(key).status().committedThrough).toBe(1);
  });

  it("a follower that hears from a live leader refuses the pre-vote, so a rejoining member cannot disrupt", () => {
    const harness = threeMembers();
    // c is cut off long enough to time out, and campaigns.
    harness.tick(c, 3 * defaultPaxosOptions.electionTimeoutTicks);
    const preVotes = harness.inFlight.filter((envelope) => envelope.message.type === "preVote");
    expect(preVotes.length).toBeGreaterThan(0);
    const promisedBefore = harness.node(b).status().promised;
    harness.deliverAll();
    expect(harness.node(a).status().role).toBe("leader");
    expect(harness.node(b).status().promised).toEqual(promisedBefore);
    expect(harness.node(c).status().role).not.toBe("leader");
  });

  it("a pre-vote is refused to a candidate that is behind", () => {
    const harness = threeMembers();
    harness.node(a).propose(request("x"));
    harness.collect(a);
    harness.deliverAll((envelope) => envelope.to !== c);
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll((envelope) => envelope.to !== c);
    harness.crash(a);
    // c lags (missed slot 2); b is ahead. Both lose the leader; c asks first.
    harness.tick(b, defaultPaxosOptions.electionTimeoutTicks - 1);
    harness.tick(c, 3 * defaultPaxosOptions.electionTimeoutTicks);
    const replies: boolean[] = [];
    harness.deliverAll((envelope) => {
      if (envelope.message.type === "preVoteReply" && envelope.to === c)
        replies.push(envelope.message.granted);
      return envelope.from === c || envelope.to === c;
    });
    expect(replies).toEqual([false]);
    expect(harness.node(c).status().role).not.toBe("leader");
  });

  it("a member never reuses a ballot after a restart", () => {
    const harness = new Harness([a, b, c]);
    harness.tick(a, 3 * defaultPaxosOptions.electionTimeoutTicks);
    harness.deliverAll();
    const firstBallot = harness.node(a).status().promised;
    expect(firstBallot.proposer).toBe(a);
    // The prepare went out only in a Ready that also carried the promise to itself.
    const prepareReady = harness
      .member(a)
      .readies.find((ready) => ready.messages.some((m) => m.message.type === "prepare"));
    expect(prepareReady?.hardState?.promised).toEqual(firstBallot);
    harness.crash(a);
    harness.crash(b);
    harness.crash(c);
    for (const key of [a, b, c]) harness.restart(key);
    harness.elect(a);
    expect(ballotGreater(harness.node(a).status().promised, firstBallot)).toBe(true);
  });

  it("dueling candidates: the lower ballot is rejected and backs off", () => {
    const harness = new Harness([a, b, c]);
    harness.tick(a, 3 * defaultPaxosOptions.electionTimeoutTicks);
    harness.tick(b, 3 * defaultPaxosOptions.electionTimeoutTicks);
    harness.deliverAll();
    const leaders = [a, b, c].filter((key) => harness.node(key).status().role === "leader");
    expect(leaders.length).toBeLessThanOrEqual(1);
    for (let i = 0; i < 20 && leaders.length === 0; i += 1) {
      for (const key of [a, b, c]) harness.tick(key);
      harness.deliverAll();
      leaders.splice(
        0,
        leaders.length,
        ...[a, b, c].filter((key) => harness.node(key).status().role === "leader"),
      );
    }
    expect(leaders).toHaveLength(1);
  });
});

describe("acceptor", () => {
  it("persists a promise in the same Ready that sends it (never answers before it is durable)", () => {
    const node = PaxosNode.restore(
      { ...defaultPaxosOptions, self: b, random: () => 0.5 },
      emptyDurableState(initialConfiguration([a, b, c])),
    );
    node.ready();
    const ballot = { round: 3, proposer: a };
    node.step({ from: a, to: b, message: { type: "prepare", ballot, fromSlot: 1, transfer: false } });
    const ready = node.ready();
    expect(ready.messages.map((m) => m.message.type)).toEqual(["promise"]);
    expect(ready.hardState?.promised).toEqual(ballot);
  });

  it("persists an accepted entry in the same Ready that acknowledges it", () => {
    const node = PaxosNode.restore(
      { ...defaultPaxosOptions, self: b, random: () => 0.5 },
      emptyDurableState(initialConfiguration([a, b, c])),
    );
    node.ready();
    const ballot = { round: 1, proposer: a };
    node.step({
      from: a,
      to: b,
      message: {
        type: "accept",
        ballot,
        entries: [{ slot: 1, value: { kind: "noop" } }],
        commitThrough: 0,
        readRound: 0,
      },
    });
    const ready = node.ready();
    expect(ready.messages[0]?.message).toMatchObject({ type: "accepted", slots: [1] });
    expect(ready.entries).toEqual([{ slot: 1, ballot, value: { kind: "noop" } }]);
  });

  it("rejects a prepare or accept below its promise and changes nothing", () => {
    const node = PaxosNode.restore(
      { ...defaultPaxosOptions, self: b, random: () => 0.5 },
      emptyDurableState(initialConfiguration([a, b, c])),
    );
    node.ready();
    const high = { round: 5, proposer: c };
    const low = { round: 4, proposer: a };
    node.step({ from: c, to: b, message: { type: "prepare", ballot: high, fromSlot: 1, transfer: false } });
    node.ready();
    node.step({
      from: a,
      to: b,
      message: {
        type: "accept",
        ballot: low,
        entries: [{ slot: 1, value: { kind: "noop" } }],
        commitThrough: 0,
        readRound: 0,
      },
    });
    node.step({ from: a, to: b, message: { type: "prepare", ballot: low, fromSlot: 1, transfer: false } });
    const ready = node.ready();
    expect(ready.messages.map((m) => m.message)).toEqual([
      { type: "reject", ballot: low, promised: high },
      { type: "reject", ballot: low, promised: high },
    ]);
    expect(ready.entries).toEqual([]);
    expect(ready.hardState).toBeUndefined();
    expect(node.acceptedAt(1)).toBeUndefined();
  });

  it("reports accepted values in its promise, and a new leader re-proposes the highest-ballot one", () => {
    const harness = threeMembers();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    harness.node(a).propose(request("only-on-b"));
    harness.collect(a);
    // Only b hears the accept; a crashes before anyone else learns it.
    harness.deliverAll((envelope) => envelope.to === b && envelope.message.type === "accept");
    harness.crash(a);
    harness.inFlight = [];
    harness.tick(b, defaultPaxosOptions.electionTimeoutTicks);
    harness.elect(c);
    harness.tick(c, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    expect(requestsOf(harness.member(c).committed)).toEqual(["only-on-b"]);
    expect(requestsOf(harness.member(b).committed)).toEqual(["only-on-b"]);
  });
});

describe("quorums", () => {
  it("half of an even configuration is not a quorum", () => {
    const harness = new Harness([a, b, c, d]);
    harness.elect(a);
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    const before = harness.node(a).status().committedThrough;
    harness.node(a).propose(request("needs-three"));
    harness.collect(a);
    // Only b answers: a and b are two of four.
    harness.deliverAll((envelope) => envelope.to === b || envelope.from === b);
    expect(harness.node(a).status().committedThrough).toBe(before);
    harness.deliverAll();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    expect(harness.node(a).status().committedThrough).toBe(before + 1);
  });

  it("a removed member's acceptance no longer counts", () => {
    const harness = threeMembers();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    expect(harness.change(a, { type: "remove", member: c })).toMatchObject({ ok: true });
    harness.deliverAll();
    expect(harness.node(a).status().configuration.voters).toEqual([a, b]);
    // Now b is needed: with b silent, c's acceptance must not commit anything.
    const before = harness.node(a).status().committedThrough;
    harness.node(a).propose(request("after-removal"));
    harness.collect(a);
    harness.deliverAll((envelope) => envelope.to !== b && envelope.from !== b);
    expect(harness.node(a).status().committedThrough).toBe(before);
  });

  it("drops every message from an evicted incarnation", () => {
    const harness = threeMembers();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    expect(harness.change(a, { type: "evict", member: c })).toMatchObject({ ok: true });
    harness.deliverAll();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    expect(harness.node(b).status().configuration.evicted).toEqual([c]);
    const dropped = harness.node(b).droppedFromEvicted;
    harness.node(b).step({
      from: c,
      to: b,
      message: { type: "prepare", ballot: { round: 99, proposer: c }, fromSlot: 1, transfer: true },
    });
    expect(harness.node(b).droppedFromEvicted).toBe(dropped + 1);
    expect(harness.node(b).status().promised.round).toBeLessThan(99);
  });
});

describe("leader", () => {
  it("pipelines and batches proposals, and every member applies them in the same order", () => {
    const harness = threeMembers();
    for (let i = 0; i < 10; i += 1) harness.node(a).propose(request(`r${i}`));
    harness.collect(a);
    harness.deliverAll();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    const expected = Array.from({ length: 10 }, (_, i) => `r${i}`);
    for (const key of [a, b, c]) expect(requestsOf(harness.member(key).committed)).toEqual(expected);
  });

  it("bounds slots in flight and batches the rest", () => {
    const harness = new Harness([a, b, c], { maxInflightSlots: 2, maxBatchRequests: 3 });
    harness.elect(a);
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    harness.inFlight = [];
    for (let i = 0; i < 9; i += 1) harness.node(a).propose(request(`r${i}`));
    const ready = harness.collect(a);
    expect(ready?.entries).toHaveLength(2);
    harness.deliverAll();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    const batches = harness.member(b).committed.filter((entry) => entry.value.kind === "batch");
    expect(batches.map((entry) => (entry.value.kind === "batch" ? entry.value.requests.length : 0))).toEqual([
      1, 1, 3, 3, 1,
    ]);
  });

  it("refuses proposals when not leading, when overloaded, and when too large", () => {
    const harness = new Harness([a, b, c], { maxPendingProposals: 1, maxInflightSlots: 1, maxBatchBytes: 8 });
    harness.elect(a);
    expect(harness.node(b).propose(request("x"))).toEqual({ ok: false, code: "NotLeader", leader: a });
    expect(harness.node(a).propose(request("far-too-large"))).toMatchObject({ ok: false, code: "TooLarge" });
    // "1" takes the only free slot, "2" the only place in the queue.
    expect(harness.node(a).propose(request("1"))).toEqual({ ok: true });
    expect(harness.node(a).propose(request("2"))).toEqual({ ok: true });
    expect(harness.node(a).propose(request("3"))).toEqual({ ok: false, code: "Overloaded" });
  });

  it("confirms a read index only with a quorum", () => {
    const harness = threeMembers();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    expect(harness.node(a).readIndex(7)).toEqual({ ok: true });
    harness.collect(a);
    const readStates = () => harness.member(a).readies.flatMap((ready) => ready.readStates);
    expect(readStates()).toEqual([]);
    harness.deliverAll((envelope) => envelope.to === a || envelope.to === b);
    expect(readStates()).toEqual([{ readId: 7, index: harness.node(a).status().committedThrough }]);
  });

  it("steps down when it cannot hear from a quorum, failing pending reads", () => {
    const harness = threeMembers();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    harness.node(a).readIndex(1);
    harness.collect(a);
    harness.inFlight = [];
    harness.tick(a, 2 * defaultPaxosOptions.electionTimeoutTicks);
    expect(harness.node(a).status().role).not.toBe("leader");
    expect(harness.member(a).readies.flatMap((ready) => ready.failedReads)).toEqual([1]);
  });

  it("transfers leadership to a caught-up voter", () => {
    const harness = threeMembers();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    expect(harness.node(a).transferLeadership(b)).toEqual({ ok: true });
    harness.collect(a);
    harness.deliverAll();
    expect(harness.node(b).status().role).toBe("leader");
    expect(harness.node(a).status()).toMatchObject({ role: "follower", leader: b });
  });
});

describe("membership", () => {
  it("adds a learner, catches it up, promotes it; one change at a time", () => {
    const harness = threeMembers();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    for (let i = 0; i < 5; i += 1) harness.node(a).propose(request(`before-${i}`));
    harness.collect(a);
    harness.deliverAll();
    harness.addMember(d, { voters: [], learners: [], fenced: [], evicted: [] });
    expect(harness.change(a, { type: "addLearner", member: d })).toMatchObject({ ok: true });
    expect(harness.change(a, { type: "fence", member: c })).toMatchObject({
      ok: false,
      code: "ChangeInProgress",
    });
    harness.deliverAll();
    for (let i = 0; i < 3; i += 1) {
      harness.tick(a, defaultPaxosOptions.heartbeatTicks);
      harness.deliverAll();
    }
    expect(requestsOf(harness.member(d).committed)).toEqual(requestsOf(harness.member(a).committed));
    expect(harness.change(a, { type: "promote", member: d })).toMatchObject({ ok: true });
    harness.deliverAll();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    expect(harness.node(a).status().configuration.voters).toEqual([a, b, c, d]);
    expect(harness.node(d).status().configuration.voters).toEqual([a, b, c, d]);
  });

  it("rejects invalid changes with a reason", () => {
    const harness = threeMembers();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    expect(harness.change(a, { type: "promote", member: d })).toEqual({
      ok: false,
      code: "InvalidChange",
      reason: `${d} is not a learner`,
    });
    expect(harness.change(a, { type: "addLearner", member: "a#2" })).toMatchObject({
      ok: false,
      code: "InvalidChange",
    });
  });

  it("a fenced member cannot lead or be voted for", () => {
    const harness = threeMembers();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    expect(harness.change(a, { type: "fence", member: a })).toMatchObject({ ok: true });
    harness.deliverAll();
    expect(harness.node(a).status()).toMatchObject({ fenced: true, role: "follower" });
    expect(harness.node(a).propose(request("x"))).toMatchObject({ ok: false });
    harness.tick(a, 4 * defaultPaxosOptions.electionTimeoutTicks);
    expect(
      harness.inFlight.filter((envelope) => envelope.from === a && envelope.message.type === "preVote"),
    ).toEqual([]);
    expect(harness.runUntilLeader()).not.toBe(a);
  });
});

describe("catch-up", () => {
  it("a member that missed compacted slots gets the snapshot", () => {
    const harness = threeMembers();
    harness.crash(c);
    for (let i = 0; i < 5; i += 1) harness.node(a).propose(request(`w${i}`));
    harness.collect(a);
    harness.deliverAll();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    const committed = harness.node(a).status().committedThrough;
    harness.node(a).compact(committed, new TextEncoder().encode("state"));
    harness.collect(a);
    harness.restart(c);
    for (let i = 0; i < 4; i += 1) {
      harness.tick(a, defaultPaxosOptions.heartbeatTicks);
      harness.deliverAll();
    }
    const restored = harness.member(c).readies.find((ready) => ready.restore?.index === committed);
    expect(new TextDecoder().decode(restored?.restore?.stateMachine)).toBe("state");
    expect(harness.node(c).status().committedThrough).toBeGreaterThanOrEqual(committed);
  });

  it("restores committed entries from its durable log after a crash", () => {
    const harness = threeMembers();
    harness.node(a).propose(request("durable"));
    harness.collect(a);
    harness.deliverAll();
    harness.tick(a, defaultPaxosOptions.heartbeatTicks);
    harness.deliverAll();
    harness.crash(b);
    harness.restart(b);
    expect(requestsOf(harness.member(b).committed)).toEqual(["durable"]);
  });
});

describe("ballots", () => {
  it("order by round, then proposer", () => {
    expect(compareBallots({ round: 2, proposer: "a" }, { round: 1, proposer: "z" })).toBe(1);
    expect(compareBallots({ round: 1, proposer: "a" }, { round: 1, proposer: "b" })).toBe(-1);
    expect(compareBallots(zeroBallot, zeroBallot)).toBe(0);
  });
});

describe("message bounds", () => {
  const batch = (slot: number, bytes: number) => ({
    slot,
    value: { kind: "batch" as const, timeMs: 0, requests: [new Uint8Array(bytes)] },
  });

  it("splits entries by count and by bytes, an oversized entry alone, none into one heartbeat", () => {
    const sizes = (chunks: ReturnType<typeof chunkEntries>) =>
      chunks.map((chunk) => chunk.map((entry) => entry.slot));
    expect(sizes(chunkEntries([batch(1, 10), batch(2, 10), batch(3, 10)], 2, 100))).toEqual([[1, 2], [3]]);
    expect(sizes(chunkEntries([batch(1, 60), batch(2, 60), batch(3, 30)], 10, 100))).toEqual([[1], [2, 3]]);
    expect(sizes(chunkEntries([batch(1, 500), batch(2, 1)], 10, 100))).toEqual([[1], [2]]);
    expect(sizes(chunkEntries([], 10, 100))).toEqual([[]]);
    expect(valueBytes({ kind: "noop" })).toBe(0);
    expect(valueBytes(batch(1, 42).value)).toBe(42);
  });

  it("never sends an accept over the byte bound", () => {
    const harness = new Harness([a, b, c], { maxMessageBytes: 100, maxBatchBytes: 100, maxBatchRequests: 1 });
    harness.elect(a);
    harness.inFlight = [];
    for (let i = 0; i < 5; i += 1) harness.node(a).propose(new Uint8Array(60));
    harness.collect(a);
    const accepts = harness.inFlight.filter(
      (envelope) => envelope.message.type === "accept" && envelope.to === b,
    );
    for (const envelope of accepts) {
      if (envelope.message.type !== "accept") continue;
      const payload = envelope.message.entries.reduce((sum, entry) => sum + valueBytes(entry.value), 0);
      expect(payload).toBeLessThanOrEqual(100);
    }
    expect(accepts.length).toBeGreaterThanOrEqual(5);
  });
});
