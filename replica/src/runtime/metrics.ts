// The replica's Prometheus metrics, all prefixed paxos_. One registry per replica
// (tests run several in one process).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { PaxosStatus } from "../paxos/core.ts";
import type { PeerTransportStats } from "../transport/index.ts";

const roles = ["follower", "preCandidate", "candidate", "leader"] as const;

export class ReplicaMetrics {
  readonly registry = new Registry();
  readonly proposals: Counter;
  readonly commits: Counter;
  readonly commitLatency: Histogram;
  readonly fsyncDuration: Histogram;
  readonly batchRequests: Histogram;
  readonly leaderChanges: Counter;
  readonly httpRequests: Counter<"route" | "method" | "code">;
  readonly httpDuration: Histogram<"route" | "method">;
  private readonly role: Gauge<"role">;
  private readonly isLeader: Gauge;
  private readonly ballotRound: Gauge;
  private readonly committedIndex: Gauge;
  private readonly appliedIndex: Gauge;
  private readonly snapshotIndex: Gauge;
  private readonly logEntries: Gauge;
  private readonly fenced: Gauge;
  private readonly peerIdleTicks: Gauge<"peer">;
  private readonly voters: Gauge;

  constructor(member: string) {
    this.registry.setDefaultLabels({ member });
    collectDefaultMetrics({ register: this.registry, prefix: "paxos_process_" });
    const registers = [this.registry];
    this.proposals = new Counter({
      name: "paxos_proposals_total",
      help: "Client writes proposed here",
      registers,
    });
    this.commits = new Counter({
      name: "paxos_commits_total",
      help: "Client writes applied and answered here",
      registers,
    });
    this.commitLatency = new Histogram({
      name: "paxos_commit_latency_seconds",
      help: "From proposal to applied, for writes proposed here",
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.fsyncDuration = new Histogram({
      name: "paxos_fsync_duration_seconds",
      help: "Duration of each fsync of the write-ahead log",
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    });
    this.batchRequests = new Histogram({
      name: "paxos_batch_requests",
      help: "Client requests per log slot",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    });
    this.leaderChanges = new Counter({
      name: "paxos_leader_changes_total",
      help: "Leader changes seen here",
      registers,
    });
    this.httpRequests = new Counter({
      name: "paxos_http_requests_total",
      help: "HTTP requests by route, method and status code",
      labelNames: ["route", "method", "code"],
      registers,
    });
    this.httpDuration = new Histogram({
      name: "paxos_http_request_duration_seconds",
      help: "HTTP request latency by route",
      labelNames: ["route", "method"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3],
      registers,
    });
    this.role = new Gauge({
      name: "paxos_role",
      help: "1 for this member's current role",
      labelNames: ["role"],
      registers,
    });
    this.isLeader = new Gauge({ name: "paxos_is_leader", help: "1 while this member leads", registers });
    this.ballotRound = new Gauge({
      name: "paxos_ballot_round",
      help: "Round of the highest ballot promised",
      registers,
    });
    this.committedIndex = new Gauge({
      name: "paxos_committed_index",
      help: "Highest slot known chosen",
      registers,
    });
    this.appliedIndex = new Gauge({ name: "paxos_applied_index", help: "Highest slot applied", registers });
    this.snapshotIndex = new Gauge({
      name: "paxos_snapshot_index",
      help: "Slot of the latest snapshot",
      registers,
    });
    this.logEntries = new Gauge({
      name: "paxos_log_entries",
      help: "Log entries above the snapshot",
      registers,
    });
    this.fenced = new Gauge({ name: "paxos_fenced", help: "1 while this member is fenced", registers });
    this.voters = new Gauge({
      name: "paxos_voters",
      help: "Voters in the committed configuration",
      registers,
    });
    this.peerIdleTicks = new Gauge({
      name: "paxos_peer_last_contact_ticks",
      help: "Leader only: ticks since each peer last answered",
      labelNames: ["peer"],
      registers,
    });
  }

  /** Exports the peer transport's counters, read at each scrape. */
  attachTransport(stats: () => PeerTransportStats): void {
    const registers = [this.registry];
    new Counter({
      name: "paxos_peer_connections_rejected_total",
      help: "Peer connections closed (or envelopes dropped) for what the peer sent: bad authentication, oversized frames, garbage",
      labelNames: ["reason"],
      registers,
      collect() {
        this.reset();
        for (const [reason, count] of Object.entries(stats().rejected)) this.inc({ reason }, count);
      },
    });
    new Counter({
      name: "paxos_peer_messages_dropped_total",
      help: "Messages to peers that never left this member, by reason",
      labelNames: ["reason"],
      registers,
      collect() {
        this.reset();
        for (const [reason, count] of Object.entries(stats().dropped)) this.inc({ reason }, count);
      },
    });
    new Counter({
      name: "paxos_peer_bytes_total",
      help: "Bytes of peer frames, by direction",
      labelNames: ["direction"],
      registers,
      collect() {
        this.reset();
        const current = stats();
        this.inc({ direction: "sent" }, current.bytesSent);
        this.inc({ direction: "received" }, current.bytesReceived);
      },
    });
    new Gauge({
      name: "paxos_peer_last_contact_seconds",
      help: "Seconds since each peer was last heard from",
      labelNames: ["peer"],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const [peer, at] of Object.entries(stats().lastContactMs)) this.set({ peer }, (now - at) / 1000);
      },
    });
  }

  /** Exports the data directory's sizes, read at each scrape. */
  attachStorage(sizes: () => { logBytes: number; snapshotBytes: number; segments: number }): void {
    const registers = [this.registry];
    new Gauge({
      name: "paxos_storage_bytes",
      help: "Bytes on disk, by kind (log, snapshot)",
      labelNames: ["kind"],
      registers,
      collect() {
        const current = sizes();
        this.set({ kind: "log" }, current.logBytes);
        this.set({ kind: "snapshot" }, current.snapshotBytes);
      },
    });
  }

  observeStatus(status: PaxosStatus, applied: number): void {
    for (const role of roles) this.role.set({ role }, status.role === role ? 1 : 0);
    this.isLeader.set(status.role === "leader" ? 1 : 0);
    this.ballotRound.set(status.promised.round);
    this.committedIndex.set(status.committedThrough);
    this.appliedIndex.set(applied);
    this.snapshotIndex.set(status.snapshotIndex);
    this.logEntries.set(status.logEntries);
    this.fenced.set(status.fenced ? 1 : 0);
    this.voters.set(status.configuration.voters.length);
    this.peerIdleTicks.reset();
    for (const peer of status.peers) this.peerIdleTicks.set({ peer: peer.member }, peer.idleTicks);
  }
}
