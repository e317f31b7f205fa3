// Test support for the planner's tests (imported only by *.test.ts): a terse way to write
// one observed cluster, and a small simulated world that performs the planner's actions the
// way the reconciler, the StatefulSet controller and the replicas would.

import {
  applyConfigChange,
  type ConfigChange,
  type Configuration,
} from "../../../replica/src/paxos/configuration.ts";
import type { PaxosOperationStatus } from "../builders/index.ts";
import { kubernetesTime } from "../status.ts";
import { quorumSize } from "./safety.ts";
import type { MembershipAction, ObservedMember, Plan, PlanInput } from "./types.ts";
import { keyIncarnation, keyPod, memberKey, podName, podOrdinal } from "./view.ts";

export const cluster = "demo";
export const now = Date.parse("2030-01-01T00:10:00Z");
export const thresholds = {
  catchUpLagEntries: 100,
  unreachableWindowMs: 30_000,
  operationTimeoutMs: 600_000,
};

export const pod = (ordinal: number) => podName(cluster, ordinal);
export const key = (ordinal: number, incarnation = `i${ordinal}`) => memberKey(pod(ordinal), incarnation);

/** One ordinal as a test describes it; every field has the healthy default. */
export interface MemberSketch {
  /** In the configuration as (default voter). */
  readonly as?: "voter" | "learner" | "none";
  /** The incarnation the configuration lists (default `i<ordinal>`). */
  readonly incarnation?: string;
  /** The incarnation the pod answers as; null: it does not answer (default: the configured one). */
  readonly answers?: string | null;
  readonly lag?: number;
  readonly ready?: boolean;
  readonly exists?: boolean;
  readonly revision?: string;
  readonly claim?: "present" | "terminating" | "missing";
  /** ms it has been unreachable (when it does not answer). */
  readonly unreachableFor?: number;
  /** The pod's data has been in a cluster (default: when configured). */
  readonly joined?: boolean;
  readonly fenced?: boolean;
  readonly evicted?: boolean;
}

export interface ClusterSketch {
  readonly desired: number;
  /** Default: the number of ordinals sketched. */
  readonly sts?: number | undefined;
  /** Leader ordinal, null for none (default 0). */
  readonly leader?: number | null;
  readonly members: Readonly<Record<number, MemberSketch>>;
  readonly operation?: PaxosOperationStatus;
  readonly evicted?: readonly string[];
  readonly updateRevision?: string;
  readonly claimPolicy?: "Delete" | "Retain";
  readonly bootstrapped?: boolean;
}

/** `n` healthy voters at ordinals 0..n-1. */
export function healthy(n: number): Record<number, MemberSketch> {
  return Object.fromEntries(Array.from({ length: n }, (_, ordinal) => [ordinal, {}]));
}

export function operation(
  type: string,
  ordinal: number,
  step: string,
  incarnation?: string,
  startedMsAgo = 60_000,
): PaxosOperationStatus {
  return {
    type,
    member: pod(ordinal),
    ...(incarnation === undefined ? {} : { incarnation }),
    startedAt: kubernetesTime(new Date(now - startedMsAgo)),
    step,
  };
}

