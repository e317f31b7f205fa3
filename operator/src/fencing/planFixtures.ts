// Test support for the fencing planner's tests (imported only by *.test.ts): a terse way to
// write one observed cluster, and a way to apply a plan's action to it the way the replica
// and Kubernetes would, for runs over several reconciles.
import {
  applyConfigChange,
  type ConfigChange,
  configChangeProblem,
} from "../../../replica/src/paxos/configuration.ts";
import type { MemberConfiguration } from "../members.ts";
import { keyPod, memberKey, podName } from "../membership/view.ts";
import { parseFencedMembersAnnotation } from "./annotation.ts";
import type { FencingInput, FencingMember, FencingPlan, FencingRecord } from "./types.ts";

export const cluster = "demo";
export const now = Date.parse("2030-01-01T00:10:00Z");
export const windowMs = 30_000;
export const catchUpLagEntries = 100;
const longAgo = 3_600_000;

export const pod = (ordinal: number) => podName(cluster, ordinal);
export const key = (ordinal: number, incarnation = `i${ordinal}`) => memberKey(pod(ordinal), incarnation);

/** One ordinal as a test describes it; every field has the healthy default. */
export interface MemberSketch {
  /** In the configuration as (default voter). */
  readonly as?: "voter" | "learner" | "none";
  /** The configured incarnation (default `i<ordinal>`). */
  readonly incarnation?: string;
  /** Listed as fenced in the configuration. */
  readonly fenced?: boolean;
  /** ms the operator has not reached it (default 0: it answers). */
  readonly unreachableFor?: number;
  /** ms since the leader heard from it; null: the leader does not say (default: `unreachableFor`). */
  readonly leaderSilentFor?: number | null;
  /** ms both have reached it without a break, when they do (default an hour). */
  readonly reachableFor?: number;
  readonly lag?: number;
  readonly exists?: boolean;
  /** The pod's Ready condition (default: it exists and the operator reaches it). */
  readonly ready?: boolean;
  readonly terminating?: boolean;
  /** The pod's node (default `node-<ordinal>`). */
  readonly node?: string;
  /** ms the node has been NotReady (default: it is Ready). */
  readonly nodeNotReadyFor?: number;
  /** The node's Ready condition is Unknown rather than False (with nodeNotReadyFor). */
  readonly nodeUnknown?: boolean;
}

export interface Scene {
  readonly members: Readonly<Record<number, MemberSketch>>;
  /** Leader ordinal, null for none (default 0). */
  readonly leader?: number | null;
  readonly automatic?: boolean;
  readonly forceDelete?: boolean;
  readonly windowMs?: number;
  readonly holdDownMs?: number;
  /** The raw `paxos.dev/fenced-members` value. */
  readonly annotation?: string;
  readonly busy?: boolean;
  readonly record?: Partial<FencingRecord>;
  readonly evicted?: readonly string[];
  readonly noConfiguration?: boolean;
  /** ms added to every elapsed time (to check that conditions do not change with time). */
  readonly later?: number;
}

/** `n` healthy voters at ordinals 0..n-1. */
export function healthy(n: number): Record<number, MemberSketch> {
  return Object.fromEntries(Array.from({ length: n }, (_, ordinal) => [ordinal, {}]));
}

/** A member that nobody has reached for a minute, whose node has been NotReady as long. */
export const lostMember = (extra: MemberSketch = {}): MemberSketch => ({
  unreachableFor: 60_000,
  nodeNotReadyFor: 60_000,
  ...extra,
});

