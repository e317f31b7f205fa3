import { describe, expect, it } from "vitest";
import type { PaxosOperationStatus } from "../builders/index.ts";
import {
  type ClusterSketch,
  healthy,
  key,
  type MemberSketch,
  operation,
  pod,
  sketch,
} from "./planFixtures.ts";
import { planMembership } from "./planner.ts";
import type { MembershipAction, Plan } from "./types.ts";

const plan = (cluster: ClusterSketch): Plan => planMembership(sketch(cluster));

interface Row {
  readonly name: string;
  readonly cluster: ClusterSketch;
  readonly action: Partial<MembershipAction> & { readonly type: MembershipAction["type"] };
  /** The record written before the action: type/step/incarnation, or null for none. */
  readonly operation: Partial<PaxosOperationStatus> | null;
  readonly condition?: { readonly status?: "True" | "False"; readonly reason?: string };
}

function check(rows: readonly Row[]): void {
  it.each(rows.map((row) => [row.name, row] as const))("%s", (_name, row) => {
    const result = plan(row.cluster);
    expect(result.action).toMatchObject(row.action);
    if (row.operation === null) expect(result.operation).toBeUndefined();
    else expect(result.operation).toMatchObject(row.operation);
    if (row.condition !== undefined) expect(result.condition).toMatchObject(row.condition);
    expect(result.condition.type).toBe("MembershipChanging");
  });
}

/** Members 0..n-1 healthy voters, then the overrides. */
const members = (n: number, overrides: Record<number, MemberSketch> = {}) => ({
  ...healthy(n),
  ...overrides,
});
const fresh = (incarnation: string, extra: MemberSketch = {}): MemberSketch => ({
  as: "none",
  incarnation,
  joined: false,
  lag: 50_000,
  ...extra,
});

describe("preconditions", () => {
  check([
    {
      name: "a cluster that has not bootstrapped is left alone",
      cluster: { desired: 3, members: members(3), bootstrapped: false },
      action: { type: "wait", reason: "Bootstrapping" },
      operation: null,
      condition: { status: "False", reason: "Bootstrapping" },
    },
    {
      name: "no known leader: nothing is done",
      cluster: { desired: 5, members: members(3), leader: null },
      action: { type: "wait", reason: "NoLeader" },
      operation: null,
      condition: { status: "False" },
    },
    {
      name: "no known leader during an operation: the operation is kept and waits",
      cluster: {
        desired: 5,
        sts: 4,
        members: members(3, { 3: { as: "learner", incarnation: "n1" } }),
        leader: null,
        operation: operation("ScaleUp", 3, "Promote", "n1"),
      },
      action: { type: "wait", reason: "NoLeader" },
      operation: { type: "ScaleUp", step: "Promote", incarnation: "n1" },
      condition: { status: "True", reason: "NoLeader" },
    },
    {
      name: "a leader that is not a voter is no leader",
      cluster: { desired: 5, members: members(3, { 2: { as: "learner" } }), leader: 2 },
      action: { type: "wait", reason: "NoLeader" },
      operation: null,
    },
    {
      name: "no StatefulSet yet",
      cluster: { desired: 3, members: members(3), sts: undefined },
      action: { type: "wait" },
      operation: null,
    },
    {
      name: "spec.replicas below 1 is refused",
      cluster: { desired: 0, members: members(3) },
      action: { type: "wait", reason: "InvalidReplicas" },
      operation: null,
    },
    {
      name: "no configuration known",
      cluster: { desired: 3, members: {} },
      action: { type: "wait", reason: "NoConfiguration" },
      operation: null,
    },
    {
      name: "an operation type this operator does not know is dropped",
      cluster: { desired: 3, members: members(3), operation: operation("Teleport", 1, "Go") },
      action: { type: "complete" },
      operation: null,
      condition: { reason: "OperationDiscarded" },
    },
    {
      name: "an unknown step is dropped",
      cluster: { desired: 3, members: members(3), operation: operation("ScaleUp", 3, "Dance") },
      action: { type: "complete" },
      operation: null,
    },
    {
      name: "an operation about a pod of another cluster is dropped",
      cluster: {
        desired: 3,
        members: members(3),
        operation: {
          type: "ScaleUp",
          member: "other-3",
          step: "WaitForPod",
          startedAt: "2030-01-01T00:00:00Z",
        },
      },
      action: { type: "complete" },
      operation: null,
    },
    {
      name: "settled: nothing to change",
      cluster: { desired: 3, members: members(3) },
      action: { type: "none" },
      operation: null,
      condition: { status: "False", reason: "Settled" },
    },
  ]);
});

