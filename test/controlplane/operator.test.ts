// The operator against a real API server and controller manager: a PaxosCluster gets its
// Secret, Services, PDB and StatefulSet, follows spec changes, survives an operator restart
// without duplicates or new secrets, and goes away whole when deleted.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  StorageV1Api,
  setHeaderOptions,
  type V1ObjectMeta,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { defaultLeaseName, type RunningOperator, runOperator } from "../../operator/src/main.ts";
import { finalizerName } from "../../operator/src/reconciler.ts";
import { applyPaxosClusterCrd } from "../support/crd.ts";
import { freePort } from "../support/ports.ts";
import { repositoryRoot } from "../support/tools.ts";
import { waitFor } from "../support/waitFor.ts";

const group = "paxos.dev";
const version = "v1alpha1";
const plural = "paxosclusters";
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

interface ClusterObject {
  metadata: V1ObjectMeta;
  spec: { replicas: number };
  status?: {
    observedGeneration?: number;
    phase?: string;
    replicas?: number;
    readyReplicas?: number;
    selector?: string;
    bootstrapped?: boolean;
    leader?: string;
    members?: { name: string; health?: string; role?: string; message?: string }[];
    conditions?: {
      type: string;
      status: string;
      reason: string;
      message: string;
      observedGeneration?: number;
    }[];
  };
}

