// The facts the planner's rules are written in, derived once from the input: who is
// configured as what, who is healthy, who leads, which pods hold stale data.
import { memberKeyIncarnation, memberKeyName } from "../members.ts";
import type { ObservedMember, PlanInput } from "./types.ts";

export function memberKey(pod: string, incarnation: string): string {
  return `${pod}#${incarnation}`;
}

/** The pod name and the incarnation of a member key (`demo-0#k3f9` → `demo-0`, `k3f9`). */
export const keyPod = memberKeyName;
export const keyIncarnation = memberKeyIncarnation;

export function podName(cluster: string, ordinal: number): string {
  return `${cluster}-${ordinal}`;
}

/** The ordinal of `<cluster>-<n>`, or undefined for a name of another shape. */
export function podOrdinal(cluster: string, pod: string): number | undefined {
  const prefix = `${cluster}-`;
  if (!pod.startsWith(prefix)) return undefined;
  const digits = pod.slice(prefix.length);
  return /^(0|[1-9][0-9]*)$/.test(digits) ? Number(digits) : undefined;
}

export interface ClusterView {
  readonly input: PlanInput;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  readonly evicted: ReadonlySet<string>;
  /** Configured keys that answer with their own incarnation, unfenced and caught up. */
  readonly healthy: ReadonlySet<string>;
  /** The leader's key when it is a voter; no membership action happens without one. */
  readonly leaderKey: string | undefined;
  observed(pod: string): ObservedMember | undefined;
  /** The voter or learner key of this pod's name, if any. */
  configuredKey(pod: string): string | undefined;
  isVoter(key: string): boolean;
  isLearner(key: string): boolean;
  isConfigured(key: string): boolean;
  /** Reachable with this incarnation and at most the catch-up lag behind. */
  caughtUp(key: string): boolean;
  /** Unreachable past the window and its pod is not ready (or gone): two observers agree. */
  lost(pod: string): boolean;
  /** The pod answers with data that may not join: an evicted or removed incarnation. */
  staleData(pod: string): boolean;
}

export function viewOf(input: PlanInput): ClusterView {
  const configuration = input.configuration ?? { voters: [], learners: [], fenced: [], evicted: [] };
  const byPod = new Map(input.members.map((member) => [member.pod, member]));
  const voters = [...configuration.voters];
  const learners = [...configuration.learners];
  const evicted = new Set(configuration.evicted);
  const fenced = new Set(configuration.fenced);
  const configured = [...voters, ...learners];
  const observed = (pod: string) => byPod.get(pod);
  const caughtUp = (key: string) => {
    const report = observed(keyPod(key))?.report;
    return (
      report !== undefined &&
      report.incarnation === keyIncarnation(key) &&
      !report.evicted &&
      report.lag <= input.thresholds.catchUpLagEntries
    );
  };
  const healthy = new Set(
    configured.filter(
      (key) => caughtUp(key) && !fenced.has(key) && observed(keyPod(key))?.report?.fenced !== true,
    ),
  );
  const leaderKey =
    input.leader === undefined ? undefined : voters.find((voter) => keyPod(voter) === input.leader);
  const isConfigured = (key: string) => voters.includes(key) || learners.includes(key);
  return {
    input,
    voters,
    learners,
    evicted,
    healthy,
    leaderKey,
    observed,
    configuredKey: (pod) => configured.find((key) => keyPod(key) === pod),
    isVoter: (key) => voters.includes(key),
    isLearner: (key) => learners.includes(key),
    isConfigured,
    caughtUp,
    lost: (pod) => {
      const member = observed(pod);
      if (member === undefined) return false;
      if (member.report !== undefined || (member.podExists && member.podReady)) return false;
      return (
        member.unreachableSinceMs !== undefined &&
        input.now - member.unreachableSinceMs >= input.thresholds.unreachableWindowMs
      );
    },
    staleData: (pod) => {
      const report = observed(pod)?.report;
      if (report === undefined) return false;
      const key = memberKey(pod, report.incarnation);
      return report.evicted || evicted.has(key) || (report.joined && !isConfigured(key));
    },
  };
}

/**
 * The voter that should take over leadership from `from`: healthy, unfenced, the most
 * caught up, then the lowest ordinal (so the choice is stable from one reconcile to the
 * next). Undefined when there is none.
 */
export function transferTarget(view: ClusterView, from: string): string | undefined {
  const lag = (key: string) => view.observed(keyPod(key))?.report?.lag ?? Number.POSITIVE_INFINITY;
  const ordinal = (key: string) => podOrdinal(view.input.cluster, keyPod(key)) ?? Number.POSITIVE_INFINITY;
  return view.voters
    .filter((voter) => voter !== from && view.healthy.has(voter))
    .sort((a, b) => lag(a) - lag(b) || ordinal(a) - ordinal(b) || a.localeCompare(b))[0];
}
