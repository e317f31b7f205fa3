// The fencing planner: from what one reconcile observed, the next single fencing action,
// the status.fencing record to write before performing it, and the Fenced, MemberLost and
// QuorumLost condition drafts. Pure, so every rule and guard is a table row. The rules are
// described in README.md.
//
// Every decision is made from what is observed; the record only says which fenced members
// the operator fenced, and why. So a crash between any two reconciles costs nothing: the
// next plan sees the effect (or its absence) and carries on.
import { dataVolumeName, type PaxosFencingSpec } from "../builders/index.ts";
import { commitProblem, quorumSize, removalProblem } from "../membership/safety.ts";
import { keyPod, podOrdinal } from "../membership/view.ts";
import { fencedMembersAnnotation } from "./annotation.ts";
import type {
  FencedMembers,
  FenceReason,
  FencingAction,
  FencingCondition,
  FencingEvent,
  FencingInput,
  FencingMember,
  FencingPlan,
  FencingRecord,
  FencingSettings,
  UnfenceReason,
} from "./types.ts";

export const emptyFencingRecord: FencingRecord = Object.freeze({ automatic: [], manual: [] });

/**
 * spec.fencing in milliseconds. The hold-down before an automatic unfence equals the
 * unreachable window: a member must be seen as long as it was missed before it counts as
 * back, which keeps a flapping member fenced, and adds no second knob to tune.
 */
export function fencingSettings(spec: PaxosFencingSpec): FencingSettings {
  const unreachableWindowMs = spec.unreachableWindowSeconds * 1000;
  return {
    automatic: spec.automatic,
    unreachableWindowMs,
    holdDownMs: unreachableWindowMs,
    forceDeleteOnLostNode: spec.forceDeleteOnLostNode,
  };
}

export function planFencing(input: FencingInput): FencingPlan {
  checkInput(input);
  const configuration = input.configuration;
  if (configuration === undefined || configuration.voters.length === 0) return unknownPlan(input);
  const view = viewOf(input);
  const proposals = propose(view);
  const chosen = view.quorumLost ? undefined : proposals.find((proposal) => proposal.action !== undefined);
  const waiting = view.quorumLost ? undefined : proposals.find((proposal) => proposal.blocked !== undefined);
  const action: FencingAction =
    chosen?.action ??
    (waiting?.blocked === undefined
      ? { type: "none" }
      : { type: "wait", reason: waiting.blocked.reason, message: waiting.blocked.message });
  return {
    action,
    record: nextRecord(view, action),
    conditions: [
      fencedCondition(view, proposals),
      memberLostCondition(view, proposals),
      quorumCondition(view),
    ],
    events: chosen?.event === undefined ? [] : [chosen.event],
  };
}

function checkInput(input: FencingInput): void {
  const { settings } = input;
  if (!Number.isFinite(input.now)) throw new RangeError(`fencing: now is ${input.now}`);
  for (const [name, value] of [
    ["unreachableWindowMs", settings.unreachableWindowMs],
    ["holdDownMs", settings.holdDownMs],
  ] as const)
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`fencing: ${name} is ${value}`);
}

// ------------------------------------------------------------------ what is observed

