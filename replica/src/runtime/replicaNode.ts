// The replica's I/O shell: the pure ReplicaMachine wired to a data directory (fsync
// before anything leaves), the peer transport, and a wall clock. Client requests come
// in as promises; they resolve when this member applies them, or fail fast when there
// is no quorum.
import type { Logger } from "pino";
import { type ConfigChange, isFenced, isLearner, isVoter } from "../paxos/configuration.ts";
import type { PaxosStatus, ProposalError } from "../paxos/core.ts";
import type { Envelope, Ready } from "../paxos/messages.ts";
import {
  type Applied,
  type Query,
  type QueryResult,
  ReplicaMachine,
  replicaMachineOptions,
} from "../replicaMachine.ts";
import type { ChangesQuery, ChangesResult, ClientRequest, RequestResult } from "../stateMachine/index.ts";
import type { DataDirectory } from "../storage/index.ts";
import type { ReplicaMetrics } from "./metrics.ts";

/** A request that could not be served here; the HTTP layer maps it to a status. */
export type UnavailableCode =
  | "NotLeader"
  | "NoQuorum"
  | "Fenced"
  | "Overloaded"
  | "Stopping"
  | "TooLarge"
  | "Refused";

export class ReplicaUnavailable extends Error {
  override readonly name = "ReplicaUnavailable";
  readonly code: UnavailableCode;
  /** The leader's member key when known, for redirects. */
  readonly leader: string | undefined;

  constructor(code: UnavailableCode, message: string, leader?: string) {
    super(message);
    this.code = code;
    this.leader = leader;
  }
}

/** A membership change the configuration does not allow (a 4xx, not an outage). */
export class MembershipRefused extends Error {
  override readonly name = "MembershipRefused";
  readonly code: "InvalidChange" | "ChangeInProgress" | "NotCaughtUp";

  constructor(code: MembershipRefused["code"], message: string) {
    super(message);
    this.code = code;
  }
}

export interface PeerSender {
  send(envelope: Envelope): void;
}

