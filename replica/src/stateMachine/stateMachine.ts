import { assert, assertNever, assertSafeInteger } from "./assert.ts";
import { ChangeFeed } from "./changeFeed.ts";
import {
  type ApplyContext,
  type ChangesQuery,
  type ClientRequest,
  type Command,
  type CommandResult,
  decodeCommand,
  type ListQuery,
  type LogEntry,
  type RequestResult,
  readOnlyOperations,
} from "./commands.ts";
import { InvalidSnapshotError } from "./errors.ts";
import { KeyValueStore } from "./keyValue.ts";
import { LockTable } from "./locks.ts";
import { resolveOptions, type StateMachineOptions } from "./options.ts";
import {
  type ChangesResult,
  failure,
  type GetLockResult,
  type GetResult,
  type ListResult,
} from "./results.ts";
import { SessionTable } from "./sessions.ts";
import { decodeSnapshot, encodeSnapshot } from "./snapshot.ts";
import { snapshotCheck } from "./snapshotFields.ts";
import { isSafeIntegerAtLeast, textProblem } from "./text.ts";

/**
 * The replica's deterministic state machine: it applies committed log entries, one index at a
 * time, to keys, locks and client sessions. It has no clock, timers, I/O or randomness: time is
 * the leader's timestamp on each entry, so replicas that apply the same entries reach the same
 * state, byte for byte (compare `digest()`).
 *
 * Reads (`get`, `list`, `changesSince`, `getLock`) can also be served directly from the applied
 * state: after a read-index round for linearizable reads, or at once for serializable ones.
 *
 * Not safe for concurrent use; single-threaded JavaScript makes that the natural state.
 */
export class ReplicatedStateMachine {
  private readonly options: StateMachineOptions;
  // Invariant: entries 1..appliedIndexValue have been applied, each exactly once, in order.
  private appliedIndexValue = 0;
  // Invariant: the time of the last applied entry; never decreases.
  private timeMsValue = 0;
  private readonly feed: ChangeFeed;
  private readonly keyValues: KeyValueStore;
  private readonly locks: LockTable;
  private readonly sessions: SessionTable;

  /** An empty state machine (applied index 0) with the given limits; see `StateMachineOptions`. */
  constructor(options: Partial<StateMachineOptions> = {}) {
    this.options = resolveOptions(options);
    this.feed = new ChangeFeed(this.options);
    this.keyValues = new KeyValueStore(this.options, this.feed);
    this.locks = new LockTable(this.options, this.feed);
    this.sessions = new SessionTable(this.options.sessionsMax);
  }

  /**
   * The state machine a snapshot describes, with the snapshot's options. Throws
   * `InvalidSnapshotError` for bytes that are corrupt or inconsistent and
   * `UnsupportedSnapshotVersionError` for another format version.
   */
  static restore(bytes: Uint8Array): ReplicatedStateMachine {
    const state = decodeSnapshot(bytes);
    let options: StateMachineOptions;
    try {
      options = resolveOptions(state.options);
    } catch (error) {
      throw new InvalidSnapshotError(error instanceof Error ? error.message : String(error));
    }
    const machine = new ReplicatedStateMachine(options);
    machine.appliedIndexValue = state.appliedIndex;
    machine.timeMsValue = state.timeMs;
    machine.feed.importState(state.compactedRevision, state.events);
    machine.keyValues.importState(state.entries);
    machine.locks.importState(state.locks);
    for (const lock of state.locks) {
      snapshotCheck(lock.expiresAtMs > state.timeMs, `lock ${JSON.stringify(lock.name)} should have expired`);
    }
    machine.sessions.importState(state.sessions, state.appliedIndex);
    return machine;
  }

  /** The index of the last applied entry (0 before the first). */
  get appliedIndex(): number {
    return this.appliedIndexValue;
  }

  /** The timestamp of the last applied entry, in milliseconds. */
  get timeMs(): number {
    return this.timeMsValue;
  }

  /** The revision: the number of mutations applied so far. */
  get revision(): number {
    return this.feed.revision;
  }

  /**
   * Applies the committed entry at `context.index`, which must be exactly one past the applied
   * index, with a time no earlier than the last entry's. Both are the caller's contract: a
   * violation throws `InvariantViolation` and changes nothing. Returns the request's result, or
   * null for a tick.
   */
  apply(entry: LogEntry, context: ApplyContext): RequestResult | null {
    switch (entry.type) {
      case "request":
        return this.applyRequest(entry, context);
      case "tick":
        this.applyTick(context);
        return null;
      default:
        return assertNever(entry, "log entry type");
    }
  }

