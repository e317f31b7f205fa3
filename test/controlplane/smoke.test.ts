// The control plane that later tiers build on: a real API server with the version we
// pinned, a controller manager that reconciles and garbage-collects, a scheduler.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Deployment } from "@kubernetes/client-node";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { toolPath } from "../support/tools.ts";
import { pinnedVersion } from "../support/versions.ts";
import { waitFor } from "../support/waitFor.ts";

const run = promisify(execFile);
const namespace = "default";

describe("local control plane", () => {
  const kubeconfigPath = inject("kubeconfigPath");
  let apps: AppsV1Api;
  let core: CoreV1Api;

  beforeAll(() => {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfigPath);
    apps = config.makeApiClient(AppsV1Api);
    core = config.makeApiClient(CoreV1Api);
  });

  it("answers `kubectl version` with the pinned Kubernetes version", async () => {
    const { stdout } = await run(toolPath("kubectl"), [
      "version",
      "--output=json",
      `--kubeconfig=${kubeconfigPath}`,
    ]);
    const versions = JSON.parse(stdout) as {
      serverVersion: { gitVersion: string; major: string; minor: string };
    };
    const pinned = pinnedVersion("KUBERNETES_VERSION");
    expect(versions.serverVersion.gitVersion).toBe(pinned);
    expect(`v${versions.serverVersion.major}.${versions.serverVersion.minor}`).toBe(
      pinned.split(".").slice(0, 2).join("."),
    );
  });

  it("lists the namespaces that the API server bootstraps", async () => {
    const { stdout } = await run(toolPath("kubectl"), [
      "get",
      "namespaces",
      "--output=jsonpath={.items[*].metadata.name}",
      `--kubeconfig=${kubeconfigPath}`,
    ]);
    expect(stdout.split(" ")).toEqual(expect.arrayContaining(["default", "kube-system", "kube-public"]));
  });

  it("gives a Deployment its ReplicaSet, and garbage-collects it with the Deployment", async () => {
    const name = `smoke-${Date.now()}`;
    const deployment: V1Deployment = {
      metadata: { name, labels: { "app.kubernetes.io/name": name } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { "app.kubernetes.io/name": name } },
        template: {
          metadata: { labels: { "app.kubernetes.io/name": name } },
          spec: {
            containers: [{ name: "main", image: "registry.invalid/never-pulled:1" }],
            // No node has this label (other suites may have registered nodes): the pod can
            // never be scheduled, and the scheduler must say so.
            nodeSelector: { "paxos.dev/smoke-test": "no-such-node" },
          },
        },
      },
    };
    const created = await apps.createNamespacedDeployment({ namespace, body: deployment });
    const labelSelector = `app.kubernetes.io/name=${name}`;

    const replicaSet = await waitFor(
      async () => (await apps.listNamespacedReplicaSet({ namespace, labelSelector })).items[0],
      { description: `a ReplicaSet for Deployment ${name}`, timeoutMs: 30_000 },
    );
    expect(replicaSet.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "Deployment",
      name,
      uid: created.metadata?.uid,
      controller: true,
    });

    // The ReplicaSet controller creates the pod; with no node that fits, the scheduler must say so.
    const pod = await waitFor(
      async () => {
        const candidate = (await core.listNamespacedPod({ namespace, labelSelector })).items[0];
        const scheduled = candidate?.status?.conditions?.find(
          (condition) => condition.type === "PodScheduled",
        );
        return scheduled?.status === "False" ? { pod: candidate, scheduled } : undefined;
      },
      { description: `the scheduler to report on the pod of ${name}`, timeoutMs: 30_000 },
    );
    expect(pod.scheduled.reason).toBe("Unschedulable");

    await apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: "Background" });
    await waitFor(
      async () =>
        (await apps.listNamespacedReplicaSet({ namespace, labelSelector })).items.length === 0
          ? true
          : undefined,
      { description: `the ReplicaSet of ${name} to be garbage-collected`, timeoutMs: 30_000 },
    );
    await waitFor(
      async () =>
        (await core.listNamespacedPod({ namespace, labelSelector })).items.length === 0 ? true : undefined,
      { description: `the pods of ${name} to be garbage-collected`, timeoutMs: 30_000 },
    );
  });
});
