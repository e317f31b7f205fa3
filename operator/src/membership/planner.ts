// The membership planner: from what one reconcile observed, the next single action and the
// operation record to write to status.operation before performing it. Pure, so every state
// and every crash point is a unit test. The state machine is drawn in README.md.
//
// Every step is decided from what is observed, not from what the record says was done: the
// record says which step comes next, and the step first checks whether its effect is already
// there (a crash after the action and before the next record) and moves on if so. So the
// operator may be killed between any two steps, and even a lost record only costs a re-plan.
import type { PaxosOperationStatus } from "../builders/index.ts";
import { kubernetesTime } from "../status.ts";
import { commitProblem, disruptionProblem, promotionProblem, removalProblem } from "./safety.ts";
import {
  type MembershipAction,
  type MembershipCondition,
  type Operation,
  type OperationStep,
  type OperationType,
  operationSteps,
  operationTypes,
  type Plan,
  type PlanInput,
} from "./types.ts";
import {
  type ClusterView,
  keyIncarnation,
  keyPod,
  memberKey,
  podName,
  podOrdinal,
  transferTarget,
  viewOf,
} from "./view.ts";

/** More steps than any operation has: a plan that needs more is a bug in the rules. */
const maxStepsPerPlan = 24;

export function planMembership(input: PlanInput): Plan {
  const view = viewOf(input);
  const parsed = parseOperation(input);
  if (typeof parsed === "string")
    return {
      operation: undefined,
      action: { type: "complete", message: parsed },
      condition: changing("True", "OperationDiscarded", parsed),
    };
  const operation = parsed;
  const blocked = (reason: string, message: string, status: "True" | "False" = "False"): Plan =>
    operation === undefined
      ? {
          operation: undefined,
          action: { type: "wait", reason, message },
          condition: changing(status, reason, message),
        }
      : waitIn(view, operation, reason, message);

  if (!input.bootstrapped)
    return blocked(
      "Bootstrapping",
      "The initial members have not formed the cluster; membership changes start once they have.",
    );
  if (!Number.isSafeInteger(input.desiredReplicas) || input.desiredReplicas < 1)
    return blocked("InvalidReplicas", `spec.replicas is ${input.desiredReplicas}; it must be at least 1.`);
  if (input.statefulSetReplicas === undefined)
    return blocked("NoStatefulSet", "The StatefulSet does not exist yet.");
  if (input.configuration === undefined || view.voters.length === 0)
    return blocked("NoConfiguration", "No member answered with the cluster's configuration.");
  if (view.leaderKey === undefined)
    return blocked(
      "NoLeader",
      "No voting member is known to lead; membership changes go through the leader, so none is made.",
    );

  let current = operation ?? start(view);
  for (let steps = 0; steps < maxStepsPerPlan; steps += 1) {
    if (isPlan(current)) return current;
    current = stepOf(view, current);
  }
  throw new Error(`membership planner did not settle on a step (${JSON.stringify(current)})`);
}

// ------------------------------------------------------------------ starting an operation

