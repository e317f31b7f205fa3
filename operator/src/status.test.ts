import { describe, expect, it } from "vitest";
import { type ClusterCondition, computeStatus, kubernetesTime, type ObservedCluster } from "./status.ts";

const observed = (overrides: Partial<ObservedCluster> = {}): ObservedCluster => ({
  generation: 2,
  desiredReplicas: 3,
  podsFound: 0,
  podsReady: 0,
  statefulSetReplicas: 3,
  selector: "app.kubernetes.io/instance=orders,app.kubernetes.io/name=paxos-replica",
  previousConditions: [],
  now: "2026-01-01T00:00:10Z",
  ...overrides,
});

const byType = (conditions: readonly ClusterCondition[], type: string) =>
  conditions.find((condition) => condition.type === type);

describe("computeStatus", () => {
  it("reports a cluster without ready pods as Pending and not available", () => {
    const status = computeStatus(observed({ podsFound: 3 }));
    expect(status).toMatchObject({ observedGeneration: 2, phase: "Pending", replicas: 3, readyReplicas: 0 });
    expect(status.selector).toBe("app.kubernetes.io/instance=orders,app.kubernetes.io/name=paxos-replica");
    expect(byType(status.conditions, "Available")).toEqual({
      type: "Available",
      status: "False",
      reason: "NoReadyMembers",
      message: "No member is ready yet (3 of 3 pods exist); a quorum needs 2 ready members.",
      observedGeneration: 2,
      lastTransitionTime: "2026-01-01T00:00:10Z",
    });
    expect(byType(status.conditions, "Progressing")).toMatchObject({
      status: "True",
      reason: "WaitingForMembers",
    });
    expect(byType(status.conditions, "Degraded")).toMatchObject({
      status: "False",
      reason: "NotYetAvailable",
    });
  });

  it("says the StatefulSet is being scaled while its replicas differ from the spec", () => {
    const status = computeStatus(observed({ desiredReplicas: 5, statefulSetReplicas: 3, podsFound: 3 }));
    expect(byType(status.conditions, "Progressing")).toMatchObject({
      status: "True",
      reason: "ScalingStatefulSet",
    });
  });

  it("is Degraded below quorum and when a minority is not ready, Running when all are", () => {
    expect(computeStatus(observed({ podsFound: 3, podsReady: 1 })).phase).toBe("Degraded");
    expect(
      byType(computeStatus(observed({ podsFound: 3, podsReady: 1 })).conditions, "Available"),
    ).toMatchObject({
      status: "False",
      reason: "QuorumNotReady",
    });
    const minorityDown = computeStatus(observed({ podsFound: 3, podsReady: 2 }));
    expect(minorityDown.phase).toBe("Degraded");
    expect(byType(minorityDown.conditions, "Available")).toMatchObject({
      status: "True",
      reason: "QuorumReady",
    });
    expect(byType(minorityDown.conditions, "Degraded")).toMatchObject({
      status: "True",
      reason: "MembersNotReady",
    });
    const healthy = computeStatus(observed({ podsFound: 3, podsReady: 3 }));
    expect(healthy.phase).toBe("Running");
    expect(byType(healthy.conditions, "Progressing")).toMatchObject({ status: "False", reason: "Settled" });
    expect(byType(healthy.conditions, "Degraded")).toMatchObject({
      status: "False",
      reason: "AllMembersReady",
    });
  });

  it("keeps lastTransitionTime while a condition's status stays the same", () => {
    const first = computeStatus(observed({ now: "2026-01-01T00:00:00Z" }));
    const second = computeStatus(
      observed({
        now: "2026-01-01T00:05:00Z",
        podsFound: 3,
        podsReady: 3,
        previousConditions: first.conditions,
      }),
    );
    // Available flipped to True; Degraded stayed False.
    expect(byType(second.conditions, "Available")?.lastTransitionTime).toBe("2026-01-01T00:05:00Z");
    expect(byType(second.conditions, "Degraded")?.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
  });
});

describe("kubernetesTime", () => {
  it("drops the fractional seconds", () => {
    expect(kubernetesTime(new Date("2026-03-04T05:06:07.891Z"))).toBe("2026-03-04T05:06:07Z");
  });
});
