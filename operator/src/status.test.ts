import { describe, expect, it } from "vitest";
import type { PaxosMemberHealth, PaxosMemberStatus } from "./builders/index.ts";
import type { MemberAssessment } from "./members.ts";
import { type ClusterCondition, computeStatus, kubernetesTime, type ObservedCluster } from "./status.ts";

const noMembers: MemberAssessment = {
  members: [],
  leader: undefined,
  configuration: undefined,
  voters: 0,
  healthyVoters: 0,
  formed: false,
  leaderContactAgeMs: new Map(),
};

const member = (name: string, health: PaxosMemberHealth, voter = true): PaxosMemberStatus => ({
  name,
  incarnation: `${name}-inc`,
  health,
  voter,
});

/** A formed cluster of `voters` members in which the listed ones are not healthy. */
const formed = (
  voters: number,
  unhealthy: Record<string, PaxosMemberStatus["health"]> = {},
): MemberAssessment => {
  const members = Array.from({ length: voters }, (_, ordinal) => {
    const name = `orders-${ordinal}`;
    return member(name, unhealthy[name] ?? "healthy");
  });
  return {
    members,
    leader: "orders-0",
    configuration: {
      voters: members.map((m) => `${m.name}#${m.incarnation}`),
      learners: [],
      fenced: [],
      evicted: [],
    },
    voters,
    healthyVoters: members.filter((m) => m.health === "healthy").length,
    formed: true,
    leaderContactAgeMs: new Map(),
  };
};

const observed = (overrides: Partial<ObservedCluster> = {}): ObservedCluster => ({
  generation: 2,
  desiredReplicas: 3,
  podsFound: 0,
  podsReady: 0,
  statefulSetReplicas: 3,
  selector: "app.kubernetes.io/instance=orders,app.kubernetes.io/name=paxos-replica",
  members: noMembers,
  bootstrapped: false,
  paused: false,
  previousPhase: undefined,
  previousConditions: [],
  now: "2026-01-01T00:00:10Z",
  ...overrides,
});

const byType = (conditions: readonly ClusterCondition[], type: string) =>
  conditions.find((condition) => condition.type === type);

