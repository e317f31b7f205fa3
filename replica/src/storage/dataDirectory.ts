// A member's data directory: the incarnation, the latest snapshot, and a checksummed
// write-ahead log in segments. The runtime appends the records of each Ready, calls sync(),
// and only then sends the Ready's messages; on restart it rebuilds the core from `durable`.
// See README.md for the file format and the recovery rules.
//
// Writes are group-committed: append() only encodes and queues; sync() writes everything
// queued with one write() and makes it durable with one fsync, and callers that arrive
// while an fsync runs share the next one. Nothing is answered before it is durable because
// the caller waits for sync().
import { randomUUID } from "node:crypto";
import { type FileHandle, mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { assert } from "../assert.ts";
import { compareBallots, zeroBallot } from "../paxos/ballot.ts";
import { emptyConfiguration } from "../paxos/configuration.ts";
import type { AcceptedEntry, DurableState, HardState, Snapshot } from "../paxos/messages.ts";
import {
  ClosedError,
  CorruptDataError,
  InvalidRecordError,
  InvalidStorageOptionsError,
  NotADataDirectoryError,
  RecordTooLargeError,
  StorageFailedError,
} from "./errors.ts";
import { encodeFrame, type Frame, scanFrames } from "./frame.ts";
import {
  decodeIncarnation,
  decodeLogRecord,
  decodeSnapshot,
  encodeEntry,
  encodeHardState,
  encodeIncarnation,
  encodeSegmentHeader,
  encodeSnapshot,
  formatVersion,
  RecordProblem,
  recordType,
} from "./records.ts";

/** The largest log record (one entry or hard state), in payload bytes. */
export const recordBytesMax = 64 * 1024 * 1024;
/** The largest snapshot file, in payload bytes. */
export const snapshotBytesMax = 1024 * 1024 * 1024;
export const defaultSegmentBytes = 64 * 1024 * 1024;
const segmentBytesMin = 256;

export const incarnationFileName = "incarnation";
export const snapshotFileName = "snapshot";
const temporarySuffix = ".tmp";
const segmentNamePattern = /^log-(\d{16})\.wal$/;

export function segmentFileName(sequence: number): string {
  return `log-${sequence.toString().padStart(16, "0")}.wal`;
}

export interface DataDirectoryOptions {
  /** A segment is closed, and the next one started, once it holds this many bytes. Default 64 MiB. */
  readonly segmentBytes?: number | undefined;
  /** Called with the duration of every fsync (of a file or of the directory), for metrics. */
  readonly onFsync?: ((durationMs: number) => void) | undefined;
  /**
   * UNSAFE when false: no fsync at all, so a power loss can lose anything "synced". For tests
   * and benchmarks only; a replica must never run with it. Default true.
   */
  readonly fsync?: boolean | undefined;
}

export interface StorageSizes {
  /** Bytes in the live log segments. */
  readonly logBytes: number;
  /** Bytes of the snapshot file (0 when there is none). */
  readonly snapshotBytes: number;
  /** Live log segments, the one being appended to included. */
  readonly segments: number;
}

/** The records of one Ready, in the order they are made durable. */
export interface ReadyRecords {
  readonly snapshot?: Snapshot | undefined;
  readonly entries: readonly AcceptedEntry[];
  readonly hardState?: HardState | undefined;
}

export interface DataDirectory {
  /** Random id created with the directory; a wiped directory gets a new one. */
  readonly incarnation: string;
  /** True when the directory was empty at open: a new incarnation, which must be bootstrapped or join. */
  readonly isNew: boolean;
  /**
   * What the last run left durable; undefined when nothing was ever persisted (always so when
   * `isNew`). A part never persisted reads as a member that never ran: the empty snapshot
   * (index 0, empty configuration) or the zero hard state. `hardState.committedThrough` is at
   * least `snapshot.index` (a durable snapshot holds only chosen slots).
   */
  readonly durable: DurableState | undefined;
  /**
   * Queues the records of one Ready in order: snapshot, then entries, then hard state. Not
   * durable until sync() resolves. Checks every record first and throws (queuing nothing) for
   * one that is malformed, too large, or goes back (a lower snapshot index, promise or commit index).
   */
  append(records: ReadyRecords): void;
  /** Group commit: makes everything appended so far durable with as few fsyncs as possible; concurrent callers share one fsync. */
  sync(): Promise<void>;
  /** Bytes in the log and the snapshot, for metrics. */
  sizes(): StorageSizes;
  /** Flushes and syncs what was appended, then releases the files. Safe to call twice. */
  close(): Promise<void>;
}

interface Segment {
  readonly sequence: number;
  /** Bytes written (and, between flushes, synced). */
  bytes: number;
  /** The highest slot of an entry in this segment; 0 when it holds none. */
  maxEntrySlot: number;
}

type PendingRecord =
  | {
      readonly kind: "log";
      readonly frame: Buffer;
      /** The entry's slot, or 0 for a hard state. */
      readonly entrySlot: number;
      readonly hardState: HardState | undefined;
    }
  | { readonly kind: "snapshot"; readonly frame: Buffer; readonly index: number };

/** fsync of files and of the directory, timed, or nothing when fsync is disabled. */
class Durability {
  readonly directory: string;
  private readonly enabled: boolean;
  private readonly onFsync: ((durationMs: number) => void) | undefined;

  constructor(directory: string, enabled: boolean, onFsync: ((durationMs: number) => void) | undefined) {
    this.directory = directory;
    this.enabled = enabled;
    this.onFsync = onFsync;
  }

  async syncFile(handle: FileHandle): Promise<void> {
    if (!this.enabled) return;
    const started = performance.now();
    // fdatasync: the data and the file size, which is all an append or a new file needs.
    await handle.datasync();
    this.onFsync?.(performance.now() - started);
  }

  /** Makes creations, renames and deletions of files in the directory durable. */
  async syncDirectory(): Promise<void> {
    if (!this.enabled) return;
    const started = performance.now();
    const handle = await open(this.directory, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.onFsync?.(performance.now() - started);
  }

  /** Writes a whole file under a temporary name, syncs it, renames it into place, syncs the directory. */
  async writeFileAtomically(name: string, bytes: Buffer): Promise<void> {
    const temporaryPath = join(this.directory, name + temporarySuffix);
    const handle = await open(temporaryPath, "w");
    try {
      await writeAll(handle, bytes, 0);
      await this.syncFile(handle);
    } finally {
      await handle.close();
    }
    await rename(temporaryPath, join(this.directory, name));
    await this.syncDirectory();
  }
}

async function writeAll(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position + written);
    assert(bytesWritten > 0, "write() wrote nothing");
    written += bytesWritten;
  }
}

