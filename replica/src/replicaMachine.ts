// The replica without I/O: the Paxos core plus the state machine it feeds. Client
// requests go in; what to persist and send comes out of `ready()`; after the caller has
// persisted it, `applyReady` applies what was chosen and says which requests and reads
// are answered. The runtime (sockets, files, clock) and the simulator (fakes) both
// drive this same class.
import { Packr } from "msgpackr";
import { assert } from "./assert.ts";
import { defaultPaxosOptions, PaxosNode, type PaxosOptions, type ProposalResult } from "./paxos/core.ts";
import type { DurableState, Ready, SlotValue } from "./paxos/messages.ts";
import {
  type ChangesQuery,
  type ChangesResult,
  type ClientRequest,
  type GetLockResult,
  type GetResult,
  type ListQuery,
  type ListResult,
  ReplicatedStateMachine,
  type RequestResult,
  type StateMachineOptions,
} from "./stateMachine/index.ts";

export interface ReplicaMachineOptions {
  readonly paxos: PaxosOptions;
  readonly stateMachine?: Partial<StateMachineOptions>;
  /** Compact the log into a snapshot once it holds this many entries above the last one. */
  readonly compactAfterEntries: number;
  /** While it leads, propose an empty batch this often so lock leases expire without traffic. */
  readonly clockEntryIntervalMs: number;
}

export const defaultReplicaMachineOptions = {
  compactAfterEntries: 10_000,
  clockEntryIntervalMs: 1_000,
} as const;

export type Query = { readonly op: "get"; readonly key: string } | ({ readonly op: "list" } & ListQuery);
export type QueryResult = GetResult | ListResult;

export interface AnsweredRequest {
  readonly clientId: string;
  readonly sequence: number;
  readonly result: RequestResult;
}

export interface AnsweredRead {
  readonly readId: number;
  readonly result: QueryResult;
}

/** What `applyReady` produced: answers to send to waiting clients. */
export interface Applied {
  /** Every request applied here (the caller answers those it is waiting for). */
  readonly requests: readonly AnsweredRequest[];
  readonly reads: readonly AnsweredRead[];
  /** Reads that can no longer be confirmed here (leadership lost): retry elsewhere. */
  readonly failedReads: readonly number[];
}

// Records, not arrays: field names keep the wire format readable and stable.
const requestCodec = new Packr({ useRecords: false });

export function encodeRequest(request: ClientRequest): Uint8Array {
  return requestCodec.pack(request);
}

export function decodeRequest(bytes: Uint8Array): ClientRequest {
  return requestCodec.unpack(bytes) as ClientRequest;
}

function decodeRequestOrUndefined(bytes: Uint8Array): ClientRequest | undefined {
  try {
    const request = decodeRequest(bytes);
    return typeof request === "object" && request !== null ? request : undefined;
  } catch {
    return undefined;
  }
}

export class ReplicaMachine {
  readonly paxos: PaxosNode;
  private readonly options: ReplicaMachineOptions;
  private stateMachine: ReplicatedStateMachine;
  // Invariant: appliedSlot <= paxos committedThrough.
  private appliedSlot = 0;
  private replicatedTimeMs = 0;
  private lastClockEntryMs = Number.NEGATIVE_INFINITY;
  private readonly queries = new Map<number, Query>();
  /** Reads confirmed at an index the state machine has not reached yet. */
  private confirmedReads: { readId: number; index: number }[] = [];

  constructor(options: ReplicaMachineOptions, durable: DurableState) {
    this.options = options;
    this.paxos = PaxosNode.restore(options.paxos, durable);
    this.stateMachine = new ReplicatedStateMachine(options.stateMachine);
  }

  tick(nowMs: number): void {
    this.paxos.tick(nowMs);
    const status = this.paxos.status();
    if (status.role === "leader" && nowMs - this.lastClockEntryMs >= this.options.clockEntryIntervalMs) {
      this.lastClockEntryMs = nowMs;
      this.paxos.proposeTick();
    }
  }

  /** Proposes a request that changes state (reads go through `read`). */
  submit(request: ClientRequest): ProposalResult {
    return this.paxos.propose(encodeRequest(request));
  }

  /**
   * A linearizable read: answered by a later `applyReady` once a quorum has confirmed the
   * leadership and the state machine has caught up with the read index.
   */
  read(readId: number, query: Query): ProposalResult {
    const result = this.paxos.readIndex(readId);
    if (result.ok) this.queries.set(readId, query);
    return result;
  }

