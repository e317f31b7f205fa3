// The cluster an e2e run talks to. The suite reaches Kubernetes only through KUBECONFIG
// and this interface, so the same tests run on the local cluster (tier 5: a real control
// plane and a node agent that runs pods as local processes) and on kind (tier 6: Docker).
// PAXOS_E2E_TARGET picks one: "local" (the default) or "kind".
//
// Each target is a module next to this one, ./<name>.ts, that exports
//   export async function open(): Promise<E2eTarget>
// It is imported only when chosen, so a run on one target never loads the other's tools.

export interface E2eTarget {
  readonly name: "local" | "kind";
  readonly kubeconfigPath: string;
  /** The replica image to put in PaxosCluster specs on this target. */
  readonly replicaImage: string;
  /**
   * The same replica under another image reference, for rolling-upgrade tests: changing a
   * PaxosCluster's spec.image from replicaImage to this one changes the pod template.
   */
  readonly upgradedReplicaImage: string;
  /** A base URL (http://host:port) that reaches the given container port of a pod; stays valid until close(). */
  memberUrl(namespace: string, pod: string, port: number): Promise<string>;
  /** SIGKILL the replica process of a pod without deleting the pod (the kubelet restarts it). */
  killMemberProcess(namespace: string, pod: string): Promise<void>;
  /** SIGSTOP / SIGCONT the replica process. */
  pauseMemberProcess(namespace: string, pod: string): Promise<void>;
  resumeMemberProcess(namespace: string, pod: string): Promise<void>;
  /** Drop all traffic between these pods and every other member of the cluster (both ways), until heal(). */
  isolateMember(namespace: string, pod: string): Promise<void>;
  healNetwork(): Promise<void>;
  /** Simulate node loss: stop the Node's kubelet heartbeats and kill or freeze its processes; and bring it back. */
  stopNode(node: string, mode: "kill" | "freeze"): Promise<void>;
  startNode(node: string): Promise<void>;
  /**
   * Crash the operator and let it come back, as the kubelet restarts a crashed container in
   * the same pod: SIGKILL of the operator process that leads (no graceful shutdown, so it
   * does not release its Lease), then a new process with the same identity (POD_NAME), which
   * takes the Lease back at once instead of waiting for it to expire. Resolves once the new
   * process answers /readyz and the Lease is held and renewed again.
   * Local: the operator process of the global setup, through the control API. kind: the
   * `operator` container of the pod that holds the Lease, which the kubelet restarts (with
   * its crash-loop back-off: 10 s before the second restart in a row, then doubling).
   */
  restartOperator(): Promise<void>;
  close(): Promise<void>;
}

export type E2eTargetName = E2eTarget["name"];

/** What ./local.ts and ./kind.ts export. */
export interface E2eTargetModule {
  open(): Promise<E2eTarget>;
}

const targetNames: readonly E2eTargetName[] = ["local", "kind"];

/** The target PAXOS_E2E_TARGET names ("local" when unset), or an error that lists the choices. */
export function targetName(value = process.env.PAXOS_E2E_TARGET): E2eTargetName {
  if (value === undefined || value === "") return "local";
  const name = targetNames.find((candidate) => candidate === value);
  if (name === undefined)
    throw new Error(`PAXOS_E2E_TARGET=${value} is not a target: use one of ${targetNames.join(", ")}`);
  return name;
}

/** Opens the target PAXOS_E2E_TARGET names; close() it when the run ends. */
export async function openTarget(): Promise<E2eTarget> {
  const name = targetName();
  // A computed URL rather than a literal path: tsc does not need the other target's module
  // to exist, and only the chosen one is loaded.
  const url = new URL(`./${name}.ts`, import.meta.url);
  const module = (await import(url.href).catch((error: unknown) => {
    if ((error as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND" && String(error).includes(url.pathname))
      throw new Error(`the ${name} target is not built yet: test/e2e/targets/${name}.ts is missing`);
    throw error;
  })) as Partial<E2eTargetModule>;
  if (typeof module.open !== "function")
    throw new Error(`test/e2e/targets/${name}.ts must export \`async function open(): Promise<E2eTarget>\``);
  const target = await module.open();
  if (target.name !== name) {
    await target.close();
    throw new Error(`test/e2e/targets/${name}.ts opened a target named ${target.name}`);
  }
  return target;
}