describe("computeStatus", () => {
  it("reports a cluster without pods as Pending, not available, not formed", () => {
    const status = computeStatus(observed());
    expect(status).toMatchObject({
      observedGeneration: 2,
      phase: "Pending",
      replicas: 0,
      readyReplicas: 0,
      leader: null,
      bootstrapped: false,
      members: [],
    });
    expect(status.selector).toBe("app.kubernetes.io/instance=orders,app.kubernetes.io/name=paxos-replica");
    expect(byType(status.conditions, "Available")).toEqual({
      type: "Available",
      status: "False",
      reason: "NoMembers",
      message: "No member's pod exists yet; the 3 initial members form the cluster once they start.",
      observedGeneration: 2,
      lastTransitionTime: "2026-01-01T00:00:10Z",
    });
    expect(byType(status.conditions, "Progressing")).toMatchObject({
      status: "True",
      reason: "WaitingForMembers",
    });
    expect(byType(status.conditions, "Degraded")).toMatchObject({ status: "False", reason: "NotAvailable" });
    expect(byType(status.conditions, "QuorumAtRisk")).toMatchObject({
      status: "Unknown",
      reason: "NotFormed",
    });
    expect(byType(status.conditions, "Paused")).toMatchObject({ status: "False", reason: "Reconciling" });
  });

  it("is Bootstrapping while pods exist but the members have not formed the cluster", () => {
    const status = computeStatus(observed({ podsFound: 3, podsReady: 0 }));
    expect(status.phase).toBe("Bootstrapping");
    expect(byType(status.conditions, "Available")).toMatchObject({
      status: "False",
      reason: "Bootstrapping",
      message: "The initial members have not formed the cluster yet: 3 of 3 pods exist, 0 are ready.",
    });
  });

  it("says the StatefulSet is being scaled while its replicas differ from the spec", () => {
    const status = computeStatus(observed({ desiredReplicas: 5, statefulSetReplicas: 3, podsFound: 3 }));
    expect(byType(status.conditions, "Progressing")).toMatchObject({
      status: "True",
      reason: "ScalingStatefulSet",
    });
  });

  it("records the bootstrap once the members formed the cluster, and keeps it", () => {
    const running = computeStatus(observed({ podsFound: 3, podsReady: 3, members: formed(3) }));
    expect(running).toMatchObject({ phase: "Running", bootstrapped: true, leader: "orders-0" });
    expect(byType(running.conditions, "Available")).toMatchObject({
      status: "True",
      reason: "QuorumHealthy",
      message: "3 of 3 voting members are healthy (a quorum is 2); orders-0 leads.",
    });
    expect(byType(running.conditions, "Progressing")).toMatchObject({ status: "False", reason: "Settled" });
    expect(byType(running.conditions, "QuorumAtRisk")).toMatchObject({
      status: "False",
      reason: "FaultTolerant",
      message: "The cluster keeps its quorum through 1 more member failure.",
    });
    // Every member unreachable afterwards: still bootstrapped, now without a leader.
    const dark = computeStatus(observed({ podsFound: 3, bootstrapped: true, previousPhase: "Running" }));
    expect(dark).toMatchObject({ phase: "Degraded", bootstrapped: true, leader: null });
    expect(byType(dark.conditions, "Available")).toMatchObject({ status: "False", reason: "NoLeader" });
    expect(byType(dark.conditions, "QuorumAtRisk")).toMatchObject({ status: "True", reason: "NoQuorum" });
  });

  it("is Degraded and at risk with one of three members unhealthy", () => {
    const status = computeStatus(
      observed({ podsFound: 3, podsReady: 2, members: formed(3, { "orders-2": "unreachable" }) }),
    );
    expect(status.phase).toBe("Degraded");
    expect(byType(status.conditions, "Available")).toMatchObject({ status: "True" });
    expect(byType(status.conditions, "Degraded")).toMatchObject({
      status: "True",
      reason: "MembersUnhealthy",
      message: "Not healthy: orders-2 (unreachable).",
    });
    expect(byType(status.conditions, "QuorumAtRisk")).toMatchObject({
      status: "True",
      reason: "OneFailureFromQuorumLoss",
    });
  });

  it("is not available when a majority of voters is unhealthy, even with a leader", () => {
    const status = computeStatus(
      observed({
        podsFound: 3,
        podsReady: 1,
        members: formed(3, { "orders-1": "lagging", "orders-2": "fenced" }),
        previousPhase: "Running",
      }),
    );
    expect(status.phase).toBe("Degraded");
    expect(byType(status.conditions, "Available")).toMatchObject({
      status: "False",
      reason: "QuorumUnhealthy",
      message: "Only 1 of 3 voting members are healthy; a quorum needs 2.",
    });
  });

  it("is not available until a quorum of pods passes readiness, and Running only when all do", () => {
    const formedNotReady = computeStatus(observed({ podsFound: 3, podsReady: 1, members: formed(3) }));
    expect(formedNotReady).toMatchObject({ phase: "Bootstrapping", bootstrapped: true, leader: "orders-0" });
    expect(byType(formedNotReady.conditions, "Available")).toMatchObject({
      status: "False",
      reason: "PodsNotReady",
      message:
        "3 of 3 voting members are healthy and orders-0 leads, but only 1 pods pass their readiness probe (a quorum is 2); clients reach only ready pods.",
    });
    const almost = computeStatus(
      observed({ podsFound: 3, podsReady: 2, members: formed(3), previousPhase: "Bootstrapping" }),
    );
    expect(almost.phase).toBe("Degraded");
    expect(byType(almost.conditions, "Degraded")).toMatchObject({
      status: "True",
      reason: "PodsNotReady",
      message: "2 of 3 pods pass their readiness probe.",
    });
    // Once it has been up, losing readiness below quorum is Degraded, not Bootstrapping.
    const lost = computeStatus(
      observed({ podsFound: 3, podsReady: 1, members: formed(3), previousPhase: "Running" }),
    );
    expect(lost.phase).toBe("Degraded");
  });

  it("says a single member has no redundancy", () => {
    const status = computeStatus(
      observed({
        desiredReplicas: 1,
        statefulSetReplicas: 1,
        podsFound: 1,
        podsReady: 1,
        members: formed(1),
      }),
    );
    expect(status.phase).toBe("Running");
    expect(byType(status.conditions, "QuorumAtRisk")).toMatchObject({
      status: "True",
      reason: "SingleMember",
    });
  });

  it("reports a paused spec", () => {
    const status = computeStatus(observed({ paused: true }));
    expect(byType(status.conditions, "Paused")).toMatchObject({ status: "True", reason: "SpecPaused" });
  });

  it("keeps lastTransitionTime while a condition's status stays the same", () => {
    const first = computeStatus(observed({ now: "2026-01-01T00:00:00Z" }));
    const second = computeStatus(
      observed({
        now: "2026-01-01T00:05:00Z",
        podsFound: 3,
        podsReady: 3,
        members: formed(3),
        previousConditions: first.conditions,
      }),
    );
    // Available flipped to True; Paused stayed False.
    expect(byType(second.conditions, "Available")?.lastTransitionTime).toBe("2026-01-01T00:05:00Z");
    expect(byType(second.conditions, "Paused")?.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
  });
});

describe("kubernetesTime", () => {
  it("drops the fractional seconds", () => {
    expect(kubernetesTime(new Date("2026-03-04T05:06:07.891Z"))).toBe("2026-03-04T05:06:07Z");
  });

  describe("while the membership changes", () => {
    const scaling = {
      type: "MembershipChanging",
      status: "True" as const,
      reason: "ScaleUp",
      message: "ScaleUp of orders-3 (step CatchUp): waiting for it to catch up.",
    };
    // Three voters and a fourth pod that is a learner still catching up, spec.replicas 5.
    const joining = (): MemberAssessment => {
      const three = formed(3);
      return { ...three, members: [...three.members, member("orders-3", "lagging", false)] };
    };
    /** spec.replicas 5, the StatefulSet at 4, after three Running voters. */
    const growing = (overrides: Partial<ObservedCluster>) =>
      computeStatus(
        observed({
          desiredReplicas: 5,
          podsFound: 4,
          podsReady: 3,
          statefulSetReplicas: 4,
          members: joining(),
          bootstrapped: true,
          previousPhase: "Running",
          ...overrides,
        }),
      );

    it("measures the cluster against its voters: a joining learner does not make it Degraded", () => {
      const status = growing({ membership: scaling });
      expect(status.phase).toBe("Running");
      expect(byType(status.conditions, "Degraded")).toMatchObject({ status: "False" });
      expect(byType(status.conditions, "Progressing")).toMatchObject({
        status: "True",
        reason: "MembershipChanging",
        message: scaling.message,
      });
      expect(byType(status.conditions, "MembershipChanging")).toMatchObject({
        ...scaling,
        observedGeneration: 2,
      });
    });

    it("still reports a voter that is down as Degraded", () => {
      const status = growing({
        podsFound: 3,
        podsReady: 2,
        members: formed(3, { "orders-2": "unreachable" }),
        membership: scaling,
      });
      expect(status.phase).toBe("Degraded");
      expect(byType(status.conditions, "Degraded")?.message).toContain("orders-2 (unreachable)");
    });

    it("without a change under way, fewer members than spec.replicas is Degraded", () => {
      const status = growing({});
      expect(status.phase).toBe("Degraded");
      expect(byType(status.conditions, "MembershipChanging")).toBeUndefined();
    });
  });

  describe("QuorumLost", () => {
    it("is True, naming the missing voters, when fewer than a quorum answer", () => {
      const status = computeStatus(
        observed({
          podsFound: 1,
          podsReady: 0,
          members: formed(3, { "orders-1": "unreachable", "orders-2": "unreachable" }),
          bootstrapped: true,
          previousPhase: "Running",
        }),
      );
      const lost = byType(status.conditions, "QuorumLost");
      expect(lost).toMatchObject({ status: "True", reason: "VotersUnreachable" });
      expect(lost?.message).toContain("Only 1 of 3 voting members answer");
      expect(lost?.message).toContain("orders-1, orders-2");
      expect(status.phase).toBe("Degraded");
    });

    it("counts a lagging or fenced voter as present: it still votes", () => {
      const status = computeStatus(
        observed({
          podsFound: 3,
          podsReady: 1,
          members: formed(3, { "orders-1": "lagging", "orders-2": "fenced" }),
          bootstrapped: true,
          previousPhase: "Running",
        }),
      );
      expect(byType(status.conditions, "QuorumLost")).toMatchObject({
        status: "False",
        reason: "QuorumPresent",
      });
    });

    it("is Unknown before the cluster forms", () => {
      expect(byType(computeStatus(observed()).conditions, "QuorumLost")).toMatchObject({
        status: "Unknown",
        reason: "NotFormed",
      });
    });
  });
});
