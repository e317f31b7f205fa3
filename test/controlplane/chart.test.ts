// The Helm chart (charts/paxos-operator) with the real helm against the real control plane:
// it lints, renders what the values ask for, installs the CRD, RBAC and the operator's
// Deployment into a namespace that enforces the restricted Pod Security Standard, grants
// the operator exactly its ClusterRole, and uninstalls everything but the CRD. There are no
// nodes in this tier, so the operator pods are created but never run.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PolicyV1Api,
  RbacAuthorizationV1Api,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { paxosClusterCrdName, paxosClusterCrdPath } from "../support/crd.ts";
import { repositoryRoot, toolPath } from "../support/tools.ts";
import { waitFor } from "../support/waitFor.ts";

const run = promisify(execFile);

const chartPath = join(repositoryRoot, "charts/paxos-operator");
const releaseName = "paxos-operator";
const namespace = "paxos-system";
/** With release name "paxos-operator" every object is named like the chart. */
const fullName = "paxos-operator";
const serviceAccountUser = `system:serviceaccount:${namespace}:${fullName}`;

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}
interface RoleDocument {
  metadata: { name: string };
  rules: unknown[];
}
interface DeploymentManifest extends Manifest {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        serviceAccountName: string;
        securityContext: Record<string, unknown>;
        containers: {
          name: string;
          image: string;
          args: string[];
          env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
          ports: { name: string; containerPort: number }[];
          livenessProbe: { httpGet: { path: string; port: string } };
          readinessProbe: { httpGet: { path: string; port: string } };
          resources: Record<string, unknown>;
          securityContext: Record<string, unknown>;
        }[];
      };
    };
  };
}

/** A scratch Helm home, so the tests neither read nor write the user's Helm settings. */
let helmHome: string;
let kubeconfigPath: string;

async function helm(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return run(toolPath("helm"), [...args], {
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      KUBECONFIG: kubeconfigPath,
      HELM_CONFIG_HOME: join(helmHome, "config"),
      HELM_CACHE_HOME: join(helmHome, "cache"),
      HELM_DATA_HOME: join(helmHome, "data"),
    },
  });
}

/** The error helm printed for a command that must fail. */
async function helmFailure(args: readonly string[]): Promise<string> {
  try {
    await helm(args);
  } catch (error) {
    return String((error as { stderr?: unknown }).stderr ?? error);
  }
  throw new Error(`expected \`helm ${args.join(" ")}\` to fail, but it succeeded`);
}

async function render(...extraArgs: string[]): Promise<Manifest[]> {
  const { stdout } = await helm(["template", releaseName, chartPath, "--namespace", namespace, ...extraArgs]);
  return parseAllDocuments(stdout)
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
}

function only<T extends Manifest>(manifests: readonly Manifest[], kind: string): T {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  expect(
    found.map((manifest) => manifest.metadata.name),
    `one ${kind}`,
  ).toHaveLength(1);
  return found[0] as T;
}

/** Without Helm's own labels, which the plain manifests do not carry. */
function withoutHelmLabels(manifest: Manifest): Manifest {
  const strip = (labels: Record<string, string> | undefined) => {
    if (labels === undefined) return;
    delete labels["helm.sh/chart"];
    delete labels["app.kubernetes.io/managed-by"];
  };
  const copy = structuredClone(manifest);
  strip(copy.metadata.labels);
  if (copy.kind === "Deployment") strip((copy as DeploymentManifest).spec.template.metadata.labels);
  return copy;
}

async function readRole(): Promise<RoleDocument> {
  return parse(await readFile(join(repositoryRoot, "config/rbac/role.yaml"), "utf8")) as RoleDocument;
}

/** False when the read fails with 404 Not Found. */
async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return false;
    throw error;
  }
}