function frameOf(type: number, payload: Buffer, limit: number, what: string): Buffer {
  if (payload.length > limit) throw new RecordTooLargeError(what, payload.length, limit);
  return encodeFrame(type, payload);
}

function encodeChecked<T>(encode: (value: T) => Buffer, value: T, what: string): Buffer {
  try {
    return encode(value);
  } catch (error) {
    if (error instanceof RecordProblem) throw new InvalidRecordError(`${what}: ${error.message}`);
    throw error;
  }
}

function decodeChecked<T>(decode: () => T, file: string, offset: number): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof RecordProblem) throw new CorruptDataError(file, offset, error.message);
    throw error;
  }
}

function hardStateRegression(previous: HardState | undefined, next: HardState): string | undefined {
  if (previous === undefined) return undefined;
  if (compareBallots(next.promised, previous.promised) < 0)
    return `the promise goes back from round ${previous.promised.round} to round ${next.promised.round}`;
  if (next.committedThrough < previous.committedThrough)
    return `committedThrough goes back from ${previous.committedThrough} to ${next.committedThrough}`;
  return undefined;
}

function validateOptions(options: DataDirectoryOptions): { segmentBytes: number } {
  const segmentBytes = options.segmentBytes ?? defaultSegmentBytes;
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < segmentBytesMin || segmentBytes > 1 << 30)
    throw new InvalidStorageOptionsError(
      `segmentBytes must be an integer from ${segmentBytesMin} to ${1 << 30}, not ${segmentBytes}`,
    );
  return { segmentBytes };
}

