// Client load against a real replica cluster that records a history for the
// linearizability checker: every operation with its call and return time, and an
// unknown outcome (null) when the client could not learn it (timeout, 503, refused).

import type { HttpAnswer } from "./jsonRequest.ts";
import type { HistoryOperation } from "./lincheck.ts";

/**
 * What the load talks to: members and a way to send one of them a request. A
 * ReplicaCluster is one; the e2e suite makes one from pod addresses.
 */
export interface LoadTarget<Member> {
  readonly members: readonly Member[];
  request(
    member: Member,
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number },
  ): Promise<HttpAnswer>;
}

export interface LoadOptions<Member = unknown> {
  readonly clients: number;
  readonly durationMs: number;
  readonly keys: readonly string[];
  /** Fraction of operations that are reads. */
  readonly readFraction?: number;
  /** Which members clients may talk to (all by default; tests narrow it during faults). */
  readonly targets?: () => readonly Member[];
  readonly timeoutMs?: number;
  /** Stops the clients before durationMs (each finishes the request it is in). */
  readonly signal?: AbortSignal;
}

export interface LoadResult {
  readonly history: HistoryOperation[];
  /** Writes the cluster acknowledged: key → values, in acknowledgement order. */
  readonly acknowledged: { key: string; value: string; revision: number }[];
  readonly stats: { ok: number; unknown: number; failed: number };
}

const now = () => Number(process.hrtime.bigint() / 1000n);

/** The history's clock in ms (monotonic, not the epoch), for windows passed to longestWriteGapMs. */
export const historyNowMs = () => now() / 1000;

/** Refusals that come before anything is proposed: the write did not happen. */
const definitelyNotApplied = new Set([
  "NotLeader",
  "Fenced",
  "Stopping",
  "Overloaded",
  "TooLarge",
  "Refused",
  "LeaderRefused",
]);

export async function runLoad<Member>(
  cluster: LoadTarget<Member>,
  options: LoadOptions<Member>,
): Promise<LoadResult> {
  const history: HistoryOperation[] = [];
  const acknowledged: LoadResult["acknowledged"] = [];
  const stats = { ok: 0, unknown: 0, failed: 0 };
  const deadline = Date.now() + options.durationMs;
  const readFraction = options.readFraction ?? 0.4;
  const timeoutMs = options.timeoutMs ?? 3_000;

  const client = async (clientIndex: number) => {
    const clientId = `load-${clientIndex}-${Math.random().toString(36).slice(2)}`;
    let sequence = 0;
    let counter = 0;
    while (Date.now() < deadline && options.signal?.aborted !== true) {
      const targets = (options.targets ?? (() => cluster.members))();
      const target = targets[Math.floor(Math.random() * targets.length)];
      if (target === undefined) break;
      const key = options.keys[Math.floor(Math.random() * options.keys.length)] ?? "k";
      const isRead = Math.random() < readFraction;
      const call = now();
      if (isRead) {
        const answer = await cluster
          .request(target, "GET", `/v1/kv/${encodeURIComponent(key)}`, { timeoutMs })
          .catch(() => undefined);
        if (answer?.status === 200) {
          const entry = (answer.body as { entry: { value: string; modRevision: number } | null }).entry;
          history.push({
            clientId: clientIndex,
            input: { op: "get", key },
            output:
              entry === null
                ? { found: false }
                : { found: true, value: entry.value, revision: entry.modRevision },
            call,
            return: now(),
          });
          stats.ok += 1;
        } else {
          stats.failed += 1; // a failed read changed nothing: leave it out
        }
        continue;
      }
      sequence += 1;
      counter += 1;
      const value = `c${clientIndex}-${counter}`;
      let refused = false;
      const answer = await cluster
        .request(target, "PUT", `/v1/kv/${encodeURIComponent(key)}`, {
          body: { value },
          headers: { "x-paxos-client-id": clientId, "x-paxos-sequence": String(sequence) },
          timeoutMs,
        })
        .catch((error: { cause?: { code?: string } }) => {
          // Connection refused: the request never reached a replica, so it cannot have applied.
          refused = error.cause?.code === "ECONNREFUSED";
          return undefined;
        });
      const code = (answer?.body as { error?: { code?: string } } | undefined)?.error?.code;
      if (refused || (code !== undefined && definitelyNotApplied.has(code))) {
        stats.failed += 1;
        continue;
      }
      if (answer?.status === 200) {
        const revision = (answer.body as { revision: number }).revision;
        history.push({
          clientId: clientIndex,
          input: { op: "put", key, value },
          output: { revision },
          call,
          return: now(),
        });
        acknowledged.push({ key, value, revision });
        stats.ok += 1;
      } else {
        // Unknown: the write may have been chosen before the answer was lost.
        history.push({
          clientId: clientIndex,
          input: { op: "put", key, value },
          output: null,
          call,
          return: null,
        });
        stats.unknown += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, index) => client(index)));
  return { history, acknowledged, stats };
}

/**
 * The longest stretch with no acknowledged write between `from` and `to` (on the history's
 * clock, historyNowMs; the whole history by default): what clients saw of an
 * unavailability window. `startMs` is where it began, on the same clock.
 */
export function longestWriteGap(
  history: readonly HistoryOperation[],
  from?: number,
  to?: number,
): { readonly ms: number; readonly startMs: number } {
  const returns = history
    .filter(
      (operation) => operation.input.op === "put" && operation.output !== null && operation.return !== null,
    )
    .map((operation) => (operation.return as number) / 1000)
    .filter((at) => (from === undefined || at >= from) && (to === undefined || at <= to))
    .sort((a, b) => a - b);
  const edges = [from ?? returns[0], ...returns, to ?? returns[returns.length - 1]].filter(
    (at): at is number => at !== undefined,
  );
  let longest = { ms: 0, startMs: edges[0] ?? 0 };
  for (let index = 1; index < edges.length; index += 1) {
    const ms = (edges[index] as number) - (edges[index - 1] as number);
    if (ms > longest.ms) longest = { ms: Math.round(ms), startMs: edges[index - 1] as number };
  }
  return longest;
}