describe("the operator", () => {
  const kubeconfigPath = inject("kubeconfigPath");
  const namespace = `operator-test-${Date.now().toString(36)}`;
  const name = "orders";
  const selector = `app.kubernetes.io/instance=${name},app.kubernetes.io/name=paxos-replica`;
  let config: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let policy: PolicyV1Api;
  let objects: CustomObjectsApi;
  let operator: RunningOperator | undefined;
  let operatorsStarted = 0;

  const launch = (identity: string) =>
    runOperator(
      {
        metricsPort: 0,
        namespace,
        resyncPeriodMs: 10_000,
        leaderElection: {
          namespace,
          leaseName: defaultLeaseName,
          identity,
          leaseDurationSeconds: 3,
          retryPeriodMs: 500,
        },
      },
      config,
    );
  const start = async () => {
    operatorsStarted += 1;
    operator = await launch(`operator-${operatorsStarted}`);
  };
  const successfulReconciles = async (running: RunningOperator | undefined) => {
    const metrics = await (await fetch(`http://127.0.0.1:${running?.port}/metrics`)).text();
    return Number(/paxos_operator_reconcile_total\{result="success"\} (\d+)/.exec(metrics)?.[1] ?? 0);
  };
  const leaseHolder = async () => {
    const lease = (await objects.getNamespacedCustomObject({
      group: "coordination.k8s.io",
      version: "v1",
      namespace,
      plural: "leases",
      name: defaultLeaseName,
    })) as { spec?: { holderIdentity?: string } };
    return lease.spec?.holderIdentity;
  };
  const stop = async () => {
    await operator?.stop();
    operator = undefined;
  };
  const readCluster = async () =>
    (await objects.getNamespacedCustomObject({ group, version, namespace, plural, name })) as ClusterObject;
  const readOrUndefined = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch {
      return undefined;
    }
  };
  const secretValues = async () =>
    (await core.readNamespacedSecret({ namespace, name: `${name}-auth` })).data;
  const patchSpec = (spec: Record<string, unknown>, cluster = name) =>
    objects.patchNamespacedCustomObject(
      { group, version, namespace, plural, name: cluster, body: { spec } },
      mergePatch,
    );
  const waitForStatefulSetReplicas = (replicas: number, description: string) =>
    waitFor(
      async () =>
        (await apps.readNamespacedStatefulSet({ namespace, name })).spec?.replicas === replicas
          ? true
          : undefined,
      { description, timeoutMs: 30_000 },
    );
  /** The reasons of the Events recorded on a PaxosCluster. */
  const eventReasons = async (cluster = name) =>
    (
      await core.listNamespacedEvent({
        namespace,
        fieldSelector: `involvedObject.kind=PaxosCluster,involvedObject.name=${cluster}`,
      })
    ).items.map((event) => event.reason);

  beforeAll(async () => {
    config = new KubeConfig();
    config.loadFromFile(kubeconfigPath);
    core = config.makeApiClient(CoreV1Api);
    apps = config.makeApiClient(AppsV1Api);
    policy = config.makeApiClient(PolicyV1Api);
    objects = config.makeApiClient(CustomObjectsApi);

    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await applyPaxosClusterCrd(config, "operator-test");
    await start();
  });

  afterAll(async () => {
    await stop();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it("creates the cluster's objects, finalizer, status and Events", async () => {
    const created = (await objects.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      body: {
        apiVersion: `${group}/${version}`,
        kind: "PaxosCluster",
        metadata: { name },
        spec: { replicas: 3 },
      },
    })) as ClusterObject;
    const owner = { kind: "PaxosCluster", name, uid: created.metadata.uid, controller: true };

    const statefulSet = await waitFor(
      () => readOrUndefined(() => apps.readNamespacedStatefulSet({ namespace, name })),
      {
        description: "the StatefulSet",
        timeoutMs: 30_000,
      },
    );
    expect(statefulSet.spec?.replicas).toBe(3);
    expect(statefulSet.spec?.serviceName).toBe(`${name}-peers`);
    expect(statefulSet.spec?.selector.matchLabels).toEqual({
      "app.kubernetes.io/name": "paxos-replica",
      "app.kubernetes.io/instance": name,
    });
    expect(statefulSet.metadata?.ownerReferences).toEqual([expect.objectContaining(owner)]);

    const peers = await core.readNamespacedService({ namespace, name: `${name}-peers` });
    expect(peers.spec?.clusterIP).toBe("None");
    expect(peers.spec?.publishNotReadyAddresses).toBe(true);
    expect(peers.metadata?.ownerReferences).toEqual([expect.objectContaining(owner)]);
    const client = await core.readNamespacedService({ namespace, name });
    expect(client.spec?.type).toBe("ClusterIP");
    expect(client.metadata?.ownerReferences).toEqual([expect.objectContaining(owner)]);
    const budget = await policy.readNamespacedPodDisruptionBudget({ namespace, name });
    expect(budget.spec?.maxUnavailable).toBe(1);
    expect(budget.metadata?.ownerReferences).toEqual([expect.objectContaining(owner)]);
    const secret = await core.readNamespacedSecret({ namespace, name: `${name}-auth` });
    expect(Object.keys(secret.data ?? {}).sort()).toEqual(["admin-token", "cluster-secret"]);
    expect(secret.metadata?.ownerReferences).toEqual([expect.objectContaining(owner)]);

    const withStatus = await waitFor(
      async () => {
        const cluster = await readCluster();
        return cluster.status?.observedGeneration === cluster.metadata.generation &&
          cluster.status?.replicas === 3
          ? cluster
          : undefined;
      },
      { description: "the status to cover the generation and the 3 pods", timeoutMs: 30_000 },
    );
    expect(withStatus.metadata.finalizers).toContain(finalizerName);
    // The StatefulSet's pods exist but never start here (no nodes): the members have not
    // formed the cluster, none can be probed, and the status says so.
    expect(withStatus.status).toMatchObject({ phase: "Bootstrapping", readyReplicas: 0, selector });
    expect(withStatus.status?.bootstrapped).not.toBe(true);
    expect(withStatus.status?.leader).toBeUndefined();
    expect(withStatus.status?.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: "Available", status: "False", reason: "Bootstrapping" }),
        expect.objectContaining({ type: "Progressing", status: "True", reason: "WaitingForMembers" }),
        expect.objectContaining({ type: "Degraded", status: "False", reason: "NotAvailable" }),
        expect.objectContaining({ type: "QuorumAtRisk", status: "Unknown", reason: "NotFormed" }),
        expect.objectContaining({ type: "Paused", status: "False", reason: "Reconciling" }),
      ]),
    );
    for (const condition of withStatus.status?.conditions ?? [])
      expect(condition).toMatchObject({ observedGeneration: withStatus.metadata.generation });
    expect(withStatus.status?.members).toEqual(
      [0, 1, 2].map((ordinal) =>
        expect.objectContaining({
          name: `${name}-${ordinal}`,
          health: "unreachable",
          role: "unknown",
          message: "the pod has no IP yet",
        }),
      ),
    );
    const metrics = await (await fetch(`http://127.0.0.1:${operator?.port}/metrics`)).text();
    expect(metrics).toContain('paxos_operator_clusters{phase="Bootstrapping"} 1');
    expect(metrics).toContain('paxos_operator_clusters{phase="Running"} 0');

    expect(await eventReasons()).toEqual(
      expect.arrayContaining([
        "FinalizerAdded",
        "SecretCreated",
        "ServiceCreated",
        "PodDisruptionBudgetCreated",
        "StatefulSetCreated",
        "PhaseChanged",
      ]),
    );
  });

  it("follows spec.replicas and keeps the Secret's values", async () => {
    const secretBefore = await secretValues();
    await patchSpec({ replicas: 5 });
    await waitForStatefulSetReplicas(5, "the StatefulSet to scale to 5");
    const budget = await policy.readNamespacedPodDisruptionBudget({ namespace, name });
    expect(budget.spec?.maxUnavailable).toBe(2);
    await waitFor(
      async () => {
        const cluster = await readCluster();
        return cluster.status?.observedGeneration === cluster.metadata.generation ? true : undefined;
      },
      { description: "the status to observe the new generation", timeoutMs: 30_000 },
    );
    expect(await secretValues()).toEqual(secretBefore);
  });

  it("changes nothing while paused, and catches up when resumed", async () => {
    const observed = async (condition: (cluster: ClusterObject) => boolean) => {
      const cluster = await readCluster();
      return cluster.status?.observedGeneration === cluster.metadata.generation && condition(cluster)
        ? cluster
        : undefined;
    };
    const pausedCondition = (cluster: ClusterObject) =>
      cluster.status?.conditions?.find((condition) => condition.type === "Paused");

    await patchSpec({ paused: true, replicas: 4 });
    const paused = await waitFor(() => observed((cluster) => pausedCondition(cluster)?.status === "True"), {
      description: "the status to say the cluster is paused",
      timeoutMs: 30_000,
    });
    expect(pausedCondition(paused)).toMatchObject({ reason: "SpecPaused" });
    // Reconciled (the status covers the generation), yet the StatefulSet kept its 5.
    await sleep(1_000);
    expect((await apps.readNamespacedStatefulSet({ namespace, name })).spec?.replicas).toBe(5);
    expect(await eventReasons()).toContain("ReconcilePaused");

    await patchSpec({ paused: false });
    await waitForStatefulSetReplicas(4, "the resumed operator to scale the StatefulSet to 4");
    await waitFor(() => observed((cluster) => pausedCondition(cluster)?.status === "False"), {
      description: "the Paused condition to clear",
      timeoutMs: 30_000,
    });
    expect(await eventReasons()).toContain("ReconcileResumed");
  });

  it("grows the members' volumes when spec.storage.size grows", async () => {
    const ledger = "ledger";
    const storageClassName = `expandable-${namespace}`;
    const storage = config.makeApiClient(StorageV1Api);
    await storage.createStorageClass({
      body: {
        metadata: { name: storageClassName },
        // No provisioner runs here: the test binds the claims to volumes it makes itself.
        provisioner: "paxos.dev/test-none",
        allowVolumeExpansion: true,
        volumeBindingMode: "Immediate",
      },
    });
    const volumeNames = [0, 1].map((ordinal) => `${namespace}-${ledger}-${ordinal}`);
    try {
      await objects.createNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        body: {
          apiVersion: `${group}/${version}`,
          kind: "PaxosCluster",
          metadata: { name: ledger },
          spec: { replicas: 2, storage: { size: "1Gi", storageClassName } },
        },
      });
      for (const [ordinal, volumeName] of volumeNames.entries())
        await core.createPersistentVolume({
          body: {
            metadata: { name: volumeName },
            spec: {
              capacity: { storage: "1Gi" },
              accessModes: ["ReadWriteOnce"],
              storageClassName,
              persistentVolumeReclaimPolicy: "Retain",
              hostPath: { path: `/tmp/${volumeName}` },
              claimRef: { namespace, name: `data-${ledger}-${ordinal}` },
            },
          },
        });
      const claims = async () =>
        (
          await core.listNamespacedPersistentVolumeClaim({
            namespace,
            labelSelector: `app.kubernetes.io/instance=${ledger}`,
          })
        ).items;
      await waitFor(
        async () => {
          const items = await claims();
          return items.length === 2 && items.every((claim) => claim.status?.phase === "Bound")
            ? true
            : undefined;
        },
        { description: "the StatefulSet's 2 claims to be created and bound", timeoutMs: 60_000 },
      );

      await patchSpec({ storage: { size: "2Gi" } }, ledger);
      await waitFor(
        async () =>
          (await claims()).every((claim) => claim.spec?.resources?.requests?.storage === "2Gi")
            ? true
            : undefined,
        { description: "the claims to ask for 2Gi", timeoutMs: 30_000 },
      );
      // The template only sizes new members; it is immutable and keeps its size.
      const template = (await apps.readNamespacedStatefulSet({ namespace, name: ledger })).spec
        ?.volumeClaimTemplates?.[0];
      expect(template?.spec?.resources?.requests?.storage).toBe("1Gi");
      expect((await eventReasons(ledger)).filter((reason) => reason === "VolumeExpanding")).toHaveLength(2);
    } finally {
      await objects
        .deleteNamespacedCustomObject({ group, version, namespace, plural, name: ledger })
        .catch(() => undefined);
      for (const volumeName of volumeNames)
        await core.deletePersistentVolume({ name: volumeName }).catch(() => undefined);
      await storage.deleteStorageClass({ name: storageClassName }).catch(() => undefined);
    }
  });

  it("converges after a restart without duplicates or a new secret", async () => {
    const secretBefore = await secretValues();
    const statefulSetBefore = await apps.readNamespacedStatefulSet({ namespace, name });
    await stop();
    await start();
    // The restarted operator has reconciled once its reconcile counter moved.
    await waitFor(async () => ((await successfulReconciles(operator)) > 0 ? true : undefined), {
      description: "the restarted operator to reconcile",
      timeoutMs: 30_000,
    });
    const labelSelector = `app.kubernetes.io/instance=${name}`;
    expect((await apps.listNamespacedStatefulSet({ namespace, labelSelector })).items).toHaveLength(1);
    expect((await core.listNamespacedService({ namespace, labelSelector })).items).toHaveLength(2);
    expect((await policy.listNamespacedPodDisruptionBudget({ namespace, labelSelector })).items).toHaveLength(
      1,
    );
    expect((await core.listNamespacedSecret({ namespace, labelSelector })).items).toHaveLength(1);
    expect(await secretValues()).toEqual(secretBefore);
    // Server-side apply of an unchanged spec is a no-op: the StatefulSet's spec is untouched.
    const statefulSetAfter = await apps.readNamespacedStatefulSet({ namespace, name });
    expect(statefulSetAfter.metadata?.generation).toBe(statefulSetBefore.metadata?.generation);

    const health = await fetch(`http://127.0.0.1:${operator?.port}/healthz`);
    expect(health.status).toBe(200);
    const readiness = await fetch(`http://127.0.0.1:${operator?.port}/readyz`);
    expect(readiness.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${operator?.port}/metrics`)).text();
    expect(metrics).toContain("paxos_operator_reconcile_duration_seconds_bucket");
    expect(metrics).toContain("paxos_operator_queue_depth");
  });

  it("lets only one of two operators reconcile, and hands over when the leader stops", async () => {
    await waitFor(async () => (operator?.leading === true ? true : undefined), {
      description: "the operator to lead",
      timeoutMs: 10_000,
    });
    const leaderIdentity = `operator-${operatorsStarted}`;
    const standby = await launch("operator-standby");
    try {
      // A spec change while both run: only the leader reconciles it.
      await patchSpec({ replicas: 3 });
      await waitForStatefulSetReplicas(3, "the leader to scale the StatefulSet back to 3");
      await sleep(2_000);
      expect(standby.leading).toBe(false);
      expect(await successfulReconciles(standby)).toBe(0);
      expect(await leaseHolder()).toBe(leaderIdentity);
      expect((await fetch(`http://127.0.0.1:${standby.port}/readyz`)).status).toBe(200);

      // The leader releases the lease when it stops; the standby takes over and reconciles.
      await stop();
      await waitFor(async () => (standby.leading ? true : undefined), {
        description: "the standby to take the lease",
        timeoutMs: 10_000,
      });
      expect(await leaseHolder()).toBe("operator-standby");
      await waitFor(async () => ((await successfulReconciles(standby)) > 0 ? true : undefined), {
        description: "the new leader to reconcile",
        timeoutMs: 30_000,
      });
    } finally {
      await standby.stop();
    }
    await start();
  });

  it("removes the finalizer on deletion, and the garbage collector takes the rest", async () => {
    await objects.deleteNamespacedCustomObject({ group, version, namespace, plural, name });
    await waitFor(async () => ((await readOrUndefined(readCluster)) === undefined ? true : undefined), {
      description: "the PaxosCluster to be gone",
      timeoutMs: 30_000,
    });
    const labelSelector = `app.kubernetes.io/instance=${name}`;
    await waitFor(
      async () => {
        const remaining = [
          ...(await apps.listNamespacedStatefulSet({ namespace, labelSelector })).items,
          ...(await core.listNamespacedService({ namespace, labelSelector })).items,
          ...(await policy.listNamespacedPodDisruptionBudget({ namespace, labelSelector })).items,
          ...(await core.listNamespacedSecret({ namespace, labelSelector })).items,
        ];
        return remaining.length === 0 ? true : undefined;
      },
      // The garbage collector learns of a new CRD at its next discovery resync (30 s), so
      // on a control plane whose CRD was installed just now this can take a while.
      { description: "the owned objects to be garbage-collected", timeoutMs: 90_000 },
    );
    await stop();
  });

  it("runs as a process with KUBECONFIG, serves its endpoints, and exits on SIGTERM", async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        join(repositoryRoot, "operator/src/main.ts"),
        `--metrics-port=${port}`,
        `--namespace=${namespace}`,
        `--leader-election-namespace=${namespace}`,
      ],
      { env: { ...process.env, KUBECONFIG: kubeconfigPath }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitFor(
        async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined),
        {
          description: "the operator process to be ready",
          timeoutMs: 30_000,
          abortIf: () => (child.exitCode !== null ? `it exited early:\n${output}` : undefined),
        },
      );
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain(
        "paxos_operator_queue_depth 0",
      );
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(output).toContain('"msg":"operator stopped"');
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