interface View {
  readonly input: FencingInput;
  readonly settings: FencingSettings;
  readonly voters: readonly string[];
  /** Voters and learners, by ordinal. */
  readonly configured: readonly string[];
  /** Configured keys the configuration lists as fenced. */
  readonly fenced: ReadonlySet<string>;
  readonly evicted: readonly string[];
  /** Configured keys that are responsive, caught up and unfenced. */
  readonly healthy: ReadonlySet<string>;
  /** The leader's key when it is a voter. */
  readonly leaderKey: string | undefined;
  /** Voters that the operator or the leader hears from. */
  readonly responsiveVoters: readonly string[];
  readonly quorumLost: boolean;
  /** The annotation, or undefined when it does not parse (manual fencing is then frozen). */
  readonly manual: FencedMembers | undefined;
  member(pod: string): FencingMember | undefined;
  keyOf(pod: string): string | undefined;
  isVoter(key: string): boolean;
  /** The annotation asks for this pod to be fenced. */
  listed(pod: string): boolean;
  /** The operator hears from it, or the leader did within the window. */
  responsive(key: string): boolean;
  /** Neither the operator nor the leader has heard from it for longer than the window. */
  unreachable(key: string): boolean;
  /** The node of a pod that is stuck on it, lost for longer than the window. */
  lostNode(pod: string): string | undefined;
  /**
   * A configured member whose pod is stuck on a lost node, that the operator has not reached
   * for longer than the window and the leader has not heard from within it (or does not say).
   * The node's status is the second observer here, so the leader's word is not required.
   */
  lost(key: string): boolean;
  ordinal(pod: string): number;
}

function viewOf(input: FencingInput): View {
  const configuration = input.configuration ?? { voters: [], learners: [], fenced: [], evicted: [] };
  const { now, settings } = input;
  const window = settings.unreachableWindowMs;
  const byPod = new Map(input.members.map((member) => [member.pod, member]));
  const ordinal = (pod: string) => podOrdinal(input.cluster, pod) ?? Number.POSITIVE_INFINITY;
  const byOrdinal = (a: string, b: string) => ordinal(keyPod(a)) - ordinal(keyPod(b)) || a.localeCompare(b);
  const voters = [...configuration.voters];
  const configured = [...configuration.voters, ...configuration.learners].sort(byOrdinal);
  const fenced = new Set(configured.filter((key) => configuration.fenced.includes(key)));
  const member = (pod: string) => byPod.get(pod);
  const leaderHears = (entry: FencingMember) =>
    entry.leaderContactAgeMs !== undefined && entry.leaderContactAgeMs <= window;
  const responsive = (key: string) => {
    const entry = member(keyPod(key));
    return entry !== undefined && (entry.reachable || leaderHears(entry));
  };
  const unreachable = (key: string) => {
    const entry = member(keyPod(key));
    return (
      entry !== undefined &&
      !entry.reachable &&
      entry.unreachableSinceMs !== undefined &&
      now - entry.unreachableSinceMs > window &&
      entry.leaderContactAgeMs !== undefined &&
      entry.leaderContactAgeMs > window
    );
  };
  const lostNode = (pod: string) => {
    const entry = member(pod);
    if (entry === undefined || !entry.podExists || entry.nodeName === undefined || entry.node === undefined)
      return undefined;
    const { ready, notReadySinceMs } = entry.node;
    const nodeLost = ready !== true && notReadySinceMs !== undefined && now - notReadySinceMs > window;
    const stuck = !entry.podReady || entry.podTerminating;
    const gone =
      !entry.reachable && entry.unreachableSinceMs !== undefined && now - entry.unreachableSinceMs > window;
    return nodeLost && stuck && gone ? entry.nodeName : undefined;
  };
  const healthy = new Set(
    configured.filter((key) => !fenced.has(key) && responsive(key) && member(keyPod(key))?.caughtUp === true),
  );
  const responsiveVoters = voters.filter(responsive);
  const manual = "error" in input.manual ? undefined : input.manual;
  const keyOf = (pod: string) => configured.find((key) => keyPod(key) === pod);
  return {
    input,
    settings,
    voters,
    configured,
    fenced,
    evicted: [...configuration.evicted],
    healthy,
    leaderKey:
      input.leader === undefined ? undefined : voters.find((voter) => keyPod(voter) === input.leader),
    responsiveVoters,
    quorumLost: responsiveVoters.length < quorumSize(voters.length),
    manual,
    member,
    keyOf,
    isVoter: (key) => voters.includes(key),
    listed: (pod) =>
      manual !== undefined && (manual.members.includes(pod) || (manual.all && keyOf(pod) !== undefined)),
    responsive,
    unreachable,
    lostNode,
    lost: (key) => {
      const entry = member(keyPod(key));
      return entry !== undefined && !leaderHears(entry) && lostNode(keyPod(key)) !== undefined;
    },
    ordinal,
  };
}

