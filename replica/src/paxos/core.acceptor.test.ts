// The acceptor and learner, rule by rule: what an accept, a learn and a snapshot do to
// a member's log, commit index and hard state, and exactly what it answers.
import { describe, expect, it } from "vitest";
import { InvariantViolation } from "../assert.ts";
import type { Ballot } from "./ballot.ts";
import { type Configuration, emptyConfiguration, initialConfiguration } from "./configuration.ts";
import type { AcceptedEntry, DurableState, Message, ProposedEntry, SlotValue, Snapshot } from "./messages.ts";
import { deliver, soloNode } from "./testHarness.ts";

const [a, b, c, d] = ["a#1", "b#1", "c#1", "d#1"] as const;
const three = initialConfiguration([a, b, c]);
const noop: SlotValue = { kind: "noop" };
const batch = (timeMs: number): SlotValue => ({ kind: "batch", timeMs, requests: [] });
const ballot = (round: number, proposer: string): Ballot => ({ round, proposer });
const entry = (slot: number, value: SlotValue = batch(slot)): ProposedEntry => ({ slot, value });

const accept = (from: Ballot, entries: ProposedEntry[], commitThrough = 0, readRound = 0): Message => ({
  type: "accept",
  ballot: from,
  entries,
  commitThrough,
  readRound,
});
const accepted = (
  to: string,
  from: Ballot,
  slots: number[],
  committedThrough: number,
  fields: { commitSeen?: number; readRound?: number; uninitialized?: boolean } = {},
) => ({
  from: b,
  to,
  message: {
    type: "accepted",
    ballot: from,
    slots,
    committedThrough,
    commitSeen: fields.commitSeen ?? committedThrough,
    readRound: fields.readRound ?? 0,
    uninitialized: fields.uninitialized ?? false,
  },
});
/** What a member answers to a learn or a snapshot: it asks for more while behind. */
const caughtUpTo = (to: string, from: Ballot, committedThrough: number, uninitialized = false) =>
  accepted(to, from, [], committedThrough, { commitSeen: Number.MAX_SAFE_INTEGER, uninitialized });

function durable(
  entries: AcceptedEntry[],
  committedThrough: number,
  options: { snapshot?: Snapshot; promised?: Ballot; configuration?: Configuration } = {},
): DurableState {
  const configuration = options.configuration ?? three;
  return {
    hardState: { promised: options.promised ?? ballot(1, a), committedThrough },
    snapshot: options.snapshot ?? { index: 0, configuration, stateMachine: new Uint8Array(0) },
    entries,
  };
}
const atBallot = (round: number, proposer: string, ...entries: ProposedEntry[]): AcceptedEntry[] =>
  entries.map(({ slot, value }) => ({ slot, ballot: ballot(round, proposer), value }));

