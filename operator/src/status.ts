// The PaxosCluster's status as a pure function of what the reconciler observed: no I/O and
// no clock (the caller passes `now`), so the rules for phases and conditions are unit-tested.
import type { PaxosClusterPhase, PaxosMemberStatus } from "./builders/index.ts";
import type { MemberAssessment } from "./members.ts";

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

/** What the reconciler saw of the cluster's pods, StatefulSet and members. */
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
  /** The members' own reports, combined (see assessMembers). */
  readonly members: MemberAssessment;
  /** status.bootstrapped as stored: once true it stays true. */
  readonly bootstrapped: boolean;
  readonly paused: boolean;
  /** status.phase as stored, undefined for a new cluster. */
  readonly previousPhase: PaxosClusterPhase | undefined;
  readonly previousConditions: readonly ClusterCondition[];
  /** RFC 3339, seconds precision (what metav1.Time serializes to). */
  readonly now: string;
  /** The membership planner's MembershipChanging condition; absent while paused. */
  readonly membership?: ConditionDraft;
  /** The fencing planner's Fenced and MemberLost conditions; absent while paused. */
  readonly fencing?: readonly ConditionDraft[];
}

export interface ComputedStatus {
  readonly observedGeneration: number;
  readonly phase: PaxosClusterPhase;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly selector: string;
  /** Null removes a leader that is no longer known (the status is merge-patched). */
  readonly leader: string | null;
  readonly bootstrapped: boolean;
  readonly members: readonly PaxosMemberStatus[];
  readonly conditions: readonly ClusterCondition[];
}

/** A strict majority of the desired members: fewer ready members cannot form a quorum. */
export function quorumOf(replicas: number): number {
  return Math.floor(replicas / 2) + 1;
}

export function computeStatus(observed: ObservedCluster): ComputedStatus {
  const { desiredReplicas: desired, podsFound: found, podsReady: ready, members } = observed;
  const bootstrapped = observed.bootstrapped || members.formed;
  // Before the members answer, the quorum is that of the members the spec asks for.
  const voters = members.voters > 0 ? members.voters : desired;
  const quorum = quorumOf(voters);
  const healthy = members.healthyVoters;
  // While members join, leave or restart, the cluster is measured against its voters: a
  // scale-up's learners and a scale-down's leavers are expected to be neither healthy nor
  // counted, and the phase should not read Degraded because of them.
  const changing = observed.membership?.status === "True";
  const expected = changing ? voters : desired;
  const counted = members.members.filter((member) => !changing || member.voter === true);
  const allHealthy = counted.filter((member) => member.health === "healthy").length;
  // A quorum that agrees is not enough: clients reach members through the Service, which
  // routes only to pods whose readiness probe passes.
  const formedQuorum = members.leader !== undefined && healthy >= quorum;
  const available = formedQuorum && ready >= quorum;
  const settled =
    observed.statefulSetReplicas === desired && found === desired && ready === desired && voters === desired;

  const availableCondition = available
    ? condition(
        "Available",
        "True",
        "QuorumHealthy",
        `${healthy} of ${voters} voting members are healthy (a quorum is ${quorum}); ${members.leader} leads.`,
      )
    : !bootstrapped
      ? condition(
          "Available",
          "False",
          found === 0 ? "NoMembers" : "Bootstrapping",
          found === 0
            ? `No member's pod exists yet; the ${desired} initial members form the cluster once they start.`
            : `The initial members have not formed the cluster yet: ${found} of ${desired} pods exist, ${ready} are ready.`,
        )
      : formedQuorum
        ? condition(
            "Available",
            "False",
            "PodsNotReady",
            `${healthy} of ${voters} voting members are healthy and ${members.leader} leads, but only ${ready} pods pass their readiness probe (a quorum is ${quorum}); clients reach only ready pods.`,
          )
        : members.leader === undefined
          ? condition(
              "Available",
              "False",
              "NoLeader",
              `No member that answered knows a leader; ${healthy} of ${voters} voting members are healthy (a quorum is ${quorum}).`,
            )
          : condition(
              "Available",
              "False",
              "QuorumUnhealthy",
              `Only ${healthy} of ${voters} voting members are healthy; a quorum needs ${quorum}.`,
            );
  const progressing = changing
    ? condition("Progressing", "True", "MembershipChanging", observed.membership?.message ?? "")
    : settled
      ? condition("Progressing", "False", "Settled", `All ${desired} members exist, vote and are ready.`)
      : condition(
          "Progressing",
          "True",
          observed.statefulSetReplicas === desired ? "WaitingForMembers" : "ScalingStatefulSet",
          `Waiting for ${desired} ready voting members: ${found} pods exist, ${ready} are ready, ${voters} vote.`,
        );
  const unhealthy = counted.filter((member) => member.health !== "healthy");
  // Degraded only once the cluster is up: a new cluster whose pods are still starting is
  // Pending or Bootstrapping, not degraded.
  const degraded =
    available && (unhealthy.length > 0 || allHealthy < expected || ready < expected)
      ? condition(
          "Degraded",
          "True",
          unhealthy.length > 0 || allHealthy < expected ? "MembersUnhealthy" : "PodsNotReady",
          unhealthy.length > 0
            ? `Not healthy: ${unhealthy.map((member) => `${member.name} (${member.health})`).join(", ")}.`
            : allHealthy < expected
              ? `${allHealthy} of ${expected} members are healthy.`
              : `${ready} of ${expected} pods pass their readiness probe.`,
        )
      : condition(
          "Degraded",
          "False",
          available ? "AllMembersHealthy" : "NotAvailable",
          available ? `All ${expected} members are healthy.` : "The cluster is not available; see Available.",
        );
  const atRisk = quorumAtRisk({ available, bootstrapped, healthy, voters, quorum });
  const lost = quorumLost({ bootstrapped, members: members.members, voters, quorum });
  const pausedCondition = observed.paused
    ? condition(
        "Paused",
        "True",
        "SpecPaused",
        "spec.paused is true: the operator changes nothing and only reports status. Set it to false to resume.",
      )
    : condition("Paused", "False", "Reconciling", "The operator reconciles the cluster.");

  return {
    observedGeneration: observed.generation,
    phase: phaseOf({
      available,
      bootstrapped,
      found,
      allHealthy,
      ready,
      desired: expected,
      previousPhase: observed.previousPhase,
    }),
    replicas: found,
    readyReplicas: ready,
    selector: observed.selector,
    leader: members.leader ?? null,
    bootstrapped,
    members: members.members,
    conditions: [
      availableCondition,
      progressing,
      degraded,
      atRisk,
      lost,
      pausedCondition,
      ...(observed.membership === undefined ? [] : [observed.membership]),
      ...(observed.fencing ?? []),
    ].map((next) => withTransitionTime(next, observed.previousConditions, observed.generation, observed.now)),
  };
}