describe("scale up, step by step", () => {
  check([
    {
      name: "starts by growing the StatefulSet by one pod, even for 3 → 5",
      cluster: { desired: 5, members: members(3) },
      action: { type: "scaleStatefulSet", replicas: 4 },
      operation: {
        type: "ScaleUp",
        member: pod(3),
        step: "GrowStatefulSet",
        startedAt: "2030-01-01T00:10:00Z",
      },
      condition: { status: "True", reason: "ScaleUp" },
    },
    {
      name: "GrowStatefulSet resumed before the scale happened: scales again",
      cluster: { desired: 5, members: members(3), operation: operation("ScaleUp", 3, "GrowStatefulSet") },
      action: { type: "scaleStatefulSet", replicas: 4 },
      operation: { type: "ScaleUp", step: "GrowStatefulSet" },
    },
    {
      name: "GrowStatefulSet resumed after the scale: waits for the pod",
      cluster: {
        desired: 5,
        sts: 4,
        members: members(3),
        operation: operation("ScaleUp", 3, "GrowStatefulSet"),
      },
      action: { type: "wait", reason: "WaitingForPod" },
      operation: { type: "ScaleUp", step: "WaitForPod" },
    },
    {
      name: "WaitForPod: the pod exists but does not answer yet",
      cluster: {
        desired: 5,
        members: members(3, { 3: fresh("n1", { answers: null }) }),
        operation: operation("ScaleUp", 3, "WaitForPod"),
      },
      action: { type: "wait", reason: "WaitingForPod" },
      operation: { step: "WaitForPod" },
    },
    {
      name: "WaitForPod: a fresh incarnation answers, it is added as a learner",
      cluster: {
        desired: 5,
        members: members(3, { 3: fresh("n1") }),
        operation: operation("ScaleUp", 3, "WaitForPod"),
      },
      action: { type: "addLearner", member: key(3, "n1"), leader: pod(0) },
      operation: { type: "ScaleUp", step: "AddLearner", incarnation: "n1" },
    },
    {
      name: "WaitForPod: data of a removed member (joined, not configured) is wiped: claim first",
      cluster: {
        desired: 5,
        members: members(3, { 3: fresh("old", { joined: true }) }),
        operation: operation("ScaleUp", 3, "WaitForPod"),
      },
      action: { type: "deleteClaim", claim: `data-${pod(3)}` },
      operation: { step: "WaitForPod" },
    },
    {
      name: "WaitForPod: stale data whose claim is already being deleted: then the pod",
      cluster: {
        desired: 5,
        members: members(3, { 3: fresh("old", { joined: true, claim: "terminating" }) }),
        operation: operation("ScaleUp", 3, "WaitForPod"),
      },
      action: { type: "deletePod", pod: pod(3) },
      operation: { step: "WaitForPod" },
    },
    {
      name: "WaitForPod: an evicted incarnation never rejoins as itself",
      cluster: {
        desired: 5,
        members: members(3, { 3: fresh("gone", { evicted: true }) }),
        evicted: [key(3, "gone")],
        operation: operation("ScaleUp", 3, "WaitForPod"),
      },
      action: { type: "deleteClaim" },
      operation: { step: "WaitForPod" },
    },
    {
      name: "WaitForPod: stale data under claim policy Retain waits for a person",
      cluster: {
        desired: 5,
        claimPolicy: "Retain",
        members: members(3, { 3: fresh("old", { joined: true }) }),
        operation: operation("ScaleUp", 3, "WaitForPod"),
      },
      action: { type: "wait", reason: "StaleDataRetained" },
      operation: { step: "WaitForPod" },
    },
    {
      name: "WaitForPod: a pod whose claim was deleted under it is recreated",
      cluster: {
        desired: 5,
        members: members(3, { 3: fresh("x", { answers: null, claim: "missing" }) }),
        operation: operation("ScaleUp", 3, "WaitForPod"),
      },
      action: { type: "deletePod", pod: pod(3) },
      operation: { step: "WaitForPod" },
    },
    {
      name: "WaitForPod: the StatefulSet was scaled below the pod (by someone): grow it by one",
      cluster: { desired: 5, sts: 3, members: members(3), operation: operation("ScaleUp", 3, "WaitForPod") },
      action: { type: "scaleStatefulSet", replicas: 4 },
      operation: { step: "WaitForPod" },
    },
    {
      name: "AddLearner resumed before the call: adds it (again)",
      cluster: {
        desired: 5,
        members: members(3, { 3: fresh("n1") }),
        operation: operation("ScaleUp", 3, "AddLearner", "n1"),
      },
      action: { type: "addLearner", member: key(3, "n1") },
      operation: { step: "AddLearner", incarnation: "n1" },
    },
    {
      name: "AddLearner resumed after the call: waits for catch-up",
      cluster: {
        desired: 5,
        members: members(3, { 3: { as: "learner", incarnation: "n1", lag: 5000 } }),
        operation: operation("ScaleUp", 3, "AddLearner", "n1"),
      },
      action: { type: "wait", reason: "CatchingUp" },
      operation: { step: "CatchUp", incarnation: "n1" },
    },
    {
      name: "AddLearner resumed after the call, already caught up: promotes",
      cluster: {
        desired: 5,
        members: members(3, { 3: { as: "learner", incarnation: "n1", lag: 100 } }),
        operation: operation("ScaleUp", 3, "AddLearner", "n1"),
      },
      action: { type: "promote", member: key(3, "n1"), leader: pod(0) },
      operation: { step: "Promote", incarnation: "n1" },
    },
    {
      name: "AddLearner: the pod answers as another incarnation now: back to waiting for it",
      cluster: {
        desired: 5,
        members: members(3, { 3: fresh("n2") }),
        operation: operation("ScaleUp", 3, "AddLearner", "n1"),
      },
      action: { type: "addLearner", member: key(3, "n2") },
      operation: { step: "AddLearner", incarnation: "n2" },
    },
    {
      name: "AddLearner without a healthy quorum waits",
      cluster: {
        desired: 5,
        members: members(3, { 1: { answers: null }, 2: { answers: null }, 3: fresh("n1") }),
        operation: operation("ScaleUp", 3, "AddLearner", "n1"),
      },
      action: { type: "wait", reason: "QuorumUnhealthy" },
      operation: { step: "AddLearner" },
    },
    {
      name: "CatchUp: lag above the threshold waits",
      cluster: {
        desired: 5,
        members: members(3, { 3: { as: "learner", incarnation: "n1", lag: 101 } }),
        operation: operation("ScaleUp", 3, "CatchUp", "n1"),
      },
      action: { type: "wait", reason: "CatchingUp" },
      operation: { step: "CatchUp" },
    },
    {
      name: "CatchUp: an unreachable learner waits",
      cluster: {
        desired: 5,
        members: members(3, { 3: { as: "learner", incarnation: "n1", answers: null } }),
        operation: operation("ScaleUp", 3, "CatchUp", "n1"),
      },
      action: { type: "wait", reason: "CatchingUp" },
      operation: { step: "CatchUp" },
    },
    {
      name: "CatchUp: the learner is gone from the configuration: add it again",
      cluster: {
        desired: 5,
        members: members(3, { 3: fresh("n1", { joined: true, lag: 0 }) }),
        operation: operation("ScaleUp", 3, "CatchUp", "n1"),
      },
      action: { type: "addLearner", member: key(3, "n1") },
      operation: { step: "AddLearner" },
    },
    {
      name: "CatchUp: the learner lost its data (answers as a new incarnation): it is replaced",
      cluster: {
        desired: 5,
        members: members(3, { 3: { as: "learner", incarnation: "n1", answers: "n2", joined: false } }),
        operation: operation("ScaleUp", 3, "CatchUp", "n1"),
      },
      action: { type: "evictMember", member: key(3, "n1") },
      operation: { type: "ReplaceMember", step: "EvictMember", incarnation: "n1" },
    },
    {
      name: "Promote resumed before the call: promotes",
      cluster: {
        desired: 5,
        members: members(3, { 3: { as: "learner", incarnation: "n1" } }),
        operation: operation("ScaleUp", 3, "Promote", "n1"),
      },
      action: { type: "promote", member: key(3, "n1") },
      operation: { step: "Promote" },
    },
    {
      name: "Promote resumed after the call: complete",
      cluster: {
        desired: 5,
        members: members(3, { 3: { incarnation: "n1" } }),
        operation: operation("ScaleUp", 3, "Promote", "n1"),
      },
      action: { type: "complete" },
      operation: null,
      condition: { reason: "OperationCompleted" },
    },
    {
      name: "Promote: the learner fell behind again: back to catching up",
      cluster: {
        desired: 5,
        members: members(3, { 3: { as: "learner", incarnation: "n1", lag: 9000 } }),
        operation: operation("ScaleUp", 3, "Promote", "n1"),
      },
      action: { type: "wait", reason: "CatchingUp" },
      operation: { step: "CatchUp" },
    },
    {
      name: "Promote without a healthy quorum of voters waits (guard rail)",
      cluster: {
        desired: 5,
        members: members(3, {
          1: { lag: 5000 },
          2: { answers: null },
          3: { as: "learner", incarnation: "n1" },
        }),
        operation: operation("ScaleUp", 3, "Promote", "n1"),
      },
      action: { type: "wait", reason: "PromotionUnsafe" },
      operation: { step: "Promote" },
    },
    {
      name: "a fenced learner is not promoted",
      cluster: {
        desired: 5,
        members: members(3, { 3: { as: "learner", incarnation: "n1", fenced: true } }),
        operation: operation("ScaleUp", 3, "Promote", "n1"),
      },
      action: { type: "wait", reason: "PromotionUnsafe" },
      operation: { step: "Promote" },
    },
    {
      name: "a learner left behind (no operation) is adopted: caught up, it is promoted",
      cluster: { desired: 4, members: members(3, { 3: { as: "learner", incarnation: "n1" } }) },
      action: { type: "promote", member: key(3, "n1") },
      operation: { type: "ScaleUp", step: "Promote", incarnation: "n1" },
    },
    {
      name: "a fresh pod of a wanted ordinal that is not configured is added (after a lost record)",
      cluster: { desired: 4, members: members(3, { 3: fresh("n1") }) },
      action: { type: "addLearner", member: key(3, "n1") },
      operation: { type: "ScaleUp", step: "AddLearner" },
    },
    {
      name: "no scale-up starts without a healthy quorum",
      cluster: { desired: 5, members: members(3, { 1: { answers: null }, 2: { lag: 99999 } }) },
      action: { type: "wait", reason: "QuorumUnhealthy" },
      operation: null,
      condition: { status: "True" },
    },
    {
      name: "scaled back down before the pod exists: the scale-up turns into shrinking it away",
      cluster: { desired: 3, sts: 4, members: members(3), operation: operation("ScaleUp", 3, "WaitForPod") },
      action: { type: "scaleStatefulSet", replicas: 3 },
      operation: { type: "ScaleDown", step: "ShrinkStatefulSet", member: pod(3) },
    },
    {
      name: "scaled back down while the learner catches up: the learner is removed (no stuck learner)",
      cluster: {
        desired: 3,
        members: members(3, { 3: { as: "learner", incarnation: "n1", lag: 99_999 } }),
        operation: operation("ScaleUp", 3, "CatchUp", "n1"),
      },
      action: { type: "removeMember", member: key(3, "n1") },
      operation: { type: "ScaleDown", step: "RemoveMember", incarnation: "n1" },
    },
    {
      name: "scaled back down after the promotion: complete, a scale-down follows",
      cluster: {
        desired: 3,
        members: members(3, { 3: { incarnation: "n1" } }),
        operation: operation("ScaleUp", 3, "Promote", "n1"),
      },
      action: { type: "complete" },
      operation: null,
    },
    {
      name: "scaled back down before anything happened: nothing to undo",
      cluster: { desired: 3, members: members(3), operation: operation("ScaleUp", 3, "GrowStatefulSet") },
      action: { type: "complete" },
      operation: null,
    },
  ]);
});