describe("accept", () => {
  it("stores, persists and acknowledges entries under a ballot at least its promise, and follows its proposer", () => {
    const node = soloNode(b, three);
    const ready = deliver(node, a, accept(ballot(1, a), [entry(1, noop), entry(2)], 0, 3));
    expect(ready.entries).toEqual(atBallot(1, a, entry(1, noop), entry(2)));
    expect(ready.hardState).toEqual({ promised: ballot(1, a), committedThrough: 0 });
    expect(ready.messages).toEqual([accepted(a, ballot(1, a), [1, 2], 0, { readRound: 3 })]);
    expect(ready.committed).toEqual([]);
    expect(node.status()).toMatchObject({ role: "follower", leader: a, promised: ballot(1, a) });
  });

  it("persists the hard state again only when the promise rises or a slot commits", () => {
    const node = soloNode(b, three);
    deliver(node, a, accept(ballot(1, a), [entry(1)]));
    expect(deliver(node, a, accept(ballot(1, a), [entry(2)])).hardState).toBeUndefined();
    expect(deliver(node, a, accept(ballot(1, a), [], 1)).hardState).toEqual({
      promised: ballot(1, a),
      committedThrough: 1,
    });
    expect(deliver(node, c, accept(ballot(2, c), [])).hardState).toEqual({
      promised: ballot(2, c),
      committedThrough: 1,
    });
  });

  it("the leader's commit index commits, in order, the slots accepted under that same ballot", () => {
    const node = soloNode(b, three);
    deliver(node, a, accept(ballot(1, a), [entry(1), entry(2), entry(4)]));
    const ready = deliver(node, a, accept(ballot(1, a), [], 4));
    // Slot 3 is missing: commits stop before it.
    expect(ready.committed).toEqual([entry(1), entry(2)]);
    expect(ready.messages).toEqual([accepted(a, ballot(1, a), [], 2, { commitSeen: 4 })]);
  });

  it("a commit index from another ballot does not commit what was accepted under an older one", () => {
    const node = soloNode(b, three, {}, durable(atBallot(1, a, entry(1)), 0));
    const ready = deliver(node, c, accept(ballot(2, c), [], 1));
    expect(ready.committed).toEqual([]);
    expect(ready.messages).toEqual([accepted(c, ballot(2, c), [], 0, { commitSeen: 1 })]);
    // Once it re-accepts slot 1 under (2, c), the same commit index commits it.
    const again = deliver(node, c, accept(ballot(2, c), [entry(1, noop)], 1));
    expect(again.committed).toEqual([entry(1, noop)]);
  });

  it("slots at or below the snapshot index are acknowledged without being stored", () => {
    const snapshot = { index: 3, configuration: three, stateMachine: new Uint8Array([7]) };
    const node = soloNode(b, three, {}, durable([], 3, { snapshot }));
    const ready = deliver(node, a, accept(ballot(2, a), [entry(2), entry(3), entry(4)], 3));
    expect(ready.entries).toEqual(atBallot(2, a, entry(4)));
    expect(ready.messages).toEqual([accepted(a, ballot(2, a), [2, 3, 4], 3)]);
    expect(node.status().logEntries).toBe(1);
  });

  it("a chosen slot proposed again with its chosen value is acknowledged and not rewritten", () => {
    const node = soloNode(b, three, {}, durable(atBallot(1, a, entry(1)), 1));
    const ready = deliver(node, c, accept(ballot(2, c), [entry(1)], 1));
    expect(ready.entries).toEqual([]);
    expect(ready.messages).toEqual([accepted(c, ballot(2, c), [1], 1)]);
    expect(node.acceptedAt(1)).toEqual({ slot: 1, ballot: ballot(1, a), value: batch(1) });
  });

  it("a different value proposed for a chosen slot is a broken invariant", () => {
    const node = soloNode(b, three, {}, durable(atBallot(1, a, entry(1)), 1));
    expect(() => deliver(node, c, accept(ballot(2, c), [entry(1, batch(99))], 1))).toThrow(
      InvariantViolation,
    );
  });

  it("an uninitialized member stores entries but commits nothing and says so", () => {
    const node = soloNode(d, emptyConfiguration);
    const ready = deliver(node, a, accept(ballot(1, a), [entry(1)], 1));
    expect(ready.entries).toEqual(atBallot(1, a, entry(1)));
    expect(ready.committed).toEqual([]);
    expect(ready.messages).toEqual([
      { ...accepted(a, ballot(1, a), [1], 0, { commitSeen: 1, uninitialized: true }), from: d },
    ]);
  });
});

describe("learn", () => {
  it("commits chosen entries in slot order and stops at a gap", () => {
    const node = soloNode(b, three);
    const ready = deliver(node, a, {
      type: "learn",
      ballot: ballot(1, a),
      entries: [entry(2), entry(1), entry(4)],
    });
    expect(ready.committed).toEqual([entry(1), entry(2)]);
    expect(ready.entries).toEqual(atBallot(1, a, entry(1), entry(2)));
    expect(ready.hardState).toEqual({ promised: ballot(1, a), committedThrough: 2 });
    expect(ready.messages).toEqual([caughtUpTo(a, ballot(1, a), 2)]);
    expect(node.acceptedAt(4)).toBeUndefined();
    expect(node.status()).toMatchObject({ leader: a, committedThrough: 2 });
  });

  it("skips entries it has already chosen", () => {
    const node = soloNode(b, three, {}, durable(atBallot(1, a, entry(1)), 1));
    const ready = deliver(node, a, { type: "learn", ballot: ballot(1, a), entries: [entry(1), entry(2)] });
    expect(ready.committed).toEqual([entry(2)]);
    expect(ready.entries).toEqual(atBallot(1, a, entry(2)));
  });

  it("a learn from an older ballot still teaches chosen values, but does not change whom it follows", () => {
    const node = soloNode(b, three);
    deliver(node, c, { type: "prepare", ballot: ballot(5, c), fromSlot: 1, transfer: false });
    const ready = deliver(node, a, { type: "learn", ballot: ballot(3, a), entries: [entry(1)] });
    expect(ready.committed).toEqual([entry(1)]);
    expect(ready.hardState).toEqual({ promised: ballot(5, c), committedThrough: 1 });
    expect(ready.messages).toEqual([caughtUpTo(a, ballot(3, a), 1)]);
    expect(node.status()).toMatchObject({ leader: undefined, promised: ballot(5, c) });
  });

  it("an uninitialized member learns nothing until it has a configuration", () => {
    const node = soloNode(d, emptyConfiguration);
    const ready = deliver(node, a, { type: "learn", ballot: ballot(1, a), entries: [entry(1)] });
    expect(ready.committed).toEqual([]);
    expect(ready.entries).toEqual([]);
    expect(ready.messages).toEqual([{ ...caughtUpTo(a, ballot(1, a), 0, true), from: d }]);
  });

  it("a committed change that no longer applies is a no-op on every member", () => {
    const node = soloNode(b, three);
    const addD: SlotValue = { kind: "config", timeMs: 0, change: { type: "addLearner", member: d } };
    deliver(node, a, { type: "learn", ballot: ballot(1, a), entries: [entry(1, addD), entry(2, addD)] });
    expect(node.status()).toMatchObject({ committedThrough: 2, configuration: { ...three, learners: [d] } });
  });
});

