// What the e2e scenarios share: API clients from the target's kubeconfig, PaxosCluster
// create/read/wait, a load target made of pods (resolved through the target, so a pod that
// comes back with a new IP is found again), and `kubectl get` as a user would run it.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  PolicyV1Api,
} from "@kubernetes/client-node";
import { type HttpAnswer, jsonRequest } from "../support/jsonRequest.ts";
import { toolPath } from "../support/tools.ts";
import { waitFor } from "../support/waitFor.ts";
import { type E2eTarget, openTarget } from "./targets/target.ts";

const run = promisify(execFile);
export const group = "paxos.dev";
export const version = "v1alpha1";
export const plural = "paxosclusters";
export const replicaHttpPort = 8080;

export interface ClusterCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface MemberStatus {
  name: string;
  incarnation: string;
  node?: string;
  message?: string;
  role?: string;
  health?: string;
  voter?: boolean;
  lastContactTime?: string;
}

export interface PaxosClusterObject {
  metadata: { name: string; namespace: string; uid: string; generation: number; finalizers?: string[] };
  spec: { replicas: number };
  status?: {
    phase?: string;
    replicas?: number;
    readyReplicas?: number;
    leader?: string;
    bootstrapped?: boolean;
    observedGeneration?: number;
    members?: MemberStatus[];
    conditions?: ClusterCondition[];
  };
}

export interface Kube {
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly policy: PolicyV1Api;
  readonly objects: CustomObjectsApi;
  readonly discovery: DiscoveryV1Api;
}

export function kubeClients(target: E2eTarget): Kube {
  const config = new KubeConfig();
  config.loadFromFile(target.kubeconfigPath);
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    policy: config.makeApiClient(PolicyV1Api),
    objects: config.makeApiClient(CustomObjectsApi),
    discovery: config.makeApiClient(DiscoveryV1Api),
  };
}

export async function createPaxosCluster(
  kube: Kube,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<PaxosClusterObject> {
  return (await kube.objects.createNamespacedCustomObject({
    group,
    version,
    namespace,
    plural,
    body: { apiVersion: `${group}/${version}`, kind: "PaxosCluster", metadata: { name }, spec },
  })) as PaxosClusterObject;
}

export async function readPaxosCluster(
  kube: Kube,
  namespace: string,
  name: string,
): Promise<PaxosClusterObject> {
  return (await kube.objects.getNamespacedCustomObject({
    group,
    version,
    namespace,
    plural,
    name,
  })) as PaxosClusterObject;
}

export function condition(cluster: PaxosClusterObject, type: string): ClusterCondition | undefined {
  return cluster.status?.conditions?.find((candidate) => candidate.type === type);
}

/** Running: a leader, every member healthy and ready, Available. */
export function isHealthy(cluster: PaxosClusterObject, replicas = cluster.spec.replicas): boolean {
  const status = cluster.status;
  return (
    status?.phase === "Running" &&
    status.readyReplicas === replicas &&
    status.leader !== undefined &&
    status.observedGeneration === cluster.metadata.generation &&
    condition(cluster, "Available")?.status === "True" &&
    (status.members ?? []).filter((member) => member.health === "healthy" && member.voter === true).length ===
      replicas
  );
}

/**
 * Every member answered the operator after `since` (whole seconds: the status has no
 * finer times), so the status describes the cluster after an event, not before it.
 */
export function heardFromAllSince(cluster: PaxosClusterObject, since: Date): boolean {
  const floor = Math.ceil(since.getTime() / 1000) * 1000;
  const members = cluster.status?.members ?? [];
  return (
    members.length > 0 &&
    members.every(
      (member) => member.lastContactTime !== undefined && Date.parse(member.lastContactTime) >= floor,
    )
  );
}

/** Waits until the cluster's status satisfies `ready`; returns the cluster and how long it took. */
export async function waitForCluster(
  kube: Kube,
  namespace: string,
  name: string,
  ready: (cluster: PaxosClusterObject) => boolean,
  description: string,
  timeoutMs = 180_000,
): Promise<{ cluster: PaxosClusterObject; elapsedMs: number }> {
  const started = performance.now();
  let last: PaxosClusterObject | undefined;
  try {
    const cluster = await waitFor(
      async () => {
        last = await readPaxosCluster(kube, namespace, name);
        return ready(last) ? last : undefined;
      },
      { description, timeoutMs, intervalMs: 250 },
    );
    return { cluster, elapsedMs: Math.round(performance.now() - started) };
  } catch (error) {
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(last?.status)}`);
  }
}

/**
 * The members as the load generator sees them: pod names, each request sent to the URL the
 * target gives for the pod now (cached until a request to it fails, since a recreated pod
 * may come back with a new IP).
 */
export function podMembers(target: E2eTarget, namespace: string, pods: readonly string[]) {
  const urls = new Map<string, string>();
  const url = async (pod: string) => {
    const known = urls.get(pod);
    if (known !== undefined) return known;
    const resolved = await target.memberUrl(namespace, pod, replicaHttpPort);
    urls.set(pod, resolved);
    return resolved;
  };
  return {
    members: pods,
    async request(
      pod: string,
      method: string,
      path: string,
      options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
    ): Promise<HttpAnswer> {
      try {
        return await jsonRequest(`${await url(pod)}${path}`, method, options, 3_000);
      } catch (error) {
        urls.delete(pod);
        throw error;
      }
    },
  };
}

/** `kubectl get paxosclusters` as a user types it; the rows as columns. */
export async function kubectlGetPaxosClusters(target: E2eTarget, namespace: string): Promise<string[][]> {
  const { stdout } = await run(toolPath("kubectl"), [
    `--kubeconfig=${target.kubeconfigPath}`,
    "get",
    "paxosclusters",
    "-n",
    namespace,
  ]);
  return stdout
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/));
}

/** Opens the target and creates the namespace an e2e file works in (its beforeAll). */
export async function openScenario(namespace: string): Promise<{ target: E2eTarget; kube: Kube }> {
  const target = await openTarget();
  const kube = kubeClients(target);
  await kube.core.createNamespace({ body: { metadata: { name: namespace } } });
  return { target, kube };
}

/** Deletes the namespace and closes the target (its afterAll); safe after a failed open. */
export async function closeScenario(
  target: E2eTarget | undefined,
  kube: Kube | undefined,
  namespace: string,
): Promise<void> {
  await target?.healNetwork().catch(() => undefined);
  await kube?.core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await target?.close();
}

/** Waits until the status names a leader other than `previous`. */
export function waitForLeaderOtherThan(
  kube: Kube,
  namespace: string,
  name: string,
  previous: string,
  description: string,
): Promise<{ cluster: PaxosClusterObject; elapsedMs: number }> {
  return waitForCluster(
    kube,
    namespace,
    name,
    (cluster) => cluster.status?.leader !== undefined && cluster.status.leader !== previous,
    description,
    60_000,
  );
}
