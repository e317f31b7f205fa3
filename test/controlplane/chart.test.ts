// The Helm chart (charts/paxos-operator) with the real helm against the real control plane:
// it lints, renders what the values ask for, installs the CRD, RBAC and the operator's
// Deployment into a namespace that enforces the restricted Pod Security Standard, grants
// the operator exactly its ClusterRole, and uninstalls everything but the CRD. There are no
// nodes in this tier, so the operator pods are created but never run. The opt-in Grafana
// dashboard and PrometheusRule may query only metrics the operator and the replicas define.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
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
import { memberHealths, quorumStates } from "../../operator/src/clusterMetrics.ts";
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

interface ConfigMapManifest extends Manifest {
  data: Record<string, string>;
}
interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string };
}
interface PrometheusRuleManifest extends Manifest {
  spec: { groups: { name: string; rules: AlertRule[] }[] };
}
interface DashboardPanel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: DashboardPanel[];
}
interface Dashboard {
  uid: string;
  schemaVersion: number;
  panels: DashboardPanel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

const dashboardPath = join(chartPath, "dashboards/paxos-operator.json");
/** The values that turn on the dashboard and the alerts (which need the ServiceMonitor). */
const monitoringValues = [
  "--set",
  "metrics.serviceMonitor.enabled=true",
  "--set",
  "grafanaDashboard.enabled=true",
  "--set",
  "prometheusRule.enabled=true",
];
const alertNames = [
  "PaxosClusterQuorumLost",
  "PaxosClusterQuorumAtRisk",
  "PaxosClusterMembersFenced",
  "PaxosClusterLeaderFlapping",
  "PaxosOperatorReconcileErrors",
  "PaxosOperatorDown",
];

/** Every PromQL expression of the dashboard: its panels' targets and its query variables. */
function dashboardExpressions(dashboard: Dashboard): string[] {
  const fromPanels = (panels: readonly DashboardPanel[]): string[] =>
    panels.flatMap((panel) => [
      ...(panel.targets ?? []).map((target) => target.expr),
      ...fromPanels(panel.panels ?? []),
    ]);
  const fromVariables = dashboard.templating.list
    .filter((variable) => variable.type === "query")
    .map((variable) => (typeof variable.query === "string" ? variable.query : variable.query.query));
  return [...fromPanels(dashboard.panels), ...fromVariables];
}

const seriesSuffixes = {
  Counter: [""],
  Gauge: [""],
  Histogram: ["_bucket", "_sum", "_count"],
  Summary: ["", "_sum", "_count"],
} as const;

/**
 * The series names the code exports: each `new Counter|Gauge|Histogram|Summary({ name })`
 * in operator/src and its folders (tests aside) and in replica/src/runtime/metrics.ts.
 * prom-client exports a counter or a gauge under its name (the counters' names carry their
 * _total), a histogram as <name>_bucket, _sum and _count, a summary as <name>, _sum and
 * _count. A metric defined some other way is missed, and the test fails rather than pass.
 */
async function definedSeries(): Promise<Set<string>> {
  const operatorSources = (await readdir(join(repositoryRoot, "operator/src"), { recursive: true }))
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
    .map((file) => join("operator/src", file));
  const series = new Set<string>();
  for (const source of [...operatorSources, "replica/src/runtime/metrics.ts"]) {
    const text = await readFile(join(repositoryRoot, source), "utf8");
    for (const match of text.matchAll(
      /new (Counter|Gauge|Histogram|Summary)(?:<[^>]*>)?\(\{\s*name:\s*"(paxos_[a-z0-9_]+)"/g,
    )) {
      const [, type, name] = match as unknown as [string, keyof typeof seriesSuffixes, string];
      for (const suffix of seriesSuffixes[type]) series.add(`${name}${suffix}`);
    }
  }
  return series;
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
    const monitored = await helm(["lint", "--strict", chartPath, ...monitoringValues]);
    expect(monitored.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
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
    // honorLabels keeps the PaxosCluster's namespace on the per-cluster series.
    expect(monitor.spec.endpoints).toMatchObject([{ port: "metrics", path: "/metrics", honorLabels: true }]);
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
    // Without the ServiceMonitor nothing would scrape the job PaxosOperatorDown watches.
    expect(
      await helmFailure(["template", releaseName, chartPath, "--set", "prometheusRule.enabled=true"]),
    ).toContain("prometheusRule.enabled needs metrics.serviceMonitor.enabled=true");
  });

  it("renders the Grafana dashboard and the PrometheusRule only when asked", async () => {
    const kinds = (manifests: readonly Manifest[]) => manifests.map((manifest) => manifest.kind);
    const defaults = await render();
    expect(kinds(defaults)).not.toContain("PrometheusRule");
    expect(kinds(defaults)).not.toContain("ConfigMap");

    const monitored = await render(...monitoringValues);
    const configMap = only<ConfigMapManifest>(monitored, "ConfigMap");
    expect(configMap.metadata).toMatchObject({
      name: `${fullName}-grafana-dashboard`,
      namespace,
      labels: { grafana_dashboard: "1", "app.kubernetes.io/instance": releaseName },
    });
    const dashboard = JSON.parse(configMap.data["paxos-operator.json"] ?? "") as Dashboard;
    expect(dashboard).toEqual(JSON.parse(await readFile(dashboardPath, "utf8")));
    expect(Array.isArray(dashboard.panels)).toBe(true);
    expect(dashboard.panels.length).toBeGreaterThan(10);
    expect(dashboard.templating.list.map((variable) => [variable.name, variable.type])).toEqual([
      ["datasource", "datasource"],
      ["namespace", "query"],
      ["cluster", "query"],
    ]);

    const rule = only<PrometheusRuleManifest>(monitored, "PrometheusRule");
    expect(rule.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(rule.metadata.namespace).toBe(namespace);
    const rules = rule.spec.groups.flatMap((group) => group.rules);
    expect(rules.map((alert) => alert.alert)).toEqual(alertNames);
    const operations = await readFile(join(repositoryRoot, "docs/operations.md"), "utf8");
    for (const alert of rules) {
      expect(["critical", "warning"], alert.alert).toContain(alert.labels.severity);
      expect(alert.annotations.summary, alert.alert).not.toBe("");
      // Each runbook is a section of docs/operations.md named after the alert.
      expect(alert.annotations.runbook_url).toBe(
        `https://github.com/paxos-operator/paxos-operator/blob/main/docs/operations.md#${alert.alert.toLowerCase()}`,
      );
      expect(operations).toContain(`\n### ${alert.alert}\n`);
      if (alert.alert.startsWith("PaxosCluster"))
        expect(alert.annotations.description).toContain("{{ $labels.namespace }}/{{ $labels.name }}");
    }
    const byName = Object.fromEntries(rules.map((alert) => [alert.alert, alert]));
    expect(byName.PaxosClusterQuorumLost).toMatchObject({ for: "1m", labels: { severity: "critical" } });
    expect(byName.PaxosClusterQuorumAtRisk).toMatchObject({ for: "5m", labels: { severity: "warning" } });
    expect(byName.PaxosClusterMembersFenced).toMatchObject({ for: "10m", labels: { severity: "warning" } });
    expect(byName.PaxosClusterLeaderFlapping?.expr).toContain("[10m])) > 3");
    // The Prometheus Operator names a ServiceMonitor's job after its Service.
    const service = only(monitored, "Service");
    expect(byName.PaxosOperatorDown?.expr).toBe(
      `absent(up{job="${service.metadata.name}", namespace="${namespace}"} == 1)`,
    );
    expect(byName.PaxosOperatorDown?.labels.severity).toBe("critical");

    const customized = await render(
      ...monitoringValues,
      "--set",
      "grafanaDashboard.namespace=monitoring",
      "--set",
      "grafanaDashboard.sidecarLabel=dashboards",
      "--set",
      "grafanaDashboard.sidecarLabelValue=paxos",
      "--set",
      "prometheusRule.labels.release=kube-prometheus-stack",
      "--set",
      "prometheusRule.additionalRuleLabels.team=databases",
      "--set",
      "prometheusRule.runbookBaseURL=https://docs.example.com/paxos/",
      "--set-string",
      'prometheusRule.operatorSelector=job="paxos"',
    );
    const customMap = only<ConfigMapManifest>(customized, "ConfigMap");
    expect(customMap.metadata.namespace).toBe("monitoring");
    expect(customMap.metadata.labels).toMatchObject({ dashboards: "paxos" });
    expect(customMap.metadata.labels).not.toHaveProperty("grafana_dashboard");
    const customRule = only<PrometheusRuleManifest>(customized, "PrometheusRule");
    expect(customRule.metadata.labels).toMatchObject({ release: "kube-prometheus-stack" });
    for (const alert of customRule.spec.groups.flatMap((group) => group.rules)) {
      expect(alert.labels.team).toBe("databases");
      expect(alert.annotations.runbook_url).toBe(
        `https://docs.example.com/paxos#${alert.alert.toLowerCase()}`,
      );
    }
    expect(customRule.spec.groups.at(-1)?.rules.at(-1)?.expr).toBe('absent(up{job="paxos"} == 1)');
  });

  it("queries only metrics the operator and the replicas define", async () => {
    const monitored = await render(...monitoringValues);
    const dashboard = JSON.parse(
      only<ConfigMapManifest>(monitored, "ConfigMap").data["paxos-operator.json"] ?? "",
    ) as Dashboard;
    const rules = only<PrometheusRuleManifest>(monitored, "PrometheusRule").spec.groups.flatMap(
      (group) => group.rules,
    );
    const expressions = [...dashboardExpressions(dashboard), ...rules.map((alert) => alert.expr)];
    expect(expressions.length).toBeGreaterThan(20);
    const used = new Set(expressions.flatMap((expression) => expression.match(/\bpaxos_[a-z0-9_]+/g) ?? []));
    const defined = await definedSeries();
    // The extraction itself works: both sides see the metrics everything hinges on.
    for (const name of ["paxos_operator_cluster_quorum", "paxos_fenced", "paxos_operator_reconcile_total"]) {
      expect(used).toContain(name);
      expect(defined).toContain(name);
    }
    expect([...used].filter((name) => !defined.has(name))).toEqual([]);
    expect([...used].filter((name) => name.startsWith("paxos_operator_")).length).toBeGreaterThanOrEqual(9);
    expect([...used].filter((name) => !name.startsWith("paxos_operator_")).length).toBeGreaterThanOrEqual(8);

    // The label values they match on are the ones the operator sets.
    const values = (label: string) =>
      expressions.flatMap((expression) =>
        [...expression.matchAll(new RegExp(`\\b${label}="([^"]*)"`, "g"))].map((match) => match[1]),
      );
    expect(values("state").length).toBeGreaterThan(0);
    for (const state of values("state")) expect(quorumStates).toContain(state);
    expect(values("health")).toContain("fenced");
    for (const health of values("health")) expect(memberHealths).toContain(health);
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
