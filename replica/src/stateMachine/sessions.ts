import { assert } from "./assert.ts";
import type { CommandResult } from "./commands.ts";
import type { StaleSequence } from "./results.ts";
import { snapshotCheck } from "./snapshotFields.ts";

/** What the table remembers per client: its last applied sequence number and that request's result. */
export interface SessionRecord {
  readonly clientId: string;
  readonly sequence: number;
  /** The log index at which `sequence` was applied: the recency used for eviction. */
  readonly appliedIndex: number;
  readonly result: CommandResult;
}

export type SessionLookup =
  | { readonly kind: "new" }
  | { readonly kind: "duplicate"; readonly result: CommandResult }
  | { readonly kind: "stale"; readonly result: StaleSequence };

/**
 * Client sessions for exactly-once mutations (Raft dissertation, section 6.3): a client numbers
 * its requests; a retry reuses the number. A request whose number equals the client's last
 * applied one is a duplicate and gets the stored result without being applied again; a lower
 * number is stale.
 *
 * The table is bounded: when it is full, a new client evicts the session applied longest ago
 * (lowest log index). A client evicted and then retrying its last request would have it applied
 * again, so `sessionsMax` must exceed the number of clients active within a retry window.
 *
 * Only mutations go through the table. Reads are idempotent, so a read request is simply
 * answered from the current state: a duplicate answers again (still within the client's wait,
 * so still linearizable), and large read results never sit in the table.
 */
export class SessionTable {
  private readonly sessionsMax: number;
  // Invariant: iteration order is ascending appliedIndex (least recently applied first), which is
  // insertion order because every update deletes and re-inserts.
  private readonly sessions = new Map<string, SessionRecord>();

  constructor(sessionsMax: number) {
    this.sessionsMax = sessionsMax;
  }

  get size(): number {
    return this.sessions.size;
  }

  lookup(clientId: string, sequence: number): SessionLookup {
    const session = this.sessions.get(clientId);
    if (session === undefined || sequence > session.sequence) return { kind: "new" };
    if (sequence === session.sequence) return { kind: "duplicate", result: session.result };
    return {
      kind: "stale",
      result: Object.freeze({
        ok: false,
        code: "StaleSequence",
        message: `request ${sequence} of client ${JSON.stringify(clientId)} is older than its last applied request ${session.sequence}`,
        lastSequence: session.sequence,
      }),
    };
  }

  /** Remembers the result of a newly applied request, evicting the least recently applied session if full. */
  record(clientId: string, sequence: number, appliedIndex: number, result: CommandResult): void {
    const previous = this.sessions.get(clientId);
    assert(previous === undefined || previous.sequence < sequence, "sequence numbers of a client increase");
    this.sessions.delete(clientId);
    if (this.sessions.size >= this.sessionsMax) {
      const leastRecent = this.sessions.keys().next();
      assert(leastRecent.done !== true, "a full table has a session to evict");
      this.sessions.delete(leastRecent.value);
    }
    this.sessions.set(clientId, Object.freeze({ clientId, sequence, appliedIndex, result }));
  }

  /** Sessions from least to most recently applied, for the snapshot. */
  exportState(): SessionRecord[] {
    return [...this.sessions.values()];
  }

  /** Loads a snapshot's sessions into this empty table; throws `InvalidSnapshotError`. */
  importState(sessions: readonly SessionRecord[], appliedIndexMax: number): void {
    assert(this.sessions.size === 0, "import into an empty session table");
    let previousIndex = 0;
    for (const session of sessions) {
      snapshotCheck(!this.sessions.has(session.clientId), "client ids of sessions must be unique");
      snapshotCheck(
        session.appliedIndex > previousIndex && session.appliedIndex <= appliedIndexMax,
        "sessions must be ordered by applied index, and applied no later than the snapshot",
      );
      this.sessions.set(session.clientId, Object.freeze({ ...session }));
      previousIndex = session.appliedIndex;
    }
    snapshotCheck(this.sessions.size <= this.sessionsMax, "the session table exceeds sessionsMax");
  }
}