/** The next operation to start, or the plan when there is none to start. */
function start(view: ClusterView): Operation | Plan {
  const { input } = view;
  const desired = input.desiredReplicas;
  const ordinal = (pod: string) => podOrdinal(input.cluster, pod) ?? Number.POSITIVE_INFINITY;
  const configured = [...view.voters, ...view.learners].sort(
    (a, b) => ordinal(keyPod(a)) - ordinal(keyPod(b)),
  );
  const begin = (type: OperationType, member: string, incarnation: string | undefined, step: OperationStep) =>
    newOperation(input, type, member, incarnation, step);

  // 1. Replace a wanted member that lost its data (answers as another incarnation) or that
  //    is lost (unreachable past the window, pod not ready).
  for (const key of configured) {
    const pod = keyPod(key);
    if (ordinal(pod) >= desired) continue;
    const report = view.observed(pod)?.report;
    const replaced = report !== undefined && report.incarnation !== keyIncarnation(key);
    if (!replaced && !view.lost(pod)) continue;
    const problem = removalProblem(view.voters, view.healthy, key);
    if (problem !== undefined)
      return pending(
        "ReplacementUnsafe",
        `${pod} needs replacing (${replaced ? `it answers as ${report?.incarnation}, the configuration lists ${key}` : "it is unreachable"}), but removing ${key} now is unsafe: ${problem}.`,
      );
    return begin("ReplaceMember", pod, keyIncarnation(key), "TransferLeadership");
  }

  let deferred: Plan | undefined;
  // 2. Scale down: the highest ordinal that is not wanted, or first an unwanted member that is
  //    unhealthy (removing it only makes the quorum safer).
  const existing = input.members.filter((member) => member.podExists).map((member) => member.pod);
  const excess = new Set(
    [
      ...configured.map(keyPod),
      ...existing,
      ...Array.from({ length: Math.max(0, input.statefulSetReplicas ?? 0) }, (_, n) =>
        podName(input.cluster, n),
      ),
    ].filter((pod) => ordinal(pod) >= desired && ordinal(pod) !== Number.POSITIVE_INFINITY),
  );
  if (excess.size > 0) {
    const byOrdinalDown = [...excess].sort((a, b) => ordinal(b) - ordinal(a));
    const top = byOrdinalDown[0] as string;
    const unhealthy = configured
      .filter((key) => ordinal(keyPod(key)) >= desired && !view.healthy.has(key))
      .sort((a, b) => ordinal(keyPod(b)) - ordinal(keyPod(a)))[0];
    const topKey = view.configuredKey(top);
    const chosen = topKey === undefined || unhealthy === undefined ? topKey : unhealthy;
    const pod = chosen === undefined ? top : keyPod(chosen);
    const problem = chosen === undefined ? undefined : removalProblem(view.voters, view.healthy, chosen);
    if (problem === undefined)
      return begin(
        "ScaleDown",
        pod,
        chosen === undefined ? undefined : keyIncarnation(chosen),
        "TransferLeadership",
      );
    // Unsafe now; a wanted member that joins first may make it safe (say voters 1 and 2 of a
    // cluster scaled to 1: pod 0 joins, then 2 and 1 leave).
    deferred = pending(
      "RemovalUnsafe",
      `Scaling down to ${desired} removes ${chosen} next, but not now: ${problem}.`,
    );
  }

  // 3. Scale up (or finish a join): the lowest wanted ordinal that does not vote.
  for (let n = 0; n < desired; n += 1) {
    const pod = podName(input.cluster, n);
    const key = view.configuredKey(pod);
    if (key !== undefined && view.isVoter(key)) continue;
    const problem = commitProblem(view.voters, view.healthy);
    if (problem !== undefined) return pending("QuorumUnhealthy", `${pod} should join, but ${problem}.`);
    if (key !== undefined) return begin("ScaleUp", pod, keyIncarnation(key), "CatchUp");
    return begin("ScaleUp", pod, undefined, "GrowStatefulSet");
  }

  if (deferred !== undefined) return deferred;

  // 4. Rolling restart: members on an old template revision, followers first, the leader last.
  const { updateRevision } = input;
  const outdated = input.members
    .filter(
      (member) =>
        member.podExists && member.podRevision !== undefined && member.podRevision !== updateRevision,
    )
    .map((member) => member.pod)
    .sort((a, b) => ordinal(b) - ordinal(a));
  if (updateRevision !== undefined && outdated.length > 0) {
    const unsettled = configured.filter(
      (key) => !view.healthy.has(key) || view.observed(keyPod(key))?.podReady !== true,
    );
    if (unsettled.length > 0 || view.learners.length > 0)
      return pending(
        "WaitingForHealthyMembers",
        `${outdated.join(", ")} run an old revision; restarts wait until every member is healthy, caught up and ready (not yet: ${[...unsettled, ...view.learners].join(", ")}).`,
      );
    const leaderPod = keyPod(view.leaderKey ?? "");
    const pod = outdated.find((candidate) => candidate !== leaderPod) ?? leaderPod;
    const key = view.configuredKey(pod);
    return begin(
      "RestartMember",
      pod,
      key === undefined ? undefined : keyIncarnation(key),
      "TransferLeadership",
    );
  }

  return {
    operation: undefined,
    action: { type: "none" },
    condition: changing(
      "False",
      "Settled",
      `All ${desired} members vote${updateRevision === undefined ? "" : " and run the current revision"}; nothing to change.`,
    ),
  };
}

// ------------------------------------------------------------------ resuming an operation

function isPlan(value: Operation | Plan): value is Plan {
  return "action" in value;
}

function stepOf(view: ClusterView, op: Operation): Operation | Plan {
  switch (op.type) {
    case "ScaleUp":
      return scaleUpStep(view, op);
    case "ScaleDown":
      return scaleDownStep(view, op);
    case "ReplaceMember":
      return replaceStep(view, op);
    case "RestartMember":
      return restartStep(view, op);
  }
}

