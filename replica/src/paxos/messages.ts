// What the Paxos core persists, sends and delivers. Plain data (no classes, no
// Maps), so the runtime can encode it with msgpack and the simulator can copy it.
import type { Ballot } from "./ballot.ts";
import type { ConfigChange, Configuration } from "./configuration.ts";

/**
 * The value of one log slot. Client requests are opaque bytes to the core (the
 * replica encodes them), so batches are bounded in exact bytes.
 */
export type SlotValue =
  | { readonly kind: "noop" }
  /** Client requests, in order, stamped with the leader's clock (an empty batch advances time). */
  | { readonly kind: "batch"; readonly timeMs: number; readonly requests: readonly Uint8Array[] }
  | { readonly kind: "config"; readonly timeMs: number; readonly change: ConfigChange };

export interface ProposedEntry {
  readonly slot: number;
  readonly value: SlotValue;
}

/** An acceptor's vote: it accepted `value` in `slot` under `ballot`. */
export interface AcceptedEntry extends ProposedEntry {
  readonly ballot: Ballot;
}

export interface Snapshot {
  /** Every slot up to and including this one is in the snapshot. */
  readonly index: number;
  /** The configuration in effect after `index`. */
  readonly configuration: Configuration;
  /** The replicated state machine, encoded by the replica; empty for a new cluster. */
  readonly stateMachine: Uint8Array;
}

export type Message =
  /** "Would you vote for me?" without disturbing anyone: no promise is made. */
  | {
      readonly type: "preVote";
      readonly ballot: Ballot;
      readonly committedThrough: number;
      readonly transfer: boolean;
    }
  | {
      readonly type: "preVoteReply";
      readonly ballot: Ballot;
      readonly granted: boolean;
      readonly promised: Ballot;
    }
  /** Phase 1a for every slot from `fromSlot` on. */
  | {
      readonly type: "prepare";
      readonly ballot: Ballot;
      readonly fromSlot: number;
      readonly transfer: boolean;
    }
  /** Phase 1b: the promise, with everything accepted from `fromSlot` on. */
  | {
      readonly type: "promise";
      readonly ballot: Ballot;
      readonly fromSlot: number;
      /** Slots up to here are chosen: their values in `accepted` are final. */
      readonly committedThrough: number;
      readonly snapshotIndex: number;
      readonly accepted: readonly AcceptedEntry[];
      /**
       * Present when the promiser compacted slots the candidate asked for: those are
       * chosen, and the candidate catches up from this snapshot instead of stalling.
       */
      readonly snapshot?: Snapshot;
    }
  /** A prepare or accept refused because of a higher promise. */
  | { readonly type: "reject"; readonly ballot: Ballot; readonly promised: Ballot }
  /** Phase 2a (and heartbeat when `entries` is empty). */
  | {
      readonly type: "accept";
      readonly ballot: Ballot;
      readonly entries: readonly ProposedEntry[];
      readonly commitThrough: number;
      /** The leader's read-index round that this message confirms. */
      readonly readRound: number;
    }
  /** Phase 2b. */
  | {
      readonly type: "accepted";
      readonly ballot: Ballot;
      readonly slots: readonly number[];
      readonly committedThrough: number;
      /**
       * The commit index of the message answered. When `committedThrough` is below it,
       * the member lacks chosen values it cannot recover alone and needs a learn message.
       */
      readonly commitSeen: number;
      readonly readRound: number;
      /** A member that joined with no configuration: it needs a snapshot before any entry. */
      readonly uninitialized: boolean;
    }
  /** Chosen values, for a member that missed them (catch-up by log entries). */
  | { readonly type: "learn"; readonly ballot: Ballot; readonly entries: readonly ProposedEntry[] }
  /** Catch-up when the leader has compacted the slots the member lacks. */
  | { readonly type: "installSnapshot"; readonly ballot: Ballot; readonly snapshot: Snapshot }
  /** Leadership transfer: campaign now, skipping the pre-vote and leader stickiness. */
  | { readonly type: "timeoutNow"; readonly ballot: Ballot };

export type MessageType = Message["type"];

export interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly message: Message;
}

export interface HardState {
  /** Invariant: never decreases. Persisted before any message that depends on it. */
  readonly promised: Ballot;
  /** Invariant: every slot up to here is chosen and its value is in the log or snapshot. */
  readonly committedThrough: number;
}

/** What a member finds in its data directory when it starts. */
export interface DurableState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot;
  /** Accepted entries above the snapshot, latest write per slot. */
  readonly entries: readonly AcceptedEntry[];
}

export interface ReadState {
  readonly readId: number;
  /** Serve the read once the state machine has applied this slot. */
  readonly index: number;
}

/**
 * The output of the core since the last `ready()`. The caller MUST, in this order:
 *  1. persist `snapshot`, then `entries`, then `hardState`, durably (fsync), writing the
 *     hard state last so that a torn write never leaves it ahead of the entries;
 *  2. only then send `messages` (promises and acceptances are votes: a vote that is
 *     sent but not durable can be forgotten by a crash and cast again differently);
 *  3. restore `restore` into the state machine if set, then apply `committed` in order;
 *  4. answer `readStates` once the state machine has applied their index.
 */
export interface Ready {
  readonly snapshot: Snapshot | undefined;
  readonly entries: readonly AcceptedEntry[];
  readonly hardState: HardState | undefined;
  /**
   * Whether step 1 needs an fsync before step 2. False when only the commit index moved:
   * a lost commit index is learned again, while a lost promise or acceptance is a lost
   * vote. (Records are still written in order, so a later sync covers them.)
   */
  readonly mustSync: boolean;
  readonly messages: readonly Envelope[];
  readonly restore: Snapshot | undefined;
  readonly committed: readonly ProposedEntry[];
  readonly readStates: readonly ReadState[];
  /** Reads that will never be confirmed here (leadership lost): answer them with an error. */
  readonly failedReads: readonly number[];
}
