// The node agent by hand: `node test/support/nodeAgentMain.ts --kubeconfig=<path>
// [--state-dir=<dir>] [--nodes=3] [--node-prefix=node]`. Prints progress; Ctrl-C stops it
// and removes everything it created on the host (the Nodes stay in the API).
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startNodeAgent } from "./nodeAgent/index.ts";
import { stopOnSignals } from "./processes.ts";

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    "state-dir": { type: "string" },
    nodes: { type: "string", default: "3" },
    "node-prefix": { type: "string", default: "node" },
  },
});
const kubeconfigPath = values.kubeconfig ?? process.env.KUBECONFIG;
if (kubeconfigPath === undefined) {
  console.error(
    "usage: nodeAgentMain.ts --kubeconfig=<path> [--state-dir=<dir>] [--nodes=N] [--node-prefix=P]",
  );
  process.exit(2);
}
const stateDir = values["state-dir"] ?? (await mkdtemp(join(tmpdir(), "paxos-node-agent-")));
const log = (message: string) => console.log(`[node-agent] ${message}`);
log(`state in ${stateDir} (container logs in ${join(stateDir, "logs")})`);
const agent = await startNodeAgent({
  kubeconfigPath,
  stateDir,
  nodes: Number(values.nodes),
  nodeNamePrefix: values["node-prefix"] ?? "node",
  onProgress: log,
});
stopOnSignals("the node agent", log, () => agent.stop());
