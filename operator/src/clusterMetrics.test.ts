import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ClusterMetrics } from "./clusterMetrics.ts";

async function series(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split("\n").filter((line) => line !== "" && !line.startsWith("#"));
}

describe("ClusterMetrics", () => {
  it("exposes members by health, the quorum state, and counts leader changes and fencing", async () => {
    const registry = new Registry();
    const metrics = new ClusterMetrics(registry);
    metrics.observe("shop", "orders", {
      membersByHealth: { healthy: 2, unreachable: 1 },
      quorum: "at_risk",
      leaderChanged: false,
      fencingActions: [],
    });
    metrics.observe("shop", "orders", {
      membersByHealth: { healthy: 2, fenced: 1 },
      quorum: "at_risk",
      leaderChanged: true,
      fencingActions: ["fence"],
    });
    const lines = await series(registry);
    expect(lines).toContain(
      'paxos_operator_cluster_members{namespace="shop",name="orders",health="healthy"} 2',
    );
    expect(lines).toContain(
      'paxos_operator_cluster_members{namespace="shop",name="orders",health="unreachable"} 0',
    );
    expect(lines).toContain(
      'paxos_operator_cluster_members{namespace="shop",name="orders",health="fenced"} 1',
    );
    expect(lines).toContain(
      'paxos_operator_cluster_quorum{namespace="shop",name="orders",state="at_risk"} 1',
    );
    expect(lines).toContain(
      'paxos_operator_cluster_quorum{namespace="shop",name="orders",state="healthy"} 0',
    );
    expect(lines).toContain('paxos_operator_leader_changes_total{namespace="shop",name="orders"} 1');
    expect(lines).toContain(
      'paxos_operator_fencing_actions_total{namespace="shop",name="orders",action="fence"} 1',
    );
    expect(lines).toContain(
      'paxos_operator_fencing_actions_total{namespace="shop",name="orders",action="unfence"} 0',
    );
  });

  it("removes a deleted cluster's series", async () => {
    const registry = new Registry();
    const metrics = new ClusterMetrics(registry);
    const summary = {
      membersByHealth: { healthy: 3 },
      quorum: "healthy" as const,
      leaderChanged: false,
      fencingActions: [],
    };
    metrics.observe("shop", "orders", summary);
    metrics.observe("shop", "carts", summary);
    metrics.forget("shop", "orders");
    const lines = await series(registry);
    expect(lines.some((line) => line.includes('name="orders"'))).toBe(false);
    expect(lines.some((line) => line.includes('name="carts"'))).toBe(true);
  });
});
