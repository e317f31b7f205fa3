/**
 * Test support for the `*.test.ts` files next to this one (not part of the public entry): feeds a
 * state machine log entries with consecutive indexes, a clock the test moves, and a sequence
 * number per client, the way the Paxos layer and its clients would.
 */
import type { Command, CommandResults, RequestResult, StateMachineOptions } from "./index.ts";
import { ReplicatedStateMachine } from "./index.ts";

export const startTimeMs = 1_700_000_000_000;

export class TestDriver {
  machine: ReplicatedStateMachine;
  timeMs: number;
  readonly #sequences = new Map<string, number>();

  constructor(options: Partial<StateMachineOptions> = {}, machine = new ReplicatedStateMachine(options)) {
    this.machine = machine;
    this.timeMs = Math.max(machine.timeMs, startTimeMs);
  }

  /** Applies `command` as the next request of `clientId` (default "client"), after `advanceMs`. */
  run<C extends Command>(
    command: C,
    options: { clientId?: string; advanceMs?: number } = {},
  ): CommandResults[C["op"]] {
    const clientId = options.clientId ?? "client";
    const sequence = (this.#sequences.get(clientId) ?? 0) + 1;
    this.#sequences.set(clientId, sequence);
    // A fresh sequence number is never a duplicate or stale, so the result is the command's own.
    return this.request(clientId, sequence, command, options.advanceMs ?? 0) as CommandResults[C["op"]];
  }

  /** Applies a request with an explicit sequence number (for duplicates and stale requests). */
  request(clientId: string, sequence: number, command: Command, advanceMs = 0): RequestResult {
    this.timeMs += advanceMs;
    return this.machine.apply(
      { type: "request", clientId, sequence, command },
      { index: this.machine.appliedIndex + 1, timeMs: this.timeMs },
    ) as RequestResult;
  }

  tick(advanceMs: number): void {
    this.timeMs += advanceMs;
    this.machine.apply({ type: "tick" }, { index: this.machine.appliedIndex + 1, timeMs: this.timeMs });
  }
}

/** Narrows a result to its success type, failing the test with the result when it is a failure. */
export function expectOk<T extends { readonly ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: true }>;
}
