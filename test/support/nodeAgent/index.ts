// A fake kubelet for tests and the demo (not product code): it registers Nodes and keeps
// them Ready, runs the pods scheduled to them as local processes in their own network and
// mount namespaces, probes them, reports their status, provisions their volumes, and can
// lose a node (kill or freeze it). See the modules next to this one for each job.
import { mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import {
  ADD,
  CoreV1Api,
  CustomObjectsApi,
  DELETE,
  ERROR,
  type Informer,
  KubeConfig,
  makeInformer,
  type ObjectCache,
  StorageV1Api,
  UPDATE,
  type V1Pod,
} from "@kubernetes/client-node";
import { defaultRestartBackoff, type RestartBackoffOptions } from "./backoff.ts";
import { renderHostsFile } from "./hostsFile.ts";
import type { ImageMap } from "./images.ts";
import { describeError, hasStatus } from "./kube.ts";
import { PodNetwork } from "./network.ts";
import { NodeHeartbeats, type NodeSpec } from "./nodes.ts";
import { PodWorker } from "./podWorker.ts";
import { claimSlot, releaseSlot, removeCreatedDirs, saveRecord } from "./registry.ts";
import { ensureStorageClass, LocalProvisioner } from "./storage.ts";

export type { ImageCommand, ImageMap } from "./images.ts";
export { provisionerName, storageClassName } from "./storage.ts";

export interface NodeAgentOptions {
  kubeconfigPath: string;
  /** Logs (logs/<ns>_<pod>_<container>.log), volumes and per-pod files. */
  stateDir: string;
  nodes?: number;
  nodeNamePrefix?: string;
  /**
   * Run only the pods of these namespaces; pods of others scheduled to its nodes are left
   * alone. All when unset. A test on a control plane that other suites share uses it, so
   * their leftover pods do not start on its nodes.
   */
  namespaces?: readonly string[];
  zones?: string[];
  images?: ImageMap;
  onProgress?: (message: string) => void;
  restartBackoff?: RestartBackoffOptions;
}

export interface NodeAgent {
  readonly nodes: readonly string[];
  /** The IP the agent gave the pod (also in its status once written). */
  podIP(namespace: string, pod: string): string | undefined;
  /** The main container's process and the pod's network namespace (a path under /run/netns). */
  podProcess(namespace: string, pod: string): { pid: number; netns: string } | undefined;
  /** Stops the node's heartbeats and pod handling; its processes are SIGKILLed or SIGSTOPped. */
  stopNode(name: string, mode: "kill" | "freeze"): Promise<void>;
  startNode(name: string): Promise<void>;
  /** Kills every pod process and removes everything the agent created on the host. */
  stop(): Promise<void>;
}

const resyncIntervalMs = 5000;

export async function startNodeAgent(options: NodeAgentOptions): Promise<NodeAgent> {
  const progress = options.onProgress ?? (() => undefined);
  const config = new KubeConfig();
  config.loadFromFile(options.kubeconfigPath);
  const core = config.makeApiClient(CoreV1Api);
  const objects = config.makeApiClient(CustomObjectsApi);
  const storageApi = config.makeApiClient(StorageV1Api);
  await mkdir(options.stateDir, { recursive: true });

  const record = await claimSlot(options.stateDir);
  const network = new PodNetwork(record);
  const prefix = options.nodeNamePrefix ?? "node";
  const zones = options.zones ?? ["zone-a", "zone-b", "zone-c"];
  const nodeSpecs: NodeSpec[] = Array.from({ length: options.nodes ?? 3 }, (_, index) => ({
    name: `${prefix}-${index + 1}`,
    zone: zones[index % zones.length] ?? "zone-a",
    internalIP: network.nodeIP(index),
  }));
  const nodeNames = nodeSpecs.map((node) => node.name);
  const stoppedNodes = new Set<string>();
  const workers = new Map<string, PodWorker>();
  let stopped = false;
  let pods: (Informer<V1Pod> & ObjectCache<V1Pod>) | undefined;
  let resyncTimer: NodeJS.Timeout | undefined;
  let hostsTimer: NodeJS.Timeout | undefined;
  const heartbeats = new NodeHeartbeats(core, objects, (node, error) =>
    progress(`node ${node}: heartbeat failed: ${describeError(error)}`),
  );
  const provisioner = new LocalProvisioner({
    config,
    core,
    storage: storageApi,
    stateDir: options.stateDir,
    ownsNode: (name) => nodeNames.includes(name) && !stoppedNodes.has(name),
    progress,
  });

  const refreshAllHosts = () => {
    if (hostsTimer !== undefined) return;
    hostsTimer = setTimeout(() => {
      hostsTimer = undefined;
      for (const worker of workers.values()) void worker.refreshHosts();
    }, 20);
  };
  const entries = () =>
    [...workers.values()].map((worker) => ({
      namespace: worker.namespace,
      name: worker.name,
      hostname: worker.pod.spec?.hostname,
      subdomain: worker.pod.spec?.subdomain,
      ip: worker.ip,
    }));

  const createdTargets = new Set<string>();
  const ensureMountTarget = async (path: string) => {
    if (createdTargets.has(path)) return;
    createdTargets.add(path);
    if (!record.mountTargets.includes(path)) record.mountTargets.push(path);
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (!exists) {
      const first = await mkdir(path, { recursive: true });
      if (first !== undefined && !record.createdDirs.includes(first)) {
        // Every level created, so that removal on stop goes deepest first.
        for (let dir = path; dir.length >= first.length; dir = dirname(dir)) record.createdDirs.push(dir);
      }
    }
    await saveRecord(record);
  };

  const workerContext = {
    core,
    network,
    images: options.images ?? {},
    stateDir: options.stateDir,
    restartBackoff: options.restartBackoff ?? defaultRestartBackoff,
    hostIP: (node: string) => nodeSpecs.find((spec) => spec.name === node)?.internalIP,
    progress,
    hostsFileFor: (worker: PodWorker) =>
      renderHostsFile(
        {
          namespace: worker.namespace,
          name: worker.name,
          hostname: worker.pod.spec?.hostname,
          subdomain: worker.pod.spec?.subdomain,
          ip: worker.ip,
        },
        entries(),
      ),
    sandboxChanged: refreshAllHosts,
    ensureMountTarget,
    finished: (worker: PodWorker) => {
      if (workers.get(worker.uid) === worker) workers.delete(worker.uid);
      refreshAllHosts();
    },
  };

  const ours = (pod: V1Pod) => {
    const node = pod.spec?.nodeName;
    const inScope =
      options.namespaces === undefined || options.namespaces.includes(pod.metadata?.namespace ?? "");
    return node !== undefined && nodeNames.includes(node) && inScope;
  };

  const sync = (pod: V1Pod) => {
    if (stopped || !ours(pod)) return;
    const node = pod.spec?.nodeName ?? "";
    if (stoppedNodes.has(node)) return;
    const uid = pod.metadata?.uid ?? "";
    const existing = workers.get(uid);
    if (existing !== undefined) {
      existing.update(pod);
      return;
    }
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    if (pod.metadata?.deletionTimestamp) {
      // Nothing runs here for it (it finished, or ran under an agent that died): confirm the deletion.
      void core
        .deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0, body: { preconditions: { uid } } })
        .catch(() => undefined);
      return;
    }
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return;
    const worker = new PodWorker(pod, workerContext);
    workers.set(uid, worker);
    progress(`pod ${namespace}/${name} starting on ${node}`);
    void worker.start();
  };

  const gone = (pod: V1Pod) => {
    const worker = workers.get(pod.metadata?.uid ?? "");
    if (worker === undefined || stoppedNodes.has(worker.node)) return;
    void worker.destroy();
  };

  const resync = () => {
    if (stopped || pods === undefined) return;
    const live = new Set<string>();
    for (const pod of pods.list()) {
      live.add(pod.metadata?.uid ?? "");
      sync(pod);
    }
    for (const worker of [...workers.values()])
      if (!live.has(worker.uid) && !stoppedNodes.has(worker.node)) void worker.destroy();
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (resyncTimer !== undefined) clearInterval(resyncTimer);
    if (hostsTimer !== undefined) clearTimeout(hostsTimer);
    heartbeats.stopAll();
    await pods?.stop();
    await provisioner.stop();
    await Promise.all([...workers.values()].map((worker) => worker.destroy()));
    await network.tearDown();
    await removeCreatedDirs(record);
    await releaseSlot(record);
    progress("node agent stopped");
  };

  try {
    await network.setUp(nodeSpecs.length);
    await ensureStorageClass(storageApi);
    for (const node of nodeSpecs) {
      await heartbeats.register(node);
      heartbeats.start(node);
      progress(`node ${node.name} registered (${node.zone}, ${node.internalIP})`);
    }
    await provisioner.start();
    const informer = makeInformer<V1Pod>(config, "/api/v1/pods", () => core.listPodForAllNamespaces());
    pods = informer;
    informer.on(ADD, sync);
    informer.on(UPDATE, sync);
    informer.on(DELETE, gone);
    informer.on(ERROR, (error?: unknown) => {
      if (stopped) return;
      progress(`pod watch failed (${describeError(error)}); restarting it`);
      setTimeout(() => {
        if (!stopped) informer.start().catch(() => undefined);
      }, 1000);
    });
    await informer.start();
    resyncTimer = setInterval(resync, resyncIntervalMs);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  progress(
    `node agent ${record.id} running ${nodeNames.join(", ")} on bridge ${network.bridge} (10.244.${record.slot}.0/24)`,
  );

  const findWorker = (namespace: string, name: string) =>
    [...workers.values()].find(
      (worker) => worker.namespace === namespace && worker.name === name && worker.sandbox,
    );

  return {
    nodes: nodeNames,
    podIP: (namespace, name) => findWorker(namespace, name)?.ip,
    podProcess: (namespace, name) => {
      const worker = findWorker(namespace, name);
      const pid = worker?.mainPid;
      return pid === undefined || worker?.sandbox === undefined
        ? undefined
        : { pid, netns: worker.sandbox.netnsPath };
    },
    async stopNode(name, mode) {
      if (!nodeNames.includes(name)) throw new Error(`node agent: no node ${name}`);
      stoppedNodes.add(name);
      heartbeats.stop(name);
      for (const worker of workers.values()) if (worker.node === name) worker.suspend(mode);
      progress(`node ${name} stopped (${mode})`);
    },
    async startNode(name) {
      const node = nodeSpecs.find((spec) => spec.name === name);
      if (node === undefined) throw new Error(`node agent: no node ${name}`);
      stoppedNodes.delete(name);
      await heartbeats.beat(node).catch((error: unknown) => {
        if (!hasStatus(error, 404)) throw error;
        return heartbeats.register(node);
      });
      heartbeats.start(node);
      for (const worker of [...workers.values()]) {
        if (worker.node !== name) continue;
        const current = pods?.get(worker.name, worker.namespace);
        if (current?.metadata?.uid === worker.uid) {
          worker.pod = current;
          worker.resume();
        } else void worker.destroy();
      }
      for (const pod of pods?.list() ?? []) if (pod.spec?.nodeName === name) sync(pod);
      progress(`node ${name} started`);
    },
    stop,
  };
}
