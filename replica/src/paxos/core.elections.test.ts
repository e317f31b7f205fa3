// Elections, rule by rule, on a member alone: what it sends when it times out, which
// pre-votes and prepares it grants, how a candidate merges promises into the values
// it must re-propose, and which quorums phase 1 needs.
import { describe, expect, it } from "vitest";
import { InvariantViolation } from "../assert.ts";
import type { Ballot } from "./ballot.ts";
import { type Configuration, initialConfiguration } from "./configuration.ts";
import type { PaxosNode } from "./core.ts";
import type { AcceptedEntry, DurableState, Message, SlotValue } from "./messages.ts";
import { campaign, deliver, messagesOfType, soloNode, tickFor } from "./testHarness.ts";

const [a, b, c, d, e] = ["a#1", "b#1", "c#1", "d#1", "e#1"] as const;
const three = initialConfiguration([a, b, c]);
const five = initialConfiguration([a, b, c, d, e]);
const noop: SlotValue = { kind: "noop" };
const batch = (timeMs: number): SlotValue => ({ kind: "batch", timeMs, requests: [] });
const ballot = (round: number, proposer: string): Ballot => ({ round, proposer });
const electionTimeoutTicks = 10;

const prepare = (round: number, proposer: string, transfer = false, fromSlot = 1): Message => ({
  type: "prepare",
  ballot: ballot(round, proposer),
  fromSlot,
  transfer,
});
const preVote = (round: number, proposer: string, committedThrough = 0, transfer = false): Message => ({
  type: "preVote",
  ballot: ballot(round, proposer),
  committedThrough,
  transfer,
});
const heartbeat = (from: Ballot, commitThrough = 0): Message => ({
  type: "accept",
  ballot: from,
  entries: [],
  commitThrough,
  readRound: 0,
});

/** Durable state holding `entries`, the first `committedThrough` of them chosen. */
function durableWith(
  configuration: Configuration,
  entries: AcceptedEntry[],
  committedThrough: number,
  promised: Ballot = ballot(1, a),
): DurableState {
  return {
    hardState: { promised, committedThrough },
    snapshot: { index: 0, configuration, stateMachine: new Uint8Array(0) },
    entries,
  };
}

/** The tick counts between consecutive rounds of pre-votes, over `ticks` ticks. */
function preVoteIntervals(node: PaxosNode, ticks: number): number[] {
  const intervals: number[] = [];
  let since = 0;
  for (let i = 0; i < ticks; i += 1) {
    since += 1;
    if (messagesOfType(tickFor(node, 1), "preVote").length > 0) {
      intervals.push(since);
      since = 0;
    }
  }
  return intervals;
}

describe("which messages a member handles", () => {
  it("ignores a message addressed to another member", () => {
    const node = soloNode(b, three);
    node.step({ from: a, to: c, message: prepare(5, a) });
    expect(node.hasReady()).toBe(false);
    expect(node.status().promised).toEqual({ round: 0, proposer: "" });
  });

  it("ignores a message that claims to come from itself", () => {
    const node = soloNode(b, three);
    node.step({ from: b, to: b, message: prepare(5, a) });
    expect(node.hasReady()).toBe(false);
  });

  it("drops and counts every message from an evicted incarnation, before reading it", () => {
    const node = soloNode(b, { ...three, evicted: ["x#1"] });
    node.step({ from: "x#1", to: b, message: prepare(5, "x#1") });
    node.step({ from: "x#1", to: b, message: heartbeat(ballot(6, "x#1")) });
    expect(node.droppedFromEvicted).toBe(2);
    expect(node.hasReady()).toBe(false);
  });

  it("an evicted member ignores everything and never campaigns", () => {
    const node = soloNode(b, { voters: [a, c], learners: [], fenced: [], evicted: [b] });
    node.step({ from: a, to: b, message: prepare(5, a) });
    expect(node.hasReady()).toBe(false);
    expect(node.droppedFromEvicted).toBe(0);
    expect(tickFor(node, 5 * electionTimeoutTicks)).toEqual([]);
    expect(node.status()).toMatchObject({ evicted: true, role: "follower" });
  });

  it("an unknown message type is a broken invariant", () => {
    const node = soloNode(b, three);
    const bogus = { type: "gossip", ballot: ballot(1, a) } as unknown as Message;
    expect(() => node.step({ from: a, to: b, message: bogus })).toThrow(InvariantViolation);
  });
});

