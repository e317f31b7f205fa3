// Random appends, syncs and crashes. A crash keeps what was synced and a random prefix of
// the bytes written after it (the torn last write); reopening must give the model's state
// after some prefix of the appended records that includes every synced one.
import { stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AcceptedEntry, SlotValue } from "../paxos/messages.ts";
import { type DataDirectory, openDataDirectory } from "./index.ts";
import {
  bytes,
  type ModelRecord,
  modelState,
  readyRecords,
  segmentNames,
  snapshot,
  temporaryDirectory,
} from "./testFixtures.ts";

interface EntrySpec {
  /** Added to twice the step counter: slots grow like a log's, with rewrites of recent ones. */
  readonly slotOffset: number;
  readonly round: number;
  readonly kind: "noop" | "batch" | "config";
  readonly requestBytes: readonly number[];
}

type Operation =
  | {
      readonly kind: "append";
      readonly entries: readonly EntrySpec[];
      readonly hardState: boolean;
      readonly snapshot: boolean;
    }
  | { readonly kind: "sync" }
  | { readonly kind: "crash"; readonly keptFraction: number };

const entrySpec: fc.Arbitrary<EntrySpec> = fc.record({
  slotOffset: fc.integer({ min: -6, max: 2 }),
  round: fc.integer({ min: 0, max: 5 }),
  kind: fc.constantFrom("noop", "batch", "config"),
  requestBytes: fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 3 }),
});

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      entries: fc.array(entrySpec, { maxLength: 4 }),
      hardState: fc.integer({ min: 0, max: 3 }).map((value) => value === 0),
      snapshot: fc.integer({ min: 0, max: 9 }).map((value) => value < 2),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: "sync" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("crash" as const),
      keptFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
);

function slotValue(spec: EntrySpec, counter: number): SlotValue {
  switch (spec.kind) {
    case "noop":
      return { kind: "noop" };
    case "batch":
      return {
        kind: "batch",
        timeMs: counter,
        requests: spec.requestBytes.map((length, index) => bytes(length, counter + index)),
      };
    case "config":
      return { kind: "config", timeMs: counter, change: { type: "fence", member: `m#${counter}` } };
  }
}

/** Runs the operations against a real directory and checks every reopen against the model. */
async function run(operations: readonly Operation[]): Promise<void> {
  const directory = await temporaryDirectory();
  const options = { fsync: false, segmentBytes: 1024 };
  let dataDirectory: DataDirectory = await openDataDirectory(directory.path, options);
  // Counters only grow, across crashes too, so promises, commit indexes and snapshot
  // indexes never go back whatever prefix a crash keeps.
  let counter = 0;
  let history: ModelRecord[] = [];
  let synced = 0;
  try {
    for (const step of operations) {
      if (step.kind === "append") {
        counter += 1;
        const entries: AcceptedEntry[] = step.entries.map((spec, index) => ({
          slot: Math.max(1, counter * 2 + spec.slotOffset),
          ballot: { round: spec.round, proposer: `p${spec.round}#x` },
          value: slotValue(spec, counter * 10 + index),
        }));
        const ready = {
          ...(step.snapshot ? { snapshot: snapshot(Math.max(0, counter * 2 - 4), counter % 50) } : {}),
          entries,
          ...(step.hardState
            ? {
                hardState: {
                  promised: { round: counter, proposer: `p#${counter}` },
                  committedThrough: counter,
                },
              }
            : {}),
        };
        dataDirectory.append(ready);
        history.push(...readyRecords(ready));
      } else if (step.kind === "sync") {
        await dataDirectory.sync();
        synced = history.length;
      } else {
        // The crash: close() writes the unsynced records as the next flush would; then the
        // file is cut back to the synced bytes plus a random prefix of that last write.
        const unsynced = history.slice(synced);
        const segmentsBefore = await segmentNames(directory.path);
        const lastBefore = segmentsBefore.at(-1) ?? "";
        const sizeBefore = (await stat(join(directory.path, lastBefore))).size;
        await dataDirectory.close();
        const segmentsAfter = await segmentNames(directory.path);
        const deletedNone = segmentsBefore.every((name) => segmentsAfter.includes(name));
        let guaranteed = history.length;
        if (!unsynced.some((record) => record.kind === "snapshot") && deletedNone) {
          const rotated = segmentsAfter.length > segmentsBefore.length;
          const torn = segmentsAfter.at(-1) ?? "";
          const from = rotated ? 0 : sizeBefore;
          const to = (await stat(join(directory.path, torn))).size;
          await truncate(join(directory.path, torn), from + Math.floor(step.keptFraction * (to - from)));
          guaranteed = synced;
        }
        dataDirectory = await openDataDirectory(directory.path, options);
        const recovered = dataDirectory.durable;
        let kept = -1;
        for (let length = history.length; length >= guaranteed; length -= 1) {
          if (isDeepStrictEqual(modelState(history.slice(0, length)), recovered)) {
            kept = length;
            break;
          }
        }
        if (kept === -1) {
          // Show the closest candidate: the state with every synced record.
          expect(recovered).toEqual(modelState(history.slice(0, guaranteed)));
        }
        expect(recovered).toEqual(modelState(history.slice(0, kept)));
        history = history.slice(0, kept);
        synced = history.length;
      }
    }
    await dataDirectory.close();
    dataDirectory = await openDataDirectory(directory.path, options);
    expect(dataDirectory.durable).toEqual(modelState(history));
  } finally {
    await dataDirectory.close().catch(() => undefined);
    await directory.remove();
  }
}

describe("data directory: crashes (property)", () => {
  it("recovers to the model's state after a prefix of the records that holds every synced one", async () => {
    await fc.assert(fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 40 }), run), {
      numRuns: 60,
    });
  });
});