// ------------------------------------------------------------------ proposals

type Subject = "Fenced" | "MemberLost";

/**
 * One change the rules want, in priority order: either the action (it may happen now) or
 * why it waits. The condition of `subject` mentions the changes that wait.
 */
interface Proposal {
  readonly subject: Subject;
  readonly key: string;
  readonly action?: FencingAction;
  readonly event?: FencingEvent;
  readonly blocked?: Blocked;
}

interface Blocked {
  readonly reason: string;
  /** The whole sentence, for the wait action. */
  readonly message: string;
  /** What waits, as a phrase (`fencing demo-2#i2 (…)`). */
  readonly what: string;
  /** The problem; `gated` when it holds every change alike (conditions then say it once). */
  readonly problem: string;
  readonly gated: boolean;
}

function blockedBy(reason: string, what: string, problem: string, gated: boolean): Blocked {
  return { reason, message: `${capitalize(what)} waits: ${problem}.`, what, problem, gated };
}

function propose(view: View): Proposal[] {
  return [
    ...forceDeletes(view),
    ...unfences(view),
    ...manualFences(view),
    ...automaticFences(view),
    ...evictions(view),
  ];
}

const quorumGate = {
  reason: "QuorumLost",
  message: "a quorum of voters is not reachable (see QuorumLost)",
} as const;

/**
 * Why no configuration change (or leadership transfer) may be proposed now, whatever it
 * is; undefined when one may.
 */
function gate(view: View): { reason: string; message: string } | undefined {
  const { input } = view;
  if (view.quorumLost) return quorumGate;
  if (input.membershipBusy)
    return {
      reason: "MembershipBusy",
      message:
        "a membership operation is in progress (status.operation), and only one configuration change may be in flight",
    };
  if (view.leaderKey === undefined)
    return {
      reason: "NoLeader",
      message: "no voting member is known to lead, and changes go through the leader",
    };
  if (view.member(input.leader ?? "")?.reachable !== true)
    return {
      reason: "LeaderUnreachable",
      message: `the operator cannot reach the leader ${input.leader}, and changes go through the leader`,
    };
  return undefined;
}

function change(
  view: View,
  subject: Subject,
  key: string,
  problem: string | undefined,
  reason: string,
  what: string,
  action: () => { action: FencingAction; event: FencingEvent },
): Proposal {
  const closed = gate(view);
  if (closed !== undefined)
    return { subject, key, blocked: blockedBy(closed.reason, what, closed.message, true) };
  if (problem !== undefined) return { subject, key, blocked: blockedBy(reason, what, problem, false) };
  return { subject, key, ...action() };
}

/** Pods stuck on a lost node whose member was already evicted: the StatefulSet may recreate them. */
function forceDeletes(view: View): Proposal[] {
  const { input, settings } = view;
  if (!settings.forceDeleteOnLostNode) return [];
  return input.members
    .filter((entry) => evictedPod(view, entry.pod))
    .sort((a, b) => view.ordinal(a.pod) - view.ordinal(b.pod))
    .flatMap((entry): Proposal[] => {
      const node = view.lostNode(entry.pod);
      if (node === undefined) return [];
      if (view.quorumLost)
        return [
          {
            subject: "MemberLost",
            key: entry.pod,
            blocked: blockedBy(
              quorumGate.reason,
              `force-deleting pod ${entry.pod}`,
              quorumGate.message,
              true,
            ),
          },
        ];
      return [
        {
          subject: "MemberLost",
          key: entry.pod,
          action: { type: "forceDeletePod", pod: entry.pod, node },
          event: {
            type: "Warning",
            reason: "ForceDeletingPod",
            message: `Force-deleting pod ${entry.pod}: its member was evicted and its node ${node} has been NotReady for longer than ${duration(settings.unreachableWindowMs)}; the StatefulSet recreates it and a new incarnation joins.`,
          },
        },
      ];
    });
}