export function sketch(cluster_: ClusterSketch): PlanInput {
  const entries = Object.entries(cluster_.members).map(
    ([ordinal, member]) => [Number(ordinal), member] as const,
  );
  const listed = (as: "voter" | "learner") =>
    entries
      .filter(([, member]) => (member.as ?? "voter") === as)
      .map(([ordinal, member]) => key(ordinal, member.incarnation))
      .sort();
  const voters = listed("voter");
  const members = entries.map(([ordinal, member]): ObservedMember => {
    const configured = (member.as ?? "voter") !== "none";
    const incarnation = member.incarnation ?? `i${ordinal}`;
    const answers = member.answers === undefined ? incarnation : member.answers;
    const exists = member.exists ?? true;
    const claim = member.claim ?? "present";
    return {
      pod: pod(ordinal),
      podExists: exists,
      podReady: member.ready ?? (exists && answers !== null),
      podRevision: exists ? (member.revision ?? "r1") : undefined,
      claim:
        claim === "missing"
          ? undefined
          : { name: `data-${pod(ordinal)}`, terminating: claim === "terminating" },
      report:
        answers === null || !exists
          ? undefined
          : {
              incarnation: answers,
              role:
                (member.as ?? "voter") === "learner"
                  ? "learner"
                  : ordinal === cluster_.leader
                    ? "leader"
                    : "follower",
              lag: member.lag ?? 0,
              fenced: member.fenced ?? false,
              evicted: member.evicted ?? false,
              joined: member.joined ?? (configured && answers === incarnation),
            },
      unreachableSinceMs: answers === null || !exists ? now - (member.unreachableFor ?? 0) : undefined,
    };
  });
  const leader = cluster_.leader === undefined ? 0 : cluster_.leader;
  return {
    now,
    cluster,
    desiredReplicas: cluster_.desired,
    statefulSetReplicas: Object.hasOwn(cluster_, "sts") ? cluster_.sts : entries.length,
    updateRevision: cluster_.updateRevision ?? "r1",
    bootstrapped: cluster_.bootstrapped ?? true,
    configuration: {
      voters,
      learners: listed("learner"),
      fenced: entries
        .filter(([, member]) => member.fenced === true)
        .map(([ordinal, m]) => key(ordinal, m.incarnation)),
      evicted: [...(cluster_.evicted ?? [])],
    },
    leader: leader === null ? undefined : pod(leader),
    members,
    operation: cluster_.operation,
    claimPolicy: cluster_.claimPolicy ?? "Delete",
    thresholds,
  };
}

// ------------------------------------------------------------------ the simulated world

interface Claim {
  incarnation: string;
  /** Its data has been part of the cluster. */
  joined: boolean;
  terminating: boolean;
}

interface Pod {
  revision: string;
  /** The process answers (a partition or a crash makes it false). */
  up: boolean;
  /** Entries behind the leader; a joining member catches up a step per reconcile. */
  lag: number;
  downSinceMs: number | undefined;
}

/**
 * Kubernetes and the replicas, reduced to what the planner sees. Actions go through the
 * replica's own `applyConfigChange`, so a change the replica would refuse fails the test,
 * and a configuration change needs a quorum of answering voters to commit.
 */
export class World {
  desired: number;
  sts: number;
  updateRevision = "r1";
  claimPolicy: "Delete" | "Retain" = "Delete";
  configuration: Configuration;
  leader: string | undefined;
  readonly claims = new Map<number, Claim>();
  readonly pods = new Map<number, Pod>();
  operation: PaxosOperationStatus | undefined;
  clock = now;
  readonly log: string[] = [];
  private nextIncarnation = 0;

  constructor(voters: number) {
    this.desired = voters;
    this.sts = voters;
    for (let ordinal = 0; ordinal < voters; ordinal += 1) {
      this.claims.set(ordinal, { incarnation: `i${ordinal}`, joined: true, terminating: false });
      this.pods.set(ordinal, { revision: "r1", up: true, lag: 0, downSinceMs: undefined });
    }
    this.configuration = {
      voters: Array.from({ length: voters }, (_, ordinal) => key(ordinal)).sort(),
      learners: [],
      fenced: [],
      evicted: [],
    };
    this.leader = key(0);
  }

  keyOf(ordinal: number): string | undefined {
    const claim = this.claims.get(ordinal);
    return claim === undefined ? undefined : key(ordinal, claim.incarnation);
  }

  answering(memberKey_: string): boolean {
    const ordinal = podOrdinal(cluster, keyPod(memberKey_)) ?? -1;
    const claim = this.claims.get(ordinal);
    const pod_ = this.pods.get(ordinal);
    return pod_?.up === true && claim?.incarnation === keyIncarnation(memberKey_);
  }

