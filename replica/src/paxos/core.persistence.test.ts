// What a member keeps and what it hands out: restart from durable state, compaction,
// the status report, when there is a Ready to handle, and value equality.
import { describe, expect, it } from "vitest";
import { InvariantViolation } from "../assert.ts";
import { type Ballot, zeroBallot } from "./ballot.ts";
import { type Configuration, initialConfiguration } from "./configuration.ts";
import { defaultPaxosOptions, emptyDurableState, PaxosNode, type PaxosOptions, sameValue } from "./core.ts";
import type { AcceptedEntry, DurableState, Ready, SlotValue, Snapshot } from "./messages.ts";
import { acknowledge, campaign, request, soloNode, tickFor } from "./testHarness.ts";

const [a, b, c, d] = ["a#1", "b#1", "c#1", "d#1"] as const;
const three = initialConfiguration([a, b, c]);
const noop: SlotValue = { kind: "noop" };
const batch = (timeMs: number, ...texts: string[]): SlotValue => ({
  kind: "batch",
  timeMs,
  requests: texts.map(request),
});
const change = (type: "addLearner" | "promote" | "fence", member: string): SlotValue => ({
  kind: "config",
  timeMs: 0,
  change: { type, member },
});
const ballot: Ballot = { round: 1, proposer: a };
const options = (self: string): PaxosOptions => ({ ...defaultPaxosOptions, self, random: () => 0 });

function durable(values: SlotValue[], committedThrough: number, snapshot?: Snapshot): DurableState {
  return {
    hardState: { promised: ballot, committedThrough },
    snapshot: snapshot ?? { index: 0, configuration: three, stateMachine: new Uint8Array(0) },
    entries: values.map((value, position): AcceptedEntry => ({ slot: position + 1, ballot, value })),
  };
}

const nothing: Ready = {
  snapshot: undefined,
  entries: [],
  hardState: undefined,
  mustSync: false,
  messages: [],
  restore: undefined,
  committed: [],
  readStates: [],
  failedReads: [],
};

describe("restart", () => {
  it("restores the snapshot and replays the committed entries above it, and nothing else", () => {
    const snapshot = { index: 1, configuration: three, stateMachine: new Uint8Array([9]) };
    const node = PaxosNode.restore(
      options(b),
      durable([batch(1), batch(2), batch(3), batch(4)], 3, snapshot),
    );
    expect(node.hasReady()).toBe(true);
    expect(node.ready()).toEqual({
      ...nothing,
      restore: snapshot,
      committed: [
        { slot: 2, value: batch(2) },
        { slot: 3, value: batch(3) },
      ],
    });
    expect(node.hasReady()).toBe(false);
    // The entry in slot 1 is inside the snapshot: it is not kept.
    expect(node.acceptedAt(1)).toBeUndefined();
    expect(node.status()).toMatchObject({
      role: "follower",
      promised: ballot,
      committedThrough: 3,
      snapshotIndex: 1,
      logEntries: 3,
    });
  });

  it("committed configuration changes take effect again; uncommitted ones do not", () => {
    const node = PaxosNode.restore(options(b), durable([change("addLearner", d), change("fence", c)], 1));
    expect(node.status().configuration).toEqual({ ...three, learners: [d] });
  });

  it("the snapshot's index counts as committed even when the hard state written after it was lost", () => {
    const snapshot = { index: 2, configuration: three, stateMachine: new Uint8Array([2]) };
    const node = PaxosNode.restore(options(b), durable([], 0, snapshot));
    expect(node.status().committedThrough).toBe(2);
    expect(node.ready()).toEqual({ ...nothing, restore: snapshot });
  });

  it("a committed slot missing from the durable log is a broken invariant", () => {
    expect(() => PaxosNode.restore(options(b), durable([batch(1)], 2))).toThrow(InvariantViolation);
  });

  it("refuses options whose timeout does not exceed the heartbeat, whose windows are empty, or whose batch cannot fit a message", () => {
    const empty = emptyDurableState(three);
    const restore = (overrides: Partial<PaxosOptions>) => () =>
      PaxosNode.restore({ ...options(b), ...overrides }, empty);
    expect(restore({ electionTimeoutTicks: 2, heartbeatTicks: 2 })).toThrow(InvariantViolation);
    expect(restore({ maxInflightSlots: 0 })).toThrow(InvariantViolation);
    expect(restore({ maxBatchRequests: 0 })).toThrow(InvariantViolation);
    expect(restore({ maxBatchBytes: 11, maxMessageBytes: 10 })).toThrow(InvariantViolation);
    expect(
      restore({
        electionTimeoutTicks: 3,
        heartbeatTicks: 2,
        maxInflightSlots: 1,
        maxBatchRequests: 1,
        maxBatchBytes: 10,
        maxMessageBytes: 10,
      }),
    ).not.toThrow();
  });
});

