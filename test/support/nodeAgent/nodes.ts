// Node registration and heartbeats, as the kubelet does them: a Node object with labels,
// capacity and addresses; its status conditions refreshed every 10 s; and its Lease in
// kube-node-lease renewed every 10 s, which the node lifecycle controller watches to keep
// the node Ready and untainted.
import type { CoreV1Api, CustomObjectsApi, V1Node } from "@kubernetes/client-node";
import { hasStatus, mergePatch, microTime } from "./kube.ts";

export interface NodeSpec {
  name: string;
  zone: string;
  internalIP: string;
}

/**
 * Faster than a kubelet's 10 s, so that the control plane's node-monitor grace period can be
 * short too (see controlPlane.ts): a stopped Node turns NotReady in seconds, not a minute.
 */
export const heartbeatIntervalMs = 2_000;
const leaseDurationSeconds = 10;
const capacity = { cpu: "8", memory: "16Gi", pods: "110", "ephemeral-storage": "100Gi" };

function nodeObject(node: NodeSpec): V1Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: node.name,
      labels: {
        "kubernetes.io/hostname": node.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": process.arch === "x64" ? "amd64" : process.arch,
        "topology.kubernetes.io/zone": node.zone,
        "node.paxos.dev/agent": "paxos-node-agent",
      },
    },
    spec: {},
  };
}

function nodeStatus(node: NodeSpec, now: string, previous: V1Node | undefined): Record<string, unknown> {
  const condition = (type: string, status: string, reason: string, message: string) => {
    const before = previous?.status?.conditions?.find((c) => c.type === type);
    const since = before?.status === status ? before.lastTransitionTime : undefined;
    return {
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: since instanceof Date ? since.toISOString() : (since ?? now),
    };
  };
  return {
    capacity,
    allocatable: capacity,
    addresses: [
      { type: "InternalIP", address: node.internalIP },
      { type: "Hostname", address: node.name },
    ],
    conditions: [
      condition(
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
      ),
      condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
      condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
      condition("NetworkUnavailable", "False", "RouteCreated", "the node agent's bridge is up"),
      condition("Ready", "True", "KubeletReady", "paxos node agent is posting ready status"),
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: node.name,
      systemUUID: node.name,
      bootID: node.name,
      kernelVersion: "paxos-node-agent",
      osImage: "paxos node agent (local processes)",
      containerRuntimeVersion: "paxos-node-agent://0.1.0",
      kubeletVersion: "v1.33.0",
      kubeProxyVersion: "v1.33.0",
      operatingSystem: "linux",
      architecture: process.arch === "x64" ? "amd64" : process.arch,
    },
  };
}

export class NodeHeartbeats {
  private readonly core: CoreV1Api;
  private readonly objects: CustomObjectsApi;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly onError: (node: string, error: unknown) => void;

  constructor(core: CoreV1Api, objects: CustomObjectsApi, onError: (node: string, error: unknown) => void) {
    this.core = core;
    this.objects = objects;
    this.onError = onError;
  }

  /** Creates the Node or updates an existing one (a restarted agent), then posts its status. */
  async register(node: NodeSpec): Promise<void> {
    const body = nodeObject(node);
    let existing: V1Node | undefined;
    try {
      existing = await this.core.readNode({ name: node.name });
    } catch (error) {
      if (!hasStatus(error, 404)) throw error;
    }
    if (existing === undefined) await this.core.createNode({ body });
    else
      await this.core.patchNode(
        { name: node.name, body: { metadata: { labels: body.metadata?.labels } } },
        mergePatch,
      );
    await this.beat(node);
  }

  async beat(node: NodeSpec): Promise<void> {
    const now = new Date();
    const current = await this.core.readNode({ name: node.name });
    await this.core.patchNodeStatus(
      { name: node.name, body: { status: nodeStatus(node, now.toISOString(), current) } },
      mergePatch,
    );
    await this.renewLease(node, current, now);
  }

  private async renewLease(node: NodeSpec, owner: V1Node, now: Date): Promise<void> {
    const lease = {
      group: "coordination.k8s.io",
      version: "v1",
      namespace: "kube-node-lease",
      plural: "leases",
    };
    try {
      await this.objects.patchNamespacedCustomObject(
        {
          ...lease,
          name: node.name,
          body: { spec: { holderIdentity: node.name, renewTime: microTime(now) } },
        },
        mergePatch,
      );
    } catch (error) {
      if (!hasStatus(error, 404)) throw error;
      await this.objects.createNamespacedCustomObject({
        ...lease,
        body: {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: {
            name: node.name,
            namespace: "kube-node-lease",
            ownerReferences: [
              { apiVersion: "v1", kind: "Node", name: node.name, uid: owner.metadata?.uid ?? "" },
            ],
          },
          spec: { holderIdentity: node.name, leaseDurationSeconds, renewTime: microTime(now) },
        },
      });
    }
  }

  start(node: NodeSpec): void {
    this.stop(node.name);
    this.timers.set(
      node.name,
      setInterval(() => {
        this.beat(node).catch((error: unknown) => this.onError(node.name, error));
      }, heartbeatIntervalMs),
    );
  }

  stop(name: string): void {
    const timer = this.timers.get(name);
    if (timer !== undefined) clearInterval(timer);
    this.timers.delete(name);
  }

  stopAll(): void {
    for (const name of [...this.timers.keys()]) this.stop(name);
  }
}