describe("election timing", () => {
  it("a follower campaigns exactly when the election timeout has elapsed, asking every other voter", () => {
    const node = soloNode(b, { ...three, learners: [d] });
    expect(tickFor(node, electionTimeoutTicks - 1)).toEqual([]);
    const sent = tickFor(node, 1);
    const expected = { type: "preVote", ballot: ballot(1, b), committedThrough: 0, transfer: false };
    expect(sent).toEqual([
      { from: b, to: a, message: expected },
      { from: b, to: c, message: expected },
    ]);
    expect(node.status().role).toBe("preCandidate");
  });

  it("randomizes the timeout within [timeout, 2 x timeout)", () => {
    const node = soloNode(b, three, { random: () => 0.99 });
    expect(preVoteIntervals(node, 19)).toEqual([19]);
  });

  it("widens the range after each failed election, up to eight times the timeout", () => {
    // random() = 0.5: the timeout is 10 + 0.5 x (10 x 2^failures), failures capped at 3.
    const node = soloNode(b, three, { random: () => 0.5 });
    expect(preVoteIntervals(node, 15 + 15 + 20 + 30 + 50 + 50)).toEqual([15, 15, 20, 30, 50, 50]);
  });

  it("a candidate whose prepares go unanswered has failed an election too", () => {
    const node = soloNode(b, three, { random: () => 0.5 });
    campaign(node, [a], []);
    expect(node.status().role).toBe("candidate");
    // The candidate's own timer (15), then the widened one (20).
    expect(preVoteIntervals(node, 35)).toEqual([15, 20]);
  });

  it("a follower that hears a leader's heartbeat starts its timeout over", () => {
    const node = soloNode(b, three);
    tickFor(node, electionTimeoutTicks - 1);
    deliver(node, a, heartbeat(ballot(1, a)));
    expect(tickFor(node, electionTimeoutTicks - 1)).toEqual([]);
    expect(messagesOfType(tickFor(node, 1), "preVote")).toHaveLength(2);
  });

  it("a member that may not lead never campaigns, and keeps the leader it knows for redirects", () => {
    const node = soloNode(b, { ...three, fenced: [b] });
    expect(tickFor(node, 5 * electionTimeoutTicks)).toEqual([]);
    const learner = soloNode(d, { ...three, learners: [d] });
    deliver(learner, a, heartbeat(ballot(1, a)));
    expect(tickFor(learner, 5 * electionTimeoutTicks)).toEqual([]);
    expect(learner.status()).toMatchObject({ role: "follower", leader: a });
  });

  it("a pre-candidate that learns it was fenced goes back to following at its next timeout", () => {
    const node = soloNode(b, three);
    deliver(node, c, prepare(5, c, true));
    tickFor(node, electionTimeoutTicks);
    expect(node.status().role).toBe("preCandidate");
    // A learn from an older leader still teaches chosen values.
    deliver(node, a, {
      type: "learn",
      ballot: ballot(3, a),
      entries: [{ slot: 1, value: { kind: "config", timeMs: 0, change: { type: "fence", member: b } } }],
    });
    expect(node.status()).toMatchObject({ role: "preCandidate", fenced: true });
    expect(tickFor(node, electionTimeoutTicks)).toEqual([]);
    expect(node.status()).toMatchObject({ role: "follower", leader: undefined });
  });
});

