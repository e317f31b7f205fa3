import { describe, expect, it } from "vitest";
import { clusterLabels, selectorLabels } from "./labels.ts";
import { ownerReference } from "./ownerReference.ts";
import type { PaxosMemberRole, PaxosMemberStatus } from "./paxosCluster.ts";
import { buildPodDisruptionBudget, maxUnavailableMembers, quorumSize } from "./podDisruptionBudget.ts";
import { testCluster } from "./testFixtures.ts";

describe("buildPodDisruptionBudget", () => {
  it("lets one of three members be disrupted", () => {
    const cluster = testCluster();
    expect(buildPodDisruptionBudget(cluster)).toEqual({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: {
        name: "orders",
        namespace: "shop",
        labels: clusterLabels(cluster),
        ownerReferences: [ownerReference(cluster)],
      },
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(cluster) } },
    });
  });

  it.each([
    [1, 1, 0],
    [2, 2, 0],
    [3, 2, 1],
    [4, 3, 1],
    [5, 3, 2],
    [6, 4, 2],
    [7, 4, 3],
  ])("with %i replicas: quorum %i, maxUnavailable %i", (replicas, quorum, maxUnavailable) => {
    expect(quorumSize(replicas)).toBe(quorum);
    expect(maxUnavailableMembers(replicas)).toBe(maxUnavailable);
    // Whatever is disrupted within the budget, a quorum stays up.
    expect(replicas - maxUnavailable).toBeGreaterThanOrEqual(quorum);
    expect(buildPodDisruptionBudget(testCluster({ replicas })).spec?.maxUnavailable).toBe(maxUnavailable);
  });

  it("protects the voters, not the pods, while learners are being added", () => {
    const member = (name: string, role: PaxosMemberRole): PaxosMemberStatus => ({
      name,
      incarnation: `${name}-inc`,
      role,
    });
    const growing = testCluster(
      { replicas: 5 },
      {
        status: {
          members: [
            member("orders-0", "leader"),
            member("orders-1", "follower"),
            member("orders-2", "follower"),
            member("orders-3", "learner"),
            member("orders-4", "learner"),
          ],
        },
      },
    );
    // 3 voters: one may go, not the two that 5 voters would allow.
    expect(buildPodDisruptionBudget(growing).spec?.maxUnavailable).toBe(1);
    const shrinking = testCluster(
      { replicas: 3 },
      { status: { members: ["0", "1", "2", "3", "4"].map((n) => member(`orders-${n}`, "follower")) } },
    );
    expect(buildPodDisruptionBudget(shrinking).spec?.maxUnavailable).toBe(1);
  });

  it("counts the members the status marks as voting, and spec.replicas before any votes", () => {
    const pod = (ordinal: number, voter: boolean): PaxosMemberStatus => ({
      name: `orders-${ordinal}`,
      incarnation: "",
      role: "unknown",
      voter,
    });
    // Pods of a cluster that has not formed yet: none votes, so the budget is for 5.
    const forming = testCluster(
      { replicas: 5 },
      { status: { members: [0, 1, 2].map((n) => pod(n, false)) } },
    );
    expect(buildPodDisruptionBudget(forming).spec?.maxUnavailable).toBe(2);
    // 3 voters and 2 new pods outside the configuration: the budget is for the 3.
    const joining = testCluster(
      { replicas: 5 },
      { status: { members: [0, 1, 2, 3, 4].map((n) => pod(n, n < 3)) } },
    );
    expect(buildPodDisruptionBudget(joining).spec?.maxUnavailable).toBe(1);
  });

  it("rejects a cluster without members", () => {
    expect(() => quorumSize(0)).toThrow(RangeError);
  });
});
