// What the members say about themselves (`GET /v1/status`), checked and combined into one
// table. Pure: the probing itself is in memberProbe.ts, and the clock comes in as `now`.
import type { PaxosMemberRole, PaxosMemberStatus } from "./builders/index.ts";

/** The part of a replica's `/v1/status` answer the operator relies on. */
export interface MemberReport {
  /** `<name>#<incarnation>`: the member's key in the Paxos configuration. */
  readonly member: string;
  readonly name: string;
  readonly incarnation: string;
  readonly role: PaxosMemberRole;
  /** The leader's member key, as this member knows it. */
  readonly leader: string | undefined;
  readonly fenced: boolean;
  readonly evicted: boolean;
  readonly committedIndex: number;
  readonly appliedIndex: number;
  readonly configuration: MemberConfiguration;
  /** Whom this member hears from: on the leader, each peer's ticks since its last answer. */
  readonly peers: readonly PeerContact[];
}

export interface PeerContact {
  readonly member: string;
  readonly idleTicks: number;
}

/**
 * The configuration as `/v1/status` reports it: the replica's `Configuration`, restated
 * here because the operator's image holds operator/src only (hack/images.test.ts).
 */
export interface MemberConfiguration {
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  readonly fenced: readonly string[];
  readonly evicted: readonly string[];
}

/** One pod's probe: the report, or why there is none. */
export type MemberProbe =
  | { readonly pod: string; readonly ok: true; readonly report: MemberReport }
  | { readonly pod: string; readonly ok: false; readonly error: string };

const roles: readonly PaxosMemberRole[] = ["leader", "follower", "preCandidate", "candidate", "learner"];

/**
 * Checks a `/v1/status` body. A member of another version that answers something else is
 * reported as unreachable with the reason, rather than trusted field by field.
 */
export function parseMemberReport(body: unknown): MemberReport | { readonly error: string } {
  if (typeof body !== "object" || body === null) return { error: "the status is not a JSON object" };
  const value = body as Record<string, unknown>;
  const text = (field: string) => (typeof value[field] === "string" ? (value[field] as string) : undefined);
  const count = (field: string) =>
    typeof value[field] === "number" && Number.isSafeInteger(value[field]) && (value[field] as number) >= 0
      ? (value[field] as number)
      : undefined;
  const member = text("member");
  const name = text("name");
  const incarnation = text("incarnation");
  const committedIndex = count("committedIndex");
  const appliedIndex = count("appliedIndex");
  const configuration = parseConfiguration(value.configuration);
  if (member === undefined || name === undefined || incarnation === undefined)
    return { error: "the status lacks member, name or incarnation" };
  if (committedIndex === undefined || appliedIndex === undefined)
    return { error: "the status lacks committedIndex or appliedIndex" };
  if (configuration === undefined) return { error: "the status lacks a valid configuration" };
  const role = roles.find((candidate) => candidate === value.role) ?? "unknown";
  const peers = (Array.isArray(value.members) ? value.members : []).flatMap((peer): PeerContact[] => {
    const entry = peer as Record<string, unknown> | null;
    return typeof entry?.member === "string" &&
      typeof entry.idleTicks === "number" &&
      Number.isSafeInteger(entry.idleTicks) &&
      entry.idleTicks >= 0
      ? [{ member: entry.member, idleTicks: entry.idleTicks }]
      : [];
  });
  const leader = text("leader");
  return {
    member,
    name,
    incarnation,
    role,
    leader: leader === "" ? undefined : leader,
    fenced: value.fenced === true,
    evicted: value.evicted === true,
    committedIndex,
    appliedIndex,
    configuration,
    peers,
  };
}

function parseConfiguration(value: unknown): MemberConfiguration | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const lists = value as Record<string, unknown>;
  const list = (field: string): readonly string[] | undefined => {
    const items = lists[field];
    if (items === undefined) return [];
    return Array.isArray(items) && items.every((item) => typeof item === "string") ? items : undefined;
  };
  const voters = list("voters");
  const learners = list("learners");
  const fenced = list("fenced");
  const evicted = list("evicted");
  if (voters === undefined || learners === undefined || fenced === undefined || evicted === undefined)
    return undefined;
  return { voters, learners, fenced, evicted };
}

