// The simulator as a test suite for mutation testing (make mutation): a handful of
// short seeds across cluster sizes, each checked for invariant violations, liveness
// and linearizability. Small on purpose: Stryker runs it once per mutant.
import { describe, expect, it } from "vitest";
import { checkHistory } from "../support/lincheck.ts";
import { SimCluster } from "./cluster.ts";
import { optionsForSeed } from "./seed.ts";

const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

describe("simulated clusters under faults", () => {
  for (const seed of seeds) {
    it(`seed ${seed} keeps every invariant and stays linearizable`, async () => {
      const result = new SimCluster({
        ...optionsForSeed(seed),
        faultPhaseMs: 2_000,
        livenessDeadlineMs: 3_000,
      }).run();
      expect(result.violations).toEqual([]);
      for (const model of ["kv", "lock"] as const) {
        const operations = model === "kv" ? result.kvHistory : result.lockHistory;
        const check = await checkHistory({ model, operations }, { timeoutSeconds: 20 });
        expect(check.verdict, check.report).toBe("linearizable");
      }
    });
  }
});
