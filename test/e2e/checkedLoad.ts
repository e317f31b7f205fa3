// Client load for the e2e scenarios that ends in the linearizability checker: started
// before a fault, stopped after it, then a round of reads so that a lost acknowledged write
// shows up, and the whole history checked.
import { expect } from "vitest";
import { checkHistory, type HistoryOperation } from "../support/lincheck.ts";
import { type LoadResult, runLoad } from "../support/load.ts";
import { podMembers } from "./support.ts";
import type { E2eTarget } from "./targets/target.ts";

/** Keys of their own for each scenario: the checker's model starts from empty keys. */
export const keysFor = (scenario: string) => ["a", "b", "c", "d", "e"].map((key) => `${scenario}-${key}`);

export async function expectLinearizable(operations: HistoryOperation[], label: string): Promise<void> {
  const result = await checkHistory({ model: "kv", operations }, { timeoutSeconds: 120, name: label });
  expect(result.verdict, result.report).toBe("linearizable");
}

export interface CheckedLoadOptions {
  readonly clients?: number;
  readonly readFraction?: number;
  readonly timeoutMs?: number;
}

export interface CheckedLoad {
  /** Stops the clients, reads every key through `readers` (the load's members by default), checks the history. */
  finish(label: string, readers?: readonly string[]): Promise<LoadResult>;
}

/** Load through `members` (pod names) until finish(). */
export function startCheckedLoad(
  target: E2eTarget,
  namespace: string,
  scenario: string,
  members: readonly string[],
  options: CheckedLoadOptions = {},
): CheckedLoad {
  const stop = new AbortController();
  const keys = keysFor(scenario);
  const running = runLoad(podMembers(target, namespace, members), {
    clients: options.clients ?? 3,
    durationMs: 600_000,
    keys,
    timeoutMs: options.timeoutMs ?? 3_000,
    signal: stop.signal,
    ...(options.readFraction === undefined ? {} : { readFraction: options.readFraction }),
  });
  return {
    async finish(label, readers = members) {
      stop.abort();
      const result = await running;
      const finalReads = await runLoad(podMembers(target, namespace, readers), {
        clients: 2,
        durationMs: 1_000,
        keys,
        readFraction: 1,
      });
      await expectLinearizable([...result.history, ...finalReads.history], label);
      return result;
    },
  };
}