/** The pod's name is configured under no key, and an incarnation of it was evicted. */
function evictedPod(view: View, pod: string): boolean {
  return view.keyOf(pod) === undefined && view.evicted.some((key) => keyPod(key) === pod);
}

function unfences(view: View): Proposal[] {
  // A broken annotation hides what the person wants; nothing is unfenced until it is fixed.
  if (view.manual === undefined) return [];
  const { input, settings } = view;
  const record = input.record ?? emptyFencingRecord;
  return [...view.fenced].flatMap((key): Proposal[] => {
    const pod = keyPod(key);
    if (view.listed(pod)) return [];
    const entry = view.member(pod);
    const reachableSince = entry?.reachableSinceMs;
    const caughtUp = entry?.caughtUp === true;
    let reason: UnfenceReason;
    if (record.manual.includes(key)) {
      if (reachableSince === undefined || !caughtUp) return [];
      reason = "Manual";
    } else if (record.automatic.includes(key)) {
      if (reachableSince === undefined || input.now - reachableSince < settings.holdDownMs || !caughtUp)
        return [];
      reason = "Reachable";
    } else return [];
    const why =
      reason === "Manual"
        ? `its pod is no longer listed in ${fencedMembersAnnotation}`
        : `the operator and the leader have reached it for ${duration(settings.holdDownMs)}`;
    return [
      change(
        view,
        "Fenced",
        key,
        commitProblem(view.voters, view.healthy),
        "UnfenceUnsafe",
        `unfencing ${key}`,
        () => ({
          action: { type: "unfence", member: key, leader: leaderOf(view), reason },
          event: {
            type: "Normal",
            reason: "UnfencingMember",
            message: `Unfencing ${key}: ${why}, and it is caught up.`,
          },
        }),
      ),
    ];
  });
}

function manualFences(view: View): Proposal[] {
  if (view.manual === undefined) return [];
  const wanted = view.configured.filter((key) => view.listed(keyPod(key)) && !view.fenced.has(key));
  // The leader goes last: it hands over first, and only to a voter that is not listed.
  const others = wanted.filter((key) => key !== view.leaderKey);
  const leader = wanted.filter((key) => key === view.leaderKey);
  const listedWhy = `listed in ${fencedMembersAnnotation}`;
  return [
    ...others.map((key) => fence(view, key, "Manual", listedWhy)),
    ...leader.map((key): Proposal => {
      const problem = fenceProblem(view, key);
      const target = problem === undefined ? transferTarget(view, key) : undefined;
      return change(
        view,
        "Fenced",
        key,
        problem ??
          (target === undefined
            ? "it leads, and no healthy voter that is not listed can take over (someone must lead)"
            : undefined),
        "FenceUnsafe",
        `fencing ${key} (${listedWhy})`,
        () => ({
          action: {
            type: "transferLeadership",
            leader: leaderOf(view),
            to: defined(target, "transfer target"),
          },
          event: {
            type: "Normal",
            reason: "TransferringLeadership",
            message: `Transferring leadership from ${key} to ${target}: ${key} is ${listedWhy}, and a fenced member may not lead.`,
          },
        }),
      );
    }),
  ];
}

function automaticFences(view: View): Proposal[] {
  if (!view.settings.automatic) return [];
  const why = `neither the operator nor the leader has reached it for longer than ${duration(view.settings.unreachableWindowMs)}`;
  return view.configured
    .filter(
      (key) =>
        !view.fenced.has(key) &&
        key !== view.leaderKey &&
        // A listed pod is fenced by the manual rule, and stays fenced while listed.
        !view.listed(keyPod(key)) &&
        view.unreachable(key),
    )
    .map((key) => fence(view, key, "Unreachable", why));
}

