// The operator with nothing but its ClusterRole (config/rbac/role.yaml): a ServiceAccount
// bound to that role only, a token for it, and the operator process using that token.
// If the role lacked a permission the operator needs, the cluster would not converge.
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PolicyV1Api,
  type V1ClusterRole,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { applyPaxosClusterCrd } from "../support/crd.ts";
import {
  createOperatorIdentity,
  type OperatorIdentity,
  readOperatorRole,
  startOperatorProcess,
} from "../support/operatorInstall.ts";
import type { ManagedProcess } from "../support/processes.ts";
import { waitFor } from "../support/waitFor.ts";

describe("the operator under its least-privilege ClusterRole", () => {
  const kubeconfigPath = inject("kubeconfigPath");
  const namespace = `rbac-test-${Date.now().toString(36)}`;
  let admin: KubeConfig;
  let core: CoreV1Api;
  let operator: ManagedProcess | undefined;
  let identity: OperatorIdentity | undefined;
  let role: V1ClusterRole;
  const tokenKubeconfig = join(tmpdir(), `${namespace}.kubeconfig`);

  beforeAll(async () => {
    admin = new KubeConfig();
    admin.loadFromFile(kubeconfigPath);
    core = admin.makeApiClient(CoreV1Api);
    await applyPaxosClusterCrd(admin, "rbac-test");
    role = await readOperatorRole();
    identity = await createOperatorIdentity(admin, {
      namespace,
      clusterRoleName: `paxos-operator-${namespace}`,
      kubeconfigPath: tokenKubeconfig,
      tokenSeconds: 3600,
    });
    operator = startOperatorProcess({
      identity,
      logPath: join(tmpdir(), `${namespace}-operator.log`),
      watchNamespace: namespace,
    });
  });

  afterAll(async () => {
    await operator?.stop();
    await identity?.remove();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await rm(tokenKubeconfig, { force: true });
  });

  it("names every resource and verb, with no wildcards", () => {
    for (const rule of role.rules ?? []) {
      expect(rule.verbs).not.toContain("*");
      expect(rule.resources).not.toContain("*");
      expect(rule.apiGroups).not.toContain("*");
    }
  });

  it("reconciles a PaxosCluster with only that role", async () => {
    const objects = admin.makeApiClient(CustomObjectsApi);
    await objects.createNamespacedCustomObject({
      group: "paxos.dev",
      version: "v1alpha1",
      namespace,
      plural: "paxosclusters",
      body: {
        apiVersion: "paxos.dev/v1alpha1",
        kind: "PaxosCluster",
        metadata: { name: "least" },
        spec: { replicas: 3 },
      },
    });
    const apps = admin.makeApiClient(AppsV1Api);
    const policy = admin.makeApiClient(PolicyV1Api);
    const statefulSet = await waitFor(
      async () => await apps.readNamespacedStatefulSet({ namespace, name: "least" }).catch(() => undefined),
      {
        description: "the operator (with its ClusterRole only) to create the StatefulSet",
        timeoutMs: 30_000,
        abortIf: () => operator?.describeExit(),
      },
    );
    expect(statefulSet.spec?.replicas).toBe(3);
    await core.readNamespacedService({ namespace, name: "least-peers" });
    await core.readNamespacedService({ namespace, name: "least" });
    await core.readNamespacedSecret({ namespace, name: "least-auth" });
    await policy.readNamespacedPodDisruptionBudget({ namespace, name: "least" });
    const status = await waitFor(
      async () => {
        const cluster = (await objects.getNamespacedCustomObject({
          group: "paxos.dev",
          version: "v1alpha1",
          namespace,
          plural: "paxosclusters",
          name: "least",
        })) as {
          metadata: { generation: number; finalizers?: string[] };
          status?: { observedGeneration?: number };
        };
        return cluster.status?.observedGeneration === cluster.metadata.generation ? cluster : undefined;
      },
      { description: "the operator to write the status", timeoutMs: 30_000 },
    );
    expect(status.metadata.finalizers).toContain("paxos.dev/finalizer");
    const log = await readFile(operator?.logPath ?? "", "utf8");
    expect(log).not.toMatch(/forbidden/i);
  });
});
