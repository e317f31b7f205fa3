// The local target: the control plane, node agent and operator that the e2e global setup
// (test/e2e/setup.ts) started in the test run's main process. Pods have their own IPs on
// the agent's bridge, reachable from here; faults go through the agent's control API.
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { E2eTarget } from "./target.ts";

/** Set by test/e2e/setup.ts for the test workers. */
export const localKubeconfigVariable = "PAXOS_E2E_KUBECONFIG";
export const agentControlVariable = "PAXOS_E2E_AGENT_URL";

/** The image the node agent maps to `node replica/src/main.ts` (it maps any image named .../replica). */
export const localReplicaImage = "ghcr.io/paxos-operator/replica:0.1.0";
/** The node agent maps images by repository, so another tag runs the same program. */
export const localUpgradedReplicaImage = "ghcr.io/paxos-operator/replica:0.1.0-upgraded";

export async function open(): Promise<E2eTarget> {
  const kubeconfigPath = process.env[localKubeconfigVariable];
  const controlUrl = process.env[agentControlVariable];
  if (kubeconfigPath === undefined || controlUrl === undefined)
    throw new Error(
      `the local e2e target needs ${localKubeconfigVariable} and ${agentControlVariable}; run it through ` +
        "`make e2e` (vitest --project e2e), whose global setup starts the local cluster",
    );
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const core = config.makeApiClient(CoreV1Api);

  const call = async (method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${controlUrl}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    const answer = (await response.json()) as { error?: string };
    if (!response.ok) throw new Error(`node agent ${method} ${path}: ${answer.error ?? response.status}`);
    return answer;
  };
  const signal = (namespace: string, pod: string, name: string) =>
    call("POST", `/pods/${namespace}/${pod}/signal`, { signal: name }).then(() => undefined);

  return {
    name: "local",
    kubeconfigPath,
    replicaImage: localReplicaImage,
    upgradedReplicaImage: localUpgradedReplicaImage,
    async memberUrl(namespace, pod, port) {
      const info = (await call("GET", `/pods/${namespace}/${pod}`)) as { ip: string };
      return `http://${info.ip}:${port}`;
    },
    killMemberProcess: (namespace, pod) => signal(namespace, pod, "SIGKILL"),
    pauseMemberProcess: (namespace, pod) => signal(namespace, pod, "SIGSTOP"),
    resumeMemberProcess: (namespace, pod) => signal(namespace, pod, "SIGCONT"),
    async isolateMember(namespace, pod) {
      const target = await core.readNamespacedPod({ namespace, name: pod });
      const instance = target.metadata?.labels?.["app.kubernetes.io/instance"];
      const members = await core.listNamespacedPod({
        namespace,
        labelSelector: `app.kubernetes.io/instance=${instance}`,
      });
      const peers = members.items
        .filter((other) => other.metadata?.name !== pod && other.status?.podIP !== undefined)
        .map((other) => other.status?.podIP as string);
      await call("POST", `/pods/${namespace}/${pod}/isolate`, { peers });
    },
    healNetwork: () => call("POST", "/network/heal").then(() => undefined),
    stopNode: (node, mode) => call("POST", `/nodes/${node}/stop`, { mode }).then(() => undefined),
    startNode: (node) => call("POST", `/nodes/${node}/start`).then(() => undefined),
    // The operator runs in the test run's main process (test/support/localCluster.ts).
    restartOperator: () => call("POST", "/operator/restart").then(() => undefined),
    async close() {
      await call("POST", "/network/heal").catch(() => undefined);
    },
  };
}