function fence(view: View, key: string, reason: FenceReason, why: string): Proposal {
  return change(
    view,
    "Fenced",
    key,
    fenceProblem(view, key),
    "FenceUnsafe",
    `fencing ${key} (${why})`,
    () => ({
      action: { type: "fence", member: key, leader: leaderOf(view), reason },
      // A person asked for a manual fence; an automatic one is news.
      event: {
        type: reason === "Manual" ? "Normal" : "Warning",
        reason: "FencingMember",
        message: `Fencing ${key}: ${why}.`,
      },
    }),
  );
}

function evictions(view: View): Proposal[] {
  const { settings } = view;
  if (!settings.forceDeleteOnLostNode) return [];
  return view.configured
    .filter((key) => key !== view.leaderKey && view.lost(key))
    .map((key) => {
      const node = view.lostNode(keyPod(key)) ?? "";
      return change(
        view,
        "MemberLost",
        key,
        removalProblem(view.voters, view.healthy, key),
        "EvictionUnsafe",
        `evicting ${key}`,
        () => ({
          action: { type: "evict", member: key, leader: leaderOf(view) },
          event: {
            type: "Warning",
            reason: "EvictingLostMember",
            message: `Evicting ${key}: its node ${node} has been NotReady for longer than ${duration(settings.unreachableWindowMs)} and nobody reaches it; its pod is force-deleted next.`,
          },
        }),
      );
    });
}

/** Actions are built only after `gate` let them through, so a leader is known. */
function leaderOf(view: View): string {
  return defined(view.input.leader, "leader");
}

function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`fencing planner: a change was proposed without a ${what}`);
  return value;
}

/**
 * Why fencing `key` is unsafe, or undefined. The change must commit, and afterwards the
 * unfenced voters must still be a quorum (the replica refuses otherwise: fenced members
 * cannot lead, so no one could commit the unfence) that is healthy.
 */
function fenceProblem(view: View, key: string): string | undefined {
  const { voters, healthy, fenced } = view;
  const quorum = quorumSize(voters.length);
  const unfencedAfter = voters.filter((voter) => voter !== key && !fenced.has(voter)).length;
  if (view.isVoter(key) && unfencedAfter < quorum)
    return `it would leave ${unfencedAfter} of ${voters.length} voters unfenced, fewer than a quorum of ${quorum}, and fenced members cannot lead to commit an unfence`;
  const commit = commitProblem(voters, healthy);
  if (commit !== undefined) return commit;
  if (!view.isVoter(key)) return undefined;
  const healthyAfter = voters.filter((voter) => voter !== key && healthy.has(voter)).length;
  if (healthyAfter < quorum)
    return `without it, only ${healthyAfter} of ${voters.length} voters would be healthy and unfenced, and a quorum is ${quorum}`;
  return undefined;
}

/** The healthy voter that takes over from a listed leader: not listed, least behind, lowest ordinal. */
function transferTarget(view: View, from: string): string | undefined {
  const lag = (key: string) => view.member(keyPod(key))?.lag ?? Number.POSITIVE_INFINITY;
  return view.voters
    .filter((voter) => voter !== from && view.healthy.has(voter) && !view.listed(keyPod(voter)))
    .sort(
      (a, b) => lag(a) - lag(b) || view.ordinal(keyPod(a)) - view.ordinal(keyPod(b)) || a.localeCompare(b),
    )[0];
}

// ------------------------------------------------------------------ the record

function nextRecord(view: View, action: FencingAction): FencingRecord {
  const record = view.input.record ?? emptyFencingRecord;
  const fencedNow = [...view.fenced];
  const manual = fencedNow.filter((key) => view.listed(keyPod(key)) || record.manual.includes(key));
  if (action.type === "fence" && action.reason === "Manual") manual.push(action.member);
  const automatic = fencedNow.filter((key) => record.automatic.includes(key) && !manual.includes(key));
  if (action.type === "fence" && action.reason === "Unreachable") automatic.push(action.member);
  const sorted = (keys: readonly string[]) =>
    [...new Set(keys)].sort(
      (a, b) => view.ordinal(keyPod(a)) - view.ordinal(keyPod(b)) || a.localeCompare(b),
    );
  return { automatic: sorted(automatic), manual: sorted(manual) };
}