  healthyVoters(): number {
    return this.configuration.voters.filter(
      (voter) =>
        this.answering(voter) &&
        (this.pods.get(podOrdinal(cluster, keyPod(voter)) ?? -1)?.lag ?? 1e9) <= thresholds.catchUpLagEntries,
    ).length;
  }

  /** The member can no longer answer; it starts answering again with `heal`. */
  partition(ordinal: number): void {
    const pod_ = this.pods.get(ordinal);
    if (pod_ !== undefined) Object.assign(pod_, { up: false, downSinceMs: this.clock });
    this.elect();
  }

  heal(ordinal: number): void {
    const pod_ = this.pods.get(ordinal);
    if (pod_ !== undefined) Object.assign(pod_, { up: true, downSinceMs: undefined });
    this.elect();
  }

  /** The pod's volume is replaced by an empty one: it restarts as a new incarnation. */
  wipe(ordinal: number): void {
    this.claims.set(ordinal, { incarnation: this.freshIncarnation(), joined: false, terminating: false });
    const pod_ = this.pods.get(ordinal);
    if (pod_ !== undefined) pod_.lag = 50_000;
    this.elect();
  }

  input(): PlanInput {
    const ordinals = new Set([
      ...this.pods.keys(),
      ...this.claims.keys(),
      ...[...this.configuration.voters, ...this.configuration.learners].map(
        (member) => podOrdinal(cluster, keyPod(member)) ?? -1,
      ),
    ]);
    const members = [...ordinals].map((ordinal): ObservedMember => {
      const pod_ = this.pods.get(ordinal);
      const claim = this.claims.get(ordinal);
      const answering = pod_?.up === true && claim !== undefined;
      const memberKey_ = claim === undefined ? undefined : key(ordinal, claim.incarnation);
      return {
        pod: pod(ordinal),
        podExists: pod_ !== undefined,
        podReady: answering,
        podRevision: pod_?.revision,
        claim:
          claim === undefined ? undefined : { name: `data-${pod(ordinal)}`, terminating: claim.terminating },
        report:
          !answering || memberKey_ === undefined
            ? undefined
            : {
                incarnation: claim.incarnation,
                role: memberKey_ === this.leader ? "leader" : "follower",
                lag: pod_.lag,
                fenced: false,
                evicted: this.configuration.evicted.includes(memberKey_),
                joined: claim.joined,
              },
        unreachableSinceMs: answering ? undefined : (pod_?.downSinceMs ?? this.clock - 3_600_000),
      };
    });
    return {
      now: this.clock,
      cluster,
      desiredReplicas: this.desired,
      statefulSetReplicas: this.sts,
      updateRevision: this.updateRevision,
      bootstrapped: true,
      configuration: this.configuration,
      leader: this.leader === undefined ? undefined : keyPod(this.leader),
      members,
      operation: this.operation,
      claimPolicy: this.claimPolicy,
      thresholds,
    };
  }

  /** Writes the plan's record, then (unless the operator crashes first) performs its action. */
  apply(plan: Plan, options: { crashBeforeAction?: boolean } = {}): void {
    this.operation = plan.operation;
    const { action } = plan;
    this.log.push(describeAction(action));
    if (options.crashBeforeAction !== true) this.perform(action);
    this.tick();
  }

  /** One reconcile interval: controllers act, learners catch up, time passes. */
  tick(): void {
    this.clock += 2_000;
    for (const [ordinal, claim] of this.claims)
      if (claim.terminating && !this.pods.has(ordinal)) this.claims.delete(ordinal);
    for (const ordinal of [...this.pods.keys()]) if (ordinal >= this.sts) this.pods.delete(ordinal);
    for (let ordinal = 0; ordinal < this.sts; ordinal += 1) {
      if (this.pods.has(ordinal)) continue;
      if (!this.claims.has(ordinal))
        this.claims.set(ordinal, { incarnation: this.freshIncarnation(), joined: false, terminating: false });
      this.pods.set(ordinal, {
        revision: this.updateRevision,
        up: true,
        lag: 50_000,
        downSinceMs: undefined,
      });
    }
    for (const [ordinal, pod_] of this.pods) {
      const memberKey_ = this.keyOf(ordinal);
      const inConfiguration =
        memberKey_ !== undefined &&
        (this.configuration.voters.includes(memberKey_) || this.configuration.learners.includes(memberKey_));
      // A member catches up once it is in the configuration (the leader sends it the log).
      if (inConfiguration && pod_.up) pod_.lag = Math.max(0, pod_.lag - 20_000);
    }
    this.elect();
  }