/** The name half of a member key (`demo-0#k3f9` → `demo-0`); the incarnation follows the last `#`, as in the replica. */
export function memberKeyName(key: string): string {
  const hash = key.lastIndexOf("#");
  return hash === -1 ? key : key.slice(0, hash);
}

export function memberKeyIncarnation(key: string): string {
  const hash = key.lastIndexOf("#");
  return hash === -1 ? "" : key.slice(hash + 1);
}

/**
 * A follower this many applied entries behind the leader's commit index is lagging: a few
 * entries are normal under load (they are in flight), thousands mean it is catching up.
 */
export const laggingThresholdEntries = 1000;

export interface MemberAssessment {
  /** Voters and learners of the configuration, and pods not (yet) in it, by name. */
  readonly members: readonly PaxosMemberStatus[];
  /** The leader's pod name, when a member that answered says who leads. */
  readonly leader: string | undefined;
  /** The configuration as the most up-to-date answering member sees it. */
  readonly configuration: MemberConfiguration | undefined;
  readonly voters: number;
  /** Voters that answered, are not fenced and are not lagging. */
  readonly healthyVoters: number;
  /** Some member answered with a configuration that has voters and knows a leader. */
  readonly formed: boolean;
  /** By pod name: how long (ms) since the leader last heard from the member, as the leader says. */
  readonly leaderContactAgeMs: ReadonlyMap<string, number>;
}

/** How to read the leader's view of its peers (see assessMembers). */
export interface ContactOptions {
  /** The replicas' tick: the leader counts its peers' silence in ticks. */
  readonly tickMs: number;
  /** A member the leader heard from within this long is heard (the election timeout). */
  readonly heardWithinMs: number;
}

/**
 * Combines the probes into the member table. The configuration is taken from the leader's
 * answer when it answered (it is the most recent), else from the member with the highest
 * commit index; the leader is whom a majority of the answers names, or the member that says
 * it leads.
 */
export function assessMembers(
  probes: readonly MemberProbe[],
  previous: readonly PaxosMemberStatus[],
  now: string,
  contact?: ContactOptions,
): MemberAssessment {
  const reports = probes.flatMap((probe) => (probe.ok ? [probe.report] : []));
  const leaderKey = agreedLeader(reports);
  const leaderReport = reports.find((report) => report.member === leaderKey);
  const newest = [...reports].sort((a, b) => b.committedIndex - a.committedIndex)[0];
  const source = leaderReport ?? newest;
  const configuration = source?.configuration;
  const commitIndex = source?.committedIndex ?? 0;

  const byName = new Map(reports.map((report) => [report.name, report]));
  const leaderContactAgeMs = new Map(
    contact === undefined
      ? []
      : (leaderReport?.peers ?? []).map(
          (peer) => [memberKeyName(peer.member), peer.idleTicks * contact.tickMs] as const,
        ),
  );
  /** Both the operator (it answered) and the leader (it is the leader, or heard from it) hear it. */
  const heardByBoth = (name: string) =>
    contact !== undefined &&
    leaderReport !== undefined &&
    (leaderReport.name === name ||
      (leaderContactAgeMs.get(name) ?? Number.POSITIVE_INFINITY) <= contact.heardWithinMs);
  const failures = new Map(probes.flatMap((probe) => (probe.ok ? [] : [[probe.pod, probe.error] as const])));
  const configured = [...(configuration?.voters ?? []), ...(configuration?.learners ?? [])];
  const names = new Set([...configured.map(memberKeyName), ...probes.map((probe) => probe.pod)]);

  const members = [...names].sort(byOrdinal).map((name): PaxosMemberStatus => {
    const key = configured.find((candidate) => memberKeyName(candidate) === name);
    const report = byName.get(name);
    const before = previous.find((member) => member.name === name);
    const incarnation = report?.incarnation ?? (key === undefined ? "" : memberKeyIncarnation(key));
    const fenced = key !== undefined && (configuration?.fenced ?? []).includes(key);
    const voter = key !== undefined && (configuration?.voters ?? []).includes(key);
    if (report === undefined) {
      return {
        name,
        incarnation: incarnation || (before?.incarnation ?? ""),
        role: "unknown",
        health: "unreachable",
        voter,
        fenced,
        ...(before?.lastContactTime === undefined ? {} : { lastContactTime: before.lastContactTime }),
        ...unreachableSince(before, now),
        ...(failures.has(name) ? { message: failures.get(name) ?? "" } : {}),
      };
    }
    const lag = Math.max(0, commitIndex - report.appliedIndex);
    const stale = key !== undefined && key !== report.member;
    const health = report.evicted
      ? "evicted"
      : fenced || report.fenced
        ? "fenced"
        : lag > laggingThresholdEntries
          ? "lagging"
          : "healthy";
    return {
      name,
      incarnation: report.incarnation,
      role: report.role,
      health,
      voter,
      lag,
      fenced: fenced || report.fenced,
      lastContactTime: now,
      ...(heardByBoth(name) ? { reachableSince: before?.reachableSince ?? now } : {}),
      ...(stale
        ? { message: `answers as incarnation ${report.incarnation}, the configuration lists ${key}` }
        : {}),
    };
  });

  const voterNames = new Set((configuration?.voters ?? []).map(memberKeyName));
  return {
    members,
    leader: leaderKey === undefined ? undefined : memberKeyName(leaderKey),
    configuration,
    voters: voterNames.size,
    healthyVoters: members.filter((member) => voterNames.has(member.name) && member.health === "healthy")
      .length,
    formed: (configuration?.voters.length ?? 0) > 0 && leaderKey !== undefined,
    leaderContactAgeMs,
  };
}

