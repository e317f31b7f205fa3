// `make demo`: the whole system on this machine. A Kubernetes control plane, three fake
// Nodes whose pods run as local processes (the node agent), the operator under its own
// ServiceAccount and ClusterRole, and the sample PaxosCluster, followed until it is Ready.
// Then it prints what to try, and runs until Ctrl-C, which stops everything it started.
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { type LocalCluster, startLocalCluster } from "./localCluster.ts";
import { stopAll, stopOnSignals } from "./processes.ts";
import { repositoryRoot, toolPath } from "./tools.ts";
import { pinnedVersion } from "./versions.ts";

const run = promisify(execFile);
const stateDir = process.env.PAXOS_DEMO_DIR ?? join(repositoryRoot, ".demo");
const samplePath = join(repositoryRoot, "config/samples/paxoscluster.yaml");
const sampleName = "orders-config";
const namespace = "default";
const readyTimeoutMs = 300_000;
const log = (message: string) => console.log(`[demo] ${message}`);
const here = (path: string) => relative(process.cwd(), path) || ".";

let cluster: LocalCluster | undefined;
stopOnSignals("the demo", log, async () => await cluster?.stop());

interface SampleStatus {
  phase?: string;
  readyReplicas?: number;
  leader?: string;
  conditions?: { type: string; status: string; message: string }[];
}

/** Prints each change of phase, ready count or leader until the cluster is Running. */
async function followUntilReady(kubeconfigPath: string): Promise<void> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const objects = config.makeApiClient(CustomObjectsApi);
  const deadline = Date.now() + readyTimeoutMs;
  let last = "";
  for (;;) {
    const object = (await objects
      .getNamespacedCustomObject({
        group: "paxos.dev",
        version: "v1alpha1",
        namespace,
        plural: "paxosclusters",
        name: sampleName,
      })
      .catch(() => undefined)) as { spec: { replicas: number }; status?: SampleStatus } | undefined;
    const status = object?.status;
    const available = status?.conditions?.find((condition) => condition.type === "Available");
    const line = `${sampleName}: ${status?.phase ?? "Pending"}, ${status?.readyReplicas ?? 0}/${object?.spec.replicas ?? "?"} ready${status?.leader === undefined ? "" : `, ${status.leader} leads`}${available === undefined ? "" : ` (${available.message})`}`;
    if (line !== last) log(line);
    last = line;
    if (status?.phase === "Running" && available?.status === "True") return;
    if (Date.now() > deadline)
      throw new Error(
        `${sampleName} was not Running after ${readyTimeoutMs / 1000} s; see ${here(join(stateDir, "operator.log"))} and ${here(join(stateDir, "nodes", "logs"))}/`,
      );
    await sleep(1_000);
  }
}

try {
  await rm(stateDir, { recursive: true, force: true });
  log(
    `starting Kubernetes ${pinnedVersion("KUBERNETES_VERSION")}, 3 nodes and the operator (state in ${here(stateDir)}/)`,
  );
  const started = Date.now();
  cluster = await startLocalCluster({ stateDir, onProgress: log });
  const kubeconfig = cluster.kubeconfigPath;
  const kubectl = toolPath("kubectl");
  log(`kubectl apply -f ${here(samplePath)}`);
  const applied = Date.now();
  const { stdout } = await run(kubectl, [
    `--kubeconfig=${kubeconfig}`,
    "apply",
    "-n",
    namespace,
    "-f",
    samplePath,
  ]);
  log(stdout.trim());
  await followUntilReady(kubeconfig);
  log(
    `Ready ${((Date.now() - applied) / 1000).toFixed(1)} s after kubectl apply (${((Date.now() - started) / 1000).toFixed(1)} s in all)`,
  );

  const selector = `app.kubernetes.io/instance=${sampleName}`;
  const kubectlHere = here(kubectl);
  const endpoints = `$(${kubectlHere} get pods -l ${selector} -o jsonpath='{range .items[*]}http://{.status.podIP}:8080,{end}')`;
  const paxosctl = "hack/with-node.sh node replica/src/cli/paxosctl.ts";
  console.log(`
The cluster is Ready. In another terminal, from ${repositoryRoot}:

  export KUBECONFIG=${kubeconfig}
  ${kubectlHere} get paxosclusters
  ${kubectlHere} describe paxoscluster ${sampleName}
  ${kubectlHere} get pods,pvc -o wide

Talk to it (the pods' IPs are reachable from this machine):

  export PAXOSCTL_ENDPOINT=${endpoints}
  ${paxosctl} put greeting hello
  ${paxosctl} get greeting
  ${paxosctl} status

Break it and watch it heal:

  ${kubectlHere} delete pod ${sampleName}-1 && ${kubectlHere} get paxosclusters -w

Logs: the operator in ${here(join(stateDir, "operator.log"))}, each container in ${here(join(stateDir, "nodes", "logs"))}/.
Press Ctrl-C to stop everything.
`);
} catch (error) {
  console.error(`[demo] failed: ${error instanceof Error ? error.message : String(error)}`);
  await cluster?.stop().catch(() => undefined);
  await stopAll();
  process.exit(1);
}
