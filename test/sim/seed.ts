// One simulation seed, start to verdict: the run with its invariant checks, then the
// client histories through the linearizability checker.
import { checkHistory } from "../support/lincheck.ts";
import { SimCluster, type SimOptions } from "./cluster.ts";

export interface SeedOutcome {
  seed: number;
  members: number;
  violations: string[];
  verdicts: { kv: string; lock: string };
  reports: string[];
  firstLeaderMs: number | undefined;
  stats: Record<string, number>;
  wallMs: number;
}

export const memberCounts = [1, 3, 5, 7] as const;

export function optionsForSeed(seed: number): SimOptions {
  return {
    seed,
    members: memberCounts[seed % memberCounts.length] ?? 3,
    faultPhaseMs: 5_000,
    livenessDeadlineMs: 5_000,
    clients: 4,
    faultIntensity: 1,
  };
}

export async function runSeed(seed: number, keepDir?: string): Promise<SeedOutcome> {
  const started = Date.now();
  const options = optionsForSeed(seed);
  const result = new SimCluster(options).run();
  const outcome: SeedOutcome = {
    seed,
    members: options.members,
    violations: [...result.violations],
    verdicts: { kv: "skipped", lock: "skipped" },
    reports: [],
    firstLeaderMs: result.firstLeaderMs,
    stats: result.stats,
    wallMs: 0,
  };
  if (outcome.violations.length === 0) {
    for (const model of ["kv", "lock"] as const) {
      const operations = model === "kv" ? result.kvHistory : result.lockHistory;
      const check = await checkHistory(
        { model, description: `sim seed ${seed}`, operations },
        { timeoutSeconds: 60, name: `sim-${seed}-${model}`, ...(keepDir === undefined ? {} : { keepDir }) },
      );
      outcome.verdicts[model] = check.verdict;
      if (check.verdict === "not-linearizable") {
        outcome.violations.push(`${model} history is not linearizable`);
        outcome.reports.push(check.report);
      } else if (check.verdict === "undecided") {
        outcome.reports.push(check.report);
      }
    }
  }
  outcome.wallMs = Date.now() - started;
  return outcome;
}
