// Health monitoring and fencing end to end: a partitioned follower and a partitioned leader
// are fenced through the log by the majority and unfenced after they heal, manual fencing
// through the annotation, a lost Node's member replaced (or reported when force-deletion is
// not allowed), and a lost quorum reported without losing a write. Every history goes
// through the linearizability checker; the times are printed (`make e2e`).
import { setTimeout as sleep } from "node:timers/promises";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { historyNowMs, longestWriteGap } from "../support/load.ts";
import { waitFor } from "../support/waitFor.ts";
import { startCheckedLoad } from "./checkedLoad.ts";
import {
  closeScenario,
  condition,
  createPaxosCluster,
  group,
  isHealthy,
  type Kube,
  type MemberStatus,
  openScenario,
  type PaxosClusterObject,
  plural,
  podMembers,
  readPaxosCluster,
  version,
  waitForCluster,
  waitForLeaderOtherThan,
} from "./support.ts";
import type { E2eTarget } from "./targets/target.ts";

const name = "vault";
const pods = [0, 1, 2].map((ordinal) => `${name}-${ordinal}`);
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

  /** Load through `members` until finish(), then final reads and the checker. */
  const startLoad = (scenario: string, members: readonly string[], readFraction = 0.4) =>
    startCheckedLoad(target, namespace, scenario, members, { clients: 4, readFraction, timeoutMs: 2_000 });

  const eventsAbout = async () =>
    (await kube.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items;

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
    ({ target, kube } = await openScenario(namespace));
    await createPaxosCluster(kube, namespace, name, {
      replicas: 3,
      image: target.replicaImage,
      storage: { size: "256Mi" },
      fencing: { automatic: true, unreachableWindowSeconds, forceDeleteOnLostNode: false },
      // One member per Node, for certain: losing a Node then costs exactly one member.
      pod: {
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              {
                topologyKey: "kubernetes.io/hostname",
                labelSelector: { matchLabels: { "app.kubernetes.io/instance": name } },
              },
            ],
          },
        },
      },
    });
    await waitForCluster(kube, namespace, name, healthy(), "the new cluster to be healthy");
  });

  afterAll(() => closeScenario(target, kube, namespace));

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
    // Events mark the transitions: the member turning unhealthy, then its fencing.
    const events = await eventsAbout();
    expect(
      events.some((event) => event.reason === "MemberUnhealthy" && event.message?.includes(victim)),
    ).toBe(true);
    expect(events.some((event) => event.reason === "FencingMember" && event.message?.includes(victim))).toBe(
      true,
    );
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

  it("partitions the leader into the minority: the majority elects another, the old one serves no stale read and is fenced, then rejoins", async () => {
    const oldLeader = (await readPaxosCluster(kube, namespace, name)).status?.leader as string;
    // Clients on every member, the old leader included, half of them reading: a stale read
    // from the minority side would make the history non-linearizable.
    const load = startLoad("leader-partitioned", pods, 0.5);
    await sleep(1_000);
    const isolated = performance.now();
    await target.isolateMember(namespace, oldLeader);
    const { cluster: elected } = await waitForLeaderOtherThan(
      kube,
      namespace,
      name,
      oldLeader,
      "the majority to elect another leader",
    );
    report("leader partitioned to a new leader in the status", Math.round(performance.now() - isolated));
    expect(pods).toContain(elected.status?.leader);
    await waitForCluster(
      kube,
      namespace,
      name,
      (cluster) => isFenced(cluster, oldLeader),
      `${oldLeader} to be fenced`,
      60_000,
    );
    report("leader partitioned to the old leader fenced", Math.round(performance.now() - isolated));
    // Its own answer, through the operator's path: fenced is what it learns from the majority
    // once it hears from it; until then it must not serve, which the checker verifies.
    const healed = performance.now();
    await target.healNetwork();
    const { cluster: rejoined } = await waitForCluster(
      kube,
      namespace,
      name,
      healthy(),
      `${oldLeader} to rejoin as an unfenced, healthy follower`,
      90_000,
    );
    report("partition healed to the old leader unfenced and healthy", Math.round(performance.now() - healed));
    expect(member(rejoined, oldLeader)?.role).toBe("follower");
    const result = await load.finish("e2e-leader-partitioned");
    expect(result.stats.ok).toBeGreaterThan(50);
  });

  it("fences and unfences a member through the paxos.dev/fenced-members annotation", async () => {
    const leader = (await readPaxosCluster(kube, namespace, name)).status?.leader as string;
    const fencedPod = pods.find((pod) => pod !== leader) as string;
    const started = performance.now();
    await patchCluster({
      metadata: { annotations: { [fencedMembersAnnotation]: JSON.stringify([fencedPod]) } },
    });
    try {
      await expectManuallyFenced(fencedPod, started);
    } finally {
      await patchCluster({ metadata: { annotations: { [fencedMembersAnnotation]: null } } });
    }
    await waitForCluster(kube, namespace, name, healthy(), `${fencedPod} to be unfenced`, 60_000);
    const members = podMembers(target, namespace, [fencedPod]);
    const after = await members.request(fencedPod, "PUT", "/v1/kv/annotation-fenced", {
      body: { value: "y" },
    });
    expect(after.status, JSON.stringify(after.body)).toBe(200);
  });

  const expectManuallyFenced = async (fencedPod: string, started: number) => {
    const { cluster } = await waitForCluster(
      kube,
      namespace,
      name,
      (current) => isFenced(current, fencedPod),
      `${fencedPod} to be fenced by the annotation`,
      60_000,
    );
    report("annotation to member fenced", Math.round(performance.now() - started));
    expect(condition(cluster, "Fenced")).toMatchObject({ status: "True" });
    expect((cluster.status as { fencing?: { manual: string[] } }).fencing?.manual).toEqual([
      `${fencedPod}#${member(cluster, fencedPod)?.incarnation}`,
    ]);
    // The member itself says so, refuses clients, and leaves the Service.
    const members = podMembers(target, namespace, [fencedPod]);
    const status = await members.request(fencedPod, "GET", "/v1/status");
    expect((status.body as { fenced: boolean }).fenced).toBe(true);
    const write = await members.request(fencedPod, "PUT", "/v1/kv/annotation-fenced", {
      body: { value: "x" },
    });
    expect(write.status).toBe(503);
    expect((write.body as { error: { code: string } }).error.code).toBe("Fenced");
    await waitFor(async () => (!(await serviceEndpoints()).includes(fencedPod) ? true : undefined), {
      description: `the Service to drop ${fencedPod}`,
      timeoutMs: 30_000,
    });
  };

  it("reports QuorumLost when two of three members stop, loses nothing, and recovers when they return", async () => {
    const load = startLoad("quorum-lost", pods);
    await sleep(1_000);
    const stopped = pods.slice(1);
    for (const pod of stopped) await target.pauseMemberProcess(namespace, pod);
    const started = performance.now();
    const { cluster } = await waitForCluster(
      kube,
      namespace,
      name,
      (current) => condition(current, "QuorumLost")?.status === "True",
      "QuorumLost to be reported",
      60_000,
    ).catch(async (error: unknown) => {
      for (const pod of stopped) await target.resumeMemberProcess(namespace, pod);
      throw error;
    });
    report("two of three members stopped to QuorumLost", Math.round(performance.now() - started));
    const lost = condition(cluster, "QuorumLost");
    for (const pod of stopped) expect(lost?.message).toContain(pod);
    expect(condition(cluster, "Available")?.status).toBe("False");
    // Nothing is changed while the quorum is gone: no fence, no eviction, no operation.
    await sleep(unreachableWindowSeconds * 2 * 1000);
    const during = await readPaxosCluster(kube, namespace, name);
    expect((during.status as { operation?: unknown }).operation).toBeUndefined();
    expect(during.status?.members?.filter((candidate) => candidate.health === "fenced")).toEqual([]);
    for (const pod of stopped) await target.resumeMemberProcess(namespace, pod);
    const resumed = performance.now();
    await waitForCluster(
      kube,
      namespace,
      name,
      healthy(),
      "the cluster to recover once the members are back",
      90_000,
    );
    report("members resumed to all healthy", Math.round(performance.now() - resumed));
    await load.finish("e2e-quorum-lost");
  });

  it("replaces the member of a lost Node only when force-deletion is allowed, and says what is needed otherwise", async () => {
    const before = await readPaxosCluster(kube, namespace, name);
    const leader = before.status?.leader as string;
    // Every member is alone on its Node (required anti-affinity); a follower if there is one.
    const placed = await kube.core.listNamespacedPod({
      namespace,
      labelSelector: `app.kubernetes.io/instance=${name}`,
    });
    const nodeOf = new Map(
      placed.items.map((item) => [item.metadata?.name ?? "", item.spec?.nodeName ?? ""]),
    );
    const alone = pods.filter(
      (pod) => pods.filter((other) => nodeOf.get(other) === nodeOf.get(pod)).length === 1,
    );
    const victim = alone.find((pod) => pod !== leader) ?? alone[0];
    if (victim === undefined)
      throw new Error(`no member is alone on its Node: ${JSON.stringify([...nodeOf])}`);
    const node = nodeOf.get(victim) as string;
    const incarnation = member(before, victim)?.incarnation;
    const load = startLoad(
      "node-lost",
      pods.filter((pod) => pod !== victim),
    );
    const stopped = performance.now();
    await target.stopNode(node, "kill");
    try {
      const { cluster: waiting } = await waitForCluster(
        kube,
        namespace,
        name,
        (cluster) => condition(cluster, "MemberLost")?.status === "True",
        "MemberLost to explain what is needed",
        90_000,
      );
      report("node stopped to MemberLost reported", Math.round(performance.now() - stopped));
      const lostCondition = condition(waiting, "MemberLost");
      expect(lostCondition?.reason).toBe("ForceDeleteDisabled");
      expect(lostCondition?.message).toContain(victim);
      expect(lostCondition?.message).toContain(node);
      expect(lostCondition?.message).toContain("forceDeleteOnLostNode");
      // Nothing was evicted while a human decides.
      expect(member(waiting, victim)?.health).not.toBe("evicted");

      const allowed = performance.now();
      await patchCluster({ spec: { fencing: { forceDeleteOnLostNode: true } } });
      const { cluster: replaced } = await waitForCluster(
        kube,
        namespace,
        name,
        (cluster) => healthy()(cluster) && member(cluster, victim)?.incarnation !== incarnation,
        `${victim} to come back as a new incarnation on another Node`,
        180_000,
      );
      report(
        "force-deletion allowed to the member replaced and all healthy",
        Math.round(performance.now() - allowed),
      );
      expect(member(replaced, victim)?.node).not.toBe(node);
      const reasons = (await eventsAbout()).map((event) => event.reason);
      expect(reasons).toEqual(expect.arrayContaining(["EvictingLostMember", "ForceDeletingPod"]));
    } finally {
      await target.startNode(node);
    }
    await load.finish("e2e-node-lost");
  });
});
