// The e2e target on kind (hack/e2e-kind.sh): every Kubernetes node is a Docker container
// named like the node, so faults are made from outside with `docker exec` into the node:
//
// - processes: the replica container's host pid from `crictl inspect`, then kill -KILL,
//   -STOP or -CONT (the replica is the container's only process, `node replica/src/main.ts`);
// - network: iptables DROP rules in the pods' network namespaces (`nsenter -t <pid> -n`),
//   in a chain of their own so that healNetwork() removes exactly what was added;
// - nodes: `docker pause` (freeze) or `docker kill` (kill) of the node's container, which
//   stops its kubelet's heartbeats along with everything else on it;
// - member URLs: `kubectl port-forward` behind a local TCP proxy, so the URL outlives a
//   port-forward that kubectl ends when its pod's process dies;
// - the operator: kill -KILL of the `operator` container's process in the pod that holds
//   the leader Lease, which the kubelet restarts in the same pod (same POD_NAME, so the same
//   Lease identity), as it would after a crash.
//
// Environment: KUBECONFIG (the kind cluster's), PAXOS_E2E_REPLICA_IMAGE (the image the
// script built and loaded; default: the CRD's default image), DOCKER and KUBECTL to use
// other binaries than `docker` on PATH and bin/kubectl.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { promisify } from "node:util";
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1ContainerStatus,
  type V1Pod,
} from "@kubernetes/client-node";
import { paxosClusterDefaults } from "../../../operator/src/builders/paxosCluster.ts";
import { replicaContainerName } from "../../../operator/src/builders/statefulSet.ts";
import { defaultLeaseName } from "../../../operator/src/main.ts";
import { toolPath } from "../../support/tools.ts";
import { waitFor } from "../../support/waitFor.ts";
import type { E2eTarget } from "./target.ts";

const run = promisify(execFile);

/** The iptables chain that holds this target's DROP rules in a pod's network namespace. */
const isolationChain = "PAXOS-E2E";
const portForwardStartMs = 30_000;
const commandTimeoutMs = 60_000;
/** Where hack/e2e-kind.sh installs the operator: Helm release paxos-operator in paxos-system. */
const operatorNamespace = "paxos-system";
/** The chart's selector labels (charts/paxos-operator/templates/_helpers.tpl) for that release. */
const operatorPodSelector = "app.kubernetes.io/name=paxos-operator,app.kubernetes.io/instance=paxos-operator";
/** The chart's container name (charts/paxos-operator/templates/deployment.yaml). */
const operatorContainerName = "operator";
/** Long enough for the kubelet's crash-loop back-off after a few restarts in a row (10 s, 20 s, 40 s ...). */
const operatorRestartTimeoutMs = 180_000;

interface KindTargetOptions {
  readonly kubeconfigPath: string;
  readonly replicaImage: string;
  readonly upgradedReplicaImage: string;
  readonly docker: string;
  readonly kubectl: string;
}

/** Where a pod runs: its node (= the node's container) and the ids crictl knows it by. */
interface PodPlacement {
  readonly node: string;
  readonly podIp: string;
  /** The replica container's id, without the "containerd://" prefix. */
  readonly containerId: string;
}

/** A network namespace that holds our chain: the pod sandbox on its node. */
interface IsolatedSandbox {
  readonly node: string;
  readonly sandboxId: string;
}

const ipv4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The local port in kubectl port-forward's "Forwarding from 127.0.0.1:PORT -> ..." line. */
export function parseForwardedPort(output: string): number | undefined {
  const match = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(output);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** The host pid in `crictl inspect` / `crictl inspectp` JSON output. */
export function parseCrictlPid(json: string, what: string): number {
  const pid = (JSON.parse(json) as { info?: { pid?: unknown } }).info?.pid;
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 1)
    throw new Error(`crictl reported no running process for ${what}`);
  return pid;
}

