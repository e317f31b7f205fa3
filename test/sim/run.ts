// `make sim SEEDS=N START=S`: runs seeds START..START+N-1, each a whole simulated
// cluster under faults, checks invariants as it goes and the client histories with
// Porcupine afterwards, and ends with one line:
//   sim: <N> seeds, <V> violations, <L> linearizable
// Exit 1 on any violation, with the seed and the command that replays it.

import { writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { memberCounts, runSeed, type SeedOutcome } from "./seed.ts";

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seeds: { type: "string", default: "100" },
      start: { type: "string", default: "1" },
      workers: { type: "string", default: String(Math.max(1, Math.min(4, availableParallelism()))) },
      report: { type: "string" },
      "keep-dir": { type: "string" },
    },
  });
  const seeds = Number(values.seeds);
  const start = Number(values.start);
  const workers = Number(values.workers);
  for (const [name, raw, minimum] of [
    ["SEEDS", values.seeds, 1],
    ["START", values.start, 0],
    ["--workers", values.workers, 1],
  ] as const) {
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < minimum) {
      console.error(`sim: ${name} must be a whole number >= ${minimum}, got ${JSON.stringify(raw)}`);
      process.exit(2);
    }
  }
  const started = Date.now();
  const queue = Array.from({ length: seeds }, (_, index) => start + index);
  const outcomes: SeedOutcome[] = [];
  let lastProgress = Date.now();
  const onOutcome = (outcome: SeedOutcome) => {
    outcomes.push(outcome);
    if (outcome.violations.length > 0) {
      console.log(`seed ${outcome.seed} (${outcome.members} members): VIOLATION`);
      for (const violation of outcome.violations) console.log(`  ${violation}`);
      for (const report of outcome.reports) console.log(report.replace(/^/gm, "    "));
      console.log(`  replay: make sim SEEDS=1 START=${outcome.seed}`);
    } else if (outcome.verdicts.kv === "undecided" || outcome.verdicts.lock === "undecided") {
      console.log(`seed ${outcome.seed}: history undecided within the checker's time limit`);
    }
    if (Date.now() - lastProgress > 10_000) {
      lastProgress = Date.now();
      console.log(
        `sim: ${outcomes.length}/${seeds} seeds done (${((Date.now() - started) / 1000).toFixed(0)} s)`,
      );
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(workers, seeds) }, async () => {
      const worker = new Worker(new URL(import.meta.url), { workerData: { keepDir: values["keep-dir"] } });
      try {
        for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
          worker.postMessage(seed);
          const outcome = await new Promise<SeedOutcome>((resolve, reject) => {
            const onError = (error: Error) => reject(error);
            worker.once("error", onError);
            worker.once("message", (message: SeedOutcome) => {
              worker.off("error", onError);
              resolve(message);
            });
          });
          onOutcome(outcome);
        }
      } finally {
        await worker.terminate();
      }
    }),
  );
  outcomes.sort((a, b) => a.seed - b.seed);
  const violations = outcomes.filter((outcome) => outcome.violations.length > 0).length;
  const linearizable = outcomes.filter(
    (outcome) =>
      outcome.violations.length === 0 &&
      outcome.verdicts.kv === "linearizable" &&
      outcome.verdicts.lock === "linearizable",
  ).length;
  const leaderTimes = outcomes.flatMap((outcome) =>
    outcome.firstLeaderMs === undefined ? [] : [outcome.firstLeaderMs],
  );
  leaderTimes.sort((a, b) => a - b);
  const byMembers = memberCounts
    .map((members) => {
      const times = outcomes
        .filter((outcome) => outcome.members === members && outcome.firstLeaderMs !== undefined)
        .map((outcome) => outcome.firstLeaderMs as number)
        .sort((a, b) => a - b);
      return times.length === 0
        ? undefined
        : `${members}: ${percentile(times, 0.5).toFixed(0)}/${(times.at(-1) ?? 0).toFixed(0)}`;
    })
    .filter((entry) => entry !== undefined);
  const totals = (name: string) => outcomes.reduce((sum, outcome) => sum + (outcome.stats[name] ?? 0), 0);
  console.log(
    `time to first leader (all members start together, 100 ms election timeout): median ${percentile(leaderTimes, 0.5).toFixed(0)} ms, p99 ${percentile(leaderTimes, 0.99).toFixed(0)} ms, worst ${(leaderTimes.at(-1) ?? Number.NaN).toFixed(0)} ms; by size median/worst ${byMembers.join(", ")}`,
  );
  console.log(
    `faults injected: ${totals("crashes")} crashes, ${totals("partitions")} partitions, ${totals("wipes")} disk wipes, ${totals("transfers")} leadership transfers, ${totals("configChanges")} membership changes; ${totals("messagesDropped")} of ${totals("messagesSent")} messages dropped; ${totals("opsCompleted")} client operations, ${totals("opsUnknown")} unknown`,
  );
  if (values.report !== undefined)
    await writeFile(values.report, JSON.stringify({ seeds, violations, linearizable, outcomes }));
  console.log(
    `sim: ${seeds} seeds, ${violations} violations, ${linearizable} linearizable (${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
  process.exit(violations > 0 ? 1 : 0);
}

if (isMainThread) {
  await main();
} else {
  const keepDir = (workerData as { keepDir?: string } | undefined)?.keepDir;
  parentPort?.on("message", async (seed: number) => {
    parentPort?.postMessage(await runSeed(seed, keepDir));
  });
}
