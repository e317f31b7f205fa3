// Multi-Paxos, as a pure state machine. Inputs: `step` (a message), `tick` (time
// passes), `propose`, `proposeConfigChange`, `readIndex`, `transferLeadership`,
// `compact`. Outputs: `ready()`, which says what to persist, send, apply and answer,
// in that order (see `Ready`). No timers, sockets, files or randomness of its own: the
// runtime wires it to disk, network and clock, and the simulator to fakes.
//
// Roles: every member is an acceptor; one at a time leads (proposer + distinguished
// learner). A leader runs phase 1 once for all open slots, then streams phase 2 with
// a bounded window of slots in flight, each slot a bounded batch of requests.
import { assert, assertNever } from "../assert.ts";
import {
  type Ballot,
  ballotAtLeast,
  ballotGreater,
  ballotsEqual,
  compareBallots,
  zeroBallot,
} from "./ballot.ts";
import {
  applyConfigChange,
  type ConfigChange,
  type Configuration,
  configChangeInEffect,
  configChangeProblem,
  isEvicted,
  isFenced,
  isQuorum,
  isVoter,
} from "./configuration.ts";
import type {
  AcceptedEntry,
  DurableState,
  Envelope,
  HardState,
  Message,
  ProposedEntry,
  ReadState,
  Ready,
  SlotValue,
  Snapshot,
} from "./messages.ts";

export interface PaxosOptions {
  /** This member's key, name#incarnation. */
  readonly self: string;
  /** Followers wait this long without hearing from a leader before campaigning; randomized up to 2x. */
  readonly electionTimeoutTicks: number;
  readonly heartbeatTicks: number;
  /** Slots proposed but not yet chosen, at most. */
  readonly maxInflightSlots: number;
  readonly maxBatchRequests: number;
  readonly maxBatchBytes: number;
  /** Proposals waiting for a free slot, at most; more are refused with Overloaded. */
  readonly maxPendingProposals: number;
  /** Entries per accept or learn message, at most. */
  readonly maxEntriesPerMessage: number;
  /** Bytes of request payload per accept or learn message, at most (one entry always fits). */
  readonly maxMessageBytes: number;
  /** A learner is promotable when it is at most this many slots behind. */
  readonly promotionLagSlots: number;
  /** Uniform in [0, 1); seeded by the caller so that runs replay. */
  readonly random: () => number;
}

export const defaultPaxosOptions = {
  electionTimeoutTicks: 10,
  heartbeatTicks: 2,
  maxInflightSlots: 64,
  maxBatchRequests: 128,
  maxBatchBytes: 1 << 20,
  maxPendingProposals: 4096,
  maxEntriesPerMessage: 256,
  maxMessageBytes: 4 << 20,
  promotionLagSlots: 64,
} as const satisfies Omit<PaxosOptions, "self" | "random">;

/** Expected refusals, returned (not thrown) so callers can map them to answers. */
export type ProposalError =
  | { readonly code: "NotLeader"; readonly leader: string | undefined }
  | { readonly code: "Fenced" }
  | { readonly code: "Overloaded" }
  | { readonly code: "TooLarge"; readonly maxBytes: number }
  | { readonly code: "TransferInProgress" }
  | { readonly code: "LeaderNotReady" }
  | { readonly code: "ChangeInProgress"; readonly slot: number }
  | { readonly code: "InvalidChange"; readonly reason: string }
  | { readonly code: "NotCaughtUp"; readonly member: string; readonly behindBy: number };

export type ProposalResult =
  | {
      readonly ok: true;
      readonly slot?: number;
      /** A configuration change whose effect was already there: nothing was proposed. */
      readonly alreadyApplied?: true;
    }
  | ({ readonly ok: false } & ProposalError);

export type RoleName = "follower" | "preCandidate" | "candidate" | "leader";

export interface PaxosStatus {
  readonly self: string;
  readonly role: RoleName;
  readonly leader: string | undefined;
  readonly promised: Ballot;
  readonly committedThrough: number;
  readonly snapshotIndex: number;
  readonly logEntries: number;
  readonly configuration: Configuration;
  readonly fenced: boolean;
  readonly evicted: boolean;
  /** Leader only: the last slot each peer reported as committed, and ticks since it answered. */
  readonly peers: readonly {
    readonly member: string;
    readonly committedThrough: number;
    readonly idleTicks: number;
  }[];
}

interface InflightSlot {
  readonly value: SlotValue;
  readonly acks: Set<string>;
}

interface PeerProgress {
  committedThrough: number;
  lastAckTick: number;
  readRound: number;
  /** Highest slot sent in a learn message and not yet reported committed. */
  learnSentThrough: number;
  /** The member reported that it has no configuration yet: send the snapshot first. */
  uninitialized: boolean;
  /** Our commit index at the previous heartbeat: a member still below it is stuck. */
  commitAtLastHeartbeat: number;
  snapshotSentTick: number;
}

interface PendingRead {
  readonly readId: number;
  round: number | undefined;
  index: number;
}

interface LeaderState {
  readonly ballot: Ballot;
  nextSlot: number;
  readonly inflight: Map<number, InflightSlot>;
  readonly progress: Map<string, PeerProgress>;
  readonly pendingProposals: Uint8Array[];
  /** The no-op of this ballot: until it is chosen, reads and config changes wait. */
  readonly barrierSlot: number;
  configPendingSlot: number | undefined;
  readRound: number;
  readRoundOutstanding: number | undefined;
  readonly pendingReads: PendingRead[];
  transfer: { readonly target: string; readonly deadlineTick: number; sent: boolean } | undefined;
  heartbeatElapsed: number;
  quorumCheckElapsed: number;
  lastStampMs: number;
}

type Role =
  | { readonly kind: "follower"; readonly leader: string | undefined }
  | { readonly kind: "preCandidate"; readonly ballot: Ballot; readonly grants: Set<string> }
  | {
      readonly kind: "candidate";
      readonly ballot: Ballot;
      readonly fromSlot: number;
      readonly promises: Map<string, Extract<Message, { type: "promise" }>>;
      readonly asked: Set<string>;
      readonly transfer: boolean;
    }
  | { readonly kind: "leader"; readonly state: LeaderState };