  private perform(action: MembershipAction): void {
    switch (action.type) {
      case "none":
      case "wait":
      case "complete":
        return;
      case "scaleStatefulSet":
        this.sts = action.replicas;
        return;
      case "addLearner":
        this.change(action.leader, { type: "addLearner", member: action.member });
        return;
      case "promote":
        this.change(action.leader, { type: "promote", member: action.member });
        return;
      case "removeMember":
        this.change(action.leader, { type: "remove", member: action.member });
        return;
      case "evictMember":
        this.change(action.leader, { type: "evict", member: action.member });
        return;
      case "transferLeadership":
        if (this.leader === undefined || keyPod(this.leader) !== action.leader)
          throw new Error(`transfer asked of ${action.leader}, which does not lead`);
        if (!this.configuration.voters.includes(action.to) || !this.answering(action.to))
          throw new Error(`transfer to ${action.to}, which cannot lead`);
        this.leader = action.to;
        return;
      case "deletePod": {
        const ordinal = podOrdinal(cluster, action.pod) ?? -1;
        this.pods.delete(ordinal);
        this.elect();
        return;
      }
      case "deleteClaim": {
        const ordinal = podOrdinal(cluster, action.claim.slice("data-".length)) ?? -1;
        const claim = this.claims.get(ordinal);
        if (claim !== undefined) claim.terminating = true;
        return;
      }
    }
  }

  private change(leaderPod: string, change: ConfigChange): void {
    if (this.leader === undefined || keyPod(this.leader) !== leaderPod)
      throw new Error(`${change.type} sent to ${leaderPod}, which does not lead`);
    if (this.healthyVoters() < quorumSize(this.configuration.voters.length))
      throw new Error(`${change.type} ${change.member} cannot commit: no healthy quorum`);
    this.configuration = applyConfigChange(this.configuration, change);
    if (change.type === "addLearner") {
      const claim = this.claims.get(podOrdinal(cluster, keyPod(change.member)) ?? -1);
      if (claim !== undefined && claim.incarnation === keyIncarnation(change.member)) claim.joined = true;
    }
    if (!this.configuration.voters.includes(this.leader)) this.leader = undefined;
    this.elect();
  }

  /** A leader that stopped answering is replaced by an answering voter when a quorum answers. */
  private elect(): void {
    if (this.leader !== undefined && this.answering(this.leader)) return;
    const voters = this.configuration.voters;
    const answering = voters.filter((voter) => this.answering(voter));
    this.leader = answering.length >= quorumSize(voters.length) ? answering[0] : undefined;
  }

  private freshIncarnation(): string {
    this.nextIncarnation += 1;
    return `n${this.nextIncarnation}`;
  }
}

export function describeAction(action: MembershipAction): string {
  switch (action.type) {
    case "none":
    case "complete":
      return action.type;
    case "wait":
      return `wait ${action.reason}`;
    case "scaleStatefulSet":
      return `scale ${action.replicas}`;
    case "addLearner":
    case "promote":
    case "removeMember":
    case "evictMember":
      return `${action.type} ${action.member}`;
    case "transferLeadership":
      return `transfer ${action.leader} -> ${action.to}`;
    case "deletePod":
      return `deletePod ${action.pod}`;
    case "deleteClaim":
      return `deleteClaim ${action.claim}`;
  }
}
