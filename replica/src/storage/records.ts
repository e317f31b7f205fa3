// The records in the data directory and their msgpack payloads. Every payload passes the
// same checks before it is written and after it is read back (pair assertions): a record
// the caller gets wrong is refused before it reaches the disk, and a record that reads back
// wrong is corruption, never silently accepted.
//
// Payloads are msgpack maps built field by field here (never the caller's object as is),
// so the format does not depend on what else the caller's objects carry. Each log payload
// ends with a string (a proposer or an incarnation), so it does not end in zero bytes, which
// keeps a zero-filled tail distinguishable from a record (see frame.ts).
import { Packr } from "msgpackr";
import type { Ballot } from "../paxos/ballot.ts";
import type { ConfigChange, Configuration } from "../paxos/configuration.ts";
import type { AcceptedEntry, HardState, SlotValue, Snapshot } from "../paxos/messages.ts";

/** The format of every file in the directory; a newer format is refused, not guessed at. */
export const formatVersion = 1;

/** The record type byte of each frame. */
export const recordType = {
  /** First record of every log segment. */
  segmentHeader: 1,
  entry: 2,
  hardState: 3,
  /** The only record of the snapshot file. */
  snapshot: 4,
  /** The only record of the incarnation file. */
  incarnation: 5,
} as const;

export interface SegmentHeader {
  readonly format: number;
  readonly sequence: number;
  readonly incarnation: string;
}

export interface IncarnationRecord {
  readonly format: number;
  readonly incarnation: string;
}

/** A snapshot as stored: the incarnation ties the file to its directory. */
export interface SnapshotRecord {
  readonly incarnation: string;
  readonly snapshot: Snapshot;
}

export type LogRecord =
  | { readonly kind: "segmentHeader"; readonly header: SegmentHeader }
  | { readonly kind: "entry"; readonly entry: AcceptedEntry }
  | { readonly kind: "hardState"; readonly hardState: HardState };

const packr = new Packr({ useRecords: false, moreTypes: false, encodeUndefinedAsNil: false });

// ------------------------------------------------------------------ checks (both ways)

type Problem = string | undefined;

const configChangeTypes: ReadonlySet<string> = new Set<ConfigChange["type"]>([
  "addLearner",
  "promote",
  "remove",
  "fence",
  "unfence",
  "evict",
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown, minimum: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= minimum;
}

function ballotProblem(value: unknown): Problem {
  if (!isObject(value)) return "ballot is not an object";
  if (!isCount(value.round, 0)) return `ballot round ${String(value.round)} is not a safe integer >= 0`;
  if (typeof value.proposer !== "string") return "ballot proposer is not a string";
  return undefined;
}

function slotValueProblem(value: unknown): Problem {
  if (!isObject(value)) return "slot value is not an object";
  switch (value.kind) {
    case "noop":
      return undefined;
    case "batch":
      if (!Number.isFinite(value.timeMs)) return "batch timeMs is not a finite number";
      if (!Array.isArray(value.requests)) return "batch requests is not an array";
      if (!value.requests.every((request) => request instanceof Uint8Array))
        return "a batch request is not a Uint8Array";
      return undefined;
    case "config":
      if (!Number.isFinite(value.timeMs)) return "config timeMs is not a finite number";
      if (!isObject(value.change)) return "config change is not an object";
      if (typeof value.change.type !== "string" || !configChangeTypes.has(value.change.type))
        return `config change type ${String(value.change.type)} is unknown`;
      if (typeof value.change.member !== "string") return "config change member is not a string";
      return undefined;
    default:
      return `slot value kind ${String(value.kind)} is unknown`;
  }
}

export function entryProblem(value: unknown): Problem {
  if (!isObject(value)) return "entry is not an object";
  if (!isCount(value.slot, 1)) return `entry slot ${String(value.slot)} is not a safe integer >= 1`;
  return ballotProblem(value.ballot) ?? slotValueProblem(value.value);
}

export function hardStateProblem(value: unknown): Problem {
  if (!isObject(value)) return "hard state is not an object";
  if (!isCount(value.committedThrough, 0))
    return `hard state committedThrough ${String(value.committedThrough)} is not a safe integer >= 0`;
  return ballotProblem(value.promised);
}

function stringListProblem(value: unknown, name: string): Problem {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string"))
    return `configuration ${name} is not a list of strings`;
  return undefined;
}

export function snapshotProblem(value: unknown): Problem {
  if (!isObject(value)) return "snapshot is not an object";
  if (!isCount(value.index, 0)) return `snapshot index ${String(value.index)} is not a safe integer >= 0`;
  if (!(value.stateMachine instanceof Uint8Array)) return "snapshot stateMachine is not a Uint8Array";
  const configuration = value.configuration;
  if (!isObject(configuration)) return "snapshot configuration is not an object";
  return (
    stringListProblem(configuration.voters, "voters") ??
    stringListProblem(configuration.learners, "learners") ??
    stringListProblem(configuration.fenced, "fenced") ??
    stringListProblem(configuration.evicted, "evicted")
  );
}

function incarnationProblem(value: unknown): Problem {
  if (typeof value !== "string" || value.length === 0 || value.length > 256)
    return "incarnation is not a non-empty string of at most 256 characters";
  return undefined;
}

function formatProblem(value: unknown): Problem {
  if (value !== formatVersion) return `format version ${String(value)} is not ${formatVersion}`;
  return undefined;
}

// ------------------------------------------------------------------ canonical copies

function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function canonicalBallot(ballot: Ballot): Ballot {
  return { round: ballot.round, proposer: ballot.proposer };
}

function canonicalSlotValue(value: SlotValue, copy: (bytes: Uint8Array) => Uint8Array): SlotValue {
  switch (value.kind) {
    case "noop":
      return { kind: "noop" };
    case "batch":
      return { kind: "batch", timeMs: value.timeMs, requests: value.requests.map(copy) };
    case "config":
      return {
        kind: "config",
        timeMs: value.timeMs,
        change: { type: value.change.type, member: value.change.member },
      };
  }
}

/** Field order: the ballot (ending with the proposer string) comes last. */
function canonicalEntry(entry: AcceptedEntry, copy: (bytes: Uint8Array) => Uint8Array): AcceptedEntry {
  return {
    slot: entry.slot,
    value: canonicalSlotValue(entry.value, copy),
    ballot: canonicalBallot(entry.ballot),
  };
}

function canonicalHardState(hardState: HardState): HardState {
  return { committedThrough: hardState.committedThrough, promised: canonicalBallot(hardState.promised) };
}

function canonicalConfiguration(configuration: Configuration): Configuration {
  return {
    voters: [...configuration.voters],
    learners: [...configuration.learners],
    fenced: [...configuration.fenced],
    evicted: [...configuration.evicted],
  };
}

const keepBytes = (bytes: Uint8Array): Uint8Array => bytes;

// ------------------------------------------------------------------ encode (checked)

/** Thrown by the encoders for a value that fails its check; the caller turns it into its own error. */
export class RecordProblem extends Error {
  override readonly name = "RecordProblem";
}

function pack(value: unknown): Buffer {
  return packr.pack(value);
}

export function encodeEntry(entry: AcceptedEntry): Buffer {
  const problem = entryProblem(entry);
  if (problem !== undefined) throw new RecordProblem(problem);
  return pack(canonicalEntry(entry, keepBytes));
}

export function encodeHardState(hardState: HardState): Buffer {
  const problem = hardStateProblem(hardState);
  if (problem !== undefined) throw new RecordProblem(problem);
  return pack(canonicalHardState(hardState));
}

export function encodeSnapshot(record: SnapshotRecord): Buffer {
  const problem = incarnationProblem(record.incarnation) ?? snapshotProblem(record.snapshot);
  if (problem !== undefined) throw new RecordProblem(problem);
  const { snapshot } = record;
  return pack({
    index: snapshot.index,
    configuration: canonicalConfiguration(snapshot.configuration),
    stateMachine: snapshot.stateMachine,
    incarnation: record.incarnation,
  });
}

export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  const problem =
    formatProblem(header.format) ??
    incarnationProblem(header.incarnation) ??
    (isCount(header.sequence, 1) ? undefined : "segment sequence is not a safe integer >= 1");
  if (problem !== undefined) throw new RecordProblem(problem);
  return pack({ format: header.format, sequence: header.sequence, incarnation: header.incarnation });
}