function scaleUpStep(view: ClusterView, op: Operation): Operation | Plan {
  const { input } = view;
  if (ordinalOf(view, op) >= input.desiredReplicas) return abandonJoin(view, op);
  if (op.step === "GrowStatefulSet") {
    const replicas = input.statefulSetReplicas ?? 0;
    if (replicas > ordinalOf(view, op)) return { ...op, step: "WaitForPod" };
    // One pod at a time, even when the target is further away.
    return act(view, op, { type: "scaleStatefulSet", replicas: replicas + 1 });
  }
  if (op.step === "WaitForPod") return awaitFreshMember(view, op);
  return joinStep(view, op);
}

function scaleDownStep(view: ClusterView, op: Operation): Operation | Plan {
  const { input } = view;
  const key = keyOf(op);
  const ordinal = ordinalOf(view, op);
  const beforeRemoval = op.step === "TransferLeadership" || op.step === "RemoveMember";
  // Never scale away a member or its data: one configured under another incarnation than the
  // record says (changed by hand, or a record from before) leaves the configuration first.
  const configured = view.configuredKey(op.member);
  if (!beforeRemoval && configured !== undefined)
    return { ...op, step: "RemoveMember", incarnation: keyIncarnation(configured) };
  // Until the member leaves the configuration nothing is lost by stopping, and a spec that
  // wants it again (scaled back up) means it should stay.
  if (beforeRemoval && ordinal < input.desiredReplicas && (key === undefined || view.isConfigured(key)))
    return complete(
      op,
      `${op.member} is wanted again (spec.replicas is ${input.desiredReplicas}); it stays.`,
    );
  switch (op.step) {
    case "TransferLeadership":
      return transferStep(view, op, "RemoveMember");
    case "RemoveMember": {
      if (key === undefined || !view.isConfigured(key)) return { ...op, step: "ShrinkStatefulSet" };
      if (view.leaderKey === key) return { ...op, step: "TransferLeadership" };
      const problem = removalProblem(view.voters, view.healthy, key);
      if (problem !== undefined)
        return pending(
          "RemovalUnsafe",
          `Scaling down to ${input.desiredReplicas} removes ${key} next, but not now: ${problem}.`,
        );
      const leader = leaderPod(view);
      return act(
        view,
        op,
        input.claimPolicy === "Retain"
          ? { type: "evictMember", member: key, leader }
          : { type: "removeMember", member: key, leader },
      );
    }
    case "ShrinkStatefulSet": {
      const replicas = input.statefulSetReplicas ?? 0;
      if (replicas <= ordinal) return { ...op, step: "WaitForPodGone" };
      const above = [...view.voters, ...view.learners].some(
        (member) => (podOrdinal(input.cluster, keyPod(member)) ?? -1) > ordinal,
      );
      if (replicas > ordinal + 1 || above)
        return complete(
          op,
          `${op.member} left the configuration; its pod goes when the members above it have left too.`,
        );
      return act(view, op, { type: "scaleStatefulSet", replicas: ordinal });
    }
    case "WaitForPodGone":
      if (view.observed(op.member)?.podExists === true)
        return waitIn(view, op, "WaitingForPodDeletion", `Waiting for pod ${op.member} to be deleted.`);
      return { ...op, step: "DeleteClaim" };
    case "DeleteClaim": {
      const claim = view.observed(op.member)?.claim;
      if (input.claimPolicy === "Delete" && claim !== undefined && !claim.terminating)
        return act(view, op, { type: "deleteClaim", claim: claim.name });
      return complete(op, `${op.member} was removed and its pod scaled away.`);
    }
    default:
      return unknownStep(op);
  }
}

function replaceStep(view: ClusterView, op: Operation): Operation | Plan {
  const { input } = view;
  const key = keyOf(op);
  if (ordinalOf(view, op) >= input.desiredReplicas) return abandonJoin(view, op);
  switch (op.step) {
    case "TransferLeadership":
    case "EvictMember": {
      if (key === undefined || !view.isConfigured(key))
        return { ...op, step: "WaitForNewIncarnation", incarnation: undefined };
      if (view.observed(op.member)?.report?.incarnation === op.incarnation)
        return complete(op, `${key} answers again as itself; it is not replaced.`);
      if (op.step === "TransferLeadership") return transferStep(view, op, "EvictMember");
      if (view.leaderKey === key) return { ...op, step: "TransferLeadership" };
      const problem = removalProblem(view.voters, view.healthy, key);
      if (problem !== undefined)
        return pending(
          "ReplacementUnsafe",
          `${op.member} needs replacing, but evicting ${key} now is unsafe: ${problem}.`,
        );
      return act(view, op, { type: "evictMember", member: key, leader: leaderPod(view) });
    }
    case "WaitForNewIncarnation":
      return awaitFreshMember(view, op);
    default:
      return joinStep(view, op);
  }
}

