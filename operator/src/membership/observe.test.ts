import type { V1PersistentVolumeClaim, V1Pod, V1StatefulSet } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { testCluster } from "../builders/testFixtures.ts";
import { answeredProbe, ordersConfiguration } from "../memberFixtures.ts";
import { assessMembers, type MemberProbe } from "../members.ts";
import { claimName, membershipInput } from "./observe.ts";
import { planMembership } from "./planner.ts";

const now = Date.parse("2030-01-01T00:00:00Z");
const nowText = "2030-01-01T00:00:00Z";
const configuration = ordersConfiguration;

function podOf(name: string, options: { ready?: boolean; revision?: string; ip?: string } = {}): V1Pod {
  return {
    metadata: { name, labels: { "controller-revision-hash": options.revision ?? "orders-r1" } },
    status: {
      ...(options.ip === undefined ? {} : { podIP: options.ip }),
      conditions: [{ type: "Ready", status: options.ready === false ? "False" : "True" }],
    },
  };
}

const statefulSet = (replicas: number, generation = 2, observed = 2): V1StatefulSet => ({
  metadata: { name: "orders", generation },
  spec: { replicas, selector: {}, serviceName: "orders-peers", template: {} },
  status: { replicas, observedGeneration: observed, updateRevision: "orders-r2" },
});

const claim = (pod: string, terminating = false): V1PersistentVolumeClaim => ({
  metadata: { name: claimName(pod), ...(terminating ? { deletionTimestamp: new Date() } : {}) },
});

function observe(
  probes: MemberProbe[],
  pods: V1Pod[],
  claims: V1PersistentVolumeClaim[] = [],
  replicas = 3,
  sts = statefulSet(3),
) {
  const cluster = testCluster({ replicas }, { status: { bootstrapped: true } });
  return membershipInput({
    cluster,
    statefulSet: sts,
    pods,
    claims,
    probes,
    assessment: assessMembers(probes, [], nowText),
    bootstrapped: true,
    now,
  });
}

describe("membershipInput", () => {
  it("describes every pod and configured member with its pod, claim and report", () => {
    const input = observe(
      [
        answeredProbe("orders-0", "a", { role: "leader", leader: undefined }),
        answeredProbe("orders-1", "b", { appliedIndex: 20 }),
        { pod: "orders-2", ok: false, error: "no answer" },
      ],
      [podOf("orders-0"), podOf("orders-1", { revision: "orders-r2" }), podOf("orders-2", { ready: false })],
      [claim("orders-0"), claim("orders-1"), claim("orders-2", true)],
    );
    const byPod = new Map(input.members.map((member) => [member.pod, member]));
    expect(input.leader).toBe("orders-0");
    expect(input.configuration).toEqual(configuration);
    expect(input.updateRevision).toBe("orders-r2");
    expect(input.claimPolicy).toBe("Delete");
    expect(input.thresholds.unreachableWindowMs).toBe(300_000);
    expect(byPod.get("orders-0")).toMatchObject({
      podExists: true,
      podReady: true,
      podRevision: "orders-r1",
      claim: { name: "data-orders-0", terminating: false },
      report: { incarnation: "a", role: "leader", lag: 0, joined: true },
      unreachableSinceMs: undefined,
    });
    expect(byPod.get("orders-1")?.report?.lag).toBe(30);
    expect(byPod.get("orders-2")).toMatchObject({
      podReady: false,
      claim: { terminating: true },
      report: undefined,
      unreachableSinceMs: now,
    });
  });

  it("names configured members whose pod is gone, and tells a fresh data directory from a joined one", () => {
    const fresh = { voters: [], learners: [], fenced: [], evicted: [] };
    const input = observe(
      [
        answeredProbe("orders-0", "a", { role: "leader", leader: undefined }),
        answeredProbe("orders-3", "z", { configuration: fresh }),
      ],
      [podOf("orders-0"), podOf("orders-3")],
    );
    const byPod = new Map(input.members.map((member) => [member.pod, member]));
    expect(byPod.get("orders-1")).toMatchObject({ podExists: false, claim: undefined });
    expect(byPod.get("orders-3")?.report?.joined).toBe(false);
  });

  it("restarts no one against a revision the StatefulSet controller has not caught up with", () => {
    const input = observe([], [], [], 3, statefulSet(3, 3, 2));
    expect(input.updateRevision).toBeUndefined();
  });

  it("feeds the planner: a settled cluster plans nothing, a larger spec.replicas grows the StatefulSet", () => {
    const probes = [
      answeredProbe("orders-0", "a", { role: "leader", leader: undefined }),
      answeredProbe("orders-1", "b"),
      answeredProbe("orders-2", "c"),
    ];
    const pods = ["orders-0", "orders-1", "orders-2"].map((name) => podOf(name, { revision: "orders-r2" }));
    expect(planMembership(observe(probes, pods)).action).toEqual({ type: "none" });
    expect(planMembership(observe(probes, pods, [], 4)).action).toEqual({
      type: "scaleStatefulSet",
      replicas: 4,
    });
  });
});