describe("ballots", () => {
  it("a campaign's ballot is above every round seen in any message", () => {
    const node = soloNode(b, three);
    deliver(node, a, preVote(7, a));
    const sent = messagesOfType(tickFor(node, electionTimeoutTicks), "preVote");
    expect(sent.map((message) => message.ballot)).toEqual([ballot(8, b), ballot(8, b)]);
  });

  it("a refused pre-vote teaches the candidate the refuser's promise", () => {
    const node = soloNode(b, three);
    const [first] = messagesOfType(tickFor(node, electionTimeoutTicks), "preVote");
    expect(first?.ballot).toEqual(ballot(1, b));
    deliver(node, a, { type: "preVoteReply", ballot: ballot(1, b), granted: false, promised: ballot(20, c) });
    const sent = messagesOfType(tickFor(node, electionTimeoutTicks), "preVote");
    expect(sent.map((message) => message.ballot.round)).toEqual([21, 21]);
  });

  it("a rejected prepare teaches the candidate the rejecting promise", () => {
    const node = soloNode(b, three);
    const { ballot: own } = campaign(node, [a], []);
    deliver(node, a, { type: "reject", ballot: own, promised: ballot(30, c) });
    const sent = messagesOfType(tickFor(node, 100), "preVote");
    expect(sent[0]?.ballot).toEqual(ballot(31, b));
  });
});