export class PaxosNode {
  readonly options: PaxosOptions;
  private role: Role = { kind: "follower", leader: undefined };
  // Invariant: promised never decreases.
  private promised: Ballot;
  private maxRoundSeen: number;
  // Invariant: snapshot.index <= committedThrough; every slot in between is in `log`.
  private committedThrough: number;
  private snapshot: Snapshot;
  /** Accepted (and chosen) entries above the snapshot. */
  private readonly log = new Map<number, { ballot: Ballot; value: SlotValue }>();
  /** The configuration after `committedThrough`. */
  private committedConfig: Configuration;
  /** Committed configurations by the slot from which they hold, for snapshots. */
  private configHistory: { slot: number; configuration: Configuration }[];

  private tickCount = 0;
  private nowMs = 0;
  private electionElapsed = 0;
  private randomizedElectionTimeout = 0;
  private failedElections = 0;
  private lastLeaderContactTick = Number.NEGATIVE_INFINITY;

  // Output since the last ready().
  private outSnapshot: Snapshot | undefined;
  private outEntries: AcceptedEntry[] = [];
  private hardStateDirty = false;
  /** The promise rose since the last ready(): that, unlike a commit index, must be synced. */
  private promiseDirty = false;
  private outMessages: Envelope[] = [];
  private outRestore: Snapshot | undefined;
  private outCommitted: ProposedEntry[] = [];
  private outReadStates: ReadState[] = [];
  private outFailedReads: number[] = [];

  /** Messages dropped because their sender was evicted (for metrics and tests). */
  droppedFromEvicted = 0;

  private constructor(options: PaxosOptions, durable: DurableState) {
    assert(
      options.electionTimeoutTicks > options.heartbeatTicks,
      "election timeout must exceed the heartbeat",
    );
    assert(options.maxInflightSlots >= 1 && options.maxBatchRequests >= 1, "windows must hold at least one");
    assert(options.maxBatchBytes <= options.maxMessageBytes, "a full batch must fit in one message");
    this.options = options;
    this.promised = durable.hardState.promised;
    this.maxRoundSeen = this.promised.round;
    this.snapshot = durable.snapshot;
    // A snapshot holds only chosen slots, so its index is committed even when the hard
    // state written after it was lost in a crash.
    this.committedThrough = Math.max(durable.hardState.committedThrough, this.snapshot.index);
    for (const entry of durable.entries) {
      if (entry.slot > this.snapshot.index)
        this.log.set(entry.slot, { ballot: entry.ballot, value: entry.value });
    }
    this.committedConfig = this.snapshot.configuration;
    this.configHistory = [{ slot: this.snapshot.index, configuration: this.snapshot.configuration }];
    // Replay what was committed before the restart: the state machine starts from the snapshot.
    this.outRestore = this.snapshot;
    for (let slot = this.snapshot.index + 1; slot <= this.committedThrough; slot += 1) {
      const entry = this.log.get(slot);
      assert(entry !== undefined, `committed slot ${slot} is missing from the durable log`);
      this.noteCommittedConfig(slot, entry.value);
      this.outCommitted.push({ slot, value: entry.value });
    }
    this.resetElectionTimer();
  }

  /** A member starting from what its data directory holds (or `emptyDurableState`). */
  static restore(options: PaxosOptions, durable: DurableState): PaxosNode {
    return new PaxosNode(options, durable);
  }

  // ---------------------------------------------------------------- inputs

