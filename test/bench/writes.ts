// make bench: write throughput and latency of a 3-replica cluster on loopback with
// fsync on, at 1, 16 and 64 concurrent clients, against a 3-member etcd cluster (built
// under hack/) measured the same way in the same run. One JSON line per measurement.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ManagedProcess, stopAll } from "../support/processes.ts";
import { ReplicaCluster } from "../support/replicaCluster.ts";
import { toolPath } from "../support/tools.ts";
import { pinnedVersion } from "../support/versions.ts";
import { waitFor } from "../support/waitFor.ts";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "5" }, clients: { type: "string", default: "1,16,64" } },
});
const seconds = Number(values.seconds);
const concurrencies = (values.clients ?? "").split(",").map(Number);
const valueText = "v".repeat(64);

// Each measurement uses fresh client ids: sequences restart at 1 (and a reused id would
// answer StaleSequence).
let clientsRun = 0;

interface Target {
  readonly system: string;
  put(worker: number, sequence: number): Promise<boolean>;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

async function measure(target: Target, clients: number): Promise<void> {
  clientsRun += 1;
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, worker) => {
      for (let sequence = 1; performance.now() < deadline; sequence += 1) {
        const started = performance.now();
        const ok = await target.put(worker, sequence).catch(() => false);
        if (ok) latencies.push(performance.now() - started);
        else errors += 1;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      benchmark: "writes",
      system: target.system,
      clients,
      seconds,
      writesPerSecond: Math.round(latencies.length / seconds),
      p50Ms: Number(percentile(latencies, 0.5).toFixed(2)),
      p99Ms: Number(percentile(latencies, 0.99).toFixed(2)),
      errors,
    }),
  );
}

async function benchPaxos(baseDir: string): Promise<void> {
  const cluster = await ReplicaCluster.start({
    size: 3,
    baseDir: join(baseDir, "paxos"),
    network: [0, 30],
    extraArgs: ["--log-level=warn"],
  });
  try {
    const leader = await cluster.waitForLeader();
    const target: Target = {
      system: "paxos-operator",
      put: async (worker, sequence) => {
        const response = await fetch(`${leader.url}/v1/kv/bench-${worker}-${sequence % 1000}`, {
          method: "PUT",
          headers: {
            "content-type": "application/json",
            "x-paxos-client-id": `bench-${clientsRun}-${worker}`,
            "x-paxos-sequence": String(sequence),
          },
          body: JSON.stringify({ value: valueText }),
        });
        await response.arrayBuffer();
        return response.status === 200;
      },
    };
    for (const clients of concurrencies) await measure(target, clients);
  } finally {
    await cluster.stop();
  }
}

async function benchEtcd(baseDir: string): Promise<void> {
  const hosts = ["127.0.31.1", "127.0.31.2", "127.0.31.3"];
  const initialCluster = hosts.map((host, index) => `e${index}=http://${host}:2380`).join(",");
  const members = hosts.map((host, index) =>
    ManagedProcess.start({
      name: `etcd-${index}`,
      command: toolPath("etcd"),
      args: [
        `--name=e${index}`,
        `--data-dir=${join(baseDir, `etcd-${index}`)}`,
        `--listen-client-urls=http://${host}:2379`,
        `--advertise-client-urls=http://${host}:2379`,
        `--listen-peer-urls=http://${host}:2380`,
        `--initial-advertise-peer-urls=http://${host}:2380`,
        `--initial-cluster=${initialCluster}`,
        "--initial-cluster-state=new",
        "--log-level=error",
      ],
      logPath: join(baseDir, `etcd-${index}.log`),
    }),
  );
  try {
    const url = `http://${hosts[0]}:2379`;
    await waitFor(
      async () => {
        const response = await fetch(`${url}/health`).catch(() => undefined);
        return response?.ok ? true : undefined;
      },
      { description: "etcd to be healthy", timeoutMs: 30_000 },
    );
    const encodedValue = Buffer.from(valueText).toString("base64");
    const target: Target = {
      system: `etcd ${pinnedVersion("ETCD_VERSION")}`,
      put: async (worker, sequence) => {
        const response = await fetch(`${url}/v3/kv/put`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            key: Buffer.from(`bench-${worker}-${sequence % 1000}`).toString("base64"),
            value: encodedValue,
          }),
        });
        await response.arrayBuffer();
        return response.status === 200;
      },
    };
    for (const clients of concurrencies) await measure(target, clients);
  } finally {
    await Promise.all(members.map((member) => member.stop()));
  }
}

const baseDir = await mkdtemp(join(process.env.PAXOS_BENCH_DIR ?? tmpdir(), "paxos-bench-"));
try {
  console.error(
    `writes benchmark: ${seconds} s per measurement, clients ${concurrencies.join(", ")}; fsync on for both systems`,
  );
  await benchPaxos(baseDir);
  await benchEtcd(baseDir);
} finally {
  await stopAll();
  await rm(baseDir, { recursive: true, force: true });
}