describe("compaction", () => {
  const committedNode = () => soloNode(b, three, {}, durable([batch(1), batch(2), batch(3), batch(4)], 3));

  it("keeps the state machine as the snapshot and drops the log up to it", () => {
    const node = committedNode();
    node.compact(2, new Uint8Array([2]));
    const snapshot = { index: 2, configuration: three, stateMachine: new Uint8Array([2]) };
    expect(node.ready()).toEqual({ ...nothing, snapshot, mustSync: true });
    expect(node.currentSnapshot()).toEqual(snapshot);
    expect(node.acceptedAt(2)).toBeUndefined();
    expect(node.acceptedAt(3)).toEqual({ slot: 3, ballot, value: batch(3) });
    expect(node.status()).toMatchObject({ snapshotIndex: 2, logEntries: 2, committedThrough: 3 });
  });

  it("is a no-op at or below the snapshot index", () => {
    const node = committedNode();
    node.compact(2, new Uint8Array([2]));
    node.ready();
    node.compact(2, new Uint8Array([7]));
    node.compact(1, new Uint8Array([7]));
    expect(node.hasReady()).toBe(false);
    expect(node.currentSnapshot().stateMachine).toEqual(new Uint8Array([2]));
  });

  it("beyond the commit index is a broken invariant", () => {
    expect(() => committedNode().compact(4, new Uint8Array(0))).toThrow(InvariantViolation);
  });

  it("each snapshot carries the configuration in effect at its index", () => {
    const values = [change("addLearner", d), noop, change("promote", d)];
    const node = soloNode(b, three, {}, durable(values, 3));
    const learner = { ...three, learners: [d] };
    const voter: Configuration = { ...three, voters: [a, b, c, d] };
    node.compact(1, new Uint8Array(0));
    expect(node.currentSnapshot().configuration).toEqual(learner);
    node.compact(2, new Uint8Array(0));
    expect(node.currentSnapshot().configuration).toEqual(learner);
    node.compact(3, new Uint8Array(0));
    expect(node.currentSnapshot().configuration).toEqual(voter);
  });

  it("compacting past one change keeps the history needed for later ones", () => {
    const values = [change("addLearner", d), noop, change("promote", d), noop];
    const node = soloNode(b, three, {}, durable(values, 4));
    node.compact(2, new Uint8Array(0));
    node.compact(4, new Uint8Array(0));
    expect(node.currentSnapshot().configuration).toEqual({ ...three, voters: [a, b, c, d] });
  });
});

describe("status", () => {
  it("says whether the member is fenced or evicted", () => {
    expect(soloNode(b, { ...three, fenced: [b] }).status()).toMatchObject({ fenced: true, evicted: false });
    const evicted = soloNode(b, { voters: [a, c], learners: [], fenced: [], evicted: [b] }).status();
    expect(evicted).toMatchObject({ fenced: false, evicted: true });
    expect(soloNode(b, three).status()).toMatchObject({ fenced: false, evicted: false });
  });
});

describe("hasReady", () => {
  it("is true exactly when ready() would hand out something, whatever its kind", () => {
    // The restore alone: a member that starts from an empty data directory.
    const fresh = PaxosNode.restore(options(a), emptyDurableState(initialConfiguration([a])));
    expect(fresh.hasReady()).toBe(true);
    expect(fresh.ready()).toEqual({ ...nothing, restore: fresh.currentSnapshot() });
    expect(fresh.hasReady()).toBe(false);

    // Read states alone: a single member confirms a read by itself.
    tickFor(fresh, defaultPaxosOptions.electionTimeoutTicks);
    expect(fresh.status()).toMatchObject({ role: "leader", committedThrough: 1 });
    expect(fresh.hasReady()).toBe(false);
    fresh.readIndex(5);
    expect(fresh.hasReady()).toBe(true);
    expect(fresh.ready()).toEqual({ ...nothing, readStates: [{ readId: 5, index: 1 }] });

    // The snapshot alone: compaction.
    fresh.compact(1, new Uint8Array([1]));
    expect(fresh.hasReady()).toBe(true);
    expect(fresh.ready()).toEqual({ ...nothing, snapshot: fresh.currentSnapshot(), mustSync: true });
    expect(fresh.hasReady()).toBe(false);
  });

  it("is true for messages alone, and for failed reads alone", () => {
    const node = soloNode(a, three);
    const { ballot: own } = campaign(node, [b], [{ from: b }]);
    acknowledge(node, b, own, [1], 0);
    node.readIndex(1);
    node.ready();
    // A heartbeat: messages only.
    node.tick(0);
    expect(node.hasReady()).toBe(false);
    node.tick(0);
    expect(node.hasReady()).toBe(true);
    expect(node.ready()).toMatchObject({ ...nothing, messages: [{ to: b }, { to: c }] });
    // Check quorum deposes it: the read fails, nothing else.
    tickFor(node, 2 * defaultPaxosOptions.electionTimeoutTicks - 3);
    expect(node.status().role).toBe("leader");
    node.tick(0);
    expect(node.status().role).toBe("follower");
    expect(node.hasReady()).toBe(true);
    expect(node.ready()).toEqual({ ...nothing, failedReads: [1] });
  });
});

