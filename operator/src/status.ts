// The PaxosCluster's status as a pure function of what the reconciler observed: no I/O and
// no clock (the caller passes `now`), so the rules for phases and conditions are unit-tested.
import type { PaxosClusterPhase } from "./builders/index.ts";

export type ConditionStatus = "True" | "False" | "Unknown";

/**
 * A status condition as the API server stores it. Not the client's V1Condition, whose
 * lastTransitionTime is a Date: the status goes through the custom-objects API as plain
 * JSON, and reads back as a string.
 */
export interface ClusterCondition {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly observedGeneration: number;
  readonly lastTransitionTime: string;
  readonly reason: string;
  readonly message: string;
}

/** What the reconciler saw of the cluster's pods and StatefulSet. */
export interface ObservedCluster {
  readonly generation: number;
  readonly desiredReplicas: number;
  /** Pods of the cluster that exist and are not being deleted. */
  readonly podsFound: number;
  /** Of those, the pods whose Ready condition is True. */
  readonly podsReady: number;
  /** The StatefulSet's spec.replicas as stored, or undefined if it does not exist yet. */
  readonly statefulSetReplicas: number | undefined;
  readonly selector: string;
  readonly previousConditions: readonly ClusterCondition[];
  /** RFC 3339, seconds precision (what metav1.Time serializes to). */
  readonly now: string;
}

export interface ComputedStatus {
  readonly observedGeneration: number;
  readonly phase: PaxosClusterPhase;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly selector: string;
  readonly conditions: readonly ClusterCondition[];
}

/** A strict majority of the desired members: fewer ready members cannot form a quorum. */
export function quorumOf(replicas: number): number {
  return Math.floor(replicas / 2) + 1;
}

export function computeStatus(observed: ObservedCluster): ComputedStatus {
  const { desiredReplicas: desired, podsFound: found, podsReady: ready } = observed;
  const quorum = quorumOf(desired);
  const settled = observed.statefulSetReplicas === desired && found === desired && ready === desired;

  const available =
    ready >= quorum
      ? condition(
          "Available",
          "True",
          "QuorumReady",
          `${ready} of ${desired} members are ready, a quorum of ${quorum} is up.`,
        )
      : ready === 0
        ? condition(
            "Available",
            "False",
            "NoReadyMembers",
            `No member is ready yet (${found} of ${desired} pods exist); a quorum needs ${quorum} ready members.`,
          )
        : condition(
            "Available",
            "False",
            "QuorumNotReady",
            `Only ${ready} of ${desired} members are ready; a quorum needs ${quorum}.`,
          );
  const progressing = settled
    ? condition("Progressing", "False", "Settled", `All ${desired} members exist and are ready.`)
    : condition(
        "Progressing",
        "True",
        observed.statefulSetReplicas === desired ? "WaitingForMembers" : "ScalingStatefulSet",
        `Waiting for ${desired} ready members: ${found} pods exist, ${ready} are ready.`,
      );
  // Degraded only once the cluster has been up: a new cluster whose pods are still starting
  // is Pending, not degraded.
  const degraded =
    ready >= quorum && ready < desired
      ? condition(
          "Degraded",
          "True",
          "MembersNotReady",
          `${desired - ready} of ${desired} members are not ready.`,
        )
      : condition(
          "Degraded",
          "False",
          ready >= quorum ? "AllMembersReady" : "NotYetAvailable",
          ready >= quorum ? `All ${desired} members are ready.` : "The cluster has not formed a quorum yet.",
        );

  return {
    observedGeneration: observed.generation,
    phase: phaseOf(ready, desired, quorum),
    replicas: found,
    readyReplicas: ready,
    selector: observed.selector,
    conditions: [available, progressing, degraded].map((next) =>
      withTransitionTime(next, observed.previousConditions, observed.generation, observed.now),
    ),
  };
}

function phaseOf(ready: number, desired: number, quorum: number): PaxosClusterPhase {
  if (ready === 0) return "Pending";
  if (ready < quorum) return "Degraded";
  return ready >= desired ? "Running" : "Degraded";
}

type ConditionDraft = Pick<ClusterCondition, "type" | "status" | "reason" | "message">;

function condition(type: string, status: ConditionStatus, reason: string, message: string): ConditionDraft {
  return { type, status, reason, message };
}

/** lastTransitionTime moves only when the status changes, as the API conventions ask. */
function withTransitionTime(
  draft: ConditionDraft,
  previous: readonly ClusterCondition[],
  generation: number,
  now: string,
): ClusterCondition {
  const before = previous.find((candidate) => candidate.type === draft.type);
  const lastTransitionTime =
    before !== undefined && before.status === draft.status ? before.lastTransitionTime : now;
  return { ...draft, observedGeneration: generation, lastTransitionTime };
}

/** The current time as metav1.Time serializes it: RFC 3339 without fractional seconds. */
export function kubernetesTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
