// `make demo`: a local Kubernetes control plane to try things against with kubectl.
// Runs until Ctrl-C, then stops every process it started.
import { rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { type ControlPlane, startControlPlane } from "./controlPlane.ts";
import { stopAll, stopOnSignals } from "./processes.ts";
import { repositoryRoot } from "./tools.ts";
import { pinnedVersion } from "./versions.ts";

const stateDir = process.env.PAXOS_DEMO_DIR ?? join(repositoryRoot, ".demo");
const log = (message: string) => console.log(`[demo] ${message}`);

let controlPlane: ControlPlane | undefined;
// Newest first (the API server before etcd), so nothing waits on a dead dependency.
stopOnSignals("the control plane", log, async () => await controlPlane?.stop());

try {
  await rm(stateDir, { recursive: true, force: true });
  log(
    `starting Kubernetes ${pinnedVersion("KUBERNETES_VERSION")} (state in ${relative(process.cwd(), stateDir)}/)`,
  );
  controlPlane = await startControlPlane({ stateDir, onProgress: log });
  const kubeconfig = relative(process.cwd(), controlPlane.kubeconfigPath);
  console.log(`
The control plane is running at ${controlPlane.apiServerUrl}. In another terminal:

  export KUBECONFIG=${controlPlane.kubeconfigPath}
  bin/kubectl get namespaces
  bin/kubectl create deployment hello --image=registry.invalid/hello:1 && bin/kubectl get replicasets

(or pass --kubeconfig=${kubeconfig}). Logs of each process are in ${relative(process.cwd(), join(stateDir, "logs"))}/.
There are no nodes yet, so pods stay Pending. Press Ctrl-C to stop.
`);
} catch (error) {
  console.error(`[demo] failed: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll();
  process.exit(1);
}