function restartStep(view: ClusterView, op: Operation): Operation | Plan {
  // The pod's configured key, whatever the record says: it is the member a restart disrupts.
  const key = view.configuredKey(op.member) ?? keyOf(op);
  const member = view.observed(op.member);
  switch (op.step) {
    case "TransferLeadership":
      return transferStep(view, op, "DeletePod", key);
    case "DeletePod": {
      if (member?.podExists !== true || member.podRevision === view.input.updateRevision)
        return { ...op, step: "WaitForRestart" };
      // (A single voter has nobody to hand over to: it restarts as the leader.)
      if (key !== undefined && view.leaderKey === key && view.voters.length > 1)
        return { ...op, step: "TransferLeadership" };
      const problem = key === undefined ? undefined : disruptionProblem(view.voters, view.healthy, key);
      if (problem !== undefined)
        return pending(
          "RestartUnsafe",
          `${op.member} runs an old revision, but restarting it now is unsafe: ${problem}.`,
        );
      return act(view, op, { type: "deletePod", pod: op.member });
    }
    case "WaitForRestart": {
      const report = member?.report;
      if (report !== undefined && report.incarnation !== op.incarnation)
        return complete(
          op,
          `${op.member} came back as incarnation ${report.incarnation}; it is replaced next.`,
        );
      if (member?.podExists === true && member.podReady && (key === undefined || view.healthy.has(key)))
        return complete(op, `${op.member} restarted and is caught up.`);
      return waitIn(
        view,
        op,
        "WaitingForRestart",
        `Waiting for ${op.member} to come back ready and caught up before the next restart.`,
      );
    }
    default:
      return unknownStep(op);
  }
}

// ------------------------------------------------------------------ shared steps

/** Hands leadership away from the operation's member if it leads, then goes on to `next`. */
function transferStep(
  view: ClusterView,
  op: Operation,
  next: OperationStep,
  key: string | undefined = keyOf(op),
): Operation | Plan {
  if (key === undefined || view.leaderKey !== key) return { ...op, step: next };
  const target = transferTarget(view, key);
  if (target === undefined) {
    // A single voter has nobody to hand over to; a restart goes ahead and costs an election.
    if (op.type === "RestartMember" && view.voters.length === 1) return { ...op, step: next };
    return waitIn(
      view,
      op,
      "NoTransferTarget",
      `${op.member} leads and no other voter is healthy and caught up to take over.`,
    );
  }
  return act(view, op, { type: "transferLeadership", leader: op.member, to: target });
}

/**
 * Waits until the operation's pod exists and answers as a fresh incarnation: grows the
 * StatefulSet if the pod's ordinal is beyond it, and wipes data that may not join (an
 * evicted or removed incarnation) by deleting the claim and then the pod.
 */
function awaitFreshMember(view: ClusterView, op: Operation): Operation | Plan {
  const { input } = view;
  const configured = view.configuredKey(op.member);
  const member = view.observed(op.member);
  const report = member?.report;
  if (configured !== undefined) {
    if (report === undefined)
      return waitIn(view, op, "WaitingForPod", `Waiting for ${configured} to answer.`);
    if (report.incarnation === keyIncarnation(configured))
      return { ...op, step: "AddLearner", incarnation: report.incarnation };
    // The pod's name is configured under another (or an unreachable) incarnation: that one goes first.
    return newOperation(input, "ReplaceMember", op.member, keyIncarnation(configured), "TransferLeadership");
  }
  const replicas = input.statefulSetReplicas ?? 0;
  if (replicas <= ordinalOf(view, op))
    return act(view, op, { type: "scaleStatefulSet", replicas: replicas + 1 });
  if (member?.podExists !== true)
    return waitIn(view, op, "WaitingForPod", `Waiting for pod ${op.member} to be created.`);
  if (report === undefined) {
    // A claim deleted under a pod leaves the pod unable to start: recreate both.
    if (member.claim === undefined) return act(view, op, { type: "deletePod", pod: op.member });
    return waitIn(view, op, "WaitingForPod", `Waiting for pod ${op.member} to start and answer.`);
  }
  if (view.staleData(op.member)) {
    const stale = memberKey(op.member, report.incarnation);
    const claim = member.claim;
    if (input.claimPolicy === "Retain")
      return waitIn(
        view,
        op,
        "StaleDataRetained",
        `${op.member} holds the data of ${stale}, which left the cluster and may not rejoin as itself; the claim policy is Retain, so delete claim ${claim?.name ?? "(unknown)"} to let it join as a new member.`,
      );
    if (claim !== undefined && !claim.terminating)
      return act(view, op, { type: "deleteClaim", claim: claim.name });
    return act(view, op, { type: "deletePod", pod: op.member });
  }
  return { ...op, step: "AddLearner", incarnation: report.incarnation };
}