  /**
   * Applies a client request with exactly-once semantics: a duplicate of the client's last
   * applied request returns that request's stored result without applying it again; an older
   * one returns `StaleSequence`. Reads bypass the session table (see `SessionTable`).
   */
  applyRequest(request: ClientRequest, context: ApplyContext): RequestResult {
    this.#advance(context);
    const { clientId, sequence, command } = request;
    const clientProblem = textProblem(clientId, {
      what: "clientId",
      bytesMax: this.options.clientIdBytesMax,
      allowEmpty: false,
      allowControlCharacters: false,
    });
    if (clientProblem !== undefined) return failure("InvalidRequest", clientProblem);
    if (!isSafeIntegerAtLeast(sequence, 1))
      return failure("InvalidRequest", "sequence must be an integer >= 1");
    const decoded = decodeCommand(command);
    const valid = "op" in decoded;
    if (valid && readOnlyOperations.has(decoded.op)) return this.#execute(decoded);
    const lookup = this.sessions.lookup(clientId, sequence);
    switch (lookup.kind) {
      case "duplicate":
      case "stale":
        return lookup.result;
      case "new": {
        const result = valid ? this.#execute(decoded) : decoded;
        this.sessions.record(clientId, sequence, context.index, result);
        return result;
      }
      default:
        return assertNever(lookup, "session lookup");
    }
  }

  /** Applies an entry that carries only time (and keeps the applied index contiguous). */
  applyTick(context: ApplyContext): void {
    this.#advance(context);
  }

  get(key: string): GetResult {
    return this.keyValues.get(key);
  }

  list(query: ListQuery): ListResult {
    if (!isRecord(query)) return failure("InvalidPrefix", "list needs a query with a prefix");
    return this.keyValues.list(query);
  }

  changesSince(query: ChangesQuery): ChangesResult {
    if (!isRecord(query)) return failure("InvalidRevision", "changesSince needs a query with fromRevision");
    return this.feed.changesSince(query);
  }

  getLock(name: string): GetLockResult {
    return this.locks.get(name);
  }

  /** The whole state as bytes (msgpack, with format version, applied index and a checksum). */
  snapshot(): Uint8Array {
    return encodeSnapshot(this.#exportState()).bytes;
  }

  /** SHA-256 (hex) of the snapshot's state: equal for replicas with equal state. Costs a snapshot. */
  digest(): string {
    return encodeSnapshot(this.#exportState()).digest;
  }

  #exportState(): Parameters<typeof encodeSnapshot>[0] {
    const { compactedRevision, events } = this.feed.exportState();
    return {
      appliedIndex: this.appliedIndexValue,
      timeMs: this.timeMsValue,
      options: { ...this.options },
      compactedRevision,
      events,
      entries: this.keyValues.exportState(),
      locks: this.locks.exportState(),
      sessions: this.sessions.exportState(),
    };
  }

  /** Moves to the entry's index and time, and expires the locks whose lease ended by then. */
  #advance(context: ApplyContext): void {
    const { index, timeMs } = context;
    assertSafeInteger(index, "index", 1);
    assert(
      index === this.appliedIndexValue + 1,
      `entries are applied in order: expected index ${this.appliedIndexValue + 1}, got ${index}`,
    );
    assertSafeInteger(timeMs, "timeMs", 0);
    assert(
      timeMs >= this.timeMsValue,
      `time must not go backwards: ${timeMs} ms after ${this.timeMsValue} ms`,
    );
    this.appliedIndexValue = index;
    this.timeMsValue = timeMs;
    this.locks.expire(timeMs);
  }

  #execute(command: Command): CommandResult {
    const nowMs = this.timeMsValue;
    switch (command.op) {
      case "get":
        return this.keyValues.get(command.key);
      case "list":
        return this.keyValues.list(command);
      case "put":
        return this.keyValues.put(command.key, command.value, command.expectedModRevision);
      case "delete":
        return this.keyValues.delete(command.key, command.expectedModRevision);
      case "acquire":
        return this.locks.acquire(command.name, command.owner, command.ttlMs, nowMs);
      case "renew":
        return this.locks.renew(command.name, command.owner, command.token, command.ttlMs, nowMs);
      case "release":
        return this.locks.release(command.name, command.owner, command.token);
      case "getLock":
        return this.locks.get(command.name);
      default:
        return assertNever(command, "command");
    }
  }
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