/** The shell script that adds DROP rules to and from `peers` in one network namespace. */
export function isolationScript(peers: readonly string[]): string {
  for (const peer of peers) if (!ipv4.test(peer)) throw new Error(`not an IPv4 pod address: ${peer}`);
  return [
    "set -e",
    `iptables -w -N ${isolationChain} 2>/dev/null || true`,
    `iptables -w -C INPUT -j ${isolationChain} 2>/dev/null || iptables -w -I INPUT 1 -j ${isolationChain}`,
    `iptables -w -C OUTPUT -j ${isolationChain} 2>/dev/null || iptables -w -I OUTPUT 1 -j ${isolationChain}`,
    ...peers.flatMap((peer) => [
      `iptables -w -A ${isolationChain} -s ${peer} -j DROP`,
      `iptables -w -A ${isolationChain} -d ${peer} -j DROP`,
    ]),
  ].join("\n");
}

/** The shell script that removes the chain and its jumps; a no-op where there is none. */
export function healScript(): string {
  return [
    `while iptables -w -D INPUT -j ${isolationChain} 2>/dev/null; do :; done`,
    `while iptables -w -D OUTPUT -j ${isolationChain} 2>/dev/null; do :; done`,
    `iptables -w -F ${isolationChain} 2>/dev/null || true`,
    `iptables -w -X ${isolationChain} 2>/dev/null || true`,
  ].join("\n");
}

/**
 * A stable local URL for a pod's port: a TCP proxy on 127.0.0.1 whose connections go
 * through `kubectl port-forward`, started again whenever the previous one has exited (it
 * exits when the pod's process dies or the pod is replaced).
 */
class MemberForward {
  readonly #kubectl: string;
  readonly #args: readonly string[];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #process: ChildProcess | undefined;
  #forwardedPort: Promise<number> | undefined;
  #closed = false;