  tick(nowMs: number): void {
    this.tickCount += 1;
    // Whole milliseconds: entries carry this stamp, and the state machine keeps integer time.
    this.nowMs = Math.max(this.nowMs, Math.floor(nowMs));
    const role = this.role;
    if (role.kind === "leader") {
      this.tickLeader(role.state);
      return;
    }
    this.electionElapsed += 1;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      if (role.kind === "candidate" || role.kind === "preCandidate") this.failedElections += 1;
      this.startPreVote();
    }
  }

  step(envelope: Envelope): void {
    const { from, message } = envelope;
    if (envelope.to !== this.options.self || from === this.options.self) return;
    if (isEvicted(this.committedConfig, from)) {
      this.droppedFromEvicted += 1;
      return;
    }
    if (this.isSelfEvicted()) return;
    this.maxRoundSeen = Math.max(this.maxRoundSeen, message.ballot.round);
    switch (message.type) {
      case "preVote":
        this.onPreVote(from, message);
        return;
      case "preVoteReply":
        this.onPreVoteReply(from, message);
        return;
      case "prepare":
        this.onPrepare(from, message);
        return;
      case "promise":
        this.onPromise(from, message);
        return;
      case "reject":
        this.onReject(message);
        return;
      case "accept":
        this.onAccept(from, message);
        return;
      case "accepted":
        this.onAccepted(from, message);
        return;
      case "learn":
        this.onLearn(from, message);
        return;
      case "installSnapshot":
        this.onInstallSnapshot(from, message);
        return;
      case "timeoutNow":
        this.onTimeoutNow(from, message);
        return;
      default:
        assertNever(message, "message");
    }
  }

  /** Queue a client request (opaque bytes) for the log. Leader only. */
  propose(request: Uint8Array): ProposalResult {
    const refusal = this.leaderRefusal();
    if (refusal !== undefined) return refusal;
    const state = this.leaderState();
    if (request.byteLength > this.options.maxBatchBytes)
      return { ok: false, code: "TooLarge", maxBytes: this.options.maxBatchBytes };
    if (state.pendingProposals.length >= this.options.maxPendingProposals)
      return { ok: false, code: "Overloaded" };
    state.pendingProposals.push(request);
    this.flushProposals(state);
    return { ok: true };
  }

  /** An empty batch: advances the replicated clock (lock leases expire by it). */
  proposeTick(): ProposalResult {
    const refusal = this.leaderRefusal();
    if (refusal !== undefined) return refusal;
    const state = this.leaderState();
    if (state.inflight.size >= this.options.maxInflightSlots || state.configPendingSlot !== undefined)
      return { ok: false, code: "Overloaded" };
    const slot = this.appendAsLeader(state, [{ kind: "batch", timeMs: this.stamp(state), requests: [] }]);
    return { ok: true, slot };
  }

  proposeConfigChange(change: ConfigChange): ProposalResult {
    const refusal = this.leaderRefusal();
    if (refusal !== undefined) return refusal;
    const state = this.leaderState();
    if (!this.ownBallotCommitted(state)) return { ok: false, code: "LeaderNotReady" };
    // A retried call (an operator that crashed between steps) finds its change already
    // made: it succeeds without a new entry. Judged on the newest configuration, the
    // change in flight included; when only that change makes it so, the answer names
    // its slot, so the caller waits until it is chosen, as the first call does.
    const latest = this.configurationForSlot(state, state.nextSlot);
    if (configChangeInEffect(latest, change)) {
      if (configChangeInEffect(this.committedConfig, change))
        return { ok: true, slot: this.committedThrough, alreadyApplied: true };
      assert(
        state.configPendingSlot !== undefined,
        "only a change in flight can make the newest configuration differ from the committed one",
      );
      return { ok: true, slot: state.configPendingSlot, alreadyApplied: true };
    }
    if (state.configPendingSlot !== undefined)
      return { ok: false, code: "ChangeInProgress", slot: state.configPendingSlot };
    const problem = configChangeProblem(latest, change);
    if (problem !== undefined) return { ok: false, code: "InvalidChange", reason: problem };
    if (change.type === "promote") {
      const learnerCommitted = state.progress.get(change.member)?.committedThrough ?? 0;
      const behindBy = this.committedThrough - learnerCommitted;
      if (behindBy > this.options.promotionLagSlots)
        return { ok: false, code: "NotCaughtUp", member: change.member, behindBy };
    }
    const slot = this.appendAsLeader(state, [{ kind: "config", timeMs: this.stamp(state), change }]);
    return { ok: true, slot };
  }

  /**
   * Linearizable read (read index): the leader notes its commit index, confirms with a
   * quorum that it still leads, and reports a ReadState; serve the read once the state
   * machine has applied that index. No clock is trusted, so clock drift cannot make a
   * deposed leader serve a stale read.
   */
  readIndex(readId: number): ProposalResult {
    if (this.role.kind !== "leader") return { ok: false, code: "NotLeader", leader: this.knownLeader() };
    if (isFenced(this.committedConfig, this.options.self)) return { ok: false, code: "Fenced" };
    const state = this.role.state;
    if (state.pendingReads.length >= this.options.maxPendingProposals)
      return { ok: false, code: "Overloaded" };
    state.pendingReads.push({ readId, round: undefined, index: 0 });
    this.maybeStartReadRound(state);
    return { ok: true };
  }

  transferLeadership(target: string): ProposalResult {
    const refusal = this.leaderRefusal();
    if (refusal !== undefined) return refusal;
    const state = this.leaderState();
    if (target === this.options.self) return { ok: true };
    if (!isVoter(this.committedConfig, target) || isFenced(this.committedConfig, target))
      return { ok: false, code: "InvalidChange", reason: `${target} is not an unfenced voter` };
    state.transfer = {
      target,
      deadlineTick: this.tickCount + this.options.electionTimeoutTicks,
      sent: false,
    };
    this.maybeSendTimeoutNow(state);
    return { ok: true };
  }

  /**
   * The state machine has applied through `index` and serialized itself: keep that as
   * the snapshot and drop the log up to it.
   */
  compact(index: number, stateMachine: Uint8Array): void {
    assert(
      index <= this.committedThrough,
      `cannot compact through ${index}: only ${this.committedThrough} is committed`,
    );
    if (index <= this.snapshot.index) return;
    this.snapshot = { index, configuration: this.configurationAt(index), stateMachine };
    for (const slot of [...this.log.keys()]) if (slot <= index) this.log.delete(slot);
    this.configHistory = this.configHistory.filter((_entry, position, all) => {
      const next = all[position + 1];
      return next === undefined || next.slot > index;
    });
    this.outSnapshot = this.snapshot;
  }

  // --------------------------------------------------------------- outputs

  hasReady(): boolean {
    return (
      this.outSnapshot !== undefined ||
      this.outEntries.length > 0 ||
      this.hardStateDirty ||
      this.outMessages.length > 0 ||
      this.outRestore !== undefined ||
      this.outCommitted.length > 0 ||
      this.outReadStates.length > 0 ||
      this.outFailedReads.length > 0
    );
  }

  /** Everything produced since the last call; see `Ready` for the order of handling. */
  ready(): Ready {
    const ready: Ready = {
      snapshot: this.outSnapshot,
      entries: this.outEntries,
      hardState: this.hardStateDirty ? this.hardState() : undefined,
      mustSync: this.promiseDirty || this.outEntries.length > 0 || this.outSnapshot !== undefined,
      messages: this.outMessages,
      restore: this.outRestore,
      committed: this.outCommitted,
      readStates: this.outReadStates,
      failedReads: this.outFailedReads,
    };
    this.outSnapshot = undefined;
    this.outEntries = [];
    this.hardStateDirty = false;
    this.promiseDirty = false;
    this.outMessages = [];
    this.outRestore = undefined;
    this.outCommitted = [];
    this.outReadStates = [];
    this.outFailedReads = [];
    return ready;
  }

  hardState(): HardState {
    return { promised: this.promised, committedThrough: this.committedThrough };
  }

  status(): PaxosStatus {
    const role = this.role;
    const peers =
      role.kind === "leader"
        ? [...role.state.progress.entries()].map(([member, progress]) => ({
            member,
            committedThrough: progress.committedThrough,
            idleTicks: this.tickCount - progress.lastAckTick,
          }))
        : [];
    return {
      self: this.options.self,
      role: role.kind,
      leader: this.knownLeader(),
      promised: this.promised,
      committedThrough: this.committedThrough,
      snapshotIndex: this.snapshot.index,
      logEntries: this.log.size,
      configuration: this.committedConfig,
      fenced: isFenced(this.committedConfig, this.options.self),
      evicted: this.isSelfEvicted(),
      peers,
    };
  }

  /** The accepted entry in a slot, if this member holds one (for checks and catch-up). */
  acceptedAt(slot: number): AcceptedEntry | undefined {
    const entry = this.log.get(slot);
    return entry === undefined ? undefined : { slot, ballot: entry.ballot, value: entry.value };
  }

  currentSnapshot(): Snapshot {
    return this.snapshot;
  }

  // ------------------------------------------------------------- elections

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    // Randomized so that followers rarely time out together; the range widens after
    // failed elections so that dueling candidates spread apart and one wins.
    const spread = this.options.electionTimeoutTicks * 2 ** Math.min(this.failedElections, 3);
    this.randomizedElectionTimeout =
      this.options.electionTimeoutTicks + Math.floor(this.options.random() * spread);
  }

  private mayLead(): boolean {
    const self = this.options.self;
    return (
      isVoter(this.committedConfig, self) && !isFenced(this.committedConfig, self) && !this.isSelfEvicted()
    );
  }

  /** Joined with no configuration and has not installed one yet: learns nothing until it does. */
  private isUninitialized(): boolean {
    return this.committedThrough === 0 && this.committedConfig.voters.length === 0;
  }

  private isSelfEvicted(): boolean {
    return isEvicted(this.committedConfig, this.options.self);
  }

  private nextBallot(): Ballot {
    return { round: Math.max(this.maxRoundSeen, this.promised.round) + 1, proposer: this.options.self };
  }

  /** True while this member follows a leader it heard from within the election timeout. */
  private leaderIsLive(): boolean {
    if (this.role.kind === "leader") return true;
    return (
      this.role.kind === "follower" &&
      this.role.leader !== undefined &&
      this.tickCount - this.lastLeaderContactTick < this.options.electionTimeoutTicks
    );
  }

  private startPreVote(): void {
    this.resetElectionTimer();
    if (!this.mayLead()) {
      if (this.role.kind !== "follower") this.becomeFollower(undefined);
      return;
    }
    const ballot = this.nextBallot();
    this.role = { kind: "preCandidate", ballot, grants: new Set([this.options.self]) };
    for (const voter of this.committedConfig.voters) {
      if (voter === this.options.self) continue;
      this.send(voter, { type: "preVote", ballot, committedThrough: this.committedThrough, transfer: false });
    }
    this.checkPreVoteWon();
  }

  private onPreVote(from: string, message: Extract<Message, { type: "preVote" }>): void {
    // The pre-check: grant only a voter that may lead, is as up to date as we are, and
    // only when we have no live leader, so a member that cannot win, or a healthy
    // leader's cluster, is never disturbed by a higher ballot.
    const granted =
      isVoter(this.committedConfig, from) &&
      !isFenced(this.committedConfig, from) &&
      (message.transfer || !this.leaderIsLive()) &&
      // Up to date: a lagging leader would stall while it catches up. A member that
      // may not lead itself (fenced, or removed and not yet told) waives this, or a
      // lagging voter that needs its vote could never be elected.
      (message.committedThrough >= this.committedThrough || !this.mayLead()) &&
      ballotGreater(message.ballot, this.promised);
    this.send(from, { type: "preVoteReply", ballot: message.ballot, granted, promised: this.promised });
  }

  private onPreVoteReply(from: string, message: Extract<Message, { type: "preVoteReply" }>): void {
    const role = this.role;
    if (role.kind !== "preCandidate" || !ballotsEqual(role.ballot, message.ballot)) return;
    this.maxRoundSeen = Math.max(this.maxRoundSeen, message.promised.round);
    if (!message.granted) return;
    role.grants.add(from);
    this.checkPreVoteWon();
  }

  private checkPreVoteWon(): void {
    const role = this.role;
    if (role.kind === "preCandidate" && isQuorum(this.committedConfig, role.grants))
      this.becomeCandidate(false);
  }

  private becomeCandidate(transfer: boolean): void {
    const ballot = this.nextBallot();
    // Promise to ourselves first: the hard state (persisted before the prepares go out)
    // is what keeps this ballot from ever being used again, even after a restart.
    this.setPromised(ballot);
    const fromSlot = this.committedThrough + 1;
    const ownPromise: Extract<Message, { type: "promise" }> = {
      type: "promise",
      ballot,
      fromSlot,
      committedThrough: this.committedThrough,
      snapshotIndex: this.snapshot.index,
      accepted: this.acceptedFrom(fromSlot),
    };
    this.role = {
      kind: "candidate",
      ballot,
      fromSlot,
      promises: new Map([[this.options.self, ownPromise]]),
      asked: new Set([this.options.self]),
      transfer,
    };
    this.resetElectionTimer();
    this.askForPromises(this.committedConfig);
    this.checkElected();
  }

  private askForPromises(configuration: Configuration): void {
    const role = this.role;
    if (role.kind !== "candidate") return;
    for (const member of [...configuration.voters, ...configuration.learners]) {
      if (role.asked.has(member)) continue;
      role.asked.add(member);
      this.send(member, {
        type: "prepare",
        ballot: role.ballot,
        fromSlot: role.fromSlot,
        transfer: role.transfer,
      });
    }
  }

  private onPrepare(from: string, message: Extract<Message, { type: "prepare" }>): void {
    // Leader stickiness: while we hear from a live leader, a prepare from anyone else is
    // ignored unless that leader handed over (transfer), so a member that rejoins after
    // a partition cannot depose a healthy leader.
    if (!message.transfer && this.leaderIsLive() && message.ballot.proposer !== this.knownLeader()) return;
    if (!ballotAtLeast(message.ballot, this.promised)) {
      this.send(from, { type: "reject", ballot: message.ballot, promised: this.promised });
      return;
    }
    if (ballotGreater(message.ballot, this.promised)) {
      this.setPromised(message.ballot);
      if (this.role.kind !== "follower") this.becomeFollower(undefined);
    }
    this.electionElapsed = 0;
    this.send(from, {
      type: "promise",
      ballot: message.ballot,
      fromSlot: message.fromSlot,
      committedThrough: this.committedThrough,
      snapshotIndex: this.snapshot.index,
      accepted: this.acceptedFrom(message.fromSlot),
      ...(this.snapshot.index >= message.fromSlot ? { snapshot: this.snapshot } : {}),
    });
  }

  private onPromise(from: string, message: Extract<Message, { type: "promise" }>): void {
    const role = this.role;
    if (role.kind !== "candidate" || !ballotsEqual(role.ballot, message.ballot)) return;
    if (message.snapshotIndex >= role.fromSlot) {
      // The promiser compacted slots we never learned: they are chosen, and its snapshot
      // has them. Catch up from it and campaign again later; without this, a lagging
      // voter whose only possible quorum includes a compacted member could never win.
      if (message.snapshot !== undefined) this.installSnapshot(message.snapshot);
      this.becomeFollower(undefined);
      return;
    }
    role.promises.set(from, message);
    this.checkElected();
  }

  /**
   * For each open slot, the value a new leader must propose: a chosen value if any
   * promiser knows one, else the value accepted under the highest ballot.
   */
  private mergePromises(
    promises: Iterable<Extract<Message, { type: "promise" }>>,
  ): Map<number, { value: SlotValue; ballot: Ballot; chosen: boolean }> {
    const merged = new Map<number, { value: SlotValue; ballot: Ballot; chosen: boolean }>();
    for (const promise of promises) {
      for (const entry of promise.accepted) {
        const chosen = entry.slot <= promise.committedThrough;
        const existing = merged.get(entry.slot);
        if (existing?.chosen) continue;
        if (chosen || existing === undefined || ballotGreater(entry.ballot, existing.ballot)) {
          merged.set(entry.slot, { value: entry.value, ballot: entry.ballot, chosen });
        }
      }
    }
    return merged;
  }

  private checkElected(): void {
    const role = this.role;
    if (role.kind !== "candidate") return;
    if (!this.mayLead()) {
      // Fenced or removed while campaigning (learned from an older leader): stand down.
      this.becomeFollower(undefined);
      return;
    }
    const promised = new Set(role.promises.keys());
    const merged = this.mergePromises(role.promises.values());
    // Phase 1 must reach a quorum of every configuration that may govern an open slot:
    // the committed one, and each one that a configuration entry in an open slot would
    // produce. Otherwise a value chosen under a newer configuration could be missed.
    const configurations = [this.committedConfig];
    let configuration = this.committedConfig;
    for (const slot of [...merged.keys()].sort((a, b) => a - b)) {
      const value = merged.get(slot)?.value;
      if (value?.kind !== "config" || configChangeProblem(configuration, value.change) !== undefined)
        continue;
      configuration = applyConfigChange(configuration, value.change);
      configurations.push(configuration);
    }
    for (const needed of configurations) {
      if (!isQuorum(needed, promised)) {
        this.askForPromises(needed);
        return;
      }
    }
    this.becomeLeader(role.ballot, merged);
  }

  private becomeLeader(ballot: Ballot, merged: Map<number, { value: SlotValue }>): void {
    assert(ballotsEqual(ballot, this.promised), "a leader's ballot must be its own promise");
    const openSlots = [...merged.keys()].filter((slot) => slot > this.committedThrough);
    const lastOpenSlot = Math.max(this.committedThrough, ...openSlots);
    const values: SlotValue[] = [];
    // Re-propose every open slot under our ballot (the highest accepted value, or a
    // no-op for a gap), then a no-op of our own: once that is chosen, everything before
    // it is, and reads and configuration changes may proceed.
    for (let slot = this.committedThrough + 1; slot <= lastOpenSlot; slot += 1) {
      values.push(merged.get(slot)?.value ?? { kind: "noop" });
    }
    values.push({ kind: "noop" });
    const state: LeaderState = {
      ballot,
      nextSlot: this.committedThrough + 1,
      inflight: new Map(),
      progress: new Map(),
      pendingProposals: [],
      barrierSlot: lastOpenSlot + 1,
      configPendingSlot: undefined,
      readRound: 0,
      readRoundOutstanding: undefined,
      pendingReads: [],
      transfer: undefined,
      heartbeatElapsed: 0,
      quorumCheckElapsed: 0,
      lastStampMs: this.nowMs,
    };
    this.role = { kind: "leader", state };
    this.failedElections = 0;
    this.appendAsLeader(state, values);
    assert(
      state.nextSlot === state.barrierSlot + 1,
      "the barrier no-op is the last slot proposed on election",
    );
  }

  private becomeFollower(leader: string | undefined): void {
    const role = this.role;
    if (role.kind === "leader") {
      for (const read of role.state.pendingReads) this.outFailedReads.push(read.readId);
    }
    this.role = { kind: "follower", leader };
    this.resetElectionTimer();
  }

  private onTimeoutNow(from: string, message: Extract<Message, { type: "timeoutNow" }>): void {
    // Only the leader we follow may hand over, and only to a member that may lead.
    if (!ballotsEqual(message.ballot, this.promised) || from !== this.knownLeader() || !this.mayLead())
      return;
    this.becomeCandidate(true);
  }

  private onReject(message: Extract<Message, { type: "reject" }>): void {
    this.maxRoundSeen = Math.max(this.maxRoundSeen, message.promised.round);
    const role = this.role;
    const ownBallot =
      role.kind === "leader" ? role.state.ballot : role.kind === "candidate" ? role.ballot : undefined;
    if (ownBallot === undefined || !ballotsEqual(message.ballot, ownBallot)) return;
    if (ballotGreater(message.promised, ownBallot)) {
      // Someone promised a higher ballot: back off and let that proposer finish.
      this.failedElections += 1;
      this.becomeFollower(undefined);
    }
  }

  // ------------------------------------------------------------ acceptor

  private onAccept(from: string, message: Extract<Message, { type: "accept" }>): void {
    if (!ballotAtLeast(message.ballot, this.promised)) {
      this.send(from, { type: "reject", ballot: message.ballot, promised: this.promised });
      return;
    }
    this.followLeader(message.ballot);
    const acknowledged: number[] = [];
    for (const entry of message.entries) {
      if (entry.slot <= this.snapshot.index) {
        acknowledged.push(entry.slot);
        continue;
      }
      const existing = this.log.get(entry.slot);
      if (entry.slot <= this.committedThrough) {
        // A chosen slot: any later proposal for it carries the chosen value (that is
        // what phase 1 guarantees), so a different one means the protocol is broken.
        assert(
          existing !== undefined && sameValue(existing.value, entry.value),
          () => `slot ${entry.slot} is chosen here but ${message.ballot.proposer} proposed a different value`,
        );
      } else {
        this.log.set(entry.slot, { ballot: message.ballot, value: entry.value });
        this.outEntries.push({ slot: entry.slot, ballot: message.ballot, value: entry.value });
      }
      acknowledged.push(entry.slot);
    }
    this.learnCommitsFrom(message.ballot, message.commitThrough);
    this.send(from, {
      type: "accepted",
      ballot: message.ballot,
      slots: acknowledged,
      committedThrough: this.committedThrough,
      commitSeen: message.commitThrough,
      readRound: message.readRound,
      uninitialized: this.isUninitialized(),
    });
  }

  /** True when this member leads under a ballot at least as high as `ballot`. */
  private isLeaderAbove(ballot: Ballot): boolean {
    return this.role.kind === "leader" && !ballotGreater(ballot, this.role.state.ballot);
  }

  /** A message from the leader of `ballot` (>= our promise): follow it. */
  private followLeader(ballot: Ballot): void {
    if (ballotGreater(ballot, this.promised)) this.setPromised(ballot);
    const role = this.role;
    if (role.kind !== "follower" || role.leader !== ballot.proposer) {
      if (role.kind === "leader" && ballotsEqual(role.state.ballot, ballot)) return;
      this.becomeFollower(ballot.proposer);
    }
    this.lastLeaderContactTick = this.tickCount;
    this.failedElections = 0;
    this.electionElapsed = 0;
  }

  /**
   * The leader of `ballot` says slots up to `commitThrough` are chosen. Where we
   * accepted that same ballot's value, it is the chosen one (a leader proposes one
   * value per slot per ballot); elsewhere we wait for a learn message.
   */
  private learnCommitsFrom(ballot: Ballot, commitThrough: number): void {
    if (this.isUninitialized()) return;
    while (this.committedThrough < commitThrough) {
      const slot = this.committedThrough + 1;
      const entry = this.log.get(slot);
      if (entry === undefined || !ballotsEqual(entry.ballot, ballot)) break;
      this.commit(slot);
    }
  }

  private onLearn(from: string, message: Extract<Message, { type: "learn" }>): void {
    // A leader learns only through its own phase 2: a stale leader's learn would commit
    // slots behind the back of the leader's window (it steps down first for a higher ballot).
    if (this.isLeaderAbove(message.ballot)) return;
    if (ballotAtLeast(message.ballot, this.promised)) this.followLeader(message.ballot);
    for (const entry of [...message.entries].sort((a, b) => a.slot - b.slot)) {
      if (this.isUninitialized()) break;
      if (entry.slot <= this.committedThrough) continue;
      if (entry.slot !== this.committedThrough + 1) break;
      this.log.set(entry.slot, { ballot: message.ballot, value: entry.value });
      this.outEntries.push({ slot: entry.slot, ballot: message.ballot, value: entry.value });
      this.commit(entry.slot);
    }
    this.send(from, {
      type: "accepted",
      ballot: message.ballot,
      slots: [],
      committedThrough: this.committedThrough,
      // Catching up: ask for more whenever the leader is still ahead.
      commitSeen: Number.MAX_SAFE_INTEGER,
      readRound: 0,
      uninitialized: this.isUninitialized(),
    });
  }

  private onInstallSnapshot(from: string, message: Extract<Message, { type: "installSnapshot" }>): void {
    if (this.isLeaderAbove(message.ballot)) return;
    if (ballotAtLeast(message.ballot, this.promised)) this.followLeader(message.ballot);
    this.installSnapshot(message.snapshot);
    this.send(from, {
      type: "accepted",
      ballot: message.ballot,
      slots: [],
      committedThrough: this.committedThrough,
      // Catching up: ask for more whenever the leader is still ahead.
      commitSeen: Number.MAX_SAFE_INTEGER,
      readRound: 0,
      uninitialized: this.isUninitialized(),
    });
  }

  /** Adopts a snapshot of chosen slots when it is ahead of what this member knows. */
  private installSnapshot(snapshot: Snapshot): void {
    // A member that joined with no configuration takes even the leader's index-0
    // snapshot: it carries the configuration that the log's changes apply to.
    const uninitialized = this.isUninitialized();
    if (
      snapshot.index <= this.committedThrough &&
      !(uninitialized && snapshot.configuration.voters.length > 0)
    )
      return;
    this.snapshot = snapshot;
    this.committedThrough = snapshot.index;
    this.hardStateDirty = true;
    this.committedConfig = snapshot.configuration;
    this.configHistory = [{ slot: snapshot.index, configuration: snapshot.configuration }];
    for (const slot of [...this.log.keys()]) if (slot <= snapshot.index) this.log.delete(slot);
    this.outSnapshot = snapshot;
    this.outRestore = snapshot;
    this.outCommitted = this.outCommitted.filter((entry) => entry.slot > snapshot.index);
  }

  private acceptedFrom(fromSlot: number): AcceptedEntry[] {
    const entries: AcceptedEntry[] = [];
    for (const [slot, entry] of this.log) {
      if (slot >= fromSlot) entries.push({ slot, ballot: entry.ballot, value: entry.value });
    }
    return entries.sort((a, b) => a.slot - b.slot);
  }

  private setPromised(ballot: Ballot): void {
    assert(compareBallots(ballot, this.promised) >= 0, "a promise never goes back");
    this.promised = ballot;
    this.maxRoundSeen = Math.max(this.maxRoundSeen, ballot.round);
    this.hardStateDirty = true;
    this.promiseDirty = true;
  }

  // -------------------------------------------------------------- learner

  private commit(slot: number): void {
    assert(slot === this.committedThrough + 1, `commit out of order: ${slot} after ${this.committedThrough}`);
    const entry = this.log.get(slot);
    assert(entry !== undefined, `committing slot ${slot} that is not in the log`);
    this.committedThrough = slot;
    this.hardStateDirty = true;
    this.noteCommittedConfig(slot, entry.value);
    this.outCommitted.push({ slot, value: entry.value });
  }

  private noteCommittedConfig(slot: number, value: SlotValue): void {
    if (value.kind !== "config") return;
    // A change that no longer applies (e.g. proposed twice across a leader change) is a
    // no-op on every member alike.
    if (configChangeProblem(this.committedConfig, value.change) !== undefined) return;
    this.committedConfig = applyConfigChange(this.committedConfig, value.change);
    this.configHistory.push({ slot, configuration: this.committedConfig });
    const role = this.role;
    if (role.kind === "leader" && !this.mayLead()) {
      // Removed, fenced or evicted: stop leading; the others elect a successor.
      this.becomeFollower(undefined);
    }
  }

  private configurationAt(slot: number): Configuration {
    let found = this.configHistory[0]?.configuration;
    for (const entry of this.configHistory) if (entry.slot <= slot) found = entry.configuration;
    assert(found !== undefined, `no configuration known at slot ${slot}`);
    return found;
  }

  // --------------------------------------------------------------- leader

  private leaderState(): LeaderState {
    assert(this.role.kind === "leader", "not the leader");
    return this.role.state;
  }

  private leaderRefusal(): ProposalResult | undefined {
    if (this.role.kind !== "leader") return { ok: false, code: "NotLeader", leader: this.knownLeader() };
    if (isFenced(this.committedConfig, this.options.self)) return { ok: false, code: "Fenced" };
    if (this.role.state.transfer !== undefined) return { ok: false, code: "TransferInProgress" };
    return undefined;
  }

  private knownLeader(): string | undefined {
    const role = this.role;
    if (role.kind === "leader") return this.options.self;
    return role.kind === "follower" ? role.leader : undefined;
  }

  private ownBallotCommitted(state: LeaderState): boolean {
    return this.committedThrough >= state.barrierSlot;
  }

  private stamp(state: LeaderState): number {
    state.lastStampMs = Math.max(state.lastStampMs, this.nowMs);
    return state.lastStampMs;
  }

  /** The configuration that decides quorums for `slot`: committed, plus earlier pending changes. */
  private configurationForSlot(state: LeaderState, slot: number): Configuration {
    let configuration = this.committedConfig;
    const pending = [...state.inflight.entries()].filter(([pendingSlot]) => pendingSlot < slot);
    for (const [, inflight] of pending.sort(([a], [b]) => a - b)) {
      const value = inflight.value;
      if (value.kind === "config" && configChangeProblem(configuration, value.change) === undefined) {
        configuration = applyConfigChange(configuration, value.change);
      }
    }
    return configuration;
  }

  private peers(state: LeaderState): string[] {
    const configuration = this.configurationForSlot(state, state.nextSlot);
    const members = new Set([
      ...this.committedConfig.voters,
      ...this.committedConfig.learners,
      ...configuration.voters,
      ...configuration.learners,
    ]);
    members.delete(this.options.self);
    return [...members].sort();
  }

  private progressOf(state: LeaderState, member: string): PeerProgress {
    let progress = state.progress.get(member);
    if (progress === undefined) {
      progress = {
        committedThrough: 0,
        lastAckTick: this.tickCount,
        readRound: 0,
        learnSentThrough: 0,
        uninitialized: false,
        commitAtLastHeartbeat: 0,
        snapshotSentTick: Number.NEGATIVE_INFINITY,
      };
      state.progress.set(member, progress);
    }
    return progress;
  }

  /** Puts values into the next slots under our ballot, accepts them ourselves, and sends them. */
  private appendAsLeader(state: LeaderState, values: readonly SlotValue[]): number {
    const entries: ProposedEntry[] = [];
    for (const value of values) {
      const slot = state.nextSlot;
      state.nextSlot += 1;
      this.log.set(slot, { ballot: state.ballot, value });
      this.outEntries.push({ slot, ballot: state.ballot, value });
      state.inflight.set(slot, { value, acks: new Set([this.options.self]) });
      if (value.kind === "config") state.configPendingSlot = slot;
      entries.push({ slot, value });
    }
    for (const peer of this.peers(state)) this.sendEntries(state, peer, entries);
    this.tryCommit(state);
    return state.nextSlot - 1;
  }

  private sendEntries(state: LeaderState, peer: string, entries: readonly ProposedEntry[]): void {
    for (const chunk of chunkEntries(
      entries,
      this.options.maxEntriesPerMessage,
      this.options.maxMessageBytes,
    )) {
      this.send(peer, {
        type: "accept",
        ballot: state.ballot,
        entries: chunk,
        commitThrough: this.committedThrough,
        readRound: state.readRound,
      });
    }
  }

  private flushProposals(state: LeaderState): void {
    while (
      this.role.kind === "leader" &&
      state.pendingProposals.length > 0 &&
      state.inflight.size < this.options.maxInflightSlots &&
      state.configPendingSlot === undefined &&
      state.transfer === undefined
    ) {
      const requests: Uint8Array[] = [];
      let bytes = 0;
      for (const request of state.pendingProposals) {
        if (requests.length >= this.options.maxBatchRequests) break;
        if (requests.length > 0 && bytes + request.byteLength > this.options.maxBatchBytes) break;
        requests.push(request);
        bytes += request.byteLength;
      }
      state.pendingProposals.splice(0, requests.length);
      this.appendAsLeader(state, [{ kind: "batch", timeMs: this.stamp(state), requests }]);
    }
  }

  private tryCommit(state: LeaderState): void {
    const before = this.committedThrough;
    while (this.role.kind === "leader") {
      const slot = this.committedThrough + 1;
      const inflight = state.inflight.get(slot);
      if (inflight === undefined || !isQuorum(this.configurationForSlot(state, slot), inflight.acks)) break;
      state.inflight.delete(slot);
      if (state.configPendingSlot === slot) state.configPendingSlot = undefined;
      this.commit(slot);
    }
    if (this.role.kind !== "leader" || this.committedThrough === before) return;
    this.maybeStartReadRound(state);
    this.maybeSendTimeoutNow(state);
    this.flushProposals(state);
  }

  private onAccepted(from: string, message: Extract<Message, { type: "accepted" }>): void {
    const role = this.role;
    if (role.kind !== "leader" || !ballotsEqual(message.ballot, role.state.ballot)) return;
    const state = role.state;
    const progress = this.progressOf(state, from);
    progress.lastAckTick = this.tickCount;
    progress.committedThrough = Math.max(progress.committedThrough, message.committedThrough);
    progress.readRound = Math.max(progress.readRound, message.readRound);
    progress.uninitialized = message.uninitialized;
    // Only members' votes count: a stranger's (or removed member's) acceptance never
    // makes a quorum, because configurationForSlot only counts its voters.
    for (const slot of message.slots) state.inflight.get(slot)?.acks.add(from);
    this.tryCommit(state);
    if (this.role.kind !== "leader") return;
    this.confirmReads(state);
    const lacksChosenValues =
      message.uninitialized || message.committedThrough < Math.min(message.commitSeen, this.committedThrough);
    if (lacksChosenValues && progress.committedThrough >= progress.learnSentThrough)
      this.sendCatchUp(state, from, progress);
    this.maybeSendTimeoutNow(state);
  }

  /** Sends a member what it lacks below our commit index: chosen entries, or the snapshot. */
  private sendCatchUp(state: LeaderState, peer: string, progress: PeerProgress): void {
    if (progress.committedThrough >= this.committedThrough && !progress.uninitialized) return;
    if (progress.committedThrough < this.snapshot.index || progress.uninitialized) {
      if (this.tickCount - progress.snapshotSentTick < this.options.electionTimeoutTicks) return;
      progress.snapshotSentTick = this.tickCount;
      this.send(peer, { type: "installSnapshot", ballot: state.ballot, snapshot: this.snapshot });
      return;
    }
    const entries: ProposedEntry[] = [];
    const last = Math.min(
      this.committedThrough,
      progress.committedThrough + this.options.maxEntriesPerMessage,
    );
    let bytes = 0;
    for (let slot = progress.committedThrough + 1; slot <= last; slot += 1) {
      const entry = this.log.get(slot);
      assert(entry !== undefined, `leader lacks committed slot ${slot}`);
      bytes += valueBytes(entry.value);
      if (entries.length > 0 && bytes > this.options.maxMessageBytes) break;
      entries.push({ slot, value: entry.value });
    }
    progress.learnSentThrough = progress.committedThrough + entries.length;
    this.send(peer, { type: "learn", ballot: state.ballot, entries });
  }

  private tickLeader(state: LeaderState): void {
    if (state.transfer !== undefined && this.tickCount > state.transfer.deadlineTick) {
      state.transfer = undefined;
      this.flushProposals(state);
    }
    state.quorumCheckElapsed += 1;
    if (state.quorumCheckElapsed >= this.options.electionTimeoutTicks) {
      state.quorumCheckElapsed = 0;
      // Check quorum: a leader that has not heard from a majority within an election
      // timeout steps down, so clients of a cut-off leader get a fast NotLeader.
      const live = new Set([this.options.self]);
      for (const [member, progress] of state.progress) {
        if (this.tickCount - progress.lastAckTick < this.options.electionTimeoutTicks) live.add(member);
      }
      if (!isQuorum(this.committedConfig, live)) {
        this.becomeFollower(undefined);
        return;
      }
    }
    state.heartbeatElapsed += 1;
    if (state.heartbeatElapsed >= this.options.heartbeatTicks) this.broadcastHeartbeat(state);
  }

  /** Heartbeat: resend what each peer has not acknowledged, and help laggards catch up. */
  private broadcastHeartbeat(state: LeaderState): void {
    state.heartbeatElapsed = 0;
    const slots = [...state.inflight.keys()].sort((a, b) => a - b);
    for (const peer of this.peers(state)) {
      const entries: ProposedEntry[] = [];
      for (const slot of slots) {
        const inflight = state.inflight.get(slot);
        if (inflight === undefined || inflight.acks.has(peer)) continue;
        entries.push({ slot, value: inflight.value });
        if (entries.length >= this.options.maxEntriesPerMessage) break;
      }
      this.sendEntries(state, peer, entries);
      const progress = this.progressOf(state, peer);
      if (progress.committedThrough < progress.commitAtLastHeartbeat || progress.uninitialized) {
        // Lost learn messages or a snapshot: start the catch-up over.
        progress.learnSentThrough = progress.committedThrough;
        this.sendCatchUp(state, peer, progress);
      }
      progress.commitAtLastHeartbeat = this.committedThrough;
    }
  }

  private maybeStartReadRound(state: LeaderState): void {
    if (state.readRoundOutstanding !== undefined || !this.ownBallotCommitted(state)) return;
    const waiting = state.pendingReads.filter((read) => read.round === undefined);
    if (waiting.length === 0) return;
    state.readRound += 1;
    state.readRoundOutstanding = state.readRound;
    for (const read of waiting) {
      read.round = state.readRound;
      read.index = this.committedThrough;
    }
    for (const peer of this.peers(state)) this.sendEntries(state, peer, []);
    state.heartbeatElapsed = 0;
    this.confirmReads(state);
  }

  private confirmReads(state: LeaderState): void {
    const round = state.readRoundOutstanding;
    if (round === undefined) return;
    const confirmed = new Set([this.options.self]);
    for (const [member, progress] of state.progress) if (progress.readRound >= round) confirmed.add(member);
    const latest = this.configurationForSlot(state, state.nextSlot);
    if (!isQuorum(this.committedConfig, confirmed) || !isQuorum(latest, confirmed)) return;
    const remaining: PendingRead[] = [];
    for (const read of state.pendingReads) {
      if (read.round !== undefined && read.round <= round)
        this.outReadStates.push({ readId: read.readId, index: read.index });
      else remaining.push(read);
    }
    state.pendingReads.splice(0, state.pendingReads.length, ...remaining);
    state.readRoundOutstanding = undefined;
    this.maybeStartReadRound(state);
  }

  private maybeSendTimeoutNow(state: LeaderState): void {
    const transfer = state.transfer;
    if (transfer === undefined || transfer.sent || state.inflight.size > 0) return;
    const progress = state.progress.get(transfer.target);
    if (progress === undefined || progress.committedThrough < this.committedThrough) {
      if (progress !== undefined) this.sendCatchUp(state, transfer.target, progress);
      return;
    }
    transfer.sent = true;
    this.send(transfer.target, { type: "timeoutNow", ballot: state.ballot });
  }

  private send(to: string, message: Message): void {
    this.outMessages.push({ from: this.options.self, to, message });
  }
}