describe("scale down, step by step", () => {
  check([
    {
      name: "starts with the highest ordinal: removes it from the configuration",
      cluster: { desired: 3, members: members(5) },
      action: { type: "removeMember", member: key(4), leader: pod(0) },
      operation: { type: "ScaleDown", member: pod(4), step: "RemoveMember", incarnation: "i4" },
      condition: { status: "True", reason: "ScaleDown" },
    },
    {
      name: "the highest ordinal leads: leadership goes to the most caught-up healthy voter first",
      cluster: {
        desired: 3,
        leader: 4,
        members: members(5, { 0: { lag: 40 }, 1: { lag: 30 }, 2: { lag: 0 }, 3: { lag: 60 } }),
      },
      action: { type: "transferLeadership", leader: pod(4), to: key(2) },
      operation: { type: "ScaleDown", step: "TransferLeadership", incarnation: "i4" },
    },
    {
      name: "TransferLeadership resumed before the transfer: transfers (again)",
      cluster: {
        desired: 3,
        leader: 4,
        members: members(5),
        operation: operation("ScaleDown", 4, "TransferLeadership", "i4"),
      },
      action: { type: "transferLeadership", to: key(0) },
      operation: { step: "TransferLeadership" },
    },
    {
      name: "TransferLeadership resumed after the transfer: removes",
      cluster: {
        desired: 3,
        leader: 1,
        members: members(5),
        operation: operation("ScaleDown", 4, "TransferLeadership", "i4"),
      },
      action: { type: "removeMember", member: key(4), leader: pod(1) },
      operation: { step: "RemoveMember" },
    },
    {
      name: "TransferLeadership with nobody healthy to take over waits",
      cluster: {
        desired: 1,
        leader: 1,
        members: members(2, { 0: { lag: 99_999 } }),
        operation: operation("ScaleDown", 1, "TransferLeadership", "i1"),
      },
      action: { type: "wait", reason: "NoTransferTarget" },
      operation: { step: "TransferLeadership" },
    },
    {
      name: "RemoveMember resumed before the call: removes",
      cluster: {
        desired: 3,
        members: members(5),
        operation: operation("ScaleDown", 4, "RemoveMember", "i4"),
      },
      action: { type: "removeMember", member: key(4) },
      operation: { step: "RemoveMember" },
    },
    {
      name: "RemoveMember: the member has become the leader meanwhile: transfer first",
      cluster: {
        desired: 3,
        leader: 4,
        members: members(5),
        operation: operation("ScaleDown", 4, "RemoveMember", "i4"),
      },
      action: { type: "transferLeadership", leader: pod(4) },
      operation: { step: "TransferLeadership" },
    },
    {
      name: "RemoveMember resumed after the removal committed: shrinks the StatefulSet by one",
      cluster: {
        desired: 3,
        members: members(4, { 4: { as: "none", joined: true } }),
        operation: operation("ScaleDown", 4, "RemoveMember", "i4"),
      },
      action: { type: "scaleStatefulSet", replicas: 4 },
      operation: { step: "ShrinkStatefulSet" },
    },
    {
      name: "ShrinkStatefulSet resumed after the scale: waits until the pod is gone",
      cluster: {
        desired: 3,
        sts: 4,
        members: members(4, { 4: { as: "none", joined: true } }),
        operation: operation("ScaleDown", 4, "ShrinkStatefulSet", "i4"),
      },
      action: { type: "wait", reason: "WaitingForPodDeletion" },
      operation: { step: "WaitForPodGone" },
    },
    {
      name: "WaitForPodGone: the pod is gone, its claim is deleted (policy Delete)",
      cluster: {
        desired: 3,
        sts: 4,
        members: members(4, { 4: { as: "none", exists: false } }),
        operation: operation("ScaleDown", 4, "WaitForPodGone", "i4"),
      },
      action: { type: "deleteClaim", claim: `data-${pod(4)}` },
      operation: { step: "DeleteClaim" },
    },
    {
      name: "DeleteClaim resumed after the deletion: complete",
      cluster: {
        desired: 3,
        sts: 4,
        members: members(4, { 4: { as: "none", exists: false, claim: "terminating" } }),
        operation: operation("ScaleDown", 4, "DeleteClaim", "i4"),
      },
      action: { type: "complete" },
      operation: null,
    },
    {
      name: "DeleteClaim: the StatefulSet controller already deleted it: complete",
      cluster: { desired: 3, members: members(4), operation: operation("ScaleDown", 4, "DeleteClaim", "i4") },
      action: { type: "complete" },
      operation: null,
    },
    {
      name: "claim policy Retain: the member is evicted, so its kept data can never rejoin as itself",
      cluster: { desired: 3, claimPolicy: "Retain", members: members(5) },
      action: { type: "evictMember", member: key(4) },
      operation: { type: "ScaleDown", step: "RemoveMember" },
    },
    {
      name: "claim policy Retain: the claim is kept",
      cluster: {
        desired: 3,
        sts: 4,
        claimPolicy: "Retain",
        members: members(4, { 4: { as: "none", exists: false } }),
        operation: operation("ScaleDown", 4, "DeleteClaim", "i4"),
      },
      action: { type: "complete" },
      operation: null,
    },
    {
      name: "guard rail: not when the remaining voters would lack a healthy quorum; no operation is kept",
      cluster: { desired: 3, members: members(5, { 1: { answers: null }, 2: { lag: 5000 } }) },
      action: { type: "wait", reason: "RemovalUnsafe" },
      operation: null,
      condition: { status: "True", reason: "RemovalUnsafe" },
    },
    {
      name: "guard rail at RemoveMember: a member failed since the start; the operation is dropped",
      cluster: {
        desired: 3,
        members: members(5, { 1: { answers: null }, 2: { answers: null } }),
        operation: operation("ScaleDown", 4, "RemoveMember", "i4"),
      },
      action: { type: "wait", reason: "RemovalUnsafe" },
      operation: null,
    },
    {
      name: "an unhealthy unwanted member goes first (it only makes the quorum safer)",
      cluster: { desired: 3, members: members(5, { 3: { answers: null } }) },
      action: { type: "removeMember", member: key(3) },
      operation: { type: "ScaleDown", member: pod(3) },
    },
    {
      name: "a member below the top leaves the configuration; its pod waits for the ones above",
      cluster: {
        desired: 3,
        members: members(5, { 3: { as: "none", answers: null } }),
        operation: operation("ScaleDown", 3, "RemoveMember", "i3"),
      },
      action: { type: "complete" },
      operation: null,
    },
    {
      name: "an unwanted pod that is not a member is scaled away directly",
      cluster: { desired: 3, members: members(3, { 3: fresh("n1") }) },
      action: { type: "scaleStatefulSet", replicas: 3 },
      operation: { type: "ScaleDown", step: "ShrinkStatefulSet", member: pod(3) },
    },
    {
      name: "StatefulSet larger than wanted with no pods above: shrinks by one",
      cluster: { desired: 3, sts: 5, members: members(3) },
      action: { type: "scaleStatefulSet", replicas: 4 },
      operation: { type: "ScaleDown", member: pod(4) },
    },
    {
      name: "wanted again before the removal: the scale-down stops",
      cluster: {
        desired: 5,
        members: members(5),
        operation: operation("ScaleDown", 4, "RemoveMember", "i4"),
      },
      action: { type: "complete" },
      operation: null,
    },
    {
      name: "wanted again after the removal committed: the pod still goes (its data may not rejoin)",
      cluster: {
        desired: 5,
        members: members(4, { 4: { as: "none", joined: true } }),
        operation: operation("ScaleDown", 4, "RemoveMember", "i4"),
      },
      action: { type: "scaleStatefulSet", replicas: 4 },
      operation: { step: "ShrinkStatefulSet" },
    },
    {
      name: "2 → 1 with both healthy",
      cluster: { desired: 1, members: members(2) },
      action: { type: "removeMember", member: key(1) },
      operation: { type: "ScaleDown" },
    },
    {
      name: "2 → 1 with the other one down: no quorum to commit the removal",
      cluster: { desired: 1, members: members(2, { 1: { answers: null } }) },
      action: { type: "wait", reason: "RemovalUnsafe" },
      operation: null,
    },
  ]);
});