/** AddLearner → CatchUp → Promote for the operation's (new) incarnation. */
function joinStep(view: ClusterView, op: Operation): Operation | Plan {
  const waitStep: OperationStep = op.type === "ReplaceMember" ? "WaitForNewIncarnation" : "WaitForPod";
  const key = keyOf(op);
  if (key === undefined) return { ...op, step: waitStep };
  const report = view.observed(op.member)?.report;
  const answersOtherwise = report !== undefined && report.incarnation !== op.incarnation;
  // Promoted: done. (Should it have lost its data since, the replacement rule sees to it.)
  if (view.isVoter(key)) return complete(op, `${key} votes.`);
  if (view.isLearner(key) && answersOtherwise)
    // It lost its data after it was added: evict that incarnation and start again.
    return newOperation(view.input, "ReplaceMember", op.member, op.incarnation, "TransferLeadership");
  switch (op.step) {
    case "AddLearner": {
      if (view.isLearner(key)) return { ...op, step: "CatchUp" };
      if (answersOtherwise || view.evicted.has(key)) return { ...op, step: waitStep, incarnation: undefined };
      const other = view.configuredKey(op.member);
      if (other !== undefined)
        return newOperation(
          view.input,
          "ReplaceMember",
          op.member,
          keyIncarnation(other),
          "TransferLeadership",
        );
      const problem = commitProblem(view.voters, view.healthy);
      if (problem !== undefined)
        return waitIn(view, op, "QuorumUnhealthy", `Adding ${key} as a learner waits: ${problem}.`);
      return act(view, op, { type: "addLearner", member: key, leader: leaderPod(view) });
    }
    case "CatchUp": {
      if (!view.isLearner(key)) return { ...op, step: "AddLearner" };
      if (view.caughtUp(key)) return { ...op, step: "Promote" };
      const lag = report?.lag;
      return waitIn(
        view,
        op,
        "CatchingUp",
        `${key} is catching up (${lag === undefined ? "not answering" : `${lag} entries behind`}); it is promoted at ${view.input.thresholds.catchUpLagEntries} or fewer.`,
      );
    }
    case "Promote": {
      if (!view.isLearner(key)) return { ...op, step: "AddLearner" };
      if (!view.caughtUp(key)) return { ...op, step: "CatchUp" };
      const problem = promotionProblem(view.voters, view.healthy, key);
      if (problem !== undefined)
        return waitIn(view, op, "PromotionUnsafe", `Promoting ${key} waits: ${problem}.`);
      return act(view, op, { type: "promote", member: key, leader: leaderPod(view) });
    }
    default:
      return unknownStep(op);
  }
}

/**
 * A join whose ordinal the spec no longer wants (scaled back down): once it votes it stays
 * until the scale-down removes it; before that, the join turns into that scale-down, so a
 * learner that never catches up cannot block a later change.
 */
function abandonJoin(view: ClusterView, op: Operation): Operation | Plan {
  const configured = view.configuredKey(op.member);
  if (op.type === "ScaleUp" && configured !== undefined && view.isVoter(configured))
    return complete(op, `${configured} votes.`);
  return newOperation(
    view.input,
    "ScaleDown",
    op.member,
    configured === undefined ? undefined : keyIncarnation(configured),
    "TransferLeadership",
  );
}

function unknownStep(op: Operation): Plan {
  return complete(
    op,
    `${describe(op)} is not a step this operator knows; the operation is dropped and re-planned.`,
  );
}

// ------------------------------------------------------------------ records and plans

