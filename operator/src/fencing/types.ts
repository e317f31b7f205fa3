// The fencing planner's input and output. The input is what one reconcile observed (no I/O,
// and `now` instead of a clock); the output is one action, the record to write to
// status.fencing before performing it, and three condition drafts. See README.md for the rules.
import type { MemberConfiguration } from "../members.ts";

/** spec.fencing, in milliseconds (see `fencingSettings` for the conversion and defaults). */
export interface FencingSettings {
  /** Fence members that neither the operator nor the leader can reach; unfence them later. */
  readonly automatic: boolean;
  /**
   * How long a member must be unreachable by both observers, or its node NotReady, before
   * anything is done about it. Longer than an election (the CRD enforces it), so a leader
   * change fences no one.
   */
  readonly unreachableWindowMs: number;
  /** How long an automatically fenced member must be reachable by both before it is unfenced. */
  readonly holdDownMs: number;
  /** Evict the incarnation of a member whose node is lost, then force-delete its pod. */
  readonly forceDeleteOnLostNode: boolean;
}

/** The parsed `paxos.dev/fenced-members` annotation (see annotation.ts). */
export interface FencedMembers {
  /** Pod names of this cluster, without duplicates, by ordinal. */
  readonly members: readonly string[];
  /** `"*"` or `["*"]`: every member (as many as stay safe; the leader keeps leading). */
  readonly all: boolean;
}

/** An annotation that does not parse: manual fencing then stays exactly as it is. */
export interface InvalidFencedMembers {
  readonly error: string;
}

export type ParsedFencedMembers = FencedMembers | InvalidFencedMembers;

/** The Node a pod is bound to, as its Ready condition says. */
export interface ObservedNode {
  /** The Ready condition: true, false, or undefined when it is Unknown (the kubelet stopped reporting). */
  readonly ready: boolean | undefined;
  /** The Ready condition's lastTransitionTime (ms) while it is not True; undefined while Ready. */
  readonly notReadySinceMs: number | undefined;
}

/**
 * One pod, or one configured member, of the cluster. Whether it votes, is fenced or was
 * evicted is read from `FencingInput.configuration` by pod name, never from here, so the
 * two cannot disagree.
 */
export interface FencingMember {
  /** `<cluster>-<ordinal>`. */
  readonly pod: string;
  /** The operator's probe got `/v1/status` from the pod, answering as its configured incarnation. */
  readonly reachable: boolean;
  /** Since when (ms) the operator could not reach it; undefined while reachable or unknown. */
  readonly unreachableSinceMs: number | undefined;
  /**
   * How long (ms) since the leader last heard from it: the leader's `/v1/status`
   * `members[].idleTicks × tickMs`. Undefined when there is no leader, for the leader
   * itself, or when the leader does not track it (not configured).
   */
  readonly leaderContactAgeMs: number | undefined;
  /**
   * Since when (ms) both the operator and the leader have heard from it without a break;
   * undefined while either does not. The hold-down of automatic unfencing counts from here.
   */
  readonly reachableSinceMs: number | undefined;
  /** Entries behind the leader's commit index; undefined when unknown. */
  readonly lag: number | undefined;
  /** `lag` is at most the catch-up threshold (status `catchUpLagEntries`). */
  readonly caughtUp: boolean;
  readonly podExists: boolean;
  /** The pod's Ready condition is True. */
  readonly podReady: boolean;
  /** The pod has a deletionTimestamp. */
  readonly podTerminating: boolean;
  /** The pod's spec.nodeName; undefined while unscheduled or when the pod does not exist. */
  readonly nodeName: string | undefined;
  /** The Node named by `nodeName`; undefined when unscheduled or the Node object is not found. */
  readonly node: ObservedNode | undefined;
}

/**
 * `status.fencing`: which fenced member keys the operator fenced and why. It is the only
 * memory the planner has across reconciles. A key fenced in the configuration but in
 * neither list was fenced by someone else (the admin API) and is left alone.
 * Invariant: the two lists are disjoint, and hold only keys the configuration lists as
 * fenced, plus the key the plan's `fence` action is about to fence.
 */
export interface FencingRecord {
  /** Fenced because neither the operator nor the leader could reach them (rule 1). */
  readonly automatic: readonly string[];
  /** Fenced because the annotation listed their pod (rule 3). Manual wins over automatic. */
  readonly manual: readonly string[];
}

export interface FencingInput {
  readonly now: number;
  /** The PaxosCluster's name: pod `n` is `<cluster>-<n>`. */
  readonly cluster: string;
  /** The leader's pod name, as most members agree; undefined when none is known. */
  readonly leader: string | undefined;
  /** The configuration as the leader (or the most up-to-date member) reports it. */
  readonly configuration: MemberConfiguration | undefined;
  readonly settings: FencingSettings;
  /** `parseFencedMembersAnnotation` of the PaxosCluster's `paxos.dev/fenced-members`. */
  readonly manual: ParsedFencedMembers;
  /** One entry per configured member and per pod, in any order. */
  readonly members: readonly FencingMember[];
  /** status.operation is set: the membership planner owns the one configuration change in flight. */
  readonly membershipBusy: boolean;
  /** status.fencing as stored; undefined when there is none yet. */
  readonly record: FencingRecord | undefined;
}

export type FenceReason = "Manual" | "Unreachable";
/** Manual: its pod left the annotation. Reachable: an automatic fence's hold-down passed. */
export type UnfenceReason = "Manual" | "Reachable";

/** Admin calls go to the leader's pod (`leader`); member keys are `<pod>#<incarnation>`. */
export type FencingAction =
  | { readonly type: "none" }
  | { readonly type: "wait"; readonly reason: string; readonly message: string }
  | { readonly type: "fence"; readonly member: string; readonly leader: string; readonly reason: FenceReason }
  | {
      readonly type: "unfence";
      readonly member: string;
      readonly leader: string;
      readonly reason: UnfenceReason;
    }
  | { readonly type: "evict"; readonly member: string; readonly leader: string }
  /** A leader listed in the annotation hands over first: a fenced member may not lead. */
  | { readonly type: "transferLeadership"; readonly leader: string; readonly to: string }
  /** Delete with grace period 0: the pod's member is evicted and its node is lost. */
  | { readonly type: "forceDeletePod"; readonly pod: string; readonly node: string };

export type FencingConditionType = "Fenced" | "MemberLost" | "QuorumLost";

export interface FencingCondition {
  readonly type: FencingConditionType;
  readonly status: "True" | "False" | "Unknown";
  readonly reason: string;
  /** Stable between reconciles: states, counts and configured windows, never ages. */
  readonly message: string;
}

/** An Event for the action, for the reconciler to record on the PaxosCluster. */
export interface FencingEvent {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
}

export interface FencingPlan {
  readonly action: FencingAction;
  /**
   * status.fencing to write BEFORE performing the action: a fence must be recorded as the
   * operator's (and why) before it can commit, or a crash would leave it looking like
   * someone else's. Always the whole record; equal to the input's when nothing changed.
   */
  readonly record: FencingRecord;
  /** Always three drafts, in this order: Fenced, MemberLost, QuorumLost. */
  readonly conditions: readonly FencingCondition[];
  /** Events for the action (none for `none` and `wait`). */
  readonly events: readonly FencingEvent[];
}