// ------------------------------------------------------------------ conditions

function fencedCondition(view: View, proposals: readonly Proposal[]): FencingCondition {
  const { input, settings } = view;
  const record = nextRecord(view, { type: "none" });
  const why = (key: string): string => {
    if (record.manual.includes(key))
      return view.listed(keyPod(key))
        ? `listed in ${fencedMembersAnnotation}`
        : `no longer listed in ${fencedMembersAnnotation}; unfenced once the operator and the leader reach it and it is caught up`;
    if (record.automatic.includes(key))
      return `unreachable by the operator and the leader for longer than ${duration(settings.unreachableWindowMs)}; unfenced once both have reached it for ${duration(settings.holdDownMs)} and it is caught up`;
    return `fenced by someone else: not listed in ${fencedMembersAnnotation} and not fenced by the operator, which leaves it alone`;
  };
  const parts: string[] = [];
  const fenced = [...view.fenced];
  parts.push(
    fenced.length === 0
      ? "No member is fenced."
      : `Fenced: ${fenced.map((key) => `${key} (${why(key)})`).join("; ")}.`,
  );
  const blocked = blockedOf(proposals, "Fenced");
  parts.push(...waitSentences(blocked));
  const notMembers = (view.manual?.members ?? []).filter((pod) => view.keyOf(pod) === undefined);
  if (notMembers.length > 0)
    parts.push(`Listed but not members: ${notMembers.join(", ")}; they are fenced once they join.`);
  if ("error" in input.manual)
    parts.push(
      `The annotation is ignored: ${input.manual.error} Until it is fixed, no manual fence is added and nothing is unfenced.`,
    );
  const status = fenced.length > 0 ? "True" : "False";
  const reason =
    "error" in input.manual
      ? "InvalidAnnotation"
      : blocked.length > 0
        ? "FencingBlocked"
        : fenced.length > 0
          ? "MembersFenced"
          : "NoneFenced";
  return { type: "Fenced", status, reason, message: parts.join(" ") };
}

function memberLostCondition(view: View, proposals: readonly Proposal[]): FencingCondition {
  const { settings, input } = view;
  const window = duration(settings.unreachableWindowMs);
  const lostMembers = view.configured.filter((key) => view.lost(key));
  const lostEvicted = input.members
    .map((entry) => entry.pod)
    .filter((pod) => evictedPod(view, pod) && view.lostNode(pod) !== undefined)
    .sort((a, b) => view.ordinal(a) - view.ordinal(b));
  if (lostMembers.length === 0 && lostEvicted.length === 0)
    return {
      type: "MemberLost",
      status: "False",
      reason: "NoMemberLost",
      message: "No member's pod is stuck on a lost node.",
    };
  const stuck = (pod: string) =>
    `pod ${pod} is stuck on node ${view.lostNode(pod)}, which has been NotReady for longer than ${window}`;
  const facts = [
    ...lostMembers.map((key) => `${capitalize(stuck(keyPod(key)))}, and nobody reaches its member ${key}.`),
    ...lostEvicted.map((pod) => `${capitalize(stuck(pod))}; its member was evicted.`),
  ];
  if (!settings.forceDeleteOnLostNode) {
    const pods = [...lostMembers.map(keyPod), ...lostEvicted];
    const deletes = pods.map((pod) => `kubectl delete pod ${pod} --grace-period=0 --force`).join("; ");
    return {
      type: "MemberLost",
      status: "True",
      reason: "ForceDeleteDisabled",
      message: `${facts.join(" ")} spec.fencing.forceDeleteOnLostNode is false, so the operator does not force-delete pods. Either set spec.fencing.forceDeleteOnLostNode: true (the operator evicts the member, force-deletes the pod, and the replacement joins as a new member), or make sure the node is gone (powered off or deleted from the cluster) and run: ${deletes}.`,
    };
  }
  const blocked = blockedOf(proposals, "MemberLost");
  const next = `The operator ${settings.automatic ? "fences and " : ""}evicts a lost member, then force-deletes its pod; the StatefulSet recreates it and a new incarnation joins.`;
  return {
    type: "MemberLost",
    status: "True",
    reason: blocked.length > 0 ? "RecoveryBlocked" : "RecoveringLostMember",
    message: [...facts, next, ...waitSentences(blocked)].join(" "),
  };
}