/**
 * Fewer voters answer than a quorum: nothing can be committed until they come back. Counted
 * by who answers, not who is healthy: a lagging or fenced voter still votes. The operator
 * never "repairs" this by rewriting the configuration, which could lose committed entries;
 * the message says what must come back.
 */
function quorumLost(facts: {
  bootstrapped: boolean;
  members: readonly PaxosMemberStatus[];
  voters: number;
  quorum: number;
}): ConditionDraft {
  const { bootstrapped, members, voters, quorum } = facts;
  if (!bootstrapped)
    return condition("QuorumLost", "Unknown", "NotFormed", "The cluster has not formed yet.");
  const missing = members.filter((member) => member.voter === true && member.health === "unreachable");
  const answering = voters - missing.length;
  if (answering >= quorum)
    return condition(
      "QuorumLost",
      "False",
      "QuorumPresent",
      `${answering} of ${voters} voting members answer; a quorum is ${quorum}.`,
    );
  return condition(
    "QuorumLost",
    "True",
    "VotersUnreachable",
    `Only ${answering} of ${voters} voting members answer and a quorum needs ${quorum}: nothing can be written until ${quorum - answering} more of ${missing.map((member) => member.name).join(", ")} come back. The operator changes no membership that could lose committed data; bring those members' pods back with their volumes (docs/operations.md, "Quorum lost").`,
  );
}

function quorumAtRisk(facts: {
  available: boolean;
  bootstrapped: boolean;
  healthy: number;
  voters: number;
  quorum: number;
}): ConditionDraft {
  const { available, bootstrapped, healthy, voters, quorum } = facts;
  if (!bootstrapped)
    return condition("QuorumAtRisk", "Unknown", "NotFormed", "The cluster has not formed yet.");
  if (!available)
    return condition(
      "QuorumAtRisk",
      "True",
      "NoQuorum",
      `Only ${healthy} of ${voters} voting members are healthy; a quorum needs ${quorum}.`,
    );
  const spare = healthy - quorum;
  if (spare > 0)
    return condition(
      "QuorumAtRisk",
      "False",
      "FaultTolerant",
      `The cluster keeps its quorum through ${spare} more member failure${spare === 1 ? "" : "s"}.`,
    );
  return voters === 1
    ? condition(
        "QuorumAtRisk",
        "True",
        "SingleMember",
        "A 1-member cluster loses its quorum with its one member.",
      )
    : condition(
        "QuorumAtRisk",
        "True",
        "OneFailureFromQuorumLoss",
        `Exactly a quorum (${quorum} of ${voters}) is healthy: one more member failure stops the cluster.`,
      );
}

function phaseOf(facts: {
  available: boolean;
  bootstrapped: boolean;
  found: number;
  allHealthy: number;
  ready: number;
  desired: number;
  previousPhase: PaxosClusterPhase | undefined;
}): PaxosClusterPhase {
  const { available, bootstrapped, found, allHealthy, ready, desired, previousPhase } = facts;
  if (available && allHealthy >= desired && ready >= desired) return "Running";
  if (available) return "Degraded";
  // Not available yet: a cluster that has never been available is still coming up.
  const comingUp =
    previousPhase === undefined || previousPhase === "Pending" || previousPhase === "Bootstrapping";
  if (!bootstrapped || comingUp) return found === 0 ? "Pending" : "Bootstrapping";
  return "Degraded";
}

export type ConditionDraft = Pick<ClusterCondition, "type" | "status" | "reason" | "message">;

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
