// Membership changes end to end: scaling up and down under client load, the operator
// crash-restarted at each step of a change, a member partitioned during a scale-up and one
// wiped during a scale-down, and a rolling image change. Every history goes through the
// linearizability checker, and the times the issue asks for are printed (`make e2e`).
import { setTimeout as sleep } from "node:timers/promises";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxUnavailableMembers } from "../../operator/src/builders/index.ts";
import { historyNowMs, longestWriteGap, runLoad } from "../support/load.ts";
import { waitFor } from "../support/waitFor.ts";
import { expectLinearizable, keysFor, startCheckedLoad } from "./checkedLoad.ts";
import {
  closeScenario,
  condition,
  createPaxosCluster,
  group,
  isHealthy,
  type Kube,
  openScenario,
  type PaxosClusterObject,
  plural,
  podMembers,
  readPaxosCluster,
  version,
  waitForCluster,
} from "./support.ts";
import type { E2eTarget } from "./targets/target.ts";

const name = "ledger";
const pod = (ordinal: number) => `${name}-${ordinal}`;

interface OperationRecord {
  type: string;
  member?: string;
  step: string;
}

const operationOf = (cluster: PaxosClusterObject) =>
  (cluster.status as { operation?: OperationRecord } | undefined)?.operation;

describe("membership changes end to end", () => {
  let target: E2eTarget;
  let kube: Kube;
  const namespace = `e2e-members-${Date.now().toString(36)}`;
  const report = (what: string, ms: number) => console.log(`[e2e] ${what}: ${ms} ms`);

  const startLoad = (scenario: string, members: readonly string[]) =>
    startCheckedLoad(target, namespace, scenario, members);

  const setSpec = (spec: Record<string, unknown>) =>
    kube.objects.patchNamespacedCustomObject(
      { group, version, namespace, plural, name, body: { spec } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );

  /** Settled at `replicas`: every member votes, is healthy and Ready, no operation is left. */
  const settled = (replicas: number) => (cluster: PaxosClusterObject) =>
    isHealthy(cluster, replicas) &&
    cluster.spec.replicas === replicas &&
    operationOf(cluster) === undefined &&
    condition(cluster, "MembershipChanging")?.status === "False" &&
    (cluster.status?.members ?? []).length === replicas;

  /** The steps the status recorded while `until` runs, in the order first seen. */
  const recordSteps = (until: Promise<unknown>) => {
    const seen: string[] = [];
    /** When each step was first seen, on the load history's clock. */
    const times: number[] = [];
    let done = false;
    void until.finally(() => {
      done = true;
    });
    const polling = (async () => {
      while (!done) {
        const operation = operationOf(
          await readPaxosCluster(kube, namespace, name).catch(() => undefined as never),
        );
        const label =
          operation === undefined
            ? undefined
            : `${operation.type} ${operation.member ?? "-"} ${operation.step}`;
        if (label !== undefined && seen.at(-1) !== label) {
          seen.push(label);
          times.push(historyNowMs());
        }
        await sleep(100);
      }
    })();
    return { seen, times, polling };
  };

  const scaleTo = async (replicas: number) => {
    const from = (await readPaxosCluster(kube, namespace, name)).spec.replicas;
    const started = performance.now();
    await setSpec({ replicas });
    const waiting = waitForCluster(
      kube,
      namespace,
      name,
      settled(replicas),
      `the cluster to settle at ${replicas}`,
      240_000,
    );
    const steps = recordSteps(waiting);
    const { cluster } = await waiting;
    await steps.polling;
    const elapsed = Math.round(performance.now() - started);
    report(`scale ${from} → ${replicas} under load`, elapsed);
    console.log(`[e2e] steps seen: ${steps.seen.join(", ")}`);
    return { cluster, steps: steps.seen, elapsed };
  };

  /** What must hold once the cluster settled at `replicas`. */
  const expectSettledObjects = async (replicas: number) => {
    const cluster = await readPaxosCluster(kube, namespace, name);
    const expected = Array.from({ length: replicas }, (_, ordinal) => pod(ordinal));
    expect(cluster.status?.members?.map((member) => member.name)).toEqual(expected);
    expect(
      cluster.status?.members?.every((member) => member.voter === true && member.health === "healthy"),
    ).toBe(true);
    const statefulSet = await kube.apps.readNamespacedStatefulSet({ namespace, name });
    expect(statefulSet.spec?.replicas).toBe(replicas);
    const pdb = await kube.policy.readNamespacedPodDisruptionBudget({ namespace, name });
    expect(pdb.spec?.maxUnavailable).toBe(maxUnavailableMembers(replicas));
    // Scaled-away members' claims are deleted (spec.storage.whenScaledDown: Delete).
    const claims = await kube.core.listNamespacedPersistentVolumeClaim({
      namespace,
      labelSelector: `app.kubernetes.io/instance=${name}`,
    });
    const live = claims.items.filter((claim) => claim.metadata?.deletionTimestamp === undefined);
    expect(live.map((claim) => claim.metadata?.name).sort()).toEqual(
      expected.map((member) => `data-${member}`).sort(),
    );
    return cluster;
  };

  beforeAll(async () => {
    ({ target, kube } = await openScenario(namespace));
    await createPaxosCluster(kube, namespace, name, {
      replicas: 3,
      image: target.replicaImage,
      storage: { size: "256Mi" },
      resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "512Mi" } },
    });
    await waitForCluster(kube, namespace, name, settled(3), "the new cluster to settle at 3 members");
  });

  afterAll(() => closeScenario(target, kube, namespace));

  it("scales 3 → 5 → 3 → 1 → 3 under load, one member at a time, without losing a write", async () => {
    const load = startLoad("scaling", [pod(0)]);
    const before = await readPaxosCluster(kube, namespace, name);
    const incarnationOf = (cluster: PaxosClusterObject, member: string) =>
      cluster.status?.members?.find((candidate) => candidate.name === member)?.incarnation;

    const up = await scaleTo(5);
    // One member at a time, each through the whole join: pod 3 before pod 4.
    expect(up.steps.every((step) => step.startsWith("ScaleUp "))).toBe(true);
    const joined = up.steps.map((step) => step.split(" ")[1]);
    expect(joined.lastIndexOf(pod(3))).toBeLessThan(joined.indexOf(pod(4)));
    expect(joined).toContain(pod(4));
    await expectSettledObjects(5);

    const down = await scaleTo(3);
    expect(down.steps.every((step) => step.startsWith("ScaleDown "))).toBe(true);
    const left = down.steps.map((step) => step.split(" ")[1]);
    expect(left.lastIndexOf(pod(4))).toBeLessThan(left.indexOf(pod(3)));
    await expectSettledObjects(3);

    await scaleTo(1);
    const single = await expectSettledObjects(1);
    expect(single.status?.leader).toBe(pod(0));
    expect(incarnationOf(single, pod(0))).toBe(incarnationOf(before, pod(0)));

    // Back to 3: the members that left come back as new incarnations, never as themselves.
    await scaleTo(3);
    const after = await expectSettledObjects(3);
    for (const member of [pod(1), pod(2)])
      expect(incarnationOf(after, member)).not.toBe(incarnationOf(before, member));

    const result = await load.finish("e2e-scaling");
    expect(result.stats.ok).toBeGreaterThan(100);
  });

  it("finishes a scale-up and a scale-down with the operator crash-restarted at each step", async () => {
    const load = startLoad("operator-killed", [pod(0)]);
    const killedAt: string[] = [];
    /** Restarts the operator as soon as the status records each of `steps` (a step it never records is skipped). */
    const crashAtEachStep = async (type: string, replicas: number, steps: readonly string[]) => {
      await setSpec({ replicas });
      for (const [index, step] of steps.entries()) {
        const reached = await waitFor(
          async () => {
            const cluster = await readPaxosCluster(kube, namespace, name);
            const operation = operationOf(cluster);
            if (operation === undefined)
              return settled(replicas)(cluster) ? { done: true as const } : undefined;
            const at = steps.indexOf(operation.step);
            return operation.type === type && at >= index
              ? { done: false as const, operation, at }
              : undefined;
          },
          { description: `the ${type} to reach ${step}`, timeoutMs: 120_000, intervalMs: 50 },
        );
        if (reached.done) break;
        if (reached.at !== index) continue;
        await target.restartOperator();
        killedAt.push(`${type} ${reached.operation.member} ${step}`);
      }
      await waitForCluster(
        kube,
        namespace,
        name,
        settled(replicas),
        `the ${type} to finish after the restarts`,
      );
    };
    await crashAtEachStep("ScaleUp", 4, [
      "GrowStatefulSet",
      "WaitForPod",
      "AddLearner",
      "CatchUp",
      "Promote",
    ]);
    await expectSettledObjects(4);
    await crashAtEachStep("ScaleDown", 3, [
      "TransferLeadership",
      "RemoveMember",
      "ShrinkStatefulSet",
      "WaitForPodGone",
      "DeleteClaim",
    ]);
    await expectSettledObjects(3);
    console.log(`[e2e] operator killed at: ${killedAt.join(", ")}`);
    expect(new Set(killedAt).size).toBeGreaterThanOrEqual(5);
    await load.finish("e2e-operator-killed");
  });

  it("scales up with a member partitioned, and down with a member wiped, both ending healthy", async () => {
    const before = await readPaxosCluster(kube, namespace, name);
    const leader = before.status?.leader;
    const victim = [pod(1), pod(2)].find((member) => member !== leader) as string;
    const load = startLoad(
      "partition-wipe",
      [pod(0), pod(1), pod(2)].filter((member) => member !== victim),
    );

    // A follower cut off from every other member while the cluster grows: a quorum of the
    // others still commits the join. Healed well inside the unreachable window.
    await target.isolateMember(namespace, victim);
    const isolated = performance.now();
    await setSpec({ replicas: 4 });
    await waitForCluster(
      kube,
      namespace,
      name,
      (cluster) => cluster.status?.members?.find((member) => member.name === pod(3))?.voter === true,
      `${pod(3)} to vote while ${victim} is partitioned`,
      60_000,
    ).catch(async (error: unknown) => {
      await target.healNetwork();
      throw error;
    });
    await sleep(Math.max(0, 8_000 - (performance.now() - isolated)));
    await target.healNetwork();
    await waitForCluster(
      kube,
      namespace,
      name,
      settled(4),
      `the cluster to settle at 4 after healing ${victim}`,
    );

    // Down to 3 while another member loses its data: its volume and pod are deleted, it
    // comes back as a new incarnation, and the operator replaces the old one.
    const wiped = victim === pod(1) ? pod(2) : pod(1);
    const wipedIncarnation = (await readPaxosCluster(kube, namespace, name)).status?.members?.find(
      (member) => member.name === wiped,
    )?.incarnation;
    await setSpec({ replicas: 3 });
    await waitFor(
      async () =>
        operationOf(await readPaxosCluster(kube, namespace, name))?.type === "ScaleDown" ? true : undefined,
      { description: "the scale-down to start", timeoutMs: 60_000, intervalMs: 50 },
    );
    await kube.core.deleteNamespacedPersistentVolumeClaim({ namespace, name: `data-${wiped}` });
    await kube.core.deleteNamespacedPod({ namespace, name: wiped, gracePeriodSeconds: 0 });
    const { cluster: after } = await waitForCluster(
      kube,
      namespace,
      name,
      (cluster) =>
        settled(3)(cluster) &&
        cluster.status?.members?.find((member) => member.name === wiped)?.incarnation !== wipedIncarnation,
      `the cluster to settle at 3 with ${wiped} replaced by a new incarnation`,
    );
    expect(after.status?.members?.find((member) => member.name === wiped)?.incarnation).not.toBe(
      wipedIncarnation,
    );
    await expectSettledObjects(3);
    await load.finish("e2e-partition-wipe");
  });

  it("rolls an image change through the members, followers first and the leader last, staying available", async () => {
    const before = await readPaxosCluster(kube, namespace, name);
    const leader = before.status?.leader as string;
    const members = [pod(0), pod(1), pod(2)];
    const stop = new AbortController();
    const keys = keysFor("rolling");
    const cluster = podMembers(target, namespace, members);
    const running = runLoad(cluster, {
      clients: 6,
      durationMs: 600_000,
      keys,
      timeoutMs: 1_500,
      signal: stop.signal,
    });
    await sleep(1_000);
    const from = historyNowMs();
    const fromWallClock = Date.now();
    const started = performance.now();
    await setSpec({ image: target.upgradedReplicaImage });
    const upgraded = async () => {
      const pods = await kube.core.listNamespacedPod({
        namespace,
        labelSelector: `app.kubernetes.io/instance=${name}`,
      });
      return (
        pods.items.length === members.length &&
        pods.items.every((item) => item.spec?.containers[0]?.image === target.upgradedReplicaImage)
      );
    };
    const waiting = waitFor(
      async () => {
        const current = await readPaxosCluster(kube, namespace, name);
        return settled(3)(current) && (await upgraded()) ? current : undefined;
      },
      { description: "every member to run the new image, all healthy", timeoutMs: 240_000, intervalMs: 250 },
    );
    const steps = recordSteps(waiting);
    await waiting;
    await steps.polling;
    const to = historyNowMs();
    report("rolling image change of 3 members under load", Math.round(performance.now() - started));
    stop.abort();
    const result = await running;
    const gap = longestWriteGap(result.history, from, to);
    report("rolling image change: longest time without an acknowledged write", gap.ms);
    console.log(
      `[e2e] steps seen: ${steps.seen.map((step, index) => `${step} (+${Math.round((steps.times[index] ?? from) - from)} ms)`).join(", ")}; the longest gap began at +${Math.round(gap.startMs - from)} ms (${new Date(fromWallClock + gap.startMs - from).toISOString()})`,
    );
    const restarted = [
      ...new Set(
        steps.seen.filter((step) => step.startsWith("RestartMember ")).map((step) => step.split(" ")[1]),
      ),
    ];
    expect([...restarted].sort()).toEqual([...members].sort());
    // Followers first: the member that led at the start goes last (the planner deletes no
    // pod whose member leads; it hands the leadership over first).
    expect(restarted.at(-1)).toBe(leader);
    expect(result.stats.ok).toBeGreaterThan(100);
    const finalReads = await runLoad(cluster, { clients: 2, durationMs: 1_000, keys, readFraction: 1 });
    await expectLinearizable([...result.history, ...finalReads.history], "e2e-rolling");
  });

  it("holds a scale-down that would leave no healthy quorum, says why, and finishes once the member is back", async () => {
    const before = await readPaxosCluster(kube, namespace, name);
    const leader = before.status?.leader;
    // Scaling 3 → 2 removes ledger-2; with another member stopped, the two left would have
    // one healthy voter, not a quorum.
    const stopped = [pod(0), pod(1)].find((member) => member !== leader) as string;
    await target.pauseMemberProcess(namespace, stopped);
    try {
      await waitForCluster(
        kube,
        namespace,
        name,
        (cluster) =>
          cluster.status?.members?.find((member) => member.name === stopped)?.health === "unreachable",
        `${stopped} to be reported unreachable`,
        60_000,
      );
      await setSpec({ replicas: 2 });
      const { cluster: waiting } = await waitForCluster(
        kube,
        namespace,
        name,
        (cluster) => condition(cluster, "MembershipChanging")?.reason === "RemovalUnsafe",
        "the scale-down to wait with RemovalUnsafe",
        60_000,
      );
      expect(condition(waiting, "MembershipChanging")?.message).toContain(pod(2));
      expect(operationOf(waiting)).toBeUndefined();
      expect((await kube.apps.readNamespacedStatefulSet({ namespace, name })).spec?.replicas).toBe(3);
      expect(waiting.status?.members?.find((member) => member.name === pod(2))?.voter).toBe(true);
    } finally {
      await target.resumeMemberProcess(namespace, stopped);
    }
    await waitForCluster(
      kube,
      namespace,
      name,
      settled(2),
      "the scale-down to finish once the member is back",
    );
    await expectSettledObjects(2);
  });
});