describe("pre-vote", () => {
  // b has chosen two slots and promised (1, a); the candidates below ask it for a vote.
  const config: Configuration = { voters: [a, b, c, e], learners: [d], fenced: [c], evicted: [] };
  const entries: AcceptedEntry[] = [
    { slot: 1, ballot: ballot(1, a), value: noop },
    { slot: 2, ballot: ballot(1, a), value: batch(5) },
  ];
  const voter = (options: { fenced?: boolean; random?: number } = {}) => {
    const configuration = options.fenced === true ? { ...config, fenced: [b, c] } : config;
    return soloNode(
      b,
      configuration,
      { random: () => options.random ?? 0 },
      durableWith(configuration, entries, 2),
    );
  };
  const replyTo = (node: PaxosNode, from: string, message: Message) => deliver(node, from, message).messages;
  const reply = (to: string, round: number, granted: boolean, promised = ballot(1, a)) => [
    {
      from: b,
      to,
      message: { type: "preVoteReply", ballot: ballot(round, to), granted, promised },
    },
  ];

  it("is granted to an up-to-date voter with a higher ballot when there is no live leader", () => {
    expect(replyTo(voter(), e, preVote(2, e, 2))).toEqual(reply(e, 2, true));
    // Nothing is promised: a pre-vote never changes the hard state.
    const node = voter();
    node.step({ from: e, to: b, message: preVote(2, e, 2) });
    expect(node.ready().hardState).toBeUndefined();
  });

  it("is refused to a learner", () => {
    expect(replyTo(voter(), d, preVote(2, d, 2))).toEqual(reply(d, 2, false));
  });

  it("is refused to a fenced voter", () => {
    expect(replyTo(voter(), c, preVote(2, c, 2))).toEqual(reply(c, 2, false));
  });

  it("is refused to a candidate whose ballot is not above the promise", () => {
    expect(replyTo(voter(), a, preVote(1, a, 2))).toEqual(reply(a, 1, false));
  });

  it("is refused to a candidate that has chosen fewer slots", () => {
    expect(replyTo(voter(), e, preVote(2, e, 1))).toEqual(reply(e, 2, false));
  });

  it("is granted to a lagging candidate by a voter that may not lead itself", () => {
    expect(replyTo(voter({ fenced: true }), e, preVote(2, e, 1))).toEqual(reply(e, 2, true));
  });

  it("is refused while the leader was heard within the election timeout, unless for a transfer", () => {
    // The timer is randomized to 19 ticks, so b does not campaign meanwhile.
    const node = voter({ random: 0.99 });
    tickFor(node, 5);
    deliver(node, a, heartbeat(ballot(1, a), 2));
    expect(node.status()).toMatchObject({ role: "follower", leader: a });
    tickFor(node, electionTimeoutTicks - 1);
    expect(replyTo(node, e, preVote(2, e, 2))).toEqual(reply(e, 2, false));
    expect(replyTo(node, e, preVote(2, e, 2, true))).toEqual(reply(e, 2, true));
    tickFor(node, 1);
    expect(replyTo(node, e, preVote(2, e, 2))).toEqual(reply(e, 2, true));
  });

  it("a leader refuses pre-votes", () => {
    const node = soloNode(a, three);
    campaign(node, [b], [{ from: b }]);
    expect(node.status().role).toBe("leader");
    expect(replyTo(node, c, preVote(9, c))).toEqual([
      {
        from: a,
        to: c,
        message: { type: "preVoteReply", ballot: ballot(9, c), granted: false, promised: ballot(2, a) },
      },
    ]);
  });

  it("is granted right after the leader is lost, even though it was heard recently", () => {
    // b follows a, is handed leadership, and its campaign is rejected: it has no leader now.
    const node = soloNode(b, three, { random: () => 0.99 });
    deliver(node, a, heartbeat(ballot(2, a)));
    const { messages } = deliver(node, a, { type: "timeoutNow", ballot: ballot(2, a) });
    const [own] = messagesOfType(messages, "prepare");
    expect(own?.ballot).toEqual(ballot(3, b));
    deliver(node, c, { type: "reject", ballot: ballot(3, b), promised: ballot(5, c) });
    expect(node.status()).toMatchObject({ role: "follower", leader: undefined });
    expect(replyTo(node, c, preVote(6, c))).toEqual([
      {
        from: b,
        to: c,
        message: { type: "preVoteReply", ballot: ballot(6, c), granted: true, promised: ballot(3, b) },
      },
    ]);
  });

  it("a pre-candidate moves to phase 1 only with a quorum of grants for its own ballot", () => {
    const node = soloNode(a, three);
    tickFor(node, electionTimeoutTicks);
    expect(node.status().role).toBe("preCandidate");
    const refused = deliver(node, b, {
      type: "preVoteReply",
      ballot: ballot(1, a),
      granted: false,
      promised: ballot(0, ""),
    });
    expect(refused.messages).toEqual([]);
    const stale = deliver(node, c, {
      type: "preVoteReply",
      ballot: ballot(0, a),
      granted: true,
      promised: ballot(0, ""),
    });
    expect(stale.messages).toEqual([]);
    expect(node.status().role).toBe("preCandidate");
    const won = deliver(node, c, {
      type: "preVoteReply",
      ballot: ballot(1, a),
      granted: true,
      promised: ballot(0, ""),
    });
    const expected = { type: "prepare", ballot: ballot(2, a), fromSlot: 1, transfer: false };
    expect(won.messages).toEqual([
      { from: a, to: b, message: expected },
      { from: a, to: c, message: expected },
    ]);
    expect(won.hardState).toEqual({ promised: ballot(2, a), committedThrough: 0 });
    expect(node.status().role).toBe("candidate");
  });
});