function parseOperation(input: PlanInput): Operation | undefined | string {
  const record = input.operation;
  if (record === undefined) return undefined;
  const type = operationTypes.find((candidate) => candidate === record.type);
  if (type === undefined)
    return `status.operation has type ${JSON.stringify(record.type)}, which this operator does not know; it is dropped and re-planned.`;
  const steps: readonly string[] = operationSteps[type];
  const step = steps.find((candidate) => candidate === record.step) as OperationStep | undefined;
  if (step === undefined)
    return `status.operation ${type} has step ${JSON.stringify(record.step)}, which this operator does not know; it is dropped and re-planned.`;
  if (record.member === undefined || podOrdinal(input.cluster, record.member) === undefined)
    return `status.operation ${type} names no member of this cluster (${JSON.stringify(record.member ?? "")}); it is dropped and re-planned.`;
  return {
    type,
    step,
    member: record.member,
    incarnation:
      record.incarnation === undefined || record.incarnation === "" ? undefined : record.incarnation,
    startedAt: record.startedAt,
  };
}

function newOperation(
  input: PlanInput,
  type: OperationType,
  member: string,
  incarnation: string | undefined,
  step: OperationStep,
): Operation {
  return { type, step, member, incarnation, startedAt: kubernetesTime(new Date(input.now)) };
}

function recordOf(op: Operation): PaxosOperationStatus {
  return {
    type: op.type,
    member: op.member,
    ...(op.incarnation === undefined ? {} : { incarnation: op.incarnation }),
    startedAt: op.startedAt,
    step: op.step,
  };
}

function keyOf(op: Operation): string | undefined {
  return op.incarnation === undefined ? undefined : memberKey(op.member, op.incarnation);
}

function ordinalOf(view: ClusterView, op: Operation): number {
  return podOrdinal(view.input.cluster, op.member) ?? Number.POSITIVE_INFINITY;
}

function leaderPod(view: ClusterView): string {
  return keyPod(view.leaderKey ?? "");
}

function describe(op: Operation): string {
  return `${op.type} of ${op.incarnation === undefined ? op.member : memberKey(op.member, op.incarnation)} (step ${op.step})`;
}

function changing(status: "True" | "False", reason: string, message: string): MembershipCondition {
  return { type: "MembershipChanging", status, reason, message };
}

function act(view: ClusterView, op: Operation, action: MembershipAction): Plan {
  return {
    operation: recordOf(op),
    action,
    condition: changing("True", op.type, `${describe(op)}: ${actionText(action)}; ${ageText(view, op)}.`),
  };
}

function waitIn(view: ClusterView, op: Operation, reason: string, message: string): Plan {
  const stalled = view.input.now - Date.parse(op.startedAt) > view.input.thresholds.operationTimeoutMs;
  return {
    operation: recordOf(op),
    action: { type: "wait", reason, message },
    condition: changing(
      "True",
      stalled ? "Stalled" : reason,
      `${describe(op)}: ${message} ${stalled ? `It has been running for ${ageText(view, op)}, longer than expected (${reason}).` : ""}`.trim(),
    ),
  };
}

/**
 * A change that is wanted but may not start (or go on) now: no operation is kept, so
 * nothing blocks the change that would make it safe (say, replacing a failed member).
 */
function pending(reason: string, message: string): Plan {
  return {
    operation: undefined,
    action: { type: "wait", reason, message },
    condition: changing("True", reason, message),
  };
}

function complete(op: Operation, message: string): Plan {
  return {
    operation: undefined,
    action: { type: "complete", message },
    condition: changing("True", "OperationCompleted", `${op.type} of ${op.member} completed: ${message}`),
  };
}

function ageText(view: ClusterView, op: Operation): string {
  const seconds = Math.max(0, Math.round((view.input.now - Date.parse(op.startedAt)) / 1000));
  return `started ${seconds}s ago`;
}

function actionText(action: MembershipAction): string {
  switch (action.type) {
    case "none":
      return "nothing to do";
    case "wait":
      return action.message;
    case "scaleStatefulSet":
      return `scaling the StatefulSet to ${action.replicas}`;
    case "addLearner":
      return `adding ${action.member} as a learner`;
    case "promote":
      return `promoting ${action.member} to voter`;
    case "removeMember":
      return `removing ${action.member} from the configuration`;
    case "evictMember":
      return `evicting ${action.member}`;
    case "transferLeadership":
      return `transferring leadership from ${action.leader} to ${action.to}`;
    case "deletePod":
      return `deleting pod ${action.pod}`;
    case "deleteClaim":
      return `deleting claim ${action.claim}`;
    case "complete":
      return action.message;
  }
}