/** Payload bytes of a slot value, for bounding messages. */
export function valueBytes(value: SlotValue): number {
  return value.kind === "batch" ? value.requests.reduce((sum, request) => sum + request.byteLength, 0) : 0;
}

/**
 * Splits entries into messages of at most `maxCount` entries and `maxBytes` of payload;
 * an entry larger than `maxBytes` travels alone. No entries make one empty message (a heartbeat).
 */
export function chunkEntries(
  entries: readonly ProposedEntry[],
  maxCount: number,
  maxBytes: number,
): ProposedEntry[][] {
  const chunks: ProposedEntry[][] = [];
  let current: ProposedEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = valueBytes(entry.value);
    if (current.length > 0 && (current.length >= maxCount || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0 || chunks.length === 0) chunks.push(current);
  return chunks;
}

/** Snapshot, hard state and log of a member that has never run. */
export function emptyDurableState(configuration: Configuration): DurableState {
  return {
    hardState: { promised: zeroBallot, committedThrough: 0 },
    snapshot: { index: 0, configuration, stateMachine: new Uint8Array(0) },
    entries: [],
  };
}

export function sameValue(a: SlotValue, b: SlotValue): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "noop":
      return true;
    case "config":
      return (
        b.kind === "config" && a.timeMs === b.timeMs && JSON.stringify(a.change) === JSON.stringify(b.change)
      );
    case "batch": {
      if (b.kind !== "batch" || a.timeMs !== b.timeMs || a.requests.length !== b.requests.length)
        return false;
      return a.requests.every((request, position) => {
        const other = b.requests[position];
        return other !== undefined && Buffer.from(request).equals(Buffer.from(other));
      });
    }
  }
}
