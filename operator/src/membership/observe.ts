// The planner's input from what one reconcile read: the cluster's pods and claims, the
// members' own reports and the combined member table. Pure: the reading is the
// reconciler's, and the clock comes in as `now`.
import type { V1PersistentVolumeClaim, V1Pod, V1StatefulSet } from "@kubernetes/client-node";
import { dataVolumeName, type PaxosCluster } from "../builders/index.ts";
import type { MemberAssessment, MemberProbe } from "../members.ts";
import type { MembershipThresholds, ObservedMember, PlanInput } from "./types.ts";

/** A member this many entries behind the leader may be promoted (or counts as caught up). */
export const defaultCatchUpLagEntries = 100;
/** An operation waiting longer than this is reported as stalled (it keeps going). */
export const defaultOperationTimeoutMs = 10 * 60_000;

export interface MembershipObservation {
  readonly cluster: PaxosCluster;
  readonly statefulSet: V1StatefulSet | undefined;
  /** The cluster's pods, including those being deleted. */
  readonly pods: readonly V1Pod[];
  readonly claims: readonly V1PersistentVolumeClaim[];
  readonly probes: readonly MemberProbe[];
  readonly assessment: MemberAssessment;
  /** status.bootstrapped as it will be written by this reconcile. */
  readonly bootstrapped: boolean;
  readonly now: number;
}

/**
 * A member unreachable for this many fencing windows is replaced (evicted, and a new
 * incarnation joins). Fencing comes first, after one window: a member that is only cut off
 * keeps its identity and is unfenced when the partition heals; replacing it costs a full
 * catch-up, so it waits until the member is clearly gone (5 minutes by default).
 */
export const replaceAfterFencingWindows = 10;

export function membershipThresholds(cluster: PaxosCluster): MembershipThresholds {
  return {
    catchUpLagEntries: defaultCatchUpLagEntries,
    unreachableWindowMs: cluster.spec.fencing.unreachableWindowSeconds * 1000 * replaceAfterFencingWindows,
    operationTimeoutMs: defaultOperationTimeoutMs,
  };
}

/** The StatefulSet's claim for a pod: `<template>-<pod>`. */
export function claimName(pod: string): string {
  return `${dataVolumeName}-${pod}`;
}

export function membershipInput(observation: MembershipObservation): PlanInput {
  const { cluster, statefulSet, pods, claims, probes, assessment } = observation;
  const podsByName = new Map(pods.map((pod) => [pod.metadata?.name ?? "", pod]));
  const claimsByName = new Map(claims.map((claim) => [claim.metadata?.name ?? "", claim]));
  const reports = new Map(probes.flatMap((probe) => (probe.ok ? [[probe.pod, probe.report] as const] : [])));
  const table = new Map(assessment.members.map((member) => [member.name, member]));
  const names = new Set([...podsByName.keys(), ...table.keys()].filter((name) => name !== ""));

  const members = [...names].map((name): ObservedMember => {
    const pod = podsByName.get(name);
    const claim = claimsByName.get(claimName(name));
    const report = reports.get(name);
    const row = table.get(name);
    const configured = report?.configuration;
    return {
      pod: name,
      podExists: pod !== undefined,
      podReady: (pod?.status?.conditions ?? []).some(
        (condition) => condition.type === "Ready" && condition.status === "True",
      ),
      podRevision: pod?.metadata?.labels?.["controller-revision-hash"],
      claim:
        claim === undefined
          ? undefined
          : { name: claimName(name), terminating: claim.metadata?.deletionTimestamp !== undefined },
      report:
        report === undefined
          ? undefined
          : {
              incarnation: report.incarnation,
              role: report.role,
              lag: row?.lag ?? 0,
              fenced: report.fenced,
              evicted: report.evicted,
              joined: (configured?.voters.length ?? 0) + (configured?.learners.length ?? 0) > 0,
            },
      unreachableSinceMs:
        report === undefined && row?.unreachableSince !== undefined
          ? Date.parse(row.unreachableSince)
          : undefined,
    };
  });

  return {
    now: observation.now,
    cluster: cluster.metadata.name,
    desiredReplicas: cluster.spec.replicas,
    statefulSetReplicas: statefulSet?.spec?.replicas,
    updateRevision: currentUpdateRevision(statefulSet),
    bootstrapped: observation.bootstrapped,
    configuration: assessment.configuration,
    leader: assessment.leader,
    members,
    operation: cluster.status?.operation,
    claimPolicy: cluster.spec.storage.whenScaledDown,
    thresholds: membershipThresholds(cluster),
  };
}

/**
 * The revision pods should run, once the StatefulSet controller has seen the latest
 * template; until then undefined, so no member is restarted against a stale revision.
 */
function currentUpdateRevision(statefulSet: V1StatefulSet | undefined): string | undefined {
  const seen = statefulSet?.status?.observedGeneration;
  if (seen === undefined || seen !== statefulSet?.metadata?.generation) return undefined;
  return statefulSet?.status?.updateRevision;
}