describe("replacing a member", () => {
  check([
    {
      name: "a member that lost its data (answers as a new incarnation) is evicted first",
      cluster: { desired: 3, members: members(3, { 1: { answers: "n1", joined: false, lag: 50_000 } }) },
      action: { type: "evictMember", member: key(1), leader: pod(0) },
      operation: { type: "ReplaceMember", member: pod(1), step: "EvictMember", incarnation: "i1" },
      condition: { reason: "ReplaceMember" },
    },
    {
      name: "a member unreachable past the window, pod not ready, is evicted",
      cluster: { desired: 3, members: members(3, { 2: { answers: null, unreachableFor: 31_000 } }) },
      action: { type: "evictMember", member: key(2) },
      operation: { type: "ReplaceMember", step: "EvictMember", incarnation: "i2" },
    },
    {
      name: "a member whose pod is gone for longer than the window is evicted",
      cluster: { desired: 3, members: members(3, { 2: { exists: false, unreachableFor: 31_000 } }) },
      action: { type: "evictMember", member: key(2) },
      operation: { type: "ReplaceMember" },
    },
    {
      name: "unreachable within the window: not replaced",
      cluster: { desired: 3, members: members(3, { 2: { answers: null, unreachableFor: 29_000 } }) },
      action: { type: "none" },
      operation: null,
    },
    {
      name: "unreachable past the window but its pod is still Ready: not replaced",
      cluster: {
        desired: 3,
        members: members(3, { 2: { answers: null, ready: true, unreachableFor: 90_000 } }),
      },
      action: { type: "none" },
      operation: null,
    },
    {
      name: "guard rail: the eviction would leave no healthy quorum: waits, no operation",
      cluster: {
        desired: 3,
        members: members(3, { 1: { answers: null }, 2: { answers: null, unreachableFor: 60_000 } }),
      },
      action: { type: "wait", reason: "ReplacementUnsafe" },
      operation: null,
    },
    {
      name: "guard rail: a single member that lost its data cannot be replaced",
      cluster: { desired: 1, members: { 0: { answers: "n1", joined: false } } },
      action: { type: "wait", reason: "ReplacementUnsafe" },
      operation: null,
    },
    {
      name: "a learner that lost its data is replaced too (no quorum at stake)",
      cluster: {
        desired: 4,
        members: members(3, { 3: { as: "learner", incarnation: "n1", answers: "n2", joined: false } }),
      },
      action: { type: "evictMember", member: key(3, "n1") },
      operation: { type: "ReplaceMember" },
    },
    {
      name: "replacement comes before scaling up",
      cluster: { desired: 5, members: members(3, { 1: { answers: "n1", joined: false } }) },
      action: { type: "evictMember", member: key(1) },
      operation: { type: "ReplaceMember" },
    },
    {
      name: "TransferLeadership: the member answers as itself again before anything happened: not replaced",
      cluster: {
        desired: 3,
        leader: 1,
        members: members(3),
        operation: operation("ReplaceMember", 1, "TransferLeadership", "i1"),
      },
      action: { type: "complete" },
      operation: null,
    },
    {
      name: "EvictMember resumed before the call: evicts",
      cluster: {
        desired: 3,
        members: members(3, { 1: { answers: "n1", joined: false } }),
        operation: operation("ReplaceMember", 1, "EvictMember", "i1"),
      },
      action: { type: "evictMember", member: key(1) },
      operation: { step: "EvictMember" },
    },
    {
      name: "EvictMember resumed after the eviction: the new incarnation is added",
      cluster: {
        desired: 3,
        members: members(2, { 2: fresh("n1") }),
        evicted: [key(2)],
        operation: operation("ReplaceMember", 2, "EvictMember", "i2"),
      },
      action: { type: "addLearner", member: key(2, "n1") },
      operation: { type: "ReplaceMember", step: "AddLearner", incarnation: "n1" },
    },
    {
      name: "EvictMember: the member answers again as itself: not replaced",
      cluster: {
        desired: 3,
        members: members(3),
        operation: operation("ReplaceMember", 2, "EvictMember", "i2"),
      },
      action: { type: "complete" },
      operation: null,
    },
    {
      name: "EvictMember: a member failed since the start; the operation is dropped",
      cluster: {
        desired: 3,
        members: members(3, { 0: { answers: null }, 2: { answers: null } }),
        leader: 1,
        operation: operation("ReplaceMember", 2, "EvictMember", "i2"),
      },
      action: { type: "wait", reason: "ReplacementUnsafe" },
      operation: null,
    },
    {
      name: "WaitForNewIncarnation: the old incarnation comes back with its data: the claim is wiped",
      cluster: {
        desired: 3,
        members: members(2, { 2: { as: "none", incarnation: "i2", evicted: true, joined: true } }),
        evicted: [key(2)],
        operation: operation("ReplaceMember", 2, "WaitForNewIncarnation"),
      },
      action: { type: "deleteClaim", claim: `data-${pod(2)}` },
      operation: { step: "WaitForNewIncarnation" },
    },
    {
      name: "WaitForNewIncarnation: claim deleting, pod still old: the pod is deleted",
      cluster: {
        desired: 3,
        members: members(2, { 2: { as: "none", evicted: true, claim: "terminating", joined: true } }),
        evicted: [key(2)],
        operation: operation("ReplaceMember", 2, "WaitForNewIncarnation"),
      },
      action: { type: "deletePod", pod: pod(2) },
      operation: { step: "WaitForNewIncarnation" },
    },
    {
      name: "WaitForNewIncarnation: the pod does not exist yet",
      cluster: {
        desired: 3,
        members: members(2, { 2: { as: "none", exists: false } }),
        evicted: [key(2)],
        operation: operation("ReplaceMember", 2, "WaitForNewIncarnation"),
      },
      action: { type: "wait", reason: "WaitingForPod" },
      operation: { step: "WaitForNewIncarnation" },
    },
    {
      name: "WaitForNewIncarnation: a voter evicted by this operation never returns under its key",
      cluster: {
        desired: 3,
        members: members(2, { 2: fresh("i2", { evicted: true, joined: true }) }),
        evicted: [key(2)],
        operation: operation("ReplaceMember", 2, "AddLearner", "i2"),
      },
      action: { type: "deleteClaim" },
      operation: { step: "WaitForNewIncarnation" },
    },
    {
      name: "Promote of the new incarnation, resumed after the call: complete",
      cluster: {
        desired: 3,
        members: members(3, { 2: { incarnation: "n1" } }),
        evicted: [key(2)],
        operation: operation("ReplaceMember", 2, "Promote", "n1"),
      },
      action: { type: "complete" },
      operation: null,
    },
    {
      name: "the replaced member's ordinal is no longer wanted: it becomes a scale-down",
      cluster: {
        desired: 2,
        members: members(3, { 2: { answers: "n1", joined: false } }),
        operation: operation("ReplaceMember", 2, "EvictMember", "i2"),
      },
      action: { type: "removeMember", member: key(2) },
      operation: { type: "ScaleDown", step: "RemoveMember" },
    },
  ]);
});