/** What recovery found, and the state the directory continues from. */
interface Recovered {
  readonly incarnation: string;
  readonly isNew: boolean;
  readonly durable: DurableState | undefined;
  readonly segments: Segment[];
  readonly active: FileHandle;
  readonly lastHardState: HardState | undefined;
  readonly snapshotIndex: number | undefined;
  readonly snapshotBytes: number;
}

/**
 * Opens (creating it when needed) the data directory at `path` and recovers what it holds.
 * Throws `CorruptDataError` when the directory cannot be trusted, `NotADataDirectoryError` when
 * the path holds other files.
 */
export async function openDataDirectory(
  path: string,
  options: DataDirectoryOptions = {},
): Promise<DataDirectory> {
  const { segmentBytes } = validateOptions(options);
  const durability = new Durability(path, options.fsync ?? true, options.onFsync);
  await mkdir(path, { recursive: true });
  const recovered = await recover(durability);
  return new FileDataDirectory(durability, segmentBytes, recovered);
}

async function recover(durability: Durability): Promise<Recovered> {
  const path = durability.directory;
  const names = await readdir(path);
  const segmentSequences: number[] = [];
  const unknown: string[] = [];
  const temporary: string[] = [];
  for (const name of names) {
    const match = segmentNamePattern.exec(name);
    if (match?.[1] !== undefined) segmentSequences.push(Number(match[1]));
    else if (name === incarnationFileName + temporarySuffix || name === snapshotFileName + temporarySuffix)
      temporary.push(name);
    else if (
      name !== incarnationFileName &&
      name !== snapshotFileName &&
      name !== "lost+found" &&
      !name.startsWith(".")
    )
      unknown.push(name);
  }
  segmentSequences.sort((a, b) => a - b);
  // A temporary file is a write that crashed before its rename: it never took effect.
  for (const name of temporary) await unlink(join(path, name));

  if (!names.includes(incarnationFileName)) {
    if (segmentSequences.length > 0 || names.includes(snapshotFileName))
      throw new CorruptDataError(
        incarnationFileName,
        undefined,
        "the directory holds a log or a snapshot but no incarnation file",
      );
    if (unknown.length > 0)
      throw new NotADataDirectoryError(path, `it holds other files (${unknown.slice(0, 5).join(", ")})`);
    // The incarnation first: once it exists, the directory is this member's, whatever follows.
    const incarnation = randomUUID();
    await durability.writeFileAtomically(
      incarnationFileName,
      frameOf(
        recordType.incarnation,
        encodeIncarnation({ format: formatVersion, incarnation }),
        recordBytesMax,
        "incarnation",
      ),
    );
    const first = await createSegment(durability, incarnation, 1, undefined);
    return {
      incarnation,
      isNew: true,
      durable: undefined,
      segments: [first.segment],
      active: first.handle,
      lastHardState: undefined,
      snapshotIndex: undefined,
      snapshotBytes: 0,
    };
  }

  const incarnation = await readIncarnation(path);
  const snapshotRead = names.includes(snapshotFileName) ? await readSnapshot(path, incarnation) : undefined;
  const snapshot = snapshotRead?.snapshot;
  const replayed = await replaySegments(durability, incarnation, segmentSequences);

  let durable: DurableState | undefined;
  if (snapshot !== undefined || replayed.lastHardState !== undefined || replayed.entries.size > 0) {
    const durableSnapshot: Snapshot = snapshot ?? {
      index: 0,
      configuration: emptyConfiguration,
      stateMachine: new Uint8Array(0),
    };
    const hardState = replayed.lastHardState ?? { promised: zeroBallot, committedThrough: 0 };
    durable = {
      // A snapshot is written before the hard state of its Ready: a crash in between leaves the
      // snapshot ahead of the recorded commit index, and the snapshot proves those slots chosen.
      hardState: {
        promised: hardState.promised,
        committedThrough: Math.max(hardState.committedThrough, durableSnapshot.index),
      },
      snapshot: durableSnapshot,
      entries: [...replayed.entries.values()]
        .filter((entry) => entry.slot > durableSnapshot.index)
        .sort((a, b) => a.slot - b.slot),
    };
  }
  return {
    incarnation,
    isNew: false,
    durable,
    segments: replayed.segments,
    active: replayed.active,
    lastHardState: replayed.lastHardState,
    snapshotIndex: snapshot?.index,
    snapshotBytes: snapshotRead?.bytes ?? 0,
  };
}

