// The whole system on this machine, without containers: a control plane, the node agent
// (fake Nodes whose pods run as local processes), the CRD, and the operator running under
// its own ServiceAccount and ClusterRole. `make demo` and the local e2e run start it.
import { mkdir } from "node:fs/promises";
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
  readonly operator: ManagedProcess;
  readonly operatorMetricsUrl: string;
  readonly operatorNamespace: string;
  /** Stops the operator, the agent (and every pod process), then the control plane. */
  stop(): Promise<void>;
}

export const operatorNamespace = "paxos-system";

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
  const stop = async () => {
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
    control = await startAgentControl(agent);

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
    operator = startOperatorProcess({
      identity,
      metricsPort,
      logPath: join(options.stateDir, "operator.log"),
    });
    const running = operator;
    const operatorMetricsUrl = `http://127.0.0.1:${metricsPort}`;
    await waitFor(
      async () =>
        (await fetch(`${operatorMetricsUrl}/readyz`).catch(() => undefined))?.ok ? true : undefined,
      {
        description: "the operator to be ready",
        timeoutMs: 60_000,
        abortIf: () => running.describeExit(),
      },
    );
    progress("the operator is ready");
    return {
      controlPlane,
      kubeconfigPath: controlPlane.kubeconfigPath,
      agent,
      control,
      operator,
      operatorMetricsUrl,
      operatorNamespace,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
