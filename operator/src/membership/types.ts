// The membership planner's input and output. The input is what one reconcile observed (no
// I/O, and `now` instead of a clock); the output is one action and the operation record to
// write to status.operation before the action is performed. See README.md for the states.
import type { PaxosMemberRole, PaxosOperationStatus } from "../builders/index.ts";
import type { MemberConfiguration } from "../members.ts";

export interface MembershipThresholds {
  /** A member at most this many entries behind the leader's commit index is caught up. */
  readonly catchUpLagEntries: number;
  /** A member unreachable this long, whose pod is not ready either, is replaced. */
  readonly unreachableWindowMs: number;
  /** An operation older than this is reported as stalled (it keeps going: every step is safe). */
  readonly operationTimeoutMs: number;
}

/** The part of a member's `/v1/status` answer the planner uses. */
export interface MemberReportSummary {
  /** The incarnation the member answers as: its data directory's id. */
  readonly incarnation: string;
  readonly role: PaxosMemberRole;
  /** Entries behind the leader's commit index. */
  readonly lag: number;
  readonly fenced: boolean;
  readonly evicted: boolean;
  /**
   * The member's own configuration lists voters or learners: its data has been part of a
   * cluster. A fresh data directory has not; a removed member that kept its data has, and
   * must never be added again as itself.
   */
  readonly joined: boolean;
}

/** One pod ordinal of the cluster: its pod, its claim and its member's answer. */
export interface ObservedMember {
  /** `<cluster>-<ordinal>`. */
  readonly pod: string;
  readonly podExists: boolean;
  /** The pod's Ready condition is True. */
  readonly podReady: boolean;
  /** The pod's `controller-revision-hash` label. */
  readonly podRevision: string | undefined;
  /** The pod's data claim, when it exists; `terminating` once its deletion started. */
  readonly claim: { readonly name: string; readonly terminating: boolean } | undefined;
  /** The member's `/v1/status`, or undefined when it did not answer. */
  readonly report: MemberReportSummary | undefined;
  /** Since when (ms) the operator could not reach it; undefined while reachable or unknown. */
  readonly unreachableSinceMs: number | undefined;
}

export type ClaimPolicy = "Delete" | "Retain";

export interface PlanInput {
  readonly now: number;
  /** The PaxosCluster's name: pod `n` is `<cluster>-<n>`. */
  readonly cluster: string;
  /** spec.replicas: the voting members wanted. */
  readonly desiredReplicas: number;
  /** The StatefulSet's spec.replicas as stored; undefined when it does not exist. */
  readonly statefulSetReplicas: number | undefined;
  /** The StatefulSet's status.updateRevision: pods on another revision need a restart. */
  readonly updateRevision: string | undefined;
  /** status.bootstrapped: the initial members formed the cluster. */
  readonly bootstrapped: boolean;
  /** The configuration as the leader (or the most up-to-date member) reports it. */
  readonly configuration: MemberConfiguration | undefined;
  /** The leader's pod name, as most members agree. */
  readonly leader: string | undefined;
  /** Every pod that exists or is named by the configuration, in any order. */
  readonly members: readonly ObservedMember[];
  /** status.operation as stored. */
  readonly operation: PaxosOperationStatus | undefined;
  /**
   * What happens to a scaled-away member's claim. Retain keeps the data, so the removal
   * evicts the incarnation (it can never rejoin as itself) and a later scale-up waits for a
   * person to delete the claim instead of wiping it.
   */
  readonly claimPolicy: ClaimPolicy;
  readonly thresholds: MembershipThresholds;
}

export const operationTypes = ["ScaleUp", "ScaleDown", "ReplaceMember", "RestartMember"] as const;
export type OperationType = (typeof operationTypes)[number];

/**
 * The steps of each operation, in order. `incarnation` in the record is the incarnation the
 * step acts on: the member being removed, replaced or restarted; for the join steps
 * (AddLearner, CatchUp, Promote) the new incarnation; unset while waiting for a pod.
 */
export const operationSteps = {
  ScaleUp: ["GrowStatefulSet", "WaitForPod", "AddLearner", "CatchUp", "Promote"],
  ScaleDown: ["TransferLeadership", "RemoveMember", "ShrinkStatefulSet", "WaitForPodGone", "DeleteClaim"],
  ReplaceMember: [
    "TransferLeadership",
    "EvictMember",
    "WaitForNewIncarnation",
    "AddLearner",
    "CatchUp",
    "Promote",
  ],
  RestartMember: ["TransferLeadership", "DeletePod", "WaitForRestart"],
} as const satisfies Record<OperationType, readonly string[]>;

export type OperationStep = (typeof operationSteps)[OperationType][number];

/** A parsed status.operation. */
export interface Operation {
  readonly type: OperationType;
  readonly step: OperationStep;
  /** The pod name of the member it is about. */
  readonly member: string;
  readonly incarnation: string | undefined;
  readonly startedAt: string;
}

/** Admin calls go to the leader's pod (`leader`); member keys are `<pod>#<incarnation>`. */
export type MembershipAction =
  | { readonly type: "none" }
  | { readonly type: "wait"; readonly reason: string; readonly message: string }
  | { readonly type: "scaleStatefulSet"; readonly replicas: number }
  | { readonly type: "addLearner"; readonly member: string; readonly leader: string }
  | { readonly type: "promote"; readonly member: string; readonly leader: string }
  | { readonly type: "removeMember"; readonly member: string; readonly leader: string }
  | { readonly type: "evictMember"; readonly member: string; readonly leader: string }
  | { readonly type: "transferLeadership"; readonly leader: string; readonly to: string }
  | { readonly type: "deletePod"; readonly pod: string }
  | { readonly type: "deleteClaim"; readonly claim: string }
  | { readonly type: "complete"; readonly message: string };

export interface MembershipCondition {
  readonly type: "MembershipChanging";
  readonly status: "True" | "False";
  readonly reason: string;
  readonly message: string;
}

export interface Plan {
  /**
   * The record to write to status.operation BEFORE performing the action (a crash after
   * the write resumes the same step, and every step is idempotent); undefined clears it.
   */
  readonly operation: PaxosOperationStatus | undefined;
  readonly action: MembershipAction;
  readonly condition: MembershipCondition;
}