export function sketch(scene: Scene): FencingInput {
  const entries = Object.entries(scene.members).map(
    ([ordinal, member]) => [Number(ordinal), member] as const,
  );
  const window = scene.windowMs ?? windowMs;
  const later = scene.later ?? 0;
  const leader = scene.leader === undefined ? 0 : scene.leader;
  const listed = (as: "voter" | "learner") =>
    entries
      .filter(([, member]) => (member.as ?? "voter") === as)
      .map(([ordinal, member]) => key(ordinal, member.incarnation))
      .sort();
  const configuration: MemberConfiguration = {
    voters: listed("voter"),
    learners: listed("learner"),
    fenced: entries
      .filter(([, member]) => member.fenced === true && (member.as ?? "voter") !== "none")
      .map(([ordinal, member]) => key(ordinal, member.incarnation))
      .sort(),
    evicted: [...(scene.evicted ?? [])].sort(),
  };
  const members = entries.map(([ordinal, member]): FencingMember => {
    const exists = member.exists ?? true;
    const unreachableFor = member.unreachableFor ?? 0;
    const reachable = exists && unreachableFor === 0;
    const configured = (member.as ?? "voter") !== "none";
    const isLeader = ordinal === leader;
    const silent = member.leaderSilentFor === undefined ? unreachableFor : member.leaderSilentFor;
    const leaderContactAgeMs =
      leader === null || isLeader || !configured || silent === null
        ? undefined
        : silent + (silent > 0 ? later : 0);
    const leaderHears = isLeader || (leaderContactAgeMs !== undefined && leaderContactAgeMs <= window);
    const lag = member.lag ?? 0;
    return {
      pod: pod(ordinal),
      reachable,
      unreachableSinceMs: reachable ? undefined : now - unreachableFor,
      leaderContactAgeMs,
      reachableSinceMs: reachable && leaderHears ? now - (member.reachableFor ?? longAgo) : undefined,
      lag,
      caughtUp: lag <= catchUpLagEntries,
      podExists: exists,
      podReady: member.ready ?? reachable,
      podTerminating: exists && member.terminating === true,
      nodeName: exists ? (member.node ?? `node-${ordinal}`) : undefined,
      node: !exists
        ? undefined
        : member.nodeNotReadyFor === undefined
          ? { ready: true, notReadySinceMs: undefined }
          : {
              ready: member.nodeUnknown === true ? undefined : false,
              notReadySinceMs: now - member.nodeNotReadyFor,
            },
    };
  });
  return {
    now: now + later,
    cluster,
    leader: leader === null ? undefined : pod(leader),
    configuration: scene.noConfiguration === true ? undefined : configuration,
    settings: {
      automatic: scene.automatic ?? true,
      unreachableWindowMs: window,
      holdDownMs: scene.holdDownMs ?? window,
      forceDeleteOnLostNode: scene.forceDelete ?? false,
    },
    manual: parseFencedMembersAnnotation(scene.annotation, cluster),
    members,
    membershipBusy: scene.busy ?? false,
    record:
      scene.record === undefined
        ? undefined
        : { automatic: scene.record.automatic ?? [], manual: scene.record.manual ?? [] },
  };
}

/**
 * The next reconcile's input after the plan's action: configuration changes go through the
 * replica's own `applyConfigChange` (a change it refuses throws), the record is stored, a
 * transfer moves leadership, and a force-deleted pod is gone.
 */
export function afterPlan(input: FencingInput, plan: FencingPlan): FencingInput {
  const { action } = plan;
  const configuration = input.configuration as MemberConfiguration;
  const changed = (change: ConfigChange): MemberConfiguration => {
    const problem = configChangeProblem(configuration, change);
    if (problem !== undefined)
      throw new Error(`the replica refuses ${change.type} ${change.member}: ${problem}`);
    return applyConfigChange(configuration, change);
  };
  const base = { ...input, record: plan.record };
  switch (action.type) {
    case "fence":
    case "unfence":
    case "evict":
      return { ...base, configuration: changed({ type: action.type, member: action.member }) };
    case "transferLeadership": {
      const to = keyPod(action.to);
      // The leader reports contact with everyone it hears; the new leader reports none of itself.
      const members = input.members.map((member) =>
        member.pod === to
          ? { ...member, leaderContactAgeMs: undefined }
          : member.pod === action.leader
            ? { ...member, leaderContactAgeMs: 0 }
            : member,
      );
      return { ...base, leader: to, members };
    }
    case "forceDeletePod":
      return {
        ...base,
        members: input.members.map((member) =>
          member.pod === action.pod
            ? { ...member, podExists: false, podReady: false, nodeName: undefined, node: undefined }
            : member,
        ),
      };
    default:
      return base;
  }
}
