// Health monitoring and fencing end to end: a partitioned follower and a partitioned leader
// are fenced through the log by the majority and unfenced after they heal, manual fencing
// through the annotation, a lost Node's member replaced (or reported when force-deletion is
// not allowed), and a lost quorum reported without losing a write. Every history goes
// through the linearizability checker; the times are printed (`make e2e`).
import { setTimeout as sleep } from "node:timers/promises";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkHistory, type HistoryOperation } from "../support/lincheck.ts";
import { historyNowMs, longestWriteGap, runLoad } from "../support/load.ts";
import { waitFor } from "../support/waitFor.ts";
import {
  condition,
  createPaxosCluster,
  group,
  isHealthy,
  type Kube,
  kubeClients,
  type MemberStatus,
  type PaxosClusterObject,
  plural,
  podMembers,
  readPaxosCluster,
  version,
  waitForCluster,
} from "./support.ts";
import { type E2eTarget, openTarget } from "./targets/target.ts";

const name = "vault";
const pods = [0, 1, 2].map((ordinal) => `${name}-${ordinal}`);
const keysFor = (scenario: string) => ["a", "b", "c", "d", "e"].map((key) => `${scenario}-${key}`);
/** Short, so the tests take seconds; the CRD requires it to exceed the election timeout. */
const unreachableWindowSeconds = 5;
const fencedMembersAnnotation = "paxos.dev/fenced-members";

describe("fencing and health end to end", () => {
  let target: E2eTarget;
  let kube: Kube;
  const namespace = `e2e-fencing-${Date.now().toString(36)}`;
  const report = (what: string, ms: number) => console.log(`[e2e] ${what}: ${ms} ms`);

  const member = (cluster: PaxosClusterObject, pod: string): MemberStatus | undefined =>
    cluster.status?.members?.find((candidate) => candidate.name === pod);
  const isFenced = (cluster: PaxosClusterObject, pod: string) => member(cluster, pod)?.health === "fenced";
  const healthy = () => (cluster: PaxosClusterObject) =>
    isHealthy(cluster, 3) &&
    (cluster.status?.members ?? []).every((candidate) => candidate.health === "healthy");

  const patchCluster = (body: Record<string, unknown>) =>
    kube.objects.patchNamespacedCustomObject(
      { group, version, namespace, plural, name, body },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );

  const checkLinearizable = async (operations: HistoryOperation[], label: string) => {
    const result = await checkHistory({ model: "kv", operations }, { timeoutSeconds: 120, name: label });
    expect(result.verdict, result.report).toBe("linearizable");
  };

  /** Load through `members` until finish(), then final reads and the checker. */
  const startLoad = (scenario: string, members: readonly string[], readFraction = 0.4) => {
    const stop = new AbortController();
    const cluster = podMembers(target, namespace, members);
    const keys = keysFor(scenario);
    const running = runLoad(cluster, {
      clients: 4,
      durationMs: 600_000,
      keys,
      readFraction,
      timeoutMs: 2_000,
      signal: stop.signal,
    });
    return {
      async finish(label: string, readers: readonly string[] = members) {
        stop.abort();
        const result = await running;
        const finalReads = await runLoad(podMembers(target, namespace, readers), {
          clients: 2,
          durationMs: 1_000,
          keys,
          readFraction: 1,
        });
        await checkLinearizable([...result.history, ...finalReads.history], label);
        return result;
      },
    };
  };

  /** The client Service's ready endpoints: pod names whose readiness passes. */
  const serviceEndpoints = async (): Promise<string[]> => {
    const slices = await kube.discovery.listNamespacedEndpointSlice({
      namespace,
      labelSelector: `kubernetes.io/service-name=${name}`,
    });
    return slices.items
      .flatMap((slice) => slice.endpoints ?? [])
      .filter((endpoint) => endpoint.conditions?.ready === true)
      .map((endpoint) => endpoint.targetRef?.name ?? "")
      .sort();
  };

  beforeAll(async () => {
    target = await openTarget();
    kube = kubeClients(target);
    await kube.core.createNamespace({ body: { metadata: { name: namespace } } });
    await createPaxosCluster(kube, namespace, name, {
      replicas: 3,
      image: target.replicaImage,
      storage: { size: "256Mi" },
      fencing: { automatic: true, unreachableWindowSeconds, forceDeleteOnLostNode: false },
    });
    await waitForCluster(kube, namespace, name, healthy(), "the new cluster to be healthy");
  });

  afterAll(async () => {
    await target?.healNetwork().catch(() => undefined);
    await kube?.core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await target?.close();
  });

  it("fences a partitioned follower within the window, drops it from the Service, and unfences it once healed", async () => {
    const leader = (await readPaxosCluster(kube, namespace, name)).status?.leader as string;
    const victim = pods.find((pod) => pod !== leader) as string;
    const majority = pods.filter((pod) => pod !== victim);
    const load = startLoad("follower-partitioned", majority);
    await sleep(1_000);
    const from = historyNowMs();
    const isolated = performance.now();
    await target.isolateMember(namespace, victim);
    const { cluster: fenced } = await waitForCluster(
      kube,
      namespace,
      name,
      (cluster) => isFenced(cluster, victim),
      `${victim} to be fenced`,
      60_000,
    );
    const fenceMs = Math.round(performance.now() - isolated);
    report(`follower partitioned to fenced (window ${unreachableWindowSeconds} s)`, fenceMs);
    expect(fenceMs).toBeGreaterThanOrEqual(unreachableWindowSeconds * 1000);
    expect(condition(fenced, "Fenced")).toMatchObject({ status: "True" });
    expect(condition(fenced, "Available")?.status).toBe("True");
    // Readiness fails and the Service stops routing to it.
    await waitFor(async () => (!(await serviceEndpoints()).includes(victim) ? true : undefined), {
      description: `the Service to drop ${victim}`,
      timeoutMs: 30_000,
    });
    expect(await serviceEndpoints()).toEqual(majority);

    const healed = performance.now();
    await target.healNetwork();
    await waitForCluster(
      kube,
      namespace,
      name,
      healthy(),
      `${victim} to be unfenced and healthy after healing`,
      90_000,
    );
    report("partition healed to the follower unfenced and healthy", Math.round(performance.now() - healed));
    await waitFor(async () => ((await serviceEndpoints()).length === 3 ? true : undefined), {
      description: `the Service to route to ${victim} again`,
      timeoutMs: 30_000,
    });
    const result = await load.finish("e2e-follower-partitioned", pods);
    const window = longestWriteGap(result.history, from);
    report("follower partitioned: longest time the majority's clients saw no acknowledged write", window.ms);
    expect(result.stats.ok).toBeGreaterThan(50);
  });
});