describe("sameValue", () => {
  it("no-ops are all the same, and differ from anything else", () => {
    expect(sameValue(noop, noop)).toBe(true);
    expect(sameValue(noop, batch(0))).toBe(false);
    expect(sameValue(batch(0), noop)).toBe(false);
  });

  it("configuration changes are the same when stamp and change are", () => {
    const fence = change("fence", c);
    expect(sameValue(fence, change("fence", c))).toBe(true);
    expect(sameValue(fence, { kind: "config", timeMs: 1, change: { type: "fence", member: c } })).toBe(false);
    expect(sameValue(fence, change("fence", d))).toBe(false);
    expect(sameValue(fence, change("addLearner", c))).toBe(false);
    expect(sameValue(fence, batch(0))).toBe(false);
  });

  it("batches are the same when stamp and every request's bytes are", () => {
    const value = batch(5, "x", "yz");
    expect(sameValue(value, batch(5, "x", "yz"))).toBe(true);
    expect(sameValue(value, batch(6, "x", "yz"))).toBe(false);
    expect(sameValue(value, batch(5, "x"))).toBe(false);
    expect(sameValue(value, batch(5, "x", "yw"))).toBe(false);
    expect(sameValue(value, change("fence", c))).toBe(false);
    expect(sameValue(batch(5), batch(5))).toBe(true);
  });
});

describe("what must be synced", () => {
  it("a promise or an acceptance must be synced before it is sent; a commit index alone need not", () => {
    const node = PaxosNode.restore(options("b#1"), durable([], 0));
    node.ready();
    const ballotOfA = { round: 5, proposer: "a#1" };
    node.step({
      from: "a#1",
      to: "b#1",
      message: { type: "prepare", ballot: ballotOfA, fromSlot: 1, transfer: false },
    });
    expect(node.ready()).toMatchObject({ mustSync: true, hardState: { promised: ballotOfA } });
    node.step({
      from: "a#1",
      to: "b#1",
      message: {
        type: "accept",
        ballot: ballotOfA,
        entries: [{ slot: 1, value: { kind: "noop" } }],
        commitThrough: 0,
        readRound: 0,
      },
    });
    expect(node.ready()).toMatchObject({ mustSync: true, entries: [{ slot: 1 }] });
    // The commit of slot 1 arrives with a heartbeat: only the commit index moves.
    node.step({
      from: "a#1",
      to: "b#1",
      message: { type: "accept", ballot: ballotOfA, entries: [], commitThrough: 1, readRound: 0 },
    });
    expect(node.ready()).toMatchObject({
      mustSync: false,
      hardState: { committedThrough: 1 },
      committed: [{ slot: 1 }],
    });
  });
});

describe("catching up from a promise", () => {
  it("a candidate behind a compacted promiser installs the snapshot from the promise instead of stalling", () => {
    const configuration = initialConfiguration(["a#1", "b#1"]);
    const compacted: Snapshot = { index: 5, configuration, stateMachine: new Uint8Array([9]) };
    const behind = PaxosNode.restore(
      options("a#1"),
      durable([], 0, { index: 0, configuration, stateMachine: new Uint8Array(0) }),
    );
    const ahead = PaxosNode.restore(options("b#1"), {
      hardState: { promised: { round: 1, proposer: "b#1" }, committedThrough: 5 },
      snapshot: compacted,
      entries: [],
    });
    behind.ready();
    ahead.ready();
    // a campaigns; the pre-vote is granted by hand (b would refuse a lagging candidate).
    for (
      let tick = 0;
      tick < 4 * defaultPaxosOptions.electionTimeoutTicks && behind.status().role !== "candidate";
      tick += 1
    ) {
      behind.tick(tick);
      for (const envelope of behind.ready().messages) {
        if (envelope.message.type !== "preVote") continue;
        // Grant by hand: this test is about the promise, not the pre-vote.
        behind.step({
          from: "b#1",
          to: "a#1",
          message: {
            type: "preVoteReply",
            ballot: envelope.message.ballot,
            granted: true,
            promised: zeroBallot,
          },
        });
      }
    }
    expect(behind.status().role).toBe("candidate");
    const prepare = behind.ready().messages.find((envelope) => envelope.message.type === "prepare");
    expect(prepare).toBeDefined();
    if (prepare === undefined) return;
    ahead.step(prepare);
    const promise = ahead.ready().messages.find((envelope) => envelope.message.type === "promise");
    expect(promise?.message).toMatchObject({ type: "promise", snapshotIndex: 5, snapshot: compacted });
    if (promise === undefined) return;
    behind.step(promise);
    const ready = behind.ready();
    expect(ready).toMatchObject({
      snapshot: compacted,
      restore: compacted,
      hardState: { committedThrough: 5 },
    });
    expect(behind.status()).toMatchObject({ role: "follower", committedThrough: 5, snapshotIndex: 5 });
  });
});