describe("installSnapshot", () => {
  const bigger: Configuration = { ...three, learners: [d] };
  const snapshotAt = (index: number, configuration: Configuration = bigger): Snapshot => ({
    index,
    configuration,
    stateMachine: new Uint8Array([index]),
  });

  it("a newer snapshot replaces the chosen prefix of the log, the configuration and the commit index", () => {
    const node = soloNode(b, three, {}, durable(atBallot(1, a, entry(1), entry(2), entry(3)), 1));
    const snapshot = snapshotAt(2);
    const ready = deliver(node, a, { type: "installSnapshot", ballot: ballot(2, a), snapshot });
    expect(ready.snapshot).toEqual(snapshot);
    expect(ready.restore).toEqual(snapshot);
    expect(ready.hardState).toEqual({ promised: ballot(2, a), committedThrough: 2 });
    expect(ready.messages).toEqual([caughtUpTo(a, ballot(2, a), 2)]);
    expect(node.status()).toMatchObject({
      leader: a,
      committedThrough: 2,
      snapshotIndex: 2,
      logEntries: 1,
      configuration: bigger,
    });
    expect(node.acceptedAt(2)).toBeUndefined();
    expect(node.acceptedAt(3)).toEqual({ slot: 3, ballot: ballot(1, a), value: batch(3) });
  });

  it("after a snapshot, compaction uses the snapshot's configuration", () => {
    const node = soloNode(b, three);
    deliver(node, a, { type: "installSnapshot", ballot: ballot(2, a), snapshot: snapshotAt(2) });
    deliver(node, a, { type: "learn", ballot: ballot(2, a), entries: [entry(3)] });
    node.compact(3, new Uint8Array([3]));
    expect(node.currentSnapshot()).toEqual({
      index: 3,
      configuration: bigger,
      stateMachine: new Uint8Array([3]),
    });
  });

  it("a snapshot no newer than the commit index is ignored", () => {
    const node = soloNode(b, three, {}, durable(atBallot(1, a, entry(1), entry(2)), 2));
    const ready = deliver(node, a, {
      type: "installSnapshot",
      ballot: ballot(1, a),
      snapshot: snapshotAt(2),
    });
    expect(ready.snapshot).toBeUndefined();
    expect(ready.restore).toBeUndefined();
    expect(ready.messages).toEqual([caughtUpTo(a, ballot(1, a), 2)]);
    expect(node.status()).toMatchObject({ snapshotIndex: 0, logEntries: 2, configuration: three });
  });

  it("a member with a configuration ignores an index-0 snapshot", () => {
    const node = soloNode(b, three);
    const ready = deliver(node, a, {
      type: "installSnapshot",
      ballot: ballot(1, a),
      snapshot: snapshotAt(0),
    });
    expect(ready.snapshot).toBeUndefined();
    expect(node.status().configuration).toEqual(three);
  });

  it("an uninitialized member takes even an index-0 snapshot if it carries a configuration", () => {
    const node = soloNode(d, emptyConfiguration);
    const empty = snapshotAt(0, emptyConfiguration);
    const ignored = deliver(node, a, { type: "installSnapshot", ballot: ballot(1, a), snapshot: empty });
    expect(ignored.snapshot).toBeUndefined();
    expect(ignored.messages).toEqual([{ ...caughtUpTo(a, ballot(1, a), 0, true), from: d }]);
    const ready = deliver(node, a, {
      type: "installSnapshot",
      ballot: ballot(1, a),
      snapshot: snapshotAt(0),
    });
    expect(ready.restore).toEqual(snapshotAt(0));
    expect(ready.messages).toEqual([{ ...caughtUpTo(a, ballot(1, a), 0), from: d }]);
    expect(node.status().configuration).toEqual(bigger);
  });

  it("committed entries the snapshot covers are not handed to the state machine after the restore", () => {
    const node = soloNode(b, three);
    node.step({
      from: a,
      to: b,
      message: { type: "learn", ballot: ballot(1, a), entries: [entry(1), entry(2)] },
    });
    node.step({
      from: a,
      to: b,
      message: { type: "installSnapshot", ballot: ballot(1, a), snapshot: snapshotAt(3) },
    });
    const ready = node.ready();
    expect(ready.restore).toEqual(snapshotAt(3));
    expect(ready.committed).toEqual([]);
  });

  it("a snapshot from an older ballot is installed but does not change whom it follows", () => {
    const node = soloNode(b, three);
    deliver(node, c, { type: "prepare", ballot: ballot(5, c), fromSlot: 1, transfer: false });
    const ready = deliver(node, a, {
      type: "installSnapshot",
      ballot: ballot(3, a),
      snapshot: snapshotAt(2),
    });
    expect(ready.restore).toEqual(snapshotAt(2));
    expect(node.status()).toMatchObject({ leader: undefined, promised: ballot(5, c), committedThrough: 2 });
  });
});
