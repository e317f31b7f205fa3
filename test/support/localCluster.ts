// The whole system on this machine, without containers: a control plane, the node agent
// (fake Nodes whose pods run as local processes), the CRD, and the operator running under
// its own ServiceAccount and ClusterRole. `make demo` and the local e2e run start it.
import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { type AgentControl, startAgentControl } from "./agentControl.ts";
import { type ControlPlane, startControlPlane } from "./controlPlane.ts";
import { applyPaxosClusterCrd } from "./crd.ts";
import { type NodeAgent, startNodeAgent } from "./nodeAgent/index.ts";
import { createOperatorIdentity, type OperatorIdentity, startOperatorProcess } from "./operatorInstall.ts";
import { freePort } from "./ports.ts";
import type { ManagedProcess } from "./processes.ts";
import { waitFor } from "./waitFor.ts";

export interface LocalClusterOptions {
  readonly stateDir: string;
  readonly nodes?: number;
  readonly onProgress?: (message: string) => void;
  /** etcd without fsync (tests); the demo keeps fsync. */
  readonly etcdUnsafeNoFsync?: boolean;
}

export interface LocalCluster {
  readonly controlPlane: ControlPlane;
  /** The admin's kubeconfig. */
  readonly kubeconfigPath: string;
  readonly agent: NodeAgent;
  /** The fault-injection API over the agent (see agentControl.ts). */
  readonly control: AgentControl;
  /** The operator process running now: restartOperator() replaces it. */
  readonly operator: ManagedProcess;
  /** Stays valid across restarts: every operator process serves on the same port. */
  readonly operatorMetricsUrl: string;
  readonly operatorNamespace: string;
  /**
   * Crashes the operator and starts it again, as the kubelet restarts a crashed container in
   * the same pod: SIGKILL (no graceful shutdown, so the Lease is not released), then a new
   * process with the same POD_NAME (operatorPodName), which takes the Lease back at once.
   * Resolves once the new process answers /readyz and leads. Restarts run one at a time.
   * Also reachable from test workers as POST /operator/restart on `control`.
   */
  restartOperator(): Promise<void>;
  /** Stops the operator, the agent (and every pod process), then the control plane. */
  stop(): Promise<void>;
}

export const operatorNamespace = "paxos-system";
/** The local operator's POD_NAME, its leader-election identity, the same for every process. */
export const operatorPodName = "paxos-operator-local";
const operatorReadyTimeoutMs = 60_000;

/**
 * Waits until the operator process answers /readyz and leads. /readyz alone also answers
 * on a standby that has not taken the Lease yet (see operator/src/main.ts); the
 * paxos_operator_leader gauge says whether this process holds it and reconciles.
 */
async function waitForOperator(metricsUrl: string, operator: ManagedProcess): Promise<void> {
  await waitFor(
    async () => {
      const ready = await fetch(`${metricsUrl}/readyz`).catch(() => undefined);
      if (!ready?.ok) return undefined;
      const metrics = await fetch(`${metricsUrl}/metrics`).catch(() => undefined);
      if (!metrics?.ok) return undefined;
      return /^paxos_operator_leader 1$/m.test(await metrics.text()) ? true : undefined;
    },
    {
      description: "the operator to be ready and leading",
      timeoutMs: operatorReadyTimeoutMs,
      intervalMs: 100,
      abortIf: () => operator.describeExit(),
    },
  );
}

export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const progress = options.onProgress ?? (() => undefined);
  await mkdir(options.stateDir, { recursive: true });
  const controlPlane = await startControlPlane({
    stateDir: join(options.stateDir, "control-plane"),
    onProgress: progress,
    ...(options.etcdUnsafeNoFsync === undefined ? {} : { etcdUnsafeNoFsync: options.etcdUnsafeNoFsync }),
  });
  let agent: NodeAgent | undefined;
  let control: AgentControl | undefined;
  let operator: ManagedProcess | undefined;
  let identity: OperatorIdentity | undefined;
  let startOperator: (() => ManagedProcess) | undefined;
  let operatorMetricsUrl = "";
  /** The restart in progress, if any; restarts queue behind it, and stop() waits for it. */
  let restarting: Promise<void> = Promise.resolve();
  let stopping = false;
  const restart = async () => {
    const previous = operator;
    if (stopping || previous === undefined || startOperator === undefined)
      throw new Error(stopping ? "the local cluster is stopping" : "the operator has not started yet");
    const started = Date.now();
    previous.killNow();
    await previous.exited;
    await previous.stop(); // closes its log, which the next process appends to
    await appendFile(
      previous.logPath,
      `--- ${new Date().toISOString()}: operator pid ${previous.pid} killed (SIGKILL) by restartOperator; starting it again ---\n`,
    );
    const next = startOperator();
    operator = next;
    await waitForOperator(operatorMetricsUrl, next);
    progress(`the operator was restarted in ${Date.now() - started} ms (pid ${next.pid})`);
  };
  const restartOperator = (): Promise<void> => {
    const next = restarting.then(restart);
    restarting = next.catch(() => undefined);
    return next;
  };
  const stop = async () => {
    stopping = true;
    await restarting;
    await operator?.stop();
    await control?.close();
    await agent?.stop();
    await identity?.remove();
    await controlPlane.stop();
  };
  try {
    progress(`starting the node agent (${options.nodes ?? 3} nodes)`);
    agent = await startNodeAgent({
      kubeconfigPath: controlPlane.kubeconfigPath,
      stateDir: join(options.stateDir, "nodes"),
      nodes: options.nodes ?? 3,
      onProgress: progress,
    });
    control = await startAgentControl(agent, { restartOperator });

    const admin = new KubeConfig();
    admin.loadFromFile(controlPlane.kubeconfigPath);
    progress("installing the PaxosCluster CRD");
    await applyPaxosClusterCrd(admin, "paxos-local-cluster");
    progress(`starting the operator in ${operatorNamespace} with its ClusterRole only`);
    identity = await createOperatorIdentity(admin, {
      namespace: operatorNamespace,
      clusterRoleName: "paxos-operator",
      kubeconfigPath: join(options.stateDir, "operator.kubeconfig"),
    });
    const metricsPort = await freePort();
    const operatorIdentity = identity;
    startOperator = () =>
      startOperatorProcess({
        identity: operatorIdentity,
        metricsPort,
        podName: operatorPodName,
        logPath: join(options.stateDir, "operator.log"),
      });
    operatorMetricsUrl = `http://127.0.0.1:${metricsPort}`;
    operator = startOperator();
    await waitForOperator(operatorMetricsUrl, operator);
    progress("the operator is ready");
    const cluster: LocalCluster = {
      controlPlane,
      kubeconfigPath: controlPlane.kubeconfigPath,
      agent,
      control,
      get operator(): ManagedProcess {
        if (operator === undefined) throw new Error("the operator has not started");
        return operator;
      },
      operatorMetricsUrl,
      operatorNamespace,
      restartOperator,
      stop,
    };
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}
