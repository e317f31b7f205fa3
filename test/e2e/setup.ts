// vitest global setup of the "e2e" project. On the local target it starts the whole system
// (control plane, node agent, operator; see test/support/localCluster.ts) once per run and
// hands the workers its kubeconfig and the agent's control URL. On kind, hack/e2e-kind.sh
// has installed everything and KUBECONFIG points at it: nothing to start.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalCluster } from "../support/localCluster.ts";
import { agentControlVariable, localKubeconfigVariable } from "./targets/local.ts";
import { targetName } from "./targets/target.ts";

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (targetName() !== "local") return undefined;
  const stateDir = await mkdtemp(join(tmpdir(), "paxos-e2e-"));
  const started = Date.now();
  const cluster = await startLocalCluster({
    stateDir,
    etcdUnsafeNoFsync: true,
    // One more Node than a 3-member cluster needs: a member of a lost Node is replaced on
    // a Node that holds no other member (test/e2e/fencing.test.ts).
    nodes: 4,
    onProgress: (message) => {
      if (process.env.PAXOS_E2E_VERBOSE === "1") console.log(`[e2e] ${message}`);
    },
  }).catch((error: unknown) => {
    console.error(`the local cluster failed to start; its logs are in ${stateDir}`);
    throw error;
  });
  console.log(`local cluster ready in ${Date.now() - started} ms (state in ${stateDir})`);
  process.env[localKubeconfigVariable] = cluster.kubeconfigPath;
  process.env[agentControlVariable] = cluster.control.url;
  return async () => {
    await cluster.stop();
    if (process.env.PAXOS_KEEP_STATE === "1")
      console.log(`kept e2e state in ${stateDir} (PAXOS_KEEP_STATE=1)`);
    else await rm(stateDir, { recursive: true, force: true });
  };
}
