// `make cluster`: three replicas on 127.0.x addresses, no Kubernetes. Prints the
// endpoints and a paxosctl example; Ctrl-C stops them.
import { rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { stopOnSignals } from "./processes.ts";
import { ReplicaCluster } from "./replicaCluster.ts";
import { repositoryRoot } from "./tools.ts";

const baseDir = process.env.PAXOS_CLUSTER_DIR ?? join(repositoryRoot, ".cluster");
const log = (message: string) => console.log(`[cluster] ${message}`);
let cluster: ReplicaCluster | undefined;
stopOnSignals("the replicas", log, async () => await cluster?.stop());

try {
  await rm(baseDir, { recursive: true, force: true });
  log(`starting 3 replicas (data and logs in ${relative(process.cwd(), baseDir)}/) ...`);
  cluster = await ReplicaCluster.start({
    size: 3,
    baseDir,
    network: [0, 10],
    tickMs: 50,
    electionTimeoutTicks: 10,
  });
  const leader = await cluster.waitForLeader();
  const endpoints = cluster.members.map((member) => member.url).join(",");
  console.log(`
Three replicas are serving; ${leader.name} leads.
${cluster.members.map((member) => `  ${member.name}  ${member.url}   (log: ${relative(process.cwd(), join(baseDir, `${member.name}.log`))})`).join("\n")}

In another terminal:

  export PAXOSCTL_ENDPOINT=${endpoints}
  export PAXOSCTL_TOKEN=${cluster.adminToken}
  node replica/src/cli/paxosctl.ts put greeting hello
  node replica/src/cli/paxosctl.ts get greeting
  node replica/src/cli/paxosctl.ts status
  curl ${cluster.members[0]?.url}/v1/kv/greeting

Press Ctrl-C to stop.
`);
} catch (error) {
  console.error(`[cluster] failed: ${error instanceof Error ? error.message : String(error)}`);
  await cluster?.stop();
  process.exit(1);
}