  constructor(kubectl: string, kubeconfigPath: string, namespace: string, pod: string, port: number) {
    this.#kubectl = kubectl;
    this.#args = [
      "--kubeconfig",
      kubeconfigPath,
      "--namespace",
      namespace,
      "port-forward",
      "--address",
      "127.0.0.1",
      `pod/${pod}`,
      `:${port}`,
    ];
    this.#server = createServer((socket) => this.#accept(socket));
  }

  /** Starts the proxy and a first port-forward (so a wrong pod fails here); returns the URL. */
  async start(): Promise<string> {
    await this.#ensureForward();
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = this.#server.address();
    if (address === null || typeof address === "string")
      throw new Error("the member proxy has no TCP address");
    return `http://127.0.0.1:${address.port}`;
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.pause();
    this.#ensureForward().then(
      (port) => {
        const upstream = tcpConnect(port, "127.0.0.1");
        this.#sockets.add(upstream);
        upstream.on("close", () => this.#sockets.delete(upstream));
        upstream.on("error", () => socket.destroy());
        socket.on("error", () => upstream.destroy());
        socket.on("close", () => upstream.destroy());
        upstream.on("close", () => socket.destroy());
        socket.pipe(upstream).pipe(socket);
        socket.resume();
      },
      () => socket.destroy(),
    );
  }

  /** The local port of a running kubectl port-forward, starting one if there is none. */
  #ensureForward(): Promise<number> {
    if (this.#closed) return Promise.reject(new Error("the target is closed"));
    if (
      this.#forwardedPort !== undefined &&
      this.#process?.exitCode === null &&
      this.#process.signalCode === null
    )
      return this.#forwardedPort;
    const child = spawn(this.#kubectl, this.#args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#process = child;
    const forwarded = new Promise<number>((resolve, reject) => {
      let output = "";
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(
          new Error(
            `kubectl ${this.#args.join(" ")} did not start forwarding within ${portForwardStartMs} ms`,
          ),
        );
      }, portForwardStartMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const port = parseForwardedPort(output);
        if (port !== undefined) {
          clearTimeout(timer);
          resolve(port);
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`kubectl port-forward exited (${signal ?? code}): ${output.trim()}`));
      });
    });
    // A failed start is forgotten, so the next connection tries again.
    forwarded.catch(() => {
      if (this.#process === child) this.#forwardedPort = undefined;
    });
    this.#forwardedPort = forwarded;
    return forwarded;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const socket of this.#sockets) socket.destroy();
    this.#process?.kill("SIGTERM");
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

class KindTarget implements E2eTarget {
  readonly name = "kind";
  readonly kubeconfigPath: string;
  readonly replicaImage: string;
  readonly upgradedReplicaImage: string;
  readonly #docker: string;
  readonly #kubectl: string;
  readonly #core: CoreV1Api;
  readonly #objects: CustomObjectsApi;
  readonly #forwards = new Map<string, Promise<{ forward: MemberForward; url: string }>>();
  /** Sandboxes with our iptables chain, by "<node>/<sandbox id>". */
  readonly #isolated = new Map<string, IsolatedSandbox>();
  /** Nodes stopped by stopNode and not started again. */
  readonly #stoppedNodes = new Set<string>();
  #closing: Promise<void> | undefined;

  constructor(options: KindTargetOptions) {
    this.kubeconfigPath = options.kubeconfigPath;
    this.replicaImage = options.replicaImage;
    this.upgradedReplicaImage = options.upgradedReplicaImage;
    this.#docker = options.docker;
    this.#kubectl = options.kubectl;
    const config = new KubeConfig();
    config.loadFromFile(options.kubeconfigPath);
    this.#core = config.makeApiClient(CoreV1Api);
    this.#objects = config.makeApiClient(CustomObjectsApi);
  }

  async memberUrl(namespace: string, pod: string, port: number): Promise<string> {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`not a port: ${port}`);
    const key = `${namespace}/${pod}:${port}`;
    let entry = this.#forwards.get(key);
    if (entry === undefined) {
      const forward = new MemberForward(this.#kubectl, this.kubeconfigPath, namespace, pod, port);
      entry = forward.start().then(
        (url) => ({ forward, url }),
        async (error: unknown) => {
          this.#forwards.delete(key);
          await forward.close();
          throw error;
        },
      );
      this.#forwards.set(key, entry);
    }
    return (await entry).url;
  }

  async killMemberProcess(namespace: string, pod: string): Promise<void> {
    await this.#signalContainer(namespace, pod, replicaContainerName, "KILL");
  }

  async pauseMemberProcess(namespace: string, pod: string): Promise<void> {
    await this.#signalContainer(namespace, pod, replicaContainerName, "STOP");
  }

  async resumeMemberProcess(namespace: string, pod: string): Promise<void> {
    await this.#signalContainer(namespace, pod, replicaContainerName, "CONT");
  }

  async isolateMember(namespace: string, pod: string): Promise<void> {
    const target = await this.#readPod(namespace, pod);
    const address = this.#address(target);
    const instance = target.metadata?.labels?.["app.kubernetes.io/instance"];
    if (instance === undefined)
      throw new Error(`pod ${namespace}/${pod} has no app.kubernetes.io/instance label`);
    const members = await this.#core.listNamespacedPod({
      namespace,
      labelSelector: `app.kubernetes.io/name=paxos-replica,app.kubernetes.io/instance=${instance}`,
    });
    // Members without an address yet (Pending) are left out: they are not reachable anyway.
    const peers = members.items
      .filter((member) => member.metadata?.name !== pod && member.spec?.nodeName && member.status?.podIP)
      .map((member) => ({ name: member.metadata?.name ?? "", ...this.#address(member) }));
    // Rules on both sides: traffic that reaches a member through a Service's ClusterIP is
    // translated on the node, so only the receiving namespace sees the sender's pod IP.
    await this.#addIsolation(
      namespace,
      pod,
      address.node,
      peers.map((peer) => peer.podIp),
    );
    for (const peer of peers) await this.#addIsolation(namespace, peer.name, peer.node, [address.podIp]);
  }

  async healNetwork(): Promise<void> {
    const failures: string[] = [];
    for (const [key, sandbox] of this.#isolated) {
      try {
        const pid = await this.#sandboxPid(sandbox);
        if (pid !== undefined) await this.#inNetworkNamespace(sandbox.node, pid, healScript());
        this.#isolated.delete(key);
      } catch (error) {
        failures.push(`${key}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (failures.length > 0) throw new Error(`could not heal the network of ${failures.join("; ")}`);
  }

  async stopNode(node: string, mode: "kill" | "freeze"): Promise<void> {
    const object = await this.#core.readNode({ name: node });
    if (object.metadata?.labels?.["node-role.kubernetes.io/control-plane"] !== undefined)
      throw new Error(`${node} runs the control plane; stop a worker instead`);
    await this.#dockerCommand(mode === "freeze" ? ["pause", node] : ["kill", node]);
    this.#stoppedNodes.add(node);
  }

  /** Unpauses or starts the node's container; the kubelet reports Ready again shortly after. */
  async startNode(node: string): Promise<void> {
    const state = (await this.#dockerCommand(["inspect", "--format", "{{.State.Status}}", node])).trim();
    if (state === "paused") await this.#dockerCommand(["unpause", node]);
    else if (state === "exited" || state === "created") await this.#dockerCommand(["start", node]);
    else if (state !== "running") throw new Error(`node container ${node} is ${state}; cannot start it`);
    this.#stoppedNodes.delete(node);
  }

  /**
   * SIGKILLs the operator container of the pod that holds the Lease (the only operator pod
   * when there is no Lease), waits for the kubelet to start it again, for the container to
   * be Ready (its /readyz) and for the Lease to be renewed after the kill. Deleting the pod
   * instead would not be a crash: the kubelet still sends SIGTERM first, even on a forced
   * delete, and the operator releases its Lease on SIGTERM; and its replacement has a new
   * name, so a new Lease identity.
   */
  async restartOperator(): Promise<void> {
    const pods = (
      await this.#core.listNamespacedPod({ namespace: operatorNamespace, labelSelector: operatorPodSelector })
    ).items.filter((pod) => pod.metadata?.deletionTimestamp === undefined);
    const lease = await this.#readOperatorLease();
    const holder = lease?.holderIdentity;
    const leader =
      pods.find((pod) => holder !== undefined && pod.metadata?.name === holder) ??
      (lease === undefined && pods.length === 1 ? pods[0] : undefined);
    const name = leader?.metadata?.name;
    if (leader === undefined || name === undefined)
      throw new Error(
        `no operator pod in ${operatorNamespace} (${pods.map((pod) => pod.metadata?.name).join(", ") || "none"}) ` +
          `holds the Lease ${defaultLeaseName} (holder: ${holder || "none"})`,
      );
    const restartsBefore = operatorContainer(leader)?.restartCount ?? 0;
    await this.#signalContainer(operatorNamespace, name, operatorContainerName, "KILL");
    const restarted = async (description: string, ready: (status: V1ContainerStatus) => boolean) =>
      waitFor(
        async () => {
          const status = operatorContainer(await this.#readPod(operatorNamespace, name));
          return status !== undefined && (status.restartCount ?? 0) > restartsBefore && ready(status)
            ? true
            : undefined;
        },
        { description, timeoutMs: operatorRestartTimeoutMs, intervalMs: 500 },
      );
    // Once the restart count went up, the killed process is gone: a renewal after this read
    // is the new process's (or, after a long back-off, a standby's that took the Lease over).
    await restarted(
      `the kubelet to restart the operator container of ${operatorNamespace}/${name}`,
      () => true,
    );
    const renewedBefore = (await this.#readOperatorLease())?.renewTime;
    await restarted(
      `the restarted operator container of ${operatorNamespace}/${name} to be Ready`,
      (status) => status.ready === true,
    );
    if (lease !== undefined)
      await waitFor(
        async () => {
          const now = await this.#readOperatorLease();
          return now?.holderIdentity && now.renewTime !== renewedBefore ? true : undefined;
        },
        {
          description: `the Lease ${operatorNamespace}/${defaultLeaseName} to be renewed after the operator restarted`,
          timeoutMs: operatorRestartTimeoutMs,
          intervalMs: 500,
        },
      );
  }

  /** Stops the port-forwards, heals the network and starts stopped nodes, so the cluster is whole again. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const forwards = await Promise.allSettled(this.#forwards.values());
      await Promise.all(
        forwards.map((entry) => (entry.status === "fulfilled" ? entry.value.forward.close() : undefined)),
      );
      this.#forwards.clear();
      const problems: unknown[] = [];
      for (const node of [...this.#stoppedNodes])
        await this.startNode(node).catch((error) => problems.push(error));
      await this.healNetwork().catch((error) => problems.push(error));
      if (problems.length > 0)
        throw new AggregateError(problems, "closing the kind target left faults in place");
    })();
    return this.#closing;
  }

  async #readPod(namespace: string, pod: string): Promise<V1Pod> {
    return this.#core.readNamespacedPod({ name: pod, namespace });
  }

  /** The pod's node and IPv4 address. */
  #address(pod: V1Pod): { node: string; podIp: string } {
    const name = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const node = pod.spec?.nodeName;
    const podIp = pod.status?.podIP;
    if (node === undefined || node === "" || podIp === undefined)
      throw new Error(`pod ${name} is not on a node with an address yet`);
    if (!ipv4.test(podIp)) throw new Error(`pod ${name} has no IPv4 address (${podIp})`);
    return { node, podIp };
  }

  /** The operator's Lease, as raw JSON (its MicroTimes as written), or undefined when there is none. */
  async #readOperatorLease(): Promise<{ holderIdentity?: string; renewTime?: string } | undefined> {
    try {
      const lease = (await this.#objects.getNamespacedCustomObject({
        group: "coordination.k8s.io",
        version: "v1",
        namespace: operatorNamespace,
        plural: "leases",
        name: defaultLeaseName,
      })) as { spec?: { holderIdentity?: string; renewTime?: string } };
      return lease.spec ?? {};
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) return undefined;
      throw error;
    }
  }

  /** The pod's node, address and the id of one of its containers. */
  #placement(pod: V1Pod, containerName: string): PodPlacement {
    const status = pod.status?.containerStatuses?.find((container) => container.name === containerName);
    const containerId = status?.containerID?.replace(/^[a-z]+:\/\//, "");
    if (containerId === undefined || containerId === "")
      throw new Error(
        `pod ${pod.metadata?.namespace}/${pod.metadata?.name} has no ${containerName} container yet`,
      );
    return { ...this.#address(pod), containerId };
  }

  /** Signals a container's process (its only one: the replica or the operator) from its node. */
  async #signalContainer(
    namespace: string,
    pod: string,
    containerName: string,
    signal: "KILL" | "STOP" | "CONT",
  ): Promise<void> {
    const placement = this.#placement(await this.#readPod(namespace, pod), containerName);
    const inspected = await this.#dockerCommand([
      "exec",
      placement.node,
      "crictl",
      "inspect",
      "--output",
      "json",
      placement.containerId,
    ]);
    const pid = parseCrictlPid(inspected, `container ${placement.containerId} of ${namespace}/${pod}`);
    // The shell's kill: a builtin, so it does not depend on what the node image ships.
    await this.#dockerCommand([
      "exec",
      placement.node,
      "sh",
      "-c",
      'kill -s "$1" "$2"',
      "sh",
      signal,
      String(pid),
    ]);
  }

  async #addIsolation(namespace: string, pod: string, node: string, peers: readonly string[]): Promise<void> {
    if (peers.length === 0) return;
    const sandboxIds = (
      await this.#dockerCommand([
        "exec",
        node,
        "crictl",
        "pods",
        "--namespace",
        namespace,
        "--name",
        pod,
        "--state",
        "ready",
        "--quiet",
      ])
    )
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "");
    if (sandboxIds.length !== 1 || sandboxIds[0] === undefined)
      throw new Error(
        `expected one ready sandbox of ${namespace}/${pod} on ${node}, found ${sandboxIds.length}`,
      );
    const sandbox = { node, sandboxId: sandboxIds[0] };
    const pid = await this.#sandboxPid(sandbox);
    if (pid === undefined) throw new Error(`the sandbox of ${namespace}/${pod} on ${node} has no process`);
    // Recorded first: a half-applied script still leaves a chain for healNetwork() to remove.
    this.#isolated.set(`${node}/${sandbox.sandboxId}`, sandbox);
    await this.#inNetworkNamespace(node, pid, isolationScript(peers));
  }

  /** The pid of a sandbox's pause process, or undefined when the sandbox is gone (and its rules with it). */
  async #sandboxPid(sandbox: IsolatedSandbox): Promise<number | undefined> {
    let json: string;
    try {
      json = await this.#dockerCommand([
        "exec",
        sandbox.node,
        "crictl",
        "inspectp",
        "--output",
        "json",
        sandbox.sandboxId,
      ]);
    } catch (error) {
      if (error instanceof Error && /not found|NotFound/i.test(error.message)) return undefined;
      throw error;
    }
    return parseCrictlPid(json, `pod sandbox ${sandbox.sandboxId}`);
  }

  async #inNetworkNamespace(node: string, pid: number, script: string): Promise<void> {
    await this.#dockerCommand([
      "exec",
      node,
      "nsenter",
      "--target",
      String(pid),
      "--net",
      "sh",
      "-c",
      script,
    ]);
  }

  async #dockerCommand(args: readonly string[]): Promise<string> {
    try {
      const { stdout } = await run(this.#docker, [...args], {
        timeout: commandTimeoutMs,
        maxBuffer: 16 * 1024 * 1024,
      });
      return stdout;
    } catch (error) {
      const stderr = (error as { stderr?: unknown }).stderr;
      const detail = typeof stderr === "string" && stderr.trim() !== "" ? stderr.trim() : String(error);
      throw new Error(`${this.#docker} ${args.slice(0, 4).join(" ")} ... failed: ${detail}`);
    }
  }
}

function operatorContainer(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((container) => container.name === operatorContainerName);
}

/** The kind target for the cluster in KUBECONFIG (hack/e2e-kind.sh sets it). */
export async function open(): Promise<E2eTarget> {
  const kubeconfigPath = process.env.KUBECONFIG;
  if (kubeconfigPath === undefined || kubeconfigPath === "")
    throw new Error(
      "PAXOS_E2E_TARGET=kind needs KUBECONFIG: the kind cluster's kubeconfig (run `make e2e-kind`)",
    );
  if (kubeconfigPath.includes(":"))
    throw new Error(`KUBECONFIG must name one file for the kind target, not a list: ${kubeconfigPath}`);
  const docker = process.env.DOCKER ?? "docker";
  await run(docker, ["version", "--format", "{{.Server.Version}}"], { timeout: commandTimeoutMs }).catch(
    (error: unknown) => {
      throw new Error(
        `the kind target needs a running Docker daemon (\`${docker} version\` failed: ${String(error)})`,
      );
    },
  );
  return new KindTarget({
    kubeconfigPath,
    replicaImage: process.env.PAXOS_E2E_REPLICA_IMAGE ?? paxosClusterDefaults.image,
    // hack/e2e-kind.sh loads the replica image under a second tag as well.
    upgradedReplicaImage:
      process.env.PAXOS_E2E_UPGRADED_REPLICA_IMAGE ??
      `${process.env.PAXOS_E2E_REPLICA_IMAGE ?? paxosClusterDefaults.image}-upgraded`,
    docker,
    kubectl: process.env.KUBECTL ?? toolPath("kubectl"),
  });
}