  /** A serializable read from this member's applied state: fast, possibly stale. */
  readLocal(query: Query): QueryResult {
    return query.op === "get" ? this.stateMachine.get(query.key) : this.stateMachine.list(query);
  }

  /** A lock's holder from this member's applied state (serializable). */
  getLock(name: string): GetLockResult {
    return this.stateMachine.getLock(name);
  }

  /** Changes from a revision, for watches; served from this member's applied state. */
  changesSince(query: ChangesQuery): ChangesResult {
    return this.stateMachine.changesSince(query);
  }

  get applied(): number {
    return this.appliedSlot;
  }

  /** The digest of the applied state (equal on members that applied the same slots). */
  digest(): string {
    return this.stateMachine.digest();
  }

  get revision(): number {
    return this.stateMachine.revision;
  }

  ready(): Ready | undefined {
    return this.paxos.hasReady() ? this.paxos.ready() : undefined;
  }

  /** Call once `ready`'s records are durable (and its messages handed to the network). */
  applyReady(ready: Ready): Applied {
    if (ready.restore !== undefined) {
      const bytes = ready.restore.stateMachine;
      this.stateMachine =
        bytes.byteLength === 0
          ? new ReplicatedStateMachine(this.options.stateMachine)
          : ReplicatedStateMachine.restore(bytes);
      this.appliedSlot = ready.restore.index;
      this.replicatedTimeMs = this.stateMachine.timeMs;
    }
    const requests: AnsweredRequest[] = [];
    for (const entry of ready.committed) {
      if (entry.slot <= this.appliedSlot) continue;
      assert(
        entry.slot === this.appliedSlot + 1,
        `apply out of order: slot ${entry.slot} after ${this.appliedSlot}`,
      );
      requests.push(...this.applySlot(entry.value));
      this.appliedSlot = entry.slot;
    }
    const failedReads = [...ready.failedReads];
    for (const readId of ready.failedReads) this.queries.delete(readId);
    this.confirmedReads.push(...ready.readStates);
    const reads: AnsweredRead[] = [];
    const waiting: { readId: number; index: number }[] = [];
    for (const read of this.confirmedReads) {
      const query = this.queries.get(read.readId);
      if (query === undefined) continue;
      if (read.index > this.appliedSlot) {
        waiting.push(read);
        continue;
      }
      this.queries.delete(read.readId);
      reads.push({ readId: read.readId, result: this.readLocal(query) });
    }
    this.confirmedReads = waiting;
    this.maybeCompact();
    return { requests, reads, failedReads };
  }

  /** Reads still waiting for confirmation, for a caller that gives up on them (timeouts). */
  forgetRead(readId: number): void {
    this.queries.delete(readId);
  }

  private applySlot(value: SlotValue): AnsweredRequest[] {
    const answered: AnsweredRequest[] = [];
    // Each leader stamps its own clock; the replicated time never goes back, whoever leads.
    if (value.kind !== "noop") this.replicatedTimeMs = Math.max(this.replicatedTimeMs, value.timeMs);
    const context = () => ({ index: this.stateMachine.appliedIndex + 1, timeMs: this.replicatedTimeMs });
    if (value.kind === "batch" && value.requests.length > 0) {
      for (const bytes of value.requests) {
        const request = decodeRequestOrUndefined(bytes);
        if (request === undefined) {
          // Undecodable bytes are no request: every member skips them alike.
          this.stateMachine.applyTick(context());
          continue;
        }
        const result = this.stateMachine.applyRequest(request, context());
        answered.push({ clientId: request.clientId, sequence: request.sequence, result });
      }
    } else {
      this.stateMachine.applyTick(context());
    }
    return answered;
  }

  /** Snapshots the applied state now (the admin API's snapshot); returns its index. */
  compactNow(): number {
    if (this.appliedSlot > this.paxos.status().snapshotIndex)
      this.paxos.compact(this.appliedSlot, this.stateMachine.snapshot());
    return this.paxos.status().snapshotIndex;
  }

  private maybeCompact(): void {
    const status = this.paxos.status();
    if (this.appliedSlot - status.snapshotIndex < this.options.compactAfterEntries) return;
    this.paxos.compact(this.appliedSlot, this.stateMachine.snapshot());
  }
}

export function replicaMachineOptions(
  self: string,
  random: () => number,
  overrides: Partial<Omit<ReplicaMachineOptions, "paxos">> & { paxos?: Partial<PaxosOptions> } = {},
): ReplicaMachineOptions {
  return {
    ...defaultReplicaMachineOptions,
    ...overrides,
    paxos: { ...defaultPaxosOptions, self, random, ...overrides.paxos },
  };
}