function blockedOf(proposals: readonly Proposal[], subject: Subject): Blocked[] {
  return proposals.flatMap((proposal) =>
    proposal.subject === subject && proposal.blocked !== undefined ? [proposal.blocked] : [],
  );
}

/** One sentence per change that waits for its own reason, one per reason that holds them all. */
function waitSentences(blocked: readonly Blocked[]): string[] {
  const gated = new Map<string, string[]>();
  const sentences: string[] = [];
  for (const entry of blocked) {
    if (!entry.gated) sentences.push(entry.message);
    else gated.set(entry.problem, [...(gated.get(entry.problem) ?? []), entry.what]);
  }
  for (const [problem, whats] of gated) sentences.push(`Waiting, as ${problem}: ${whats.join("; ")}.`);
  return sentences;
}

function quorumCondition(view: View): FencingCondition {
  const { voters, responsiveVoters } = view;
  const quorum = quorumSize(voters.length);
  const counts = `${responsiveVoters.length} of ${voters.length} voters`;
  if (!view.quorumLost)
    return {
      type: "QuorumLost",
      status: "False",
      reason: "QuorumReachable",
      message: `${counts} are reachable by the operator or the leader (a quorum is ${quorum}).`,
    };
  const missing = voters
    .filter((voter) => !responsiveVoters.includes(voter))
    .map(keyPod)
    .sort((a, b) => view.ordinal(a) - view.ordinal(b));
  const claims = missing.map((pod) => `${dataVolumeName}-${pod}`).join(", ");
  return {
    type: "QuorumLost",
    status: "True",
    reason: "QuorumLost",
    message: `Only ${counts} are reachable by the operator or the leader, and a quorum is ${quorum}. Not reachable: ${missing.map((pod) => `${pod} (${downCause(view, pod)})`).join(", ")}. The operator fences, unfences and evicts nothing until a quorum is back: no change could commit, and rewriting the configuration could lose committed data. Bring the members back with their data: restore their nodes and pods, keeping their volumes (claims ${claims}); never delete the claims of a majority of the voters.`,
  };
}

/** What keeps a voter away, as far as Kubernetes shows it: what would bring it back. */
function downCause(view: View, pod: string): string {
  const entry = view.member(pod);
  if (entry === undefined || !entry.podExists) return "its pod does not exist";
  if (entry.nodeName !== undefined && entry.node !== undefined && entry.node.ready !== true)
    return `its node ${entry.nodeName} is NotReady`;
  if (entry.podTerminating) return "its pod is terminating";
  if (!entry.podReady) return "its pod is not ready";
  return "its pod is ready but does not answer";
}

/** No configuration: nothing is known about members, so nothing is decided. */
function unknownPlan(input: FencingInput): FencingPlan {
  const message =
    "No member answered with the cluster's configuration, so the operator cannot tell which members there are.";
  return {
    action: { type: "none" },
    record: input.record ?? emptyFencingRecord,
    conditions: (["Fenced", "MemberLost", "QuorumLost"] as const).map((type) => ({
      type,
      status: "Unknown",
      reason: "NoConfiguration",
      message,
    })),
    events: [],
  };
}

/** `30s`, `2m`, `1m30s`, `1h`: spec values, so stable from one reconcile to the next. */
export function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  return [hours > 0 ? `${hours}h` : "", minutes > 0 ? `${minutes}m` : "", rest > 0 ? `${rest}s` : ""].join(
    "",
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
