// The fencing planner's input from what one reconcile read: the members' reports and the
// combined member table, the pods and their Nodes. Pure: the reading is the reconciler's,
// and the clock comes in as `now`.
import type { V1Pod } from "@kubernetes/client-node";
import type { PaxosCluster } from "../builders/index.ts";
import type { MemberAssessment, MemberProbe, NodeState } from "../members.ts";
import { defaultCatchUpLagEntries } from "../membership/observe.ts";
import { keyPod } from "../membership/view.ts";
import { fencedMembersAnnotation, parseFencedMembersAnnotation } from "./annotation.ts";
import { fencingSettings } from "./planner.ts";
import type { FencingInput, FencingMember } from "./types.ts";

export interface FencingObservation {
  readonly cluster: PaxosCluster;
  readonly pods: readonly V1Pod[];
  readonly probes: readonly MemberProbe[];
  readonly assessment: MemberAssessment;
  readonly nodes: ReadonlyMap<string, NodeState>;
  /** The membership planner keeps an operation record: it owns the one change in flight. */
  readonly membershipBusy: boolean;
  readonly now: number;
}

const toMs = (time: string | undefined) => (time === undefined ? undefined : Date.parse(time));

export function fencingInput(observation: FencingObservation): FencingInput {
  const { cluster, pods, probes, assessment, nodes } = observation;
  const configured = [
    ...(assessment.configuration?.voters ?? []),
    ...(assessment.configuration?.learners ?? []),
  ];
  const configuredKey = (pod: string) => configured.find((key) => keyPod(key) === pod);
  const reports = new Map(probes.flatMap((probe) => (probe.ok ? [[probe.pod, probe.report] as const] : [])));
  const podsByName = new Map(pods.map((pod) => [pod.metadata?.name ?? "", pod]));
  const rows = new Map(assessment.members.map((member) => [member.name, member]));
  const leaderKey = assessment.leader === undefined ? undefined : configuredKey(assessment.leader);
  const names = new Set(
    [...podsByName.keys(), ...rows.keys(), ...configured.map(keyPod)].filter((name) => name !== ""),
  );

  const members = [...names].map((name): FencingMember => {
    const pod = podsByName.get(name);
    const row = rows.get(name);
    const report = reports.get(name);
    const key = configuredKey(name);
    const nodeName = pod?.spec?.nodeName;
    // It answers the operator but does not follow the leader the majority follows: it is
    // cut off from the cluster (a partition between members, which the operator's own
    // network path does not cross). Its own answer and the leader's silence agree, so it
    // counts as unreachable for as long as the leader has not heard from it.
    const contactAge = assessment.leaderContactAgeMs.get(name);
    const cutOff =
      report !== undefined &&
      leaderKey !== undefined &&
      name !== assessment.leader &&
      report.leader !== leaderKey &&
      contactAge !== undefined;
    const node = nodeName === undefined ? undefined : nodes.get(nodeName);
    return {
      pod: name,
      reachable: report !== undefined && (key === undefined || report.member === key) && !cutOff,
      unreachableSinceMs:
        report === undefined
          ? toMs(row?.unreachableSince)
          : cutOff
            ? observation.now - (contactAge ?? 0)
            : undefined,
      leaderContactAgeMs: contactAge,
      reachableSinceMs: toMs(row?.reachableSince),
      lag: row?.lag,
      caughtUp: row?.lag !== undefined && row.lag <= defaultCatchUpLagEntries,
      podExists: pod !== undefined,
      podReady: (pod?.status?.conditions ?? []).some(
        (condition) => condition.type === "Ready" && condition.status === "True",
      ),
      podTerminating: pod?.metadata?.deletionTimestamp !== undefined,
      nodeName,
      node: node === undefined ? undefined : { ready: node.ready, notReadySinceMs: toMs(node.notReadySince) },
    };
  });

  return {
    now: observation.now,
    cluster: cluster.metadata.name,
    leader: assessment.leader,
    configuration: assessment.configuration,
    settings: fencingSettings(cluster.spec.fencing),
    manual: parseFencedMembersAnnotation(
      cluster.metadata.annotations?.[fencedMembersAnnotation],
      cluster.metadata.name,
    ),
    members,
    membershipBusy: observation.membershipBusy,
    record: cluster.status?.fencing,
  };
}
