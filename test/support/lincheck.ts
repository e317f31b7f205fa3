// Runs the Porcupine checker (hack/lincheck, built by `make tools`) on a history.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolPath } from "./tools.ts";

export interface HistoryOperation {
  clientId: number;
  input: Record<string, unknown>;
  /** null: the outcome is unknown (the client gave up); it may or may not have taken effect. */
  output: Record<string, unknown> | null;
  call: number;
  return: number | null;
}

export interface History {
  model: "kv" | "lock";
  description?: string;
  operations: HistoryOperation[];
}

export type Verdict = "linearizable" | "not-linearizable" | "undecided";

export interface CheckResult {
  verdict: Verdict;
  /** The checker's report: a summary line, and for violations the keys and operations involved. */
  report: string;
}

/**
 * Drops the writes of unknown outcome (put or cas) whose value no read returned. Sound and
 * exact for the kv model: such a write may be linearized after every other operation, where
 * it changes nothing anyone saw, so the history is linearizable with it exactly when it is
 * without it. (Revisions need only increase, so a write nobody saw explains no gap either.)
 * Values are unique per write in our loads; a value written twice is kept to be safe.
 * Unknown writes are what make the search blow up: each may be placed anywhere after its
 * call, so a fault that leaves a hundred of them can leave the checker undecided.
 */
export function pruneUnobservedUnknownWrites(operations: readonly HistoryOperation[]): HistoryOperation[] {
  const observed = new Set<string>();
  const written = new Map<string, number>();
  const valueKey = (key: unknown, value: unknown) => JSON.stringify([key, value]);
  for (const operation of operations) {
    const { op, key, value } = operation.input as { op?: unknown; key?: unknown; value?: unknown };
    if (op === "get" && operation.output !== null && operation.output.found === true)
      observed.add(valueKey(key, operation.output.value));
    if (op === "put" || op === "cas")
      written.set(valueKey(key, value), (written.get(valueKey(key, value)) ?? 0) + 1);
  }
  return operations.filter((operation) => {
    const { op, key, value } = operation.input as { op?: unknown; key?: unknown; value?: unknown };
    if (operation.output !== null || (op !== "put" && op !== "cas")) return true;
    const id = valueKey(key, value);
    return observed.has(id) || (written.get(id) ?? 0) > 1;
  });
}

/**
 * Checks a history (kv histories after pruneUnobservedUnknownWrites); keeps the history file (and an HTML visualization) in `keepDir` when
 * it is not linearizable, so the failure can be looked at.
 */
export async function checkHistory(
  history: History,
  options: { timeoutSeconds?: number; keepDir?: string; name?: string } = {},
): Promise<CheckResult> {
  const dir = await mkdtemp(join(tmpdir(), "lincheck-"));
  const name = options.name ?? "history";
  const path = join(dir, `${name}.json`);
  const checked =
    history.model === "kv"
      ? { ...history, operations: pruneUnobservedUnknownWrites(history.operations) }
      : history;
  await writeFile(path, JSON.stringify(checked));
  const visualization = join(options.keepDir ?? dir, `${name}.html`);
  const args = [`-timeout=${options.timeoutSeconds ?? 30}s`, `-visualize=${visualization}`, path];
  const outcome = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(toolPath("lincheck"), args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
  const report = (outcome.stdout + outcome.stderr).trim();
  try {
    switch (outcome.code) {
      case 0:
        return { verdict: "linearizable", report };
      case 1:
        if (options.keepDir !== undefined)
          await writeFile(join(options.keepDir, `${name}.json`), JSON.stringify(history));
        return { verdict: "not-linearizable", report };
      case 2:
        return { verdict: "undecided", report };
      default:
        throw new Error(`lincheck failed (exit ${outcome.code}): ${report}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
