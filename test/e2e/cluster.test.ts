// The whole system end to end: a PaxosCluster applied to a cluster with nodes, its pods
// running the replica, clients writing through it while pods are deleted and processes
// killed, and every history checked for linearizability. The times to Ready and back to
// Available are printed (`make e2e`).
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLoad } from "../support/load.ts";
import { waitFor } from "../support/waitFor.ts";
import { expectLinearizable } from "./checkedLoad.ts";
import {
  closeScenario,
  condition,
  createPaxosCluster,
  group,
  heardFromAllSince,
  isHealthy,
  type Kube,
  kubectlGetPaxosClusters,
  openScenario,
  plural,
  podMembers,
  readPaxosCluster,
  version,
  waitForCluster,
  waitForLeaderOtherThan,
} from "./support.ts";
import type { E2eTarget } from "./targets/target.ts";

const name = "orders";
const replicas = 3;
const pods = Array.from({ length: replicas }, (_, ordinal) => `${name}-${ordinal}`);
/**
 * Keys of their own for each scenario: the checker's model starts from empty keys, so a
 * history must not read values that an earlier scenario wrote.
 */
const keysFor = (scenario: string) => ["a", "b", "c", "d", "e", "f"].map((key) => `${scenario}-${key}`);

describe("a 3-replica PaxosCluster end to end", () => {
  let target: E2eTarget;
  let kube: Kube;
  const namespace = `e2e-${Date.now().toString(36)}`;

  const report = (what: string, ms: number) => console.log(`[e2e] ${what}: ${ms} ms`);
  const members = () => podMembers(target, namespace, pods);
  const healthy = (description: string) =>
    waitForCluster(kube, namespace, name, (cluster) => isHealthy(cluster, replicas), description);

  beforeAll(async () => {
    ({ target, kube } = await openScenario(namespace));
  });

  afterAll(() => closeScenario(target, kube, namespace));

  it("becomes Ready, with a leader and every member healthy", async () => {
    const started = performance.now();
    await createPaxosCluster(kube, namespace, name, {
      replicas,
      image: target.replicaImage,
      storage: { size: "256Mi" },
      // Requests and limits make the pods Burstable, as most users' are.
      resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "512Mi" } },
    });
    const { cluster } = await healthy("the new cluster to be Running with 3 healthy members");
    report("kubectl apply to Ready (3 replicas)", Math.round(performance.now() - started));
    expect(cluster.status?.bootstrapped).toBe(true);
    expect(pods).toContain(cluster.status?.leader);
    expect(condition(cluster, "QuorumAtRisk")).toMatchObject({ status: "False", reason: "FaultTolerant" });
    expect(condition(cluster, "Degraded")).toMatchObject({ status: "False" });
    expect(cluster.status?.members?.map((member) => member.name)).toEqual(pods);

    // What a user sees: the printer columns say the same as the status.
    const [header, row] = await kubectlGetPaxosClusters(target, namespace);
    expect(header).toEqual(["NAME", "REPLICAS", "READY", "LEADER", "PHASE", "AGE"]);
    expect(row?.slice(0, 5)).toEqual([name, "3", "3", cluster.status?.leader, "Running"]);
  });

  it("writes and reads linearizably through any member", async () => {
    const cluster = members();
    for (const [index, pod] of pods.entries()) {
      const put = await cluster.request(pod, "PUT", `/v1/kv/through-${index}`, { body: { value: pod } });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      for (const reader of pods) {
        const get = await cluster.request(reader, "GET", `/v1/kv/through-${index}`);
        expect(get.status).toBe(200);
        expect((get.body as { entry: { value: string } }).entry.value).toBe(pod);
      }
    }
    const load = await runLoad(cluster, {
      clients: 4,
      durationMs: 3_000,
      keys: keysFor("steady"),
      timeoutMs: 3_000,
    });
    expect(load.stats.ok).toBeGreaterThan(20);
    await expectLinearizable(load.history, "e2e-steady");
  });

  it("heals after a pod is deleted under load, without losing an acknowledged write", async () => {
    const before = await readPaxosCluster(kube, namespace, name);
    const victim = pods.find((pod) => pod !== before.status?.leader) as string;
    const oldPod = await kube.core.readNamespacedPod({ namespace, name: victim });
    const cluster = members();
    const keys = keysFor("pod-deleted");
    const load = runLoad(cluster, { clients: 4, durationMs: 20_000, keys, timeoutMs: 2_000 });
    await sleep(2_000);
    const deleted = performance.now();
    const deletedAt = new Date();
    await kube.core.deleteNamespacedPod({ namespace, name: victim });
    // While the member is gone the status must say so: Degraded, at risk, the victim not healthy.
    const { cluster: during } = await waitForCluster(
      kube,
      namespace,
      name,
      (current) => current.status?.phase === "Degraded",
      "the status to report the cluster Degraded while the pod is gone",
      30_000,
    );
    expect(condition(during, "Available")?.status).toBe("True");
    expect(condition(during, "QuorumAtRisk")).toMatchObject({
      status: "True",
      reason: "OneFailureFromQuorumLoss",
    });
    expect(during.status?.members?.find((member) => member.name === victim)?.health).not.toBe("healthy");
    expect(during.status?.readyReplicas).toBeLessThan(replicas);
    // The StatefulSet makes a new pod of that name; the member comes back from its volume.
    await waitFor(
      async () => {
        const pod = await kube.core.readNamespacedPod({ namespace, name: victim }).catch(() => undefined);
        return pod !== undefined && pod.metadata?.uid !== oldPod.metadata?.uid ? true : undefined;
      },
      { description: `a new pod ${victim}`, timeoutMs: 60_000 },
    );
    await waitForCluster(
      kube,
      namespace,
      name,
      (current) => isHealthy(current, replicas) && heardFromAllSince(current, deletedAt),
      `the cluster to be healthy again after deleting ${victim}, every member heard from since`,
    );
    report(`pod ${victim} deleted to Available and all healthy`, Math.round(performance.now() - deleted));
    const result = await load;
    expect(result.stats.ok).toBeGreaterThan(50);
    // The same member (same incarnation): its data survived on its volume.
    const after = await readPaxosCluster(kube, namespace, name);
    const incarnation = (cluster: typeof after) =>
      cluster.status?.members?.find((member) => member.name === victim)?.incarnation;
    expect(incarnation(after)).toBe(incarnation(before));
    const finalReads = await runLoad(cluster, { clients: 2, durationMs: 1_000, keys, readFraction: 1 });
    await expectLinearizable([...result.history, ...finalReads.history], "e2e-pod-deleted");
  });

  it("heals after the leader's process is killed under load", async () => {
    const before = await readPaxosCluster(kube, namespace, name);
    const leader = before.status?.leader as string;
    const restartsOf = async () =>
      (await kube.core.readNamespacedPod({ namespace, name: leader })).status?.containerStatuses?.[0]
        ?.restartCount ?? 0;
    const restartsBefore = await restartsOf();
    const cluster = members();
    const keys = keysFor("leader-killed");
    const load = runLoad(cluster, { clients: 4, durationMs: 15_000, keys, timeoutMs: 2_000 });
    await sleep(2_000);
    const killed = performance.now();
    const killedAt = new Date();
    await target.killMemberProcess(namespace, leader);
    const { cluster: recovered } = await waitForLeaderOtherThan(
      kube,
      namespace,
      name,
      leader,
      "another member to lead",
    );
    report("leader killed to a new leader in the status", Math.round(performance.now() - killed));
    expect(recovered.status?.leader).not.toBe(leader);
    await waitFor(async () => ((await restartsOf()) > restartsBefore ? true : undefined), {
      description: `the kubelet to restart ${leader}'s container`,
      timeoutMs: 60_000,
    });
    await waitForCluster(
      kube,
      namespace,
      name,
      (current) => isHealthy(current, replicas) && heardFromAllSince(current, killedAt),
      "the cluster to be healthy again after the kill, every member heard from since",
    );
    report("leader killed to all members healthy", Math.round(performance.now() - killed));
    const result = await load;
    const finalReads = await runLoad(cluster, { clients: 2, durationMs: 1_000, keys, readFraction: 1 });
    await expectLinearizable([...result.history, ...finalReads.history], "e2e-leader-killed");
  });

  it("removes every object it created when the PaxosCluster is deleted", async () => {
    await kube.objects.deleteNamespacedCustomObject({ group, version, namespace, plural, name });
    const labelSelector = `app.kubernetes.io/instance=${name}`;
    const remaining = async () => [
      ...(await kube.apps.listNamespacedStatefulSet({ namespace, labelSelector })).items.map(
        (item) => `statefulset/${item.metadata?.name}`,
      ),
      ...(await kube.core.listNamespacedService({ namespace, labelSelector })).items.map(
        (item) => `service/${item.metadata?.name}`,
      ),
      ...(await kube.policy.listNamespacedPodDisruptionBudget({ namespace, labelSelector })).items.map(
        (item) => `pdb/${item.metadata?.name}`,
      ),
      ...(await kube.core.listNamespacedSecret({ namespace, labelSelector })).items.map(
        (item) => `secret/${item.metadata?.name}`,
      ),
      ...(await kube.core.listNamespacedPod({ namespace, labelSelector })).items.map(
        (item) => `pod/${item.metadata?.name}`,
      ),
      ...(await kube.core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector })).items.map(
        (item) => `pvc/${item.metadata?.name}`,
      ),
    ];
    let left: string[] = [];
    await waitFor(
      async () => {
        left = await remaining();
        return left.length === 0 ? true : undefined;
      },
      { description: "every object of the cluster to be gone", timeoutMs: 120_000, intervalMs: 1_000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; still there: ${left.join(", ")}`);
    });
    const all = await kube.objects.listNamespacedCustomObject({ group, version, namespace, plural });
    expect((all as { items: unknown[] }).items).toHaveLength(0);
  });
});