export interface ReplicaNodeOptions {
  readonly self: string;
  readonly tickMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatTicks: number;
  readonly requestTimeoutMs: number;
  readonly compactAfterEntries: number;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class ReplicaNode {
  readonly machine: ReplicaMachine;
  readonly self: string;
  private readonly options: ReplicaNodeOptions;
  private readonly dataDirectory: DataDirectory;
  private readonly logger: Logger;
  private readonly metrics: ReplicaMetrics | undefined;
  private peers: PeerSender | undefined;
  private clock: NodeJS.Timeout | undefined;
  private flushing = false;
  private flushAgain = false;
  private stopped = false;
  private nextReadId = 1;
  private lastLeader: string | undefined;
  private readonly requestWaiters = new Map<string, Waiter<RequestResult>>();
  private readonly readWaiters = new Map<number, Waiter<QueryResult>>();
  /** Called after each apply, for watches (server-sent events) to look for new changes. */
  private readonly applyListeners = new Set<() => void>();

  constructor(
    options: ReplicaNodeOptions,
    dataDirectory: DataDirectory,
    durable: NonNullable<DataDirectory["durable"]>,
    logger: Logger,
    metrics?: ReplicaMetrics,
  ) {
    this.options = options;
    this.self = options.self;
    this.dataDirectory = dataDirectory;
    this.logger = logger;
    this.metrics = metrics;
    // Randomized election timeouts need no replay here: the simulator seeds its own.
    this.machine = new ReplicaMachine(
      replicaMachineOptions(options.self, Math.random, {
        compactAfterEntries: options.compactAfterEntries,
        paxos: { electionTimeoutTicks: options.electionTimeoutTicks, heartbeatTicks: options.heartbeatTicks },
      }),
      durable,
    );
  }

  /** Starts the clock; messages go out through `peers`. */
  start(peers: PeerSender): void {
    this.peers = peers;
    this.clock = setInterval(() => {
      this.machine.tick(Date.now());
      this.observeRole();
      this.flush();
    }, this.options.tickMs);
    this.flush();
  }

  /** A message from a peer (already authenticated by the transport). */
  receive(envelope: Envelope): void {
    if (this.stopped) return;
    this.machine.paxos.step(envelope);
    this.flush();
  }

  status(): PaxosStatus {
    return this.machine.paxos.status();
  }

  /** Ready: a voter or a caught-up learner, not fenced, that knows a leader. */
  readiness(): { ready: boolean; reason: string } {
    const status = this.status();
    const configuration = status.configuration;
    if (isFenced(configuration, this.self)) return { ready: false, reason: "this member is fenced" };
    if (!isVoter(configuration, this.self) && !isLearner(configuration, this.self))
      return { ready: false, reason: "this member is not in the configuration yet (waiting to be added)" };
    if (status.leader === undefined) return { ready: false, reason: "no leader is known" };
    return { ready: true, reason: status.role === "leader" ? "leading" : `following ${status.leader}` };
  }

  /** Proposes a write and resolves with its result once applied here. */
  submit(request: ClientRequest): Promise<RequestResult> {
    if (this.stopped)
      return Promise.reject(new ReplicaUnavailable("Stopping", "this member is shutting down"));
    const key = `${request.clientId}:${request.sequence}`;
    const existing = this.requestWaiters.get(key);
    if (existing !== undefined) existing.reject(new ReplicaUnavailable("Refused", "superseded by a retry"));
    const result = this.machine.submit(request);
    if (!result.ok) return Promise.reject(this.refusal(result));
    const started = performance.now();
    const promise = this.wait(this.requestWaiters, key);
    this.metrics?.proposals.inc();
    void promise.then(
      () => this.metrics?.commitLatency.observe((performance.now() - started) / 1000),
      () => undefined,
    );
    this.flush();
    return promise;
  }

  /** A linearizable read through a read-index round. */
  read(query: Query): Promise<QueryResult> {
    if (this.stopped)
      return Promise.reject(new ReplicaUnavailable("Stopping", "this member is shutting down"));
    const readId = this.nextReadId++;
    const result = this.machine.read(readId, query);
    if (!result.ok) return Promise.reject(this.refusal(result));
    const promise = this.wait(this.readWaiters, readId);
    promise.catch(() => this.machine.forgetRead(readId));
    this.flush();
    return promise;
  }

  readLocal(query: Query): QueryResult {
    return this.machine.readLocal(query);
  }

  changesSince(query: ChangesQuery): ChangesResult {
    return this.machine.changesSince(query);
  }

  onApply(listener: () => void): () => void {
    this.applyListeners.add(listener);
    return () => this.applyListeners.delete(listener);
  }

  /**
   * Proposes a membership or fencing change and resolves once it is chosen. A change
   * whose effect the leader's configuration already shows is not proposed again: it
   * resolves with `alreadyApplied`, so a caller that retries a step cannot get stuck.
   */
  async changeMembership(change: ConfigChange): Promise<{ slot: number; alreadyApplied: boolean }> {
    const result = this.machine.paxos.proposeConfigChange(change);
    if (!result.ok) {
      if (result.code === "InvalidChange") throw new MembershipRefused("InvalidChange", result.reason);
      if (result.code === "ChangeInProgress")
        throw new MembershipRefused(
          "ChangeInProgress",
          `another membership change (slot ${result.slot}) is in progress; retry`,
        );
      if (result.code === "NotCaughtUp")
        throw new MembershipRefused(
          "NotCaughtUp",
          `${result.member} is ${result.behindBy} slots behind; promote it once it catches up`,
        );
      if (result.code === "LeaderNotReady")
        throw new MembershipRefused("ChangeInProgress", "the leader was just elected; retry in a moment");
      throw this.refusal(result);
    }
    const slot = result.slot ?? 0;
    this.flush();
    const deadline = Date.now() + this.options.requestTimeoutMs;
    while (this.status().committedThrough < slot) {
      if (Date.now() > deadline || this.stopped)
        throw new ReplicaUnavailable(
          "NoQuorum",
          `the change in slot ${slot} was not chosen within ${this.options.requestTimeoutMs} ms`,
        );
      await delay(this.options.tickMs / 2);
    }
    return { slot, alreadyApplied: result.alreadyApplied === true };
  }

  transferLeadership(target: string): void {
    const result = this.machine.paxos.transferLeadership(target);
    if (!result.ok) {
      if (result.code === "InvalidChange") throw new MembershipRefused("InvalidChange", result.reason);
      throw this.refusal(result);
    }
    this.flush();
  }

  /** Snapshots the applied state now and compacts the log up to it. */
  snapshotNow(): { index: number } {
    const index = this.machine.compactNow();
    this.flush();
    return { index };
  }

  /** Hands leadership over (if leading), flushes, and stops. Safe to call twice. */
  async stop(handoverTimeoutMs = 2_000): Promise<void> {
    if (this.stopped) return;
    const status = this.status();
    if (status.role === "leader") {
      const target = status.peers
        .filter(
          (peer) =>
            isVoter(status.configuration, peer.member) && !isFenced(status.configuration, peer.member),
        )
        .sort((a, b) => b.committedThrough - a.committedThrough || a.idleTicks - b.idleTicks)[0];
      if (target !== undefined && this.machine.paxos.transferLeadership(target.member).ok) {
        this.logger.info({ target: target.member }, "handing leadership over before stopping");
        this.flush();
        const deadline = Date.now() + handoverTimeoutMs;
        while (Date.now() < deadline && this.status().role === "leader") await delay(this.options.tickMs);
      }
    }
    this.stopped = true;
    if (this.clock !== undefined) clearInterval(this.clock);
    while (this.flushing) await delay(1);
    for (const waiters of [this.requestWaiters, this.readWaiters] as Map<unknown, Waiter<unknown>>[]) {
      for (const waiter of waiters.values()) {
        clearTimeout(waiter.timer);
        waiter.reject(
          new ReplicaUnavailable(
            "NoQuorum",
            "this member shut down before the outcome was known; retry on another with the same client id and sequence",
          ),
        );
      }
      waiters.clear();
    }
  }

  private wait<K, T>(waiters: Map<K, Waiter<T>>, key: K): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(key);
        reject(
          new ReplicaUnavailable(
            "NoQuorum",
            `no quorum answered within ${this.options.requestTimeoutMs} ms; the outcome of a write is unknown, retry with the same client id and sequence`,
          ),
        );
      }, this.options.requestTimeoutMs);
      waiters.set(key, { resolve, reject, timer });
    });
  }

  private refusal(error: ProposalError): ReplicaUnavailable {
    switch (error.code) {
      case "NotLeader":
        return new ReplicaUnavailable(
          "NotLeader",
          `not the leader; the leader is ${error.leader ?? "unknown"}`,
          error.leader,
        );
      case "Fenced":
        return new ReplicaUnavailable("Fenced", "this member is fenced and serves no clients");
      case "Overloaded":
        return new ReplicaUnavailable("Overloaded", "too many requests in flight; retry shortly");
      case "TooLarge":
        return new ReplicaUnavailable("TooLarge", `request larger than ${error.maxBytes} bytes`);
      default:
        return new ReplicaUnavailable("Refused", `refused: ${error.code}`);
    }
  }

  private observeRole(): void {
    const status = this.status();
    if (status.leader !== this.lastLeader) {
      this.logger.info(
        {
          leader: status.leader,
          role: status.role,
          ballot: `${status.promised.round}.${status.promised.proposer}`,
        },
        "leader changed",
      );
      this.metrics?.leaderChanges.inc();
      this.lastLeader = status.leader;
    }
    this.metrics?.observeStatus(status, this.machine.applied);
  }

  /**
   * Persist, then send, then apply: a promise or acceptance may not leave before it is
   * durable. Readies are handled in order; all that pile up during one fsync share the next.
   */
  private flush(): void {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = true;
    void this.flushLoop()
      .catch((error: unknown) => {
        // A failed fsync leaves the disk in an unknown state: the only safe move is to stop.
        this.logger.fatal(
          { err: error },
          "storage failed; exiting so that nothing undurable is acknowledged",
        );
        process.exit(70);
      })
      .finally(() => {
        this.flushing = false;
      });
  }

  private async flushLoop(): Promise<void> {
    do {
      this.flushAgain = false;
      const readies: Ready[] = [];
      for (let ready = this.machine.ready(); ready !== undefined; ready = this.machine.ready()) {
        this.dataDirectory.append({
          snapshot: ready.snapshot,
          entries: ready.entries,
          hardState: ready.hardState,
        });
        readies.push(ready);
        for (const entry of ready.entries) {
          if (
            entry.value.kind === "batch" &&
            entry.value.requests.length > 0 &&
            entry.ballot.proposer === this.self
          )
            this.metrics?.batchRequests.observe(entry.value.requests.length);
        }
      }
      if (readies.length === 0) continue;
      if (readies.some((ready) => ready.mustSync)) await this.dataDirectory.sync();
      for (const ready of readies) {
        for (const envelope of ready.messages) this.peers?.send(envelope);
        this.answer(this.machine.applyReady(ready));
      }
      if (readies.some((ready) => ready.committed.length > 0))
        for (const listener of this.applyListeners) listener();
    } while (this.flushAgain || this.machine.paxos.hasReady());
  }

  private answer(applied: Applied): void {
    for (const request of applied.requests) {
      const key = `${request.clientId}:${request.sequence}`;
      const waiter = this.requestWaiters.get(key);
      if (waiter === undefined) continue;
      this.requestWaiters.delete(key);
      clearTimeout(waiter.timer);
      this.metrics?.commits.inc();
      waiter.resolve(request.result);
    }
    for (const read of applied.reads) {
      const waiter = this.readWaiters.get(read.readId);
      if (waiter === undefined) continue;
      this.readWaiters.delete(read.readId);
      clearTimeout(waiter.timer);
      waiter.resolve(read.result);
    }
    for (const readId of applied.failedReads) {
      const waiter = this.readWaiters.get(readId);
      if (waiter === undefined) continue;
      this.readWaiters.delete(readId);
      clearTimeout(waiter.timer);
      waiter.reject(
        new ReplicaUnavailable("NotLeader", "leadership changed during the read; retry", undefined),
      );
    }
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