/** Reads a file that must hold exactly one intact record (it was written atomically). */
async function readSingleRecord(path: string, name: string, limit: number): Promise<Frame> {
  const bytes = await readFile(join(path, name));
  const scan = scanFrames(bytes, limit);
  if (scan.end.kind !== "clean")
    throw new CorruptDataError(name, scan.end.offset, `${scan.end.reason} (this file is written atomically)`);
  const [frame, ...rest] = scan.frames;
  if (frame === undefined)
    throw new CorruptDataError(name, 0, "the file is empty (it is written atomically)");
  if (rest.length > 0) throw new CorruptDataError(name, frame.end, "the file holds more than one record");
  return frame;
}

async function readIncarnation(path: string): Promise<string> {
  const frame = await readSingleRecord(path, incarnationFileName, recordBytesMax);
  return decodeChecked(() => decodeIncarnation(frame.type, frame.payload), incarnationFileName, 0)
    .incarnation;
}

async function readSnapshot(
  path: string,
  incarnation: string,
): Promise<{ snapshot: Snapshot; bytes: number }> {
  const frame = await readSingleRecord(path, snapshotFileName, snapshotBytesMax);
  const record = decodeChecked(() => decodeSnapshot(frame.type, frame.payload), snapshotFileName, 0);
  if (record.incarnation !== incarnation)
    throw new CorruptDataError(
      snapshotFileName,
      0,
      `it belongs to incarnation ${record.incarnation}, not ${incarnation}`,
    );
  return { snapshot: record.snapshot, bytes: frame.end };
}

interface Replayed {
  readonly segments: Segment[];
  readonly active: FileHandle;
  readonly entries: Map<number, AcceptedEntry>;
  readonly lastHardState: HardState | undefined;
}

/**
 * Replays the segments in order. Only the last one may end in a torn tail, which is cut off;
 * a last segment whose header never became durable is written again.
 */
