import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { testCluster } from "../builders/testFixtures.ts";
import { answeredProbe, ordersConfiguration } from "../memberFixtures.ts";
import { assessMembers } from "../members.ts";
import { fencingInput } from "./observe.ts";
import { planFencing } from "./planner.ts";

const nowText = "2030-01-01T00:01:00Z";
const now = Date.parse(nowText);
const _configuration = ordersConfiguration;

const pod = (name: string, node: string, terminating = false): V1Pod => ({
  metadata: { name, ...(terminating ? { deletionTimestamp: new Date() } : {}) },
  spec: { nodeName: node, containers: [] },
  status: { conditions: [{ type: "Ready", status: "True" }] },
});

describe("fencingInput", () => {
  const leader = answeredProbe("orders-0", "a", {
    role: "leader",
    leader: undefined,
    peers: [
      { member: "orders-1#b", idleTicks: 1 },
      { member: "orders-2#c", idleTicks: 200 },
    ],
  });
  const probes = [
    leader,
    answeredProbe("orders-1", "b"),
    { pod: "orders-2", ok: false as const, error: "timeout" },
  ];
  const previous = [
    {
      name: "orders-2",
      incarnation: "c",
      health: "unreachable" as const,
      unreachableSince: "2030-01-01T00:00:00Z",
    },
  ];
  const assessment = assessMembers(probes, previous, nowText, { tickMs: 50, heardWithinMs: 1000 });
  const cluster = testCluster(
    { fencing: { automatic: true, unreachableWindowSeconds: 30, forceDeleteOnLostNode: true } },
    { status: { bootstrapped: true } },
  );
  const annotated = {
    ...cluster,
    metadata: { ...cluster.metadata, annotations: { "paxos.dev/fenced-members": '["orders-1"]' } },
  };
  const nodes = new Map([
    ["node-a", { ready: true, notReadySince: undefined }],
    ["node-c", { ready: false, notReadySince: "2030-01-01T00:00:10Z" }],
  ]);
  const observe = (subject = cluster) =>
    fencingInput({
      cluster: subject,
      pods: [pod("orders-0", "node-a"), pod("orders-1", "node-a"), pod("orders-2", "node-c", true)],
      probes,
      assessment,
      nodes,
      membershipBusy: false,
      now,
    });

  it("describes each member as both observers and its Node see it", () => {
    const input = observe();
    const byPod = new Map(input.members.map((member) => [member.pod, member]));
    expect(input.leader).toBe("orders-0");
    expect(input.settings).toMatchObject({
      automatic: true,
      unreachableWindowMs: 30_000,
      forceDeleteOnLostNode: true,
    });
    expect(input.manual).toEqual({ members: [], all: false });
    expect(byPod.get("orders-1")).toMatchObject({
      reachable: true,
      leaderContactAgeMs: 50,
      reachableSinceMs: now,
      caughtUp: true,
    });
    expect(byPod.get("orders-2")).toMatchObject({
      reachable: false,
      unreachableSinceMs: Date.parse("2030-01-01T00:00:00Z"),
      leaderContactAgeMs: 10_000,
      podTerminating: true,
      nodeName: "node-c",
      node: { ready: false, notReadySinceMs: Date.parse("2030-01-01T00:00:10Z") },
    });
  });

  it("reads the annotation, and feeds the planner, which will not fence below a healthy quorum", () => {
    const input = observe(annotated);
    expect(input.manual).toEqual({ members: ["orders-1"], all: false });
    // orders-2 is unreachable: fencing orders-1 too would leave one healthy unfenced voter.
    const plan = planFencing(input);
    expect(plan.action.type).toBe("wait");
    expect(plan.action.type === "wait" ? plan.action.message : "").toContain("orders-1");
  });

  it("counts a member that answers but no longer follows the majority's leader as cut off", () => {
    const isolated = answeredProbe("orders-1", "b", { role: "preCandidate", leader: undefined });
    const cutLeader = answeredProbe("orders-0", "a", {
      role: "leader",
      leader: undefined,
      peers: [
        { member: "orders-1#b", idleTicks: 300 },
        { member: "orders-2#c", idleTicks: 1 },
      ],
    });
    const seen = [cutLeader, isolated, answeredProbe("orders-2", "c")];
    const input = fencingInput({
      cluster,
      pods: [pod("orders-0", "node-a"), pod("orders-1", "node-a"), pod("orders-2", "node-a")],
      probes: seen,
      assessment: assessMembers(seen, [], nowText, { tickMs: 50, heardWithinMs: 1000 }),
      nodes,
      membershipBusy: false,
      now,
    });
    const member = input.members.find((candidate) => candidate.pod === "orders-1");
    expect(member).toMatchObject({
      reachable: false,
      unreachableSinceMs: now - 15_000,
      leaderContactAgeMs: 15_000,
    });
    expect(input.members.find((candidate) => candidate.pod === "orders-2")?.reachable).toBe(true);
  });
});