describe("prepare", () => {
  it("a repeated prepare for the promised ballot is answered again without persisting anything", () => {
    const node = soloNode(b, three);
    expect(deliver(node, a, prepare(3, a)).hardState).toEqual({
      promised: ballot(3, a),
      committedThrough: 0,
    });
    const again = deliver(node, a, prepare(3, a));
    expect(again.hardState).toBeUndefined();
    expect(again.messages).toEqual([
      {
        from: b,
        to: a,
        message: {
          type: "promise",
          ballot: ballot(3, a),
          fromSlot: 1,
          committedThrough: 0,
          snapshotIndex: 0,
          accepted: [],
        },
      },
    ]);
  });

  it("a promise reports every entry accepted from the prepare's first slot on, in slot order", () => {
    const entries: AcceptedEntry[] = [
      { slot: 3, ballot: ballot(2, c), value: batch(3) },
      { slot: 2, ballot: ballot(1, a), value: batch(2) },
      { slot: 1, ballot: ballot(1, a), value: noop },
    ];
    const node = soloNode(b, three, {}, durableWith(three, entries, 1, ballot(2, c)));
    const { messages } = deliver(node, a, prepare(4, a, false, 2));
    expect(messages.map((envelope) => envelope.message)).toEqual([
      {
        type: "promise",
        ballot: ballot(4, a),
        fromSlot: 2,
        committedThrough: 1,
        snapshotIndex: 0,
        accepted: [
          { slot: 2, ballot: ballot(1, a), value: batch(2) },
          { slot: 3, ballot: ballot(2, c), value: batch(3) },
        ],
      },
    ]);
  });

  it("while the leader is live, only the leader itself or a transfer may prepare", () => {
    const node = soloNode(b, three);
    deliver(node, a, heartbeat(ballot(1, a)));
    // Leader stickiness: no answer at all, not even a reject.
    expect(deliver(node, c, prepare(5, c)).messages).toEqual([]);
    expect(node.status().promised).toEqual(ballot(1, a));
    expect(messagesOfType(deliver(node, a, prepare(4, a)).messages, "promise")).toHaveLength(1);
    expect(messagesOfType(deliver(node, c, prepare(6, c, true)).messages, "promise")).toHaveLength(1);
    expect(node.status().promised).toEqual(ballot(6, c));
  });

  it("a candidate that promises a higher ballot stands down", () => {
    const node = soloNode(a, three);
    campaign(node, [b], []);
    expect(node.status().role).toBe("candidate");
    deliver(node, c, prepare(9, c));
    expect(node.status()).toMatchObject({ role: "follower", leader: undefined, promised: ballot(9, c) });
  });
});

describe("promise", () => {
  it("a candidate whose promiser compacted past its first open slot stands down to catch up", () => {
    const node = soloNode(a, three);
    const { ready } = campaign(node, [b], [{ from: b, snapshotIndex: 1 }]);
    expect(node.status()).toMatchObject({ role: "follower", leader: undefined });
    expect(ready.messages).toEqual([]);
  });

  it("a promiser whose snapshot is below the first open slot counts", () => {
    const node = soloNode(a, three);
    campaign(node, [b], [{ from: b, snapshotIndex: 0 }]);
    expect(node.status().role).toBe("leader");
  });

  it("a promise for another ballot does not count", () => {
    const node = soloNode(a, three);
    campaign(node, [b], []);
    deliver(node, b, {
      type: "promise",
      ballot: ballot(1, a),
      fromSlot: 1,
      committedThrough: 0,
      snapshotIndex: 0,
      accepted: [],
    });
    expect(node.status().role).toBe("candidate");
  });
});