describe("the Helm chart", () => {
  let admin: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let rbac: RbacAuthorizationV1Api;
  let policy: PolicyV1Api;
  let extensions: ApiextensionsV1Api;
  /** True when the CRD was absent before `helm install`, so helm must have created it. */
  let crdAbsentBeforeInstall = false;

  beforeAll(async () => {
    kubeconfigPath = inject("kubeconfigPath");
    helmHome = await mkdtemp(join(tmpdir(), "paxos-chart-test-helm-"));
    admin = new KubeConfig();
    admin.loadFromFile(kubeconfigPath);
    core = admin.makeApiClient(CoreV1Api);
    apps = admin.makeApiClient(AppsV1Api);
    rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    policy = admin.makeApiClient(PolicyV1Api);
    extensions = admin.makeApiClient(ApiextensionsV1Api);
  });

  afterAll(async () => {
    await helm(["uninstall", releaseName, "--namespace", namespace]).catch(() => undefined);
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
    if (helmHome !== undefined) await rm(helmHome, { recursive: true, force: true });
  });

  it("passes helm lint --strict", async () => {
    const { stdout } = await helm(["lint", "--strict", chartPath]);
    expect(stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
  });

  it("renders the operator's objects with the default values", async () => {
    const manifests = await render();
    expect(manifests.map((manifest) => manifest.kind).sort()).toEqual([
      "ClusterRole",
      "ClusterRoleBinding",
      "Deployment",
      "PodDisruptionBudget",
      "Service",
      "ServiceAccount",
    ]);
    for (const manifest of manifests) {
      expect(manifest.metadata.labels).toMatchObject({
        "app.kubernetes.io/name": "paxos-operator",
        "app.kubernetes.io/instance": releaseName,
        "app.kubernetes.io/version": "0.1.0",
        "app.kubernetes.io/managed-by": "Helm",
        "helm.sh/chart": "paxos-operator-0.1.0",
      });
      if (manifest.kind !== "ClusterRole" && manifest.kind !== "ClusterRoleBinding")
        expect(manifest.metadata.namespace).toBe(namespace);
    }
    expect(only<Manifest & RoleDocument>(manifests, "ClusterRole").rules).toEqual((await readRole()).rules);

    const deployment = only<DeploymentManifest>(manifests, "Deployment");
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(pod.containers).toHaveLength(1);
    expect(container?.image).toBe("ghcr.io/paxos-operator/operator:0.1.0");
    expect(container?.args).toEqual([
      "--metrics-port=8081",
      "--leader-elect",
      `--leader-election-namespace=${namespace}`,
    ]);
    expect(
      container?.env.map((variable) => [variable.name, variable.valueFrom?.fieldRef?.fieldPath]),
    ).toEqual([
      ["POD_NAME", "metadata.name"],
      ["POD_NAMESPACE", "metadata.namespace"],
    ]);
    expect(container?.ports).toEqual([{ name: "metrics", containerPort: 8081, protocol: "TCP" }]);
    expect(container?.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "metrics" });
    expect(container?.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "metrics" });
    expect(container?.resources).toHaveProperty("requests.memory");
    expect(pod.serviceAccountName).toBe(fullName);

    // With --include-crds the CRD comes out as crds/ has it.
    const withCrds = await render("--include-crds");
    const crd = only(withCrds, "CustomResourceDefinition");
    expect(crd).toEqual(parse(await readFile(paxosClusterCrdPath, "utf8")));
  });

  it("renders a ServiceMonitor only when asked, and no PodDisruptionBudget for a single operator", async () => {
    const monitored = await render("--set", "metrics.serviceMonitor.enabled=true");
    const monitor = only<Manifest & { spec: { endpoints: { port: string; path: string }[] } }>(
      monitored,
      "ServiceMonitor",
    );
    expect(monitor.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(monitor.spec.endpoints).toMatchObject([{ port: "metrics", path: "/metrics" }]);
    const service = only<Manifest & { spec: { ports: { name: string; port: number }[] } }>(
      monitored,
      "Service",
    );
    expect(service.spec.ports).toMatchObject([{ name: "metrics", port: 8081 }]);

    const single = await render("--set", "replicaCount=1", "--set", "watchNamespace=apps");
    expect(single.map((manifest) => manifest.kind)).not.toContain("PodDisruptionBudget");
    expect(only<DeploymentManifest>(single, "Deployment").spec.template.spec.containers[0]?.args).toContain(
      "--namespace=apps",
    );
    const standalone = await render("--set", "replicaCount=1", "--set", "leaderElection.enabled=false");
    expect(only<DeploymentManifest>(standalone, "Deployment").spec.template.spec.containers[0]?.args).toEqual(
      ["--metrics-port=8081", "--no-leader-elect"],
    );
  });

  it("refuses values that would break the operator, saying why", async () => {
    expect(
      await helmFailure(["template", releaseName, chartPath, "--set", "leaderElection.enabled=false"]),
    ).toContain("replicaCount > 1 needs leaderElection.enabled=true");
    expect(
      await helmFailure(["template", releaseName, chartPath, "--set", "image.pullPolicy=Sometimes"]),
    ).toContain("/image/pullPolicy");
    expect(await helmFailure(["template", releaseName, chartPath, "--set", "replicaCount=0"])).toContain(
      "/replicaCount",
    );
  });

  it("has the same objects as the plain manifests in config/manager/operator.yaml", async () => {
    const rendered = (await render())
      .filter((manifest) => manifest.kind !== "ClusterRole")
      .map(withoutHelmLabels);
    const plain = parseAllDocuments(
      await readFile(join(repositoryRoot, "config/manager/operator.yaml"), "utf8"),
    ).map((document) => document.toJS() as Manifest);
    const namespaceObject = only(plain, "Namespace");
    expect(namespaceObject.metadata.name).toBe(namespace);
    const key = (manifest: Manifest) => `${manifest.kind}/${manifest.metadata.name}`;
    const byKey = (manifests: Manifest[]) =>
      Object.fromEntries(manifests.map((manifest) => [key(manifest), manifest]));
    expect(byKey(plain.filter((manifest) => manifest.kind !== "Namespace"))).toEqual(byKey(rendered));
    // The plain binding names the ClusterRole of config/rbac/role.yaml.
    const binding = only<Manifest & { roleRef: { name: string } }>(plain, "ClusterRoleBinding");
    expect(binding.roleRef.name).toBe((await readRole()).metadata.name);
  });

  it("installs the CRD, RBAC and the operator's Deployment", async () => {
    // Helm installs a chart's CRDs only when they are absent. Remove the one an earlier
    // suite of this run may have applied, unless PaxosClusters still use it.
    if (await exists(() => extensions.readCustomResourceDefinition({ name: paxosClusterCrdName }))) {
      const objects = admin.makeApiClient(CustomObjectsApi);
      const existing = (await objects.listClusterCustomObject({
        group: "paxos.dev",
        version: "v1alpha1",
        plural: "paxosclusters",
      })) as { items: unknown[] };
      if (existing.items.length === 0) {
        await extensions.deleteCustomResourceDefinition({ name: paxosClusterCrdName });
        await waitFor(
          async () =>
            (await exists(() => extensions.readCustomResourceDefinition({ name: paxosClusterCrdName })))
              ? undefined
              : true,
          { description: `CRD ${paxosClusterCrdName} to be deleted`, timeoutMs: 60_000 },
        );
        crdAbsentBeforeInstall = true;
      } else {
        console.warn(
          `${existing.items.length} PaxosCluster(s) left by other suites keep the CRD; helm will skip it`,
        );
      }
    } else crdAbsentBeforeInstall = true;

    // The namespace enforces the restricted Pod Security Standard: the operator's pods
    // are only created if their security context meets it.
    await core.createNamespace({
      body: {
        metadata: {
          name: namespace,
          labels: {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
          },
        },
      },
    });
    const { stdout } = await helm([
      "install",
      releaseName,
      chartPath,
      "--namespace",
      namespace,
      "--wait=false",
    ]);
    expect(stdout).toContain("STATUS: deployed");
    expect(stdout).toContain(`kubectl --namespace ${namespace} rollout status deployment/${fullName}`);

    const crd = await waitFor(
      async () => {
        const served = await extensions.readCustomResourceDefinition({ name: paxosClusterCrdName });
        return served.status?.conditions?.some(
          (condition) => condition.type === "Established" && condition.status === "True",
        )
          ? served
          : undefined;
      },
      { description: `CRD ${paxosClusterCrdName} to be Established`, timeoutMs: 30_000 },
    );
    expect(crd.spec.names.kind).toBe("PaxosCluster");
    if (crdAbsentBeforeInstall)
      expect(crd.metadata?.managedFields?.map((entry) => entry.manager)).toContain("helm");

    const serviceAccount = await core.readNamespacedServiceAccount({ name: fullName, namespace });
    expect(serviceAccount.metadata?.labels?.["app.kubernetes.io/instance"]).toBe(releaseName);
    const role = await rbac.readClusterRole({ name: fullName });
    expect(JSON.parse(JSON.stringify(role.rules))).toEqual((await readRole()).rules);
    const binding = await rbac.readClusterRoleBinding({ name: fullName });
    expect(binding.roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: fullName,
    });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: fullName, namespace }]);

    const deployment = await apps.readNamespacedDeployment({ name: fullName, namespace });
    expect(deployment.spec?.replicas).toBe(2);
    const container = deployment.spec?.template.spec?.containers[0];
    expect(container?.args).toContain(`--leader-election-namespace=${namespace}`);
    expect(container?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(deployment.spec?.template.spec?.serviceAccountName).toBe(fullName);
    const service = await core.readNamespacedService({ name: `${fullName}-metrics`, namespace });
    expect(service.spec?.ports?.[0]).toMatchObject({ name: "metrics", port: 8081 });
    const budget = await policy.readNamespacedPodDisruptionBudget({ name: fullName, namespace });
    expect(budget.spec?.minAvailable).toBe(1);

    // The controller manager creates both pods (Pending: this tier has no nodes), which the
    // restricted namespace admits only if the pod template meets the standard.
    const pods = await waitFor(
      async () => {
        const list = await core.listNamespacedPod({
          namespace,
          labelSelector: `app.kubernetes.io/instance=${releaseName}`,
        });
        return list.items.length === 2 ? list.items : undefined;
      },
      { description: "the operator's two pods to be created", timeoutMs: 60_000 },
    );
    for (const pod of pods) {
      expect(pod.spec?.serviceAccountName).toBe(fullName);
      expect(pod.spec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    }
  });

  it("grants the operator's ServiceAccount its ClusterRole and nothing more", async () => {
    const authorization = admin.makeApiClient(AuthorizationV1Api);
    const allowed = async (verb: string, group: string, resource: string, subresource = "") =>
      (
        await authorization.createSubjectAccessReview({
          body: {
            spec: {
              user: serviceAccountUser,
              groups: [
                "system:serviceaccounts",
                `system:serviceaccounts:${namespace}`,
                "system:authenticated",
              ],
              resourceAttributes: { verb, group, resource, subresource, namespace: "some-team" },
            },
          },
        })
      ).status?.allowed === true;
    expect(await allowed("patch", "apps", "statefulsets")).toBe(true);
    expect(await allowed("update", "paxos.dev", "paxosclusters", "status")).toBe(true);
    expect(await allowed("update", "coordination.k8s.io", "leases")).toBe(true);
    expect(await allowed("delete", "apps", "statefulsets")).toBe(false);
    expect(await allowed("update", "", "secrets")).toBe(false);
    expect(await allowed("create", "paxos.dev", "paxosclusters")).toBe(false);
  });

  it("uninstalls everything but the CRD", async () => {
    const { stdout } = await helm(["uninstall", releaseName, "--namespace", namespace, "--wait"]);
    expect(stdout).toContain(`release "${releaseName}" uninstalled`);
    const gone = async (what: string, read: () => Promise<unknown>) =>
      expect(await exists(read), `${what} should be deleted`).toBe(false);
    await gone("the ServiceAccount", () => core.readNamespacedServiceAccount({ name: fullName, namespace }));
    await gone("the ClusterRole", () => rbac.readClusterRole({ name: fullName }));
    await gone("the ClusterRoleBinding", () => rbac.readClusterRoleBinding({ name: fullName }));
    await gone("the Deployment", () => apps.readNamespacedDeployment({ name: fullName, namespace }));
    await gone("the metrics Service", () =>
      core.readNamespacedService({ name: `${fullName}-metrics`, namespace }),
    );
    await gone("the PodDisruptionBudget", () =>
      policy.readNamespacedPodDisruptionBudget({ name: fullName, namespace }),
    );
    // Helm never deletes CRDs: that would delete every PaxosCluster and its data.
    expect(await exists(() => extensions.readCustomResourceDefinition({ name: paxosClusterCrdName }))).toBe(
      true,
    );
  });
});