function unreachableSince(
  before: PaxosMemberStatus | undefined,
  now: string,
): Pick<PaxosMemberStatus, "unreachableSince"> {
  return { unreachableSince: before?.health === "unreachable" ? (before.unreachableSince ?? now) : now };
}

/**
 * The leader most answers name (a leader names itself). A deposed leader cut off in a
 * minority may still think it leads, but the majority names its successor; a tie goes to
 * the claimant that has committed more.
 */
function agreedLeader(reports: readonly MemberReport[]): string | undefined {
  const votes = new Map<string, number>();
  for (const report of reports) {
    const named = report.role === "leader" ? report.member : report.leader;
    if (named !== undefined && !report.evicted) votes.set(named, (votes.get(named) ?? 0) + 1);
  }
  const committed = (key: string) => reports.find((report) => report.member === key)?.committedIndex ?? -1;
  return [...votes.entries()].sort((a, b) => b[1] - a[1] || committed(b[0]) - committed(a[0]))[0]?.[0];
}

/** `demo-2` before `demo-10`. */
function byOrdinal(a: string, b: string): number {
  const ordinal = (name: string) => Number(name.slice(name.lastIndexOf("-") + 1));
  const difference = ordinal(a) - ordinal(b);
  return Number.isNaN(difference) || difference === 0 ? a.localeCompare(b) : difference;
}

/** A Node as the status needs it: whether its Ready condition is True, and since when it is not. */
export interface NodeState {
  readonly ready: boolean | undefined;
  /** RFC 3339, the Ready condition's lastTransitionTime while it is not True. */
  readonly notReadySince: string | undefined;
}

/**
 * Adds each member's Node (from its pod) and whether that Node is Ready; a member that is
 * not healthy on a Node that is not Ready says so, which is usually the reason.
 */
export function withNodes(
  members: readonly PaxosMemberStatus[],
  podNodes: ReadonlyMap<string, string>,
  nodes: ReadonlyMap<string, NodeState>,
): PaxosMemberStatus[] {
  return members.map((member) => {
    const node = podNodes.get(member.name);
    if (node === undefined) return member;
    const state = nodes.get(node);
    const ready = state?.ready === true;
    const nodeProblem =
      state === undefined
        ? `its Node ${node} does not exist`
        : ready
          ? undefined
          : `its Node ${node} is ${state.ready === false ? "NotReady" : "not reporting (Unknown)"}${state.notReadySince === undefined ? "" : ` since ${state.notReadySince}`}`;
    const unhealthy = member.health !== undefined && member.health !== "healthy";
    return {
      ...member,
      node,
      nodeReady: ready,
      ...(unhealthy && nodeProblem !== undefined
        ? { message: member.message === undefined ? nodeProblem : `${nodeProblem}; ${member.message}` }
        : {}),
    };
  });
}