describe("merging promises", () => {
  // a campaigns among five members: its promise and two others make a quorum.
  function elect(
    promises: { from: string; accepted: AcceptedEntry[]; committedThrough?: number }[],
  ): AcceptedEntry[] {
    const node = soloNode(a, five);
    const { ballot: own, ready } = campaign(node, [b, c], promises);
    expect(node.status().role).toBe("leader");
    expect(own).toEqual(ballot(2, a));
    return ready.entries.map((entry) => {
      expect(entry.ballot).toEqual(own);
      return entry;
    });
  }
  const valuesOf = (entries: AcceptedEntry[]) => entries.map((entry) => [entry.slot, entry.value]);

  it("a value some promiser knows is chosen wins over any higher-ballot value, in either order", () => {
    const chosenOnB = {
      from: b,
      accepted: [{ slot: 1, ballot: ballot(1, b), value: batch(1) }],
      committedThrough: 1,
    };
    const higherOnC = { from: c, accepted: [{ slot: 1, ballot: ballot(1, c), value: batch(2) }] };
    const expected = [
      [1, batch(1)],
      [2, noop],
    ];
    expect(valuesOf(elect([chosenOnB, higherOnC]))).toEqual(expected);
    expect(valuesOf(elect([higherOnC, chosenOnB]))).toEqual(expected);
  });

  it("the promiser's last chosen slot counts as chosen, the next one does not", () => {
    const onB = {
      from: b,
      committedThrough: 1,
      accepted: [
        { slot: 1, ballot: ballot(1, b), value: batch(1) },
        { slot: 2, ballot: ballot(1, b), value: batch(2) },
      ],
    };
    const onC = {
      from: c,
      accepted: [
        { slot: 1, ballot: ballot(1, c), value: batch(3) },
        { slot: 2, ballot: ballot(1, c), value: batch(4) },
      ],
    };
    expect(valuesOf(elect([onB, onC]))).toEqual([
      [1, batch(1)],
      [2, batch(4)],
      [3, noop],
    ]);
  });

  it("otherwise the value accepted under the highest ballot wins, in either order", () => {
    const lower = { from: b, accepted: [{ slot: 1, ballot: ballot(1, b), value: batch(1) }] };
    const higher = { from: c, accepted: [{ slot: 1, ballot: ballot(1, c), value: batch(2) }] };
    const expected = [
      [1, batch(2)],
      [2, noop],
    ];
    expect(valuesOf(elect([lower, higher]))).toEqual(expected);
    expect(valuesOf(elect([higher, lower]))).toEqual(expected);
  });

  it("gaps are filled with no-ops, and the leader's own no-op follows the last open slot", () => {
    const onB = { from: b, accepted: [{ slot: 3, ballot: ballot(1, b), value: batch(3) }] };
    expect(valuesOf(elect([onB, { from: c, accepted: [] }]))).toEqual([
      [1, noop],
      [2, noop],
      [3, batch(3)],
      [4, noop],
    ]);
  });

  it("the new leader sends every re-proposed slot to every member, at most maxEntriesPerMessage per message", () => {
    const node = soloNode(a, three, { maxEntriesPerMessage: 2 });
    const accepted = [1, 2, 3].map((slot) => ({ slot, ballot: ballot(1, b), value: batch(slot) }));
    const { ready } = campaign(node, [b], [{ from: b, accepted }]);
    const own = ballot(2, a);
    const accept = (entries: { slot: number; value: SlotValue }[]) => ({
      type: "accept",
      ballot: own,
      entries,
      commitThrough: 0,
      readRound: 0,
    });
    const first = accept([
      { slot: 1, value: batch(1) },
      { slot: 2, value: batch(2) },
    ]);
    const second = accept([
      { slot: 3, value: batch(3) },
      { slot: 4, value: noop },
    ]);
    expect(ready.messages).toEqual([
      { from: a, to: b, message: first },
      { from: a, to: b, message: second },
      { from: a, to: c, message: first },
      { from: a, to: c, message: second },
    ]);
  });
});

describe("phase 1 quorums across configurations", () => {
  const change = (type: "addLearner" | "promote" | "remove", member: string): SlotValue => ({
    kind: "config",
    timeMs: 0,
    change: { type, member },
  });

  it("a configuration change in an open slot requires a quorum of the configuration it makes, in slot order", () => {
    // a itself accepted slot 2 (promote e); b reports slot 1 (add e as a learner). In slot
    // order they make e a voter: a, b and c are not enough without a third of a, b, c, e.
    const own = { slot: 2, ballot: ballot(1, b), value: change("promote", e) };
    const node = soloNode(a, three, {}, durableWith(three, [own], 0, ballot(1, b)));
    const { ballot: candidate, ready } = campaign(
      node,
      [b],
      [{ from: b, accepted: [{ slot: 1, ballot: ballot(1, b), value: change("addLearner", e) }] }],
    );
    expect(node.status().role).toBe("candidate");
    // Only e, the one member not yet asked, gets a prepare.
    expect(ready.messages).toEqual([
      { from: a, to: e, message: { type: "prepare", ballot: candidate, fromSlot: 1, transfer: false } },
    ]);
    const elected = deliver(node, c, {
      type: "promise",
      ballot: candidate,
      fromSlot: 1,
      committedThrough: 0,
      snapshotIndex: 0,
      accepted: [],
    });
    expect(node.status().role).toBe("leader");
    expect(elected.entries.map((entry) => entry.value)).toEqual([
      change("addLearner", e),
      change("promote", e),
      noop,
    ]);
  });

  it("a change in an open slot that no longer applies does not change the quorum", () => {
    const node = soloNode(a, three);
    campaign(
      node,
      [b],
      [{ from: b, accepted: [{ slot: 1, ballot: ballot(1, b), value: change("remove", "z#1") }] }],
    );
    expect(node.status().role).toBe("leader");
  });
});

