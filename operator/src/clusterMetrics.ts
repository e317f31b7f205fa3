// Per-cluster health as Prometheus metrics, from what each reconcile found: members by
// health, the quorum's state, leader changes and fencing actions. A deleted cluster's
// series are removed, so dashboards do not show it forever.
import { Counter, Gauge, type Registry } from "prom-client";
import type { PaxosMemberHealth } from "./builders/index.ts";

export const memberHealths: readonly PaxosMemberHealth[] = [
  "healthy",
  "lagging",
  "unreachable",
  "fenced",
  "evicted",
];
export const quorumStates = ["forming", "healthy", "at_risk", "lost"] as const;
export type QuorumState = (typeof quorumStates)[number];
export const fencingActions = ["fence", "unfence", "evict", "force_delete_pod"] as const;
export type FencingActionName = (typeof fencingActions)[number];

/** What one reconcile found, for the metrics. */
export interface ClusterSummary {
  readonly membersByHealth: Readonly<Partial<Record<PaxosMemberHealth, number>>>;
  readonly quorum: QuorumState;
  /** The leader differs from the one the previous status named (and both are known). */
  readonly leaderChanged: boolean;
  /** The fencing actions this reconcile carried out. */
  readonly fencingActions: readonly FencingActionName[];
}

export class ClusterMetrics {
  readonly #members: Gauge<"namespace" | "name" | "health">;
  readonly #quorum: Gauge<"namespace" | "name" | "state">;
  readonly #leaderChanges: Counter<"namespace" | "name">;
  readonly #fencing: Counter<"namespace" | "name" | "action">;
  readonly #known = new Set<string>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.#members = new Gauge({
      name: "paxos_operator_cluster_members",
      help: "Members of each PaxosCluster by health, as the operator last saw them.",
      labelNames: ["namespace", "name", "health"] as const,
      registers,
    });
    this.#quorum = new Gauge({
      name: "paxos_operator_cluster_quorum",
      help: "1 for the state of each PaxosCluster's quorum (forming, healthy, at_risk, lost), 0 for the others.",
      labelNames: ["namespace", "name", "state"] as const,
      registers,
    });
    this.#leaderChanges = new Counter({
      name: "paxos_operator_leader_changes_total",
      help: "Leader changes the operator observed in each PaxosCluster.",
      labelNames: ["namespace", "name"] as const,
      registers,
    });
    this.#fencing = new Counter({
      name: "paxos_operator_fencing_actions_total",
      help: "Fencing actions the operator carried out, by cluster and action.",
      labelNames: ["namespace", "name", "action"] as const,
      registers,
    });
  }

  observe(namespace: string, name: string, summary: ClusterSummary): void {
    const key = `${namespace}/${name}`;
    if (!this.#known.has(key)) {
      this.#known.add(key);
      // Zeroes first, so rate() and absent() behave from the first scrape.
      this.#leaderChanges.inc({ namespace, name }, 0);
      for (const action of fencingActions) this.#fencing.inc({ namespace, name, action }, 0);
    }
    for (const health of memberHealths)
      this.#members.set({ namespace, name, health }, summary.membersByHealth[health] ?? 0);
    for (const state of quorumStates)
      this.#quorum.set({ namespace, name, state }, state === summary.quorum ? 1 : 0);
    if (summary.leaderChanged) this.#leaderChanges.inc({ namespace, name });
    for (const action of summary.fencingActions) this.#fencing.inc({ namespace, name, action });
  }

  forget(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (!this.#known.delete(key)) return;
    for (const health of memberHealths) this.#members.remove({ namespace, name, health });
    for (const state of quorumStates) this.#quorum.remove({ namespace, name, state });
    for (const action of fencingActions) this.#fencing.remove({ namespace, name, action });
    this.#leaderChanges.remove({ namespace, name });
  }
}