async function replaySegments(
  durability: Durability,
  incarnation: string,
  sequences: readonly number[],
): Promise<Replayed> {
  const path = durability.directory;
  const entries = new Map<number, AcceptedEntry>();
  const segments: Segment[] = [];
  let lastHardState: HardState | undefined;
  for (const [position, sequence] of sequences.entries()) {
    const name = segmentFileName(sequence);
    const first = sequences[0];
    assert(first !== undefined, "a listed segment has a first one");
    // Segments are deleted oldest first, each deletion durable before the next, so the live
    // ones are consecutive: a gap is a lost file.
    if (sequence !== first + position)
      throw new CorruptDataError(
        segmentFileName(first + position),
        undefined,
        `the segment is missing (segments ${first} to ${sequence} should all exist)`,
      );
    const isLast = position === sequences.length - 1;
    const bytes = await readFile(join(path, name));
    const scan = scanFrames(bytes, recordBytesMax);
    if (scan.end.kind === "corrupt") throw new CorruptDataError(name, scan.end.offset, scan.end.reason);
    if (scan.end.kind === "torn" && !isLast)
      throw new CorruptDataError(
        name,
        scan.end.offset,
        `${scan.end.reason}, in a segment that is not the last one (it was synced in full before the next one was started)`,
      );
    const segment: Segment = { sequence, bytes: scan.validEnd, maxEntrySlot: 0 };
    for (const [index, frame] of scan.frames.entries()) {
      const record = decodeChecked(() => decodeLogRecord(frame.type, frame.payload), name, frame.offset);
      if (index === 0) {
        if (record.kind !== "segmentHeader")
          throw new CorruptDataError(name, frame.offset, "the segment does not start with a header");
        if (record.header.sequence !== sequence)
          throw new CorruptDataError(name, frame.offset, `the header says segment ${record.header.sequence}`);
        if (record.header.incarnation !== incarnation)
          throw new CorruptDataError(
            name,
            frame.offset,
            `the segment belongs to incarnation ${record.header.incarnation}, not ${incarnation}`,
          );
        continue;
      }
      switch (record.kind) {
        case "segmentHeader":
          throw new CorruptDataError(name, frame.offset, "a second segment header");
        case "entry":
          entries.set(record.entry.slot, record.entry);
          segment.maxEntrySlot = Math.max(segment.maxEntrySlot, record.entry.slot);
          break;
        case "hardState": {
          const regression = hardStateRegression(lastHardState, record.hardState);
          if (regression !== undefined)
            throw new CorruptDataError(name, frame.offset, `the hard state goes back: ${regression}`);
          lastHardState = record.hardState;
          break;
        }
      }
    }
    if (!isLast) {
      if (scan.frames.length === 0)
        throw new CorruptDataError(name, 0, "the segment is empty, and it is not the last one");
      segments.push(segment);
      continue;
    }
    if (scan.frames.length === 0) {
      // The segment was created but its header never became durable: write it again.
      const handle = await open(join(path, name), "r+");
      const rewritten = await initializeSegment(durability, handle, incarnation, sequence, lastHardState);
      segments.push(rewritten);
      return { segments, active: handle, entries, lastHardState };
    }
    const handle = await open(join(path, name), "r+");
    if (scan.end.kind === "torn") {
      // A crash cut the last write short: nothing in it was answered, so cut it off.
      await handle.truncate(scan.validEnd);
      await durability.syncFile(handle);
    }
    segments.push(segment);
    return { segments, active: handle, entries, lastHardState };
  }
  // No segment at all: the directory crashed between writing its incarnation and its first segment.
  const created = await createSegment(durability, incarnation, 1, undefined);
  return { segments: [created.segment], active: created.handle, entries, lastHardState };
}

/** Writes a segment's first records: its header and the latest hard state, so older segments can go. */
async function initializeSegment(
  durability: Durability,
  handle: FileHandle,
  incarnation: string,
  sequence: number,
  lastHardState: HardState | undefined,
): Promise<Segment> {
  const bytes = segmentStart(incarnation, sequence, lastHardState);
  await handle.truncate(0);
  await writeAll(handle, bytes, 0);
  await durability.syncFile(handle);
  return { sequence, bytes: bytes.length, maxEntrySlot: 0 };
}

function segmentStart(incarnation: string, sequence: number, lastHardState: HardState | undefined): Buffer {
  const header = frameOf(
    recordType.segmentHeader,
    encodeSegmentHeader({ format: formatVersion, sequence, incarnation }),
    recordBytesMax,
    "segment header",
  );
  if (lastHardState === undefined) return header;
  return Buffer.concat([
    header,
    frameOf(recordType.hardState, encodeHardState(lastHardState), recordBytesMax, "hard state"),
  ]);
}