describe("rejects", () => {
  it("a candidate rejected for a higher promise backs off as a follower, and waits longer", () => {
    const node = soloNode(a, three, { random: () => 0.5 });
    const { ballot: own } = campaign(node, [b], []);
    deliver(node, b, { type: "reject", ballot: own, promised: ballot(9, c) });
    expect(node.status()).toMatchObject({ role: "follower", leader: undefined });
    // One failed election: 10 + 0.5 x 20.
    expect(preVoteIntervals(node, 20)).toEqual([20]);
  });

  it("a reject for another ballot, or one not above its own, is ignored", () => {
    const node = soloNode(a, three);
    const { ballot: own } = campaign(node, [b], []);
    deliver(node, b, { type: "reject", ballot: ballot(1, a), promised: ballot(9, c) });
    deliver(node, b, { type: "reject", ballot: own, promised: own });
    expect(node.status().role).toBe("candidate");
  });

  it("a follower ignores rejects", () => {
    const node = soloNode(a, three);
    expect(
      deliver(node, b, { type: "reject", ballot: ballot(1, a), promised: ballot(9, c) }).messages,
    ).toEqual([]);
    expect(node.status()).toMatchObject({ role: "follower", promised: ballot(0, "") });
  });

  it("a leader rejected for a higher promise steps down", () => {
    const node = soloNode(a, three);
    const { ballot: own } = campaign(node, [b], [{ from: b }]);
    expect(node.status().role).toBe("leader");
    deliver(node, c, { type: "reject", ballot: own, promised: ballot(9, c) });
    expect(node.status()).toMatchObject({ role: "follower", leader: undefined });
  });
});

describe("timeoutNow", () => {
  function follower(config: Configuration = three): PaxosNode {
    const node = soloNode(b, config);
    deliver(node, a, heartbeat(ballot(2, a)));
    return node;
  }

  it("makes a follower campaign at once, skipping the pre-vote, with the transfer flag", () => {
    const node = follower();
    const ready = deliver(node, a, { type: "timeoutNow", ballot: ballot(2, a) });
    const expected = { type: "prepare", ballot: ballot(3, b), fromSlot: 1, transfer: true };
    expect(ready.messages).toEqual([
      { from: b, to: a, message: expected },
      { from: b, to: c, message: expected },
    ]);
    expect(ready.hardState?.promised).toEqual(ballot(3, b));
  });

  it("is ignored from a member that is not the leader", () => {
    expect(deliver(follower(), c, { type: "timeoutNow", ballot: ballot(2, a) }).messages).toEqual([]);
  });

  it("is ignored for a ballot other than the promised one", () => {
    const node = follower();
    deliver(node, c, prepare(4, c, true));
    expect(node.status()).toMatchObject({ leader: a, promised: ballot(4, c) });
    expect(deliver(node, a, { type: "timeoutNow", ballot: ballot(2, a) }).messages).toEqual([]);
  });

  it("is ignored by a member that may not lead", () => {
    const node = follower({ ...three, fenced: [b] });
    expect(deliver(node, a, { type: "timeoutNow", ballot: ballot(2, a) }).messages).toEqual([]);
    expect(node.status().role).toBe("follower");
  });
});

describe("following", () => {
  it("a candidate that hears an accept of an equal or higher ballot follows its proposer", () => {
    const node = soloNode(b, three);
    campaign(node, [a], []);
    deliver(node, c, heartbeat(ballot(3, c)));
    expect(node.status()).toMatchObject({ role: "follower", leader: c, promised: ballot(3, c) });
  });
});