describe("rolling restart", () => {
  const outdated = (n: number, overrides: Record<number, MemberSketch> = {}) =>
    Object.fromEntries(
      Array.from({ length: n }, (_, ordinal) => [ordinal, { revision: "r1", ...overrides[ordinal] }]),
    ) as Record<number, MemberSketch>;
  check([
    {
      name: "followers first, highest ordinal first",
      cluster: { desired: 3, updateRevision: "r2", members: outdated(3) },
      action: { type: "deletePod", pod: pod(2) },
      operation: { type: "RestartMember", member: pod(2), step: "DeletePod", incarnation: "i2" },
      condition: { reason: "RestartMember" },
    },
    {
      name: "DeletePod resumed before the deletion: deletes",
      cluster: {
        desired: 3,
        updateRevision: "r2",
        members: outdated(3),
        operation: operation("RestartMember", 2, "DeletePod", "i2"),
      },
      action: { type: "deletePod", pod: pod(2) },
      operation: { step: "DeletePod" },
    },
    {
      name: "DeletePod resumed after the deletion (pod gone): waits for it",
      cluster: {
        desired: 3,
        updateRevision: "r2",
        members: outdated(3, { 2: { exists: false } }),
        operation: operation("RestartMember", 2, "DeletePod", "i2"),
      },
      action: { type: "wait", reason: "WaitingForRestart" },
      operation: { step: "WaitForRestart" },
    },
    {
      name: "WaitForRestart: back on the new revision but still catching up",
      cluster: {
        desired: 3,
        updateRevision: "r2",
        members: outdated(3, { 2: { revision: "r2", lag: 3000 } }),
        operation: operation("RestartMember", 2, "WaitForRestart", "i2"),
      },
      action: { type: "wait", reason: "WaitingForRestart" },
      operation: { step: "WaitForRestart" },
    },
    {
      name: "WaitForRestart: ready and caught up: complete",
      cluster: {
        desired: 3,
        updateRevision: "r2",
        members: outdated(3, { 2: { revision: "r2" } }),
        operation: operation("RestartMember", 2, "WaitForRestart", "i2"),
      },
      action: { type: "complete" },
      operation: null,
    },
    {
      name: "WaitForRestart: it came back as a new incarnation: complete (the replacement follows)",
      cluster: {
        desired: 3,
        updateRevision: "r2",
        members: outdated(3, { 2: { revision: "r2", answers: "n1", joined: false } }),
        operation: operation("RestartMember", 2, "WaitForRestart", "i2"),
      },
      action: { type: "complete" },
      operation: null,
    },
    {
      name: "the leader last, after transferring its leadership",
      cluster: {
        desired: 3,
        updateRevision: "r2",
        members: outdated(3, { 1: { revision: "r2" }, 2: { revision: "r2" } }),
      },
      action: { type: "transferLeadership", leader: pod(0), to: key(1) },
      operation: { type: "RestartMember", member: pod(0), step: "TransferLeadership" },
    },
    {
      name: "TransferLeadership resumed after the transfer: the old leader's pod is deleted",
      cluster: {
        desired: 3,
        leader: 1,
        updateRevision: "r2",
        members: outdated(3, { 1: { revision: "r2" }, 2: { revision: "r2" } }),
        operation: operation("RestartMember", 0, "TransferLeadership", "i0"),
      },
      action: { type: "deletePod", pod: pod(0) },
      operation: { step: "DeletePod" },
    },
    {
      name: "DeletePod: the member leads again: transfer first",
      cluster: {
        desired: 3,
        updateRevision: "r2",
        members: outdated(3, { 1: { revision: "r2" }, 2: { revision: "r2" } }),
        operation: operation("RestartMember", 0, "DeletePod", "i0"),
      },
      action: { type: "transferLeadership" },
      operation: { step: "TransferLeadership" },
    },
    {
      name: "no restart while a member is unhealthy",
      cluster: { desired: 3, updateRevision: "r2", members: outdated(3, { 1: { lag: 5000 } }) },
      action: { type: "wait", reason: "WaitingForHealthyMembers" },
      operation: null,
    },
    {
      name: "no restart while a pod is not ready",
      cluster: { desired: 3, updateRevision: "r2", members: outdated(3, { 1: { ready: false } }) },
      action: { type: "wait", reason: "WaitingForHealthyMembers" },
      operation: null,
    },
    {
      name: "DeletePod guard rail: a member failed since the start; the operation is dropped",
      cluster: {
        desired: 3,
        updateRevision: "r2",
        members: outdated(3, { 1: { answers: null } }),
        operation: operation("RestartMember", 2, "DeletePod", "i2"),
      },
      action: { type: "wait", reason: "RestartUnsafe" },
      operation: null,
    },
    {
      name: "a single member restarts without a transfer (there is nobody to take over)",
      cluster: { desired: 1, updateRevision: "r2", members: outdated(1) },
      action: { type: "deletePod", pod: pod(0) },
      operation: { type: "RestartMember", step: "DeletePod" },
    },
    {
      name: "membership comes before restarts",
      cluster: { desired: 4, updateRevision: "r2", members: outdated(3) },
      action: { type: "scaleStatefulSet", replicas: 4 },
      operation: { type: "ScaleUp" },
    },
  ]);
});

describe("conditions", () => {
  it("an operation waiting longer than the timeout is reported as stalled, and keeps going", () => {
    const result = plan({
      desired: 5,
      members: members(3, { 3: { as: "learner", incarnation: "n1", lag: 9999 } }),
      operation: operation("ScaleUp", 3, "CatchUp", "n1", 3_600_000),
    });
    expect(result.action).toMatchObject({ type: "wait", reason: "CatchingUp" });
    expect(result.condition).toMatchObject({ status: "True", reason: "Stalled" });
    expect(result.condition.message).toContain("CatchingUp");
  });

  it("messages name the member, the step and what happens", () => {
    const result = plan({ desired: 3, members: members(5) });
    expect(result.condition.message).toBe(
      "ScaleDown of demo-4#i4 (step RemoveMember): removing demo-4#i4 from the configuration; started 0s ago.",
    );
  });
});