async function createSegment(
  durability: Durability,
  incarnation: string,
  sequence: number,
  lastHardState: HardState | undefined,
): Promise<{ segment: Segment; handle: FileHandle }> {
  const handle = await open(join(durability.directory, segmentFileName(sequence)), "wx");
  try {
    const segment = await initializeSegment(durability, handle, incarnation, sequence, lastHardState);
    await durability.syncDirectory();
    return { segment, handle };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

class FileDataDirectory implements DataDirectory {
  readonly incarnation: string;
  readonly isNew: boolean;
  readonly durable: DurableState | undefined;

  private readonly durability: Durability;
  private readonly segmentBytes: number;
  /** Live segments, oldest first; the last one is appended to. Invariant: never empty. */
  private readonly segments: Segment[];
  private active: FileHandle;
  /**
   * The latest hard state in the log. Invariant: the active segment holds it (a new segment
   * starts with a copy), so deleting older segments never loses it.
   */
  private writtenHardState: HardState | undefined;
  /** Invariant: every slot up to here is in the durable snapshot (0 without one). */
  private snapshotIndex: number;
  private snapshotBytes: number;
  /** After a snapshot, the active segment is closed so that it can be deleted at the next one. */
  private rotationWanted = false;

  // What append() has accepted, for the checks that records never go back.
  private appendedHardState: HardState | undefined;
  private appendedSnapshotIndex: number;

  private pending: PendingRecord[] = [];
  // Invariant: durableCount + pending.length === appendedCount when no flush runs.
  private appendedCount = 0;
  private durableCount = 0;
  private flushing: Promise<void> | undefined;
  private failure: StorageFailedError | undefined;
  private closing: Promise<void> | undefined;

  constructor(durability: Durability, segmentBytes: number, recovered: Recovered) {
    this.durability = durability;
    this.segmentBytes = segmentBytes;
    this.incarnation = recovered.incarnation;
    this.isNew = recovered.isNew;
    this.durable = recovered.durable;
    this.segments = recovered.segments;
    assert(this.segments.length > 0, "a data directory has an active segment");
    this.active = recovered.active;
    this.writtenHardState = recovered.lastHardState;
    this.appendedHardState = recovered.lastHardState;
    this.snapshotIndex = recovered.snapshotIndex ?? 0;
    this.appendedSnapshotIndex = recovered.snapshotIndex ?? 0;
    this.snapshotBytes = recovered.snapshotBytes;
  }

  append(records: ReadyRecords): void {
    if (this.closing !== undefined) throw new ClosedError();
    if (this.failure !== undefined) throw this.failure;
    // Encode and check everything before queuing anything: a bad record changes nothing.
    const batch: PendingRecord[] = [];
    let snapshotIndex = this.appendedSnapshotIndex;
    let hardState = this.appendedHardState;
    if (records.snapshot !== undefined) {
      const snapshot = records.snapshot;
      const payload = encodeChecked(encodeSnapshot, { incarnation: this.incarnation, snapshot }, "snapshot");
      if (snapshot.index < snapshotIndex)
        throw new InvalidRecordError(
          `snapshot index ${snapshot.index} is below the previous snapshot's ${snapshotIndex}`,
        );
      batch.push({
        kind: "snapshot",
        frame: frameOf(recordType.snapshot, payload, snapshotBytesMax, "snapshot"),
        index: snapshot.index,
      });
      snapshotIndex = snapshot.index;
    }
    for (const entry of records.entries) {
      const payload = encodeChecked(encodeEntry, entry, `entry for slot ${String(entry.slot)}`);
      const frame = frameOf(recordType.entry, payload, recordBytesMax, `entry for slot ${entry.slot}`);
      batch.push({ kind: "log", frame, entrySlot: entry.slot, hardState: undefined });
    }
    if (records.hardState !== undefined) {
      const payload = encodeChecked(encodeHardState, records.hardState, "hard state");
      const regression = hardStateRegression(hardState, records.hardState);
      if (regression !== undefined) throw new InvalidRecordError(`hard state: ${regression}`);
      const frame = frameOf(recordType.hardState, payload, recordBytesMax, "hard state");
      hardState = {
        promised: { round: records.hardState.promised.round, proposer: records.hardState.promised.proposer },
        committedThrough: records.hardState.committedThrough,
      };
      batch.push({ kind: "log", frame, entrySlot: 0, hardState });
    }
    this.pending.push(...batch);
    this.appendedCount += batch.length;
    this.appendedSnapshotIndex = snapshotIndex;
    this.appendedHardState = hardState;
  }

  sync(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closing !== undefined) return Promise.reject(new ClosedError());
    return this.syncThrough(this.appendedCount);
  }

  sizes(): StorageSizes {
    let logBytes = 0;
    for (const segment of this.segments) logBytes += segment.bytes;
    return { logBytes, snapshotBytes: this.snapshotBytes, segments: this.segments.length };
  }

  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    try {
      if (this.failure === undefined) await this.syncThrough(this.appendedCount);
    } finally {
      await this.active.close();
    }
    if (this.durableCount < this.appendedCount && this.failure !== undefined) throw this.failure;
  }

  /** Waits until the first `target` appended records are durable, starting flushes as needed. */
  private async syncThrough(target: number): Promise<void> {
    while (this.durableCount < target) {
      if (this.failure !== undefined) throw this.failure;
      // One flush at a time; whoever comes while it runs is covered by the next one.
      this.flushing ??= this.flush().finally(() => {
        this.flushing = undefined;
      });
      await this.flushing;
    }
  }

  private async flush(): Promise<void> {
    const records = this.pending;
    this.pending = [];
    const through = this.durableCount + records.length;
    assert(through === this.appendedCount, "every appended record is pending or durable");
    try {
      // Records keep their order on disk: log records before a snapshot are synced before the
      // snapshot is installed, and those after it are written after.
      let run: Extract<PendingRecord, { kind: "log" }>[] = [];
      for (const record of records) {
        if (record.kind === "log") {
          run.push(record);
          continue;
        }
        await this.writeLog(run);
        run = [];
        await this.installSnapshot(record.frame, record.index);
      }
      await this.writeLog(run);
    } catch (error) {
      // After a failed write or fsync the disk's content is unknown: refuse everything from now on.
      this.failure ??= new StorageFailedError(error);
      throw this.failure;
    }
    this.durableCount = through;
  }

  /** One write() and one fsync for a run of log records, starting a new segment first when due. */
  private async writeLog(records: readonly Extract<PendingRecord, { kind: "log" }>[]): Promise<void> {
    const current = this.lastSegment();
    const rotate = this.rotationWanted || (records.length > 0 && current.bytes >= this.segmentBytes);
    if (!rotate && records.length === 0) return;
    let segment = current;
    let handle = this.active;
    const parts: Buffer[] = [];
    if (rotate) {
      segment = { sequence: current.sequence + 1, bytes: 0, maxEntrySlot: 0 };
      handle = await open(join(this.durability.directory, segmentFileName(segment.sequence)), "wx");
      parts.push(segmentStart(this.incarnation, segment.sequence, this.writtenHardState));
    }
    for (const record of records) parts.push(record.frame);
    const bytes = parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts);
    try {
      await writeAll(handle, bytes, segment.bytes);
      await this.durability.syncFile(handle);
    } catch (error) {
      if (handle !== this.active) await handle.close();
      throw error;
    }
    segment.bytes += bytes.length;
    for (const record of records) {
      segment.maxEntrySlot = Math.max(segment.maxEntrySlot, record.entrySlot);
      if (record.hardState !== undefined) this.writtenHardState = record.hardState;
    }
    if (!rotate) return;
    // The new segment must be in the directory before older segments may go.
    await this.durability.syncDirectory();
    await this.active.close();
    this.active = handle;
    this.segments.push(segment);
    this.rotationWanted = false;
    await this.deleteObsoleteSegments();
  }

  private async installSnapshot(frame: Buffer, index: number): Promise<void> {
    assert(index >= this.snapshotIndex, "snapshots never go back");
    await this.durability.writeFileAtomically(snapshotFileName, frame);
    this.snapshotIndex = index;
    this.snapshotBytes = frame.length;
    if (this.lastSegment().maxEntrySlot > 0) this.rotationWanted = true;
    await this.deleteObsoleteSegments();
  }

  /**
   * Deletes, oldest first, the segments before the active one whose entries are all in the
   * snapshot. Each deletion is made durable before the next, so a crash leaves the live
   * segments consecutive. Their hard states are superseded by the copy in the active segment.
   */
  private async deleteObsoleteSegments(): Promise<void> {
    for (;;) {
      const oldest = this.segments[0];
      if (oldest === undefined || this.segments.length === 1 || oldest.maxEntrySlot > this.snapshotIndex)
        return;
      await unlink(join(this.durability.directory, segmentFileName(oldest.sequence)));
      await this.durability.syncDirectory();
      this.segments.shift();
    }
  }

  private lastSegment(): Segment {
    const segment = this.segments.at(-1);
    assert(segment !== undefined, "a data directory has an active segment");
    return segment;
  }
}
