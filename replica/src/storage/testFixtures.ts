// Shared by the storage tests: temporary directories, records to write, and the model of
// what a directory must recover to after a prefix of its records.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zeroBallot } from "../paxos/ballot.ts";
import { emptyConfiguration } from "../paxos/configuration.ts";
import type { AcceptedEntry, DurableState, HardState, Snapshot } from "../paxos/messages.ts";

export async function temporaryDirectory(): Promise<{ path: string; remove: () => Promise<void> }> {
  const parent = await mkdtemp(join(tmpdir(), "paxos-storage-"));
  const path = join(parent, "data");
  return { path, remove: () => rm(parent, { recursive: true, force: true }) };
}

export async function segmentNames(path: string): Promise<string[]> {
  return (await readdir(path)).filter((name) => name.startsWith("log-")).sort();
}

export function bytes(length: number, seed: number): Uint8Array {
  const result = new Uint8Array(length);
  for (let index = 0; index < length; index += 1) result[index] = (seed * 31 + index * 7) & 0xff;
  return result;
}

export function batchEntry(slot: number, round: number, requestBytes = 256): AcceptedEntry {
  return {
    slot,
    ballot: { round, proposer: `node-${round % 3}#inc${round}` },
    value: { kind: "batch", timeMs: 1_700_000_000_000 + slot, requests: [bytes(requestBytes, slot)] },
  };
}

export function hardState(round: number, committedThrough: number): HardState {
  return { promised: { round, proposer: `node-${round % 3}#inc${round}` }, committedThrough };
}

export function snapshot(index: number, stateBytes = 64): Snapshot {
  return {
    index,
    configuration: { voters: ["a#1", "b#2", "c#3"], learners: ["d#4"], fenced: [], evicted: ["e#5"] },
    stateMachine: bytes(stateBytes, index),
  };
}

export type ModelRecord =
  | { readonly kind: "snapshot"; readonly snapshot: Snapshot }
  | { readonly kind: "entry"; readonly entry: AcceptedEntry }
  | { readonly kind: "hardState"; readonly hardState: HardState };

/** The records of one Ready in the order the directory makes them durable. */
export function readyRecords(ready: {
  snapshot?: Snapshot | undefined;
  entries: readonly AcceptedEntry[];
  hardState?: HardState | undefined;
}): ModelRecord[] {
  const records: ModelRecord[] = [];
  if (ready.snapshot !== undefined) records.push({ kind: "snapshot", snapshot: ready.snapshot });
  for (const entry of ready.entries) records.push({ kind: "entry", entry });
  if (ready.hardState !== undefined) records.push({ kind: "hardState", hardState: ready.hardState });
  return records;
}

/**
 * The specification of recovery: the last snapshot, the last hard state (its commit index at
 * least the snapshot's), and above the snapshot the last entry per slot.
 */
export function modelState(records: readonly ModelRecord[]): DurableState | undefined {
  let lastSnapshot: Snapshot | undefined;
  let lastHardState: HardState | undefined;
  const entries = new Map<number, AcceptedEntry>();
  for (const record of records) {
    if (record.kind === "snapshot") lastSnapshot = record.snapshot;
    else if (record.kind === "hardState") lastHardState = record.hardState;
    else entries.set(record.entry.slot, record.entry);
  }
  if (lastSnapshot === undefined && lastHardState === undefined && entries.size === 0) return undefined;
  const durableSnapshot = lastSnapshot ?? {
    index: 0,
    configuration: emptyConfiguration,
    stateMachine: new Uint8Array(0),
  };
  const durableHardState = lastHardState ?? { promised: zeroBallot, committedThrough: 0 };
  return {
    hardState: {
      promised: durableHardState.promised,
      committedThrough: Math.max(durableHardState.committedThrough, durableSnapshot.index),
    },
    snapshot: durableSnapshot,
    entries: [...entries.values()]
      .filter((entry) => entry.slot > durableSnapshot.index)
      .sort((a, b) => a.slot - b.slot),
  };
}
