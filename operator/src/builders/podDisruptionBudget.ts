import type { V1PodDisruptionBudget } from "@kubernetes/client-node";
import { selectorLabels } from "./labels.ts";
import { clusterObjectNames } from "./names.ts";
import { ownedObjectMetadata } from "./ownerReference.ts";
import type { PaxosCluster } from "./paxosCluster.ts";

/** The members a cluster of `voters` voting members needs up to make progress: a strict majority. */
export function quorumSize(voters: number): number {
  assertMemberCount(voters);
  return Math.floor(voters / 2) + 1;
}

/**
 * How many members may be down at once without losing quorum: n - (floor(n/2) + 1).
 *
 *   n:    1  2  3  4  5  6  7  8  9
 *   max:  0  0  1  1  2  2  3  3  4
 *
 * n = 1: 0. The only member is the whole quorum; evicting it takes the service down, so the
 *   PDB blocks voluntary disruptions (a `kubectl drain` of its node waits forever). That is
 *   deliberate: a one-member cluster has no redundancy, and the owner decides when it may go
 *   down (delete the pod by hand, or scale to 3 first). Involuntary failures are not stopped.
 * n = 2: 0 as well. A quorum of 2 is both members, so losing either stops writes; two members
 *   tolerate no failure (one more reason the CRD recommends odd sizes).
 * Even n gains nothing over n - 1: 4 members tolerate 1 down, like 3.
 */
export function maxUnavailableMembers(voters: number): number {
  return voters - quorumSize(voters);
}

/**
 * The number of voting members the budget protects: spec.replicas, lowered to the voting
 * members the status reports while a membership change is under way. While scaling 3 → 5,
 * the StatefulSet already has 5 pods but only 3 of them vote until the operator promotes
 * the learners one at a time; a budget for 5 (2 down) could then take 2 of the 3 voters.
 * While scaling 5 → 3 the budget is for 3 (1 down) before the voters are removed: stricter
 * than needed, never looser. A member counts when the status says it votes; one the status
 * does not classify counts unless it is a learner. Before the cluster has formed no member
 * votes yet, and the budget is for spec.replicas.
 */
export function protectedVoters(cluster: PaxosCluster): number {
  const members = cluster.status?.members ?? [];
  const voters = members.filter((member) => member.voter ?? member.role !== "learner").length;
  return voters > 0 ? Math.min(cluster.spec.replicas, voters) : cluster.spec.replicas;
}

/**
 * `<name>`: a voluntary disruption (drain, eviction, cluster autoscaler) never breaks quorum.
 *
 * maxUnavailable rather than minAvailable, as a number: the disruption controller computes
 * desired healthy = pods expected by the StatefulSet - maxUnavailable, and "healthy" means
 * Ready, so a member that is already down or not ready (fenced, lagging, without a leader)
 * uses up the budget and no healthy member can be evicted on top of it. The counts are in
 * pods while quorum is in voters; with v voters and at most v - quorum(v) pods down, at most
 * that many voters are down, so a quorum of voters stays up whatever the learners do.
 *
 * unhealthyPodEvictionPolicy stays at the default (IfHealthyBudget): with AlwaysAllow, a
 * cluster in the middle of an election, whose members are all briefly not ready, could be
 * evicted whole.
 */
export function buildPodDisruptionBudget(cluster: PaxosCluster): V1PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: ownedObjectMetadata(cluster, clusterObjectNames(cluster).podDisruptionBudget),
    spec: {
      maxUnavailable: maxUnavailableMembers(protectedVoters(cluster)),
      selector: { matchLabels: selectorLabels(cluster) },
    },
  };
}

function assertMemberCount(voters: number): void {
  if (!Number.isSafeInteger(voters) || voters < 1)
    throw new RangeError(`a cluster has at least one voting member, got ${voters}`);
}