export function encodeIncarnation(record: IncarnationRecord): Buffer {
  const problem = formatProblem(record.format) ?? incarnationProblem(record.incarnation);
  if (problem !== undefined) throw new RecordProblem(problem);
  return pack({ format: record.format, incarnation: record.incarnation });
}

// ------------------------------------------------------------------ decode (checked)

function unpack(payload: Uint8Array): unknown {
  try {
    return packr.unpack(payload);
  } catch (error) {
    throw new RecordProblem(
      `payload is not msgpack (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

function checked<T>(value: unknown, problem: Problem): T {
  if (problem !== undefined) throw new RecordProblem(problem);
  return value as T;
}

/** Decodes one record of a log segment; throws `RecordProblem` for anything this code did not write. */
export function decodeLogRecord(type: number, payload: Uint8Array): LogRecord {
  switch (type) {
    case recordType.segmentHeader: {
      const value = unpack(payload);
      if (!isObject(value)) throw new RecordProblem("segment header is not an object");
      const problem =
        formatProblem(value.format) ??
        incarnationProblem(value.incarnation) ??
        (isCount(value.sequence, 1) ? undefined : "segment sequence is not a safe integer >= 1");
      const header = checked<SegmentHeader>(value, problem);
      return {
        kind: "segmentHeader",
        header: { format: header.format, sequence: header.sequence, incarnation: header.incarnation },
      };
    }
    case recordType.entry: {
      const value = unpack(payload);
      const entry = checked<AcceptedEntry>(value, entryProblem(value));
      return { kind: "entry", entry: canonicalEntry(entry, copyBytes) };
    }
    case recordType.hardState: {
      const value = unpack(payload);
      const hardState = checked<HardState>(value, hardStateProblem(value));
      return { kind: "hardState", hardState: canonicalHardState(hardState) };
    }
    default:
      throw new RecordProblem(`record type ${type} does not belong in a log segment`);
  }
}

export function decodeSnapshot(type: number, payload: Uint8Array): SnapshotRecord {
  if (type !== recordType.snapshot) throw new RecordProblem(`record type ${type} is not a snapshot`);
  const value = unpack(payload);
  if (!isObject(value)) throw new RecordProblem("snapshot is not an object");
  const snapshot = checked<Snapshot>(value, incarnationProblem(value.incarnation) ?? snapshotProblem(value));
  return {
    incarnation: value.incarnation as string,
    snapshot: {
      index: snapshot.index,
      configuration: canonicalConfiguration(snapshot.configuration),
      stateMachine: copyBytes(snapshot.stateMachine),
    },
  };
}

export function decodeIncarnation(type: number, payload: Uint8Array): IncarnationRecord {
  if (type !== recordType.incarnation) throw new RecordProblem(`record type ${type} is not an incarnation`);
  const value = unpack(payload);
  if (!isObject(value)) throw new RecordProblem("incarnation record is not an object");
  const record = checked<IncarnationRecord>(
    value,
    formatProblem(value.format) ?? incarnationProblem(value.incarnation),
  );
  return { format: record.format, incarnation: record.incarnation };
}
