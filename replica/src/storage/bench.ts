// Storage benchmark (not a test): fsync'd appends per second for Readies of 1 and 64
// entries of 256 bytes each, on a fresh directory under the temporary directory (or
// PAXOS_BENCH_DIR, to measure the disk the replicas will use). Prints one JSON line.
//
//   node replica/src/storage/bench.ts [secondsPerCase]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { AcceptedEntry } from "../paxos/messages.ts";
import { openDataDirectory } from "./index.ts";

const entryBytes = 256;
const batchSizes = [1, 64] as const;
const secondsPerCase = Number(process.argv[2] ?? "1");
if (!(secondsPerCase > 0)) throw new Error(`seconds per case must be positive, not ${process.argv[2]}`);

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

async function runCase(parent: string, batchEntries: number) {
  const fsyncMs: number[] = [];
  const dataDirectory = await openDataDirectory(join(parent, `batch-${batchEntries}`), {
    onFsync: (durationMs) => fsyncMs.push(durationMs),
  });
  const request = new Uint8Array(entryBytes).fill(7);
  let slot = 0;
  let appends = 0;
  fsyncMs.length = 0;
  const started = performance.now();
  const deadline = started + secondsPerCase * 1000;
  while (performance.now() < deadline) {
    const entries: AcceptedEntry[] = [];
    for (let index = 0; index < batchEntries; index += 1) {
      slot += 1;
      entries.push({
        slot,
        ballot: { round: 1, proposer: "bench#1" },
        value: { kind: "batch", timeMs: slot, requests: [request] },
      });
    }
    dataDirectory.append({
      entries,
      hardState: { promised: { round: 1, proposer: "bench#1" }, committedThrough: slot },
    });
    await dataDirectory.sync();
    appends += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  const sizes = dataDirectory.sizes();
  await dataDirectory.close();
  const sorted = [...fsyncMs].sort((a, b) => a - b);
  return {
    batchEntries,
    appendsPerSecond: Math.round(appends / seconds),
    entriesPerSecond: Math.round(slot / seconds),
    fsyncs: fsyncMs.length,
    fsyncMsP50: round2(percentile(sorted, 0.5)),
    fsyncMsP99: round2(percentile(sorted, 0.99)),
    logBytes: sizes.logBytes,
    segments: sizes.segments,
  };
}

const parent = await mkdtemp(join(process.env.PAXOS_BENCH_DIR ?? tmpdir(), "paxos-storage-bench-"));
try {
  const results = [];
  for (const batchEntries of batchSizes) results.push(await runCase(parent, batchEntries));
  console.log(
    JSON.stringify({
      benchmark: "storage",
      entryBytes,
      secondsPerCase,
      directory: process.env.PAXOS_BENCH_DIR === undefined ? "tmpdir" : "PAXOS_BENCH_DIR",
      results,
    }),
  );
} finally {
  await rm(parent, { recursive: true, force: true });
}
