import { copyFile, mkdir, readFile, rm, stat, truncate, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { emptyDurableState } from "../paxos/core.ts";
import type { AcceptedEntry } from "../paxos/messages.ts";
import { encodeFrame } from "./frame.ts";
import {
  ClosedError,
  CorruptDataError,
  type DataDirectory,
  type DataDirectoryOptions,
  InvalidRecordError,
  NotADataDirectoryError,
  openDataDirectory,
  RecordTooLargeError,
  recordBytesMax,
  StorageFailedError,
} from "./index.ts";
import { encodeHardState, recordType } from "./records.ts";
import {
  batchEntry,
  hardState,
  type ModelRecord,
  modelState,
  readyRecords,
  segmentNames,
  snapshot,
  temporaryDirectory,
} from "./testFixtures.ts";

const fast: DataDirectoryOptions = { fsync: false };

let directory: { path: string; remove: () => Promise<void> };
const opened: DataDirectory[] = [];

async function openTracked(options: DataDirectoryOptions = fast): Promise<DataDirectory> {
  const dataDirectory = await openDataDirectory(directory.path, options);
  opened.push(dataDirectory);
  return dataDirectory;
}

beforeEach(async () => {
  directory = await temporaryDirectory();
});

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((dataDirectory) => dataDirectory.close()));
  await directory.remove();
});

/** Appends `count` Readies of one entry and one hard state each, syncing each; returns their records. */
async function writeReadies(
  dataDirectory: DataDirectory,
  fromSlot: number,
  count: number,
): Promise<ModelRecord[]> {
  const records: ModelRecord[] = [];
  for (let slot = fromSlot; slot < fromSlot + count; slot += 1) {
    const ready = { entries: [batchEntry(slot, 1 + (slot % 4))], hardState: hardState(10 + slot, slot - 1) };
    dataDirectory.append(ready);
    await dataDirectory.sync();
    records.push(...readyRecords(ready));
  }
  return records;
}

async function lastSegmentPath(): Promise<string> {
  const names = await segmentNames(directory.path);
  const last = names.at(-1);
  if (last === undefined) throw new Error("no segment");
  return join(directory.path, last);
}

async function flipBit(path: string, offset: number): Promise<void> {
  const content = await readFile(path);
  content[offset] = (content[offset] ?? 0) ^ 0x04;
  await writeFile(path, content);
}

describe("data directory: incarnation", () => {
  it("a new directory is new, has an incarnation and nothing durable", async () => {
    const dataDirectory = await openTracked();
    expect(dataDirectory.isNew).toBe(true);
    expect(dataDirectory.incarnation).toMatch(/^[0-9a-f-]{36}$/);
    expect(dataDirectory.durable).toBeUndefined();
  });

  it("a reopened directory keeps its incarnation; a wiped one gets a new one", async () => {
    const first = await openTracked();
    await first.close();
    const reopened = await openTracked();
    expect(reopened.isNew).toBe(false);
    expect(reopened.incarnation).toBe(first.incarnation);
    expect(reopened.durable).toBeUndefined(); // nothing was ever persisted
    await reopened.close();
    await directory.remove();
    const wiped = await openTracked();
    expect(wiped.isNew).toBe(true);
    expect(wiped.incarnation).not.toBe(first.incarnation);
  });

  it("refuses a directory that holds other files, but not lost+found", async () => {
    await mkdir(join(directory.path, "lost+found"), { recursive: true });
    const dataDirectory = await openTracked();
    expect(dataDirectory.isNew).toBe(true);
    await dataDirectory.close();
    await directory.remove();
    await mkdir(directory.path, { recursive: true });
    await writeFile(join(directory.path, "notes.txt"), "hello");
    await expect(openDataDirectory(directory.path, fast)).rejects.toThrow(NotADataDirectoryError);
  });

  it("a log without an incarnation file is corruption", async () => {
    const dataDirectory = await openTracked();
    await writeReadies(dataDirectory, 1, 2);
    await dataDirectory.close();
    await unlink(join(directory.path, "incarnation"));
    await expect(openDataDirectory(directory.path, fast)).rejects.toThrow(/no incarnation file/);
  });
});

describe("data directory: round trip", () => {
  it("many Readies come back as the same DurableState, also after a second reopen", async () => {
    const dataDirectory = await openTracked({ ...fast, segmentBytes: 8 * 1024 });
    const records: ModelRecord[] = [];
    let round = 1;
    for (let index = 0; index < 300; index += 1) {
      // Rewrites of earlier slots (a new leader re-proposing) must keep the latest vote.
      const entries: AcceptedEntry[] = [
        batchEntry(index + 1, round),
        batchEntry(Math.max(1, index - 3), round + 1),
      ];
      if (index % 7 === 0)
        entries.push({ slot: index + 2, ballot: { round, proposer: "p#1" }, value: { kind: "noop" } });
      if (index % 11 === 0)
        entries.push({
          slot: index + 3,
          ballot: { round, proposer: "p#1" },
          value: { kind: "config", timeMs: index, change: { type: "addLearner", member: "x#9" } },
        });
      const ready = { entries, hardState: hardState(round, Math.max(0, index - 5)) };
      if (index % 50 === 49) round += 1;
      dataDirectory.append(ready);
      records.push(...readyRecords(ready));
      if (index % 3 === 0) await dataDirectory.sync();
    }
    await dataDirectory.close();
    const expected = modelState(records);
    const reopened = await openTracked();
    expect(reopened.durable).toEqual(expected);
    expect(reopened.sizes().segments).toBeGreaterThan(1);
    await reopened.close();
    expect((await openTracked()).durable).toEqual(expected);
  });

  it("keeps the state a core restores from", async () => {
    const dataDirectory = await openTracked();
    const initial = emptyDurableState({ voters: ["a#1"], learners: [], fenced: [], evicted: [] });
    dataDirectory.append({ snapshot: initial.snapshot, entries: [], hardState: initial.hardState });
    await dataDirectory.close();
    expect((await openTracked()).durable).toEqual(initial);
  });

  it("a snapshot durable without its Ready's hard state still gives a consistent commit index", async () => {
    const dataDirectory = await openTracked();
    await writeReadies(dataDirectory, 1, 3);
    const lastHardState = hardState(99, 40);
    dataDirectory.append({ snapshot: snapshot(40), entries: [], hardState: lastHardState });
    await dataDirectory.close();
    // A crash lost the hard state written after the snapshot; the snapshot proves 40 chosen.
    const segment = await lastSegmentPath();
    const hardStateFrameBytes = encodeFrame(recordType.hardState, encodeHardState(lastHardState)).length;
    await truncate(segment, (await stat(segment)).size - hardStateFrameBytes);
    const durable = (await openTracked()).durable;
    expect(durable?.snapshot.index).toBe(40);
    expect(durable?.hardState.committedThrough).toBe(40);
    expect(durable?.hardState.promised.round).toBe(13);
  });
});

describe("data directory: torn tails and corruption", () => {
  it("recovers from a cut at every byte of the last records to the previous record boundary", async () => {
    const dataDirectory = await openTracked();
    const records = await writeReadies(dataDirectory, 1, 5);
    const segment = await lastSegmentPath();
    const boundaries = [(await stat(segment)).size];
    const lastEntry = batchEntry(6, 9, 120);
    const lastHardState = hardState(50, 5);
    dataDirectory.append({ entries: [lastEntry] });
    await dataDirectory.sync();
    boundaries.push((await stat(segment)).size);
    dataDirectory.append({ entries: [], hardState: lastHardState });
    await dataDirectory.close();
    const full = await readFile(segment);
    const expectedAt = [modelState(records), modelState([...records, { kind: "entry", entry: lastEntry }])];
    const [firstBoundary] = boundaries;
    if (firstBoundary === undefined) throw new Error("no boundary");
    for (let length = firstBoundary; length < full.length; length += 1) {
      await writeFile(segment, full.subarray(0, length));
      const boundaryIndex = boundaries.findLastIndex((boundary) => boundary <= length);
      const reopened = await openDataDirectory(directory.path, fast);
      expect(reopened.durable, `cut at ${length}`).toEqual(expectedAt[boundaryIndex]);
      // The torn tail is cut off, so appends continue from the boundary.
      expect((await stat(segment)).size).toBe(boundaries[boundaryIndex]);
      await reopened.close();
    }
    await writeFile(segment, full);
    expect((await openTracked()).durable).toEqual(
      modelState([
        ...records,
        { kind: "entry", entry: lastEntry },
        { kind: "hardState", hardState: lastHardState },
      ]),
    );
  });

  it("appends after a torn tail land after the recovered boundary", async () => {
    const dataDirectory = await openTracked();
    const records = await writeReadies(dataDirectory, 1, 3);
    const segment = await lastSegmentPath();
    const size = (await stat(segment)).size;
    dataDirectory.append({ entries: [batchEntry(4, 5)] });
    await dataDirectory.close();
    await truncate(segment, size + 20);
    const reopened = await openTracked();
    const more = await writeReadies(reopened, 4, 2);
    await reopened.close();
    expect((await openTracked()).durable).toEqual(modelState([...records, ...more]));
  });

  it("a flipped bit in the middle of the log is a corruption error naming the file and offset", async () => {
    const dataDirectory = await openTracked();
    await writeReadies(dataDirectory, 1, 20);
    await dataDirectory.close();
    const segment = await lastSegmentPath();
    const size = (await stat(segment)).size;
    await flipBit(segment, Math.floor(size / 2));
    const error = await openDataDirectory(directory.path, fast).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CorruptDataError);
    const corrupt = error as CorruptDataError;
    expect(corrupt.code).toBe("CorruptData");
    expect(corrupt.file).toMatch(/^log-\d{16}\.wal$/);
    expect(corrupt.offset).toBeGreaterThan(0);
    expect(corrupt.offset).toBeLessThanOrEqual(size / 2);
    expect(corrupt.message).toContain(`${corrupt.file} at byte ${corrupt.offset}`);
    expect(corrupt.message).toMatch(/move the data directory aside/);
  });

  it("a flipped bit in the last record is corruption too: nothing explains it as a crash", async () => {
    const dataDirectory = await openTracked();
    await writeReadies(dataDirectory, 1, 3);
    await dataDirectory.close();
    const segment = await lastSegmentPath();
    await flipBit(segment, (await stat(segment)).size - 3);
    await expect(openDataDirectory(directory.path, fast)).rejects.toThrow(CorruptDataError);
  });

  it("a damaged record in a segment before the last is corruption, even at its very end", async () => {
    const dataDirectory = await openTracked({ ...fast, segmentBytes: 1024 });
    await writeReadies(dataDirectory, 1, 20);
    await dataDirectory.close();
    const [first] = await segmentNames(directory.path);
    if (first === undefined) throw new Error("no segment");
    const path = join(directory.path, first);
    await truncate(path, (await stat(path)).size - 1);
    await expect(openDataDirectory(directory.path, fast)).rejects.toThrow(/not the last one/);
  });

  it("a missing segment between others is corruption", async () => {
    const dataDirectory = await openTracked({ ...fast, segmentBytes: 1024 });
    await writeReadies(dataDirectory, 1, 20);
    await dataDirectory.close();
    const names = await segmentNames(directory.path);
    expect(names.length).toBeGreaterThan(2);
    await unlink(join(directory.path, names[1] ?? ""));
    await expect(openDataDirectory(directory.path, fast)).rejects.toThrow(/the segment is missing/);
  });

  it("a snapshot or segment from another directory is corruption", async () => {
    const dataDirectory = await openTracked();
    dataDirectory.append({ snapshot: snapshot(3), entries: [] });
    await dataDirectory.close();
    const other = await temporaryDirectory();
    try {
      const otherDirectory = await openDataDirectory(other.path, fast);
      await otherDirectory.close();
      await copyFile(join(directory.path, "snapshot"), join(other.path, "snapshot"));
      await expect(openDataDirectory(other.path, fast)).rejects.toThrow(/belongs to incarnation/);
    } finally {
      await other.remove();
    }
  });

  it("a new segment whose header never became durable is written again", async () => {
    const dataDirectory = await openTracked({ ...fast, segmentBytes: 1024 });
    // Write until a sync starts a new segment; remember the records before that sync.
    let records: ModelRecord[] = [];
    let beforeRotation: ModelRecord[] = [];
    let slot = 1;
    let segments = (await segmentNames(directory.path)).length;
    for (; segments < 3; slot += 1) {
      beforeRotation = records;
      records = [...records, ...(await writeReadies(dataDirectory, slot, 1))];
      segments = (await segmentNames(directory.path)).length;
    }
    await dataDirectory.close();
    // A crash right after the rotation created the file: its header never reached the disk.
    const segment = await lastSegmentPath();
    await truncate(segment, 5);
    const reopened = await openTracked({ ...fast, segmentBytes: 1024 });
    expect(reopened.durable).toEqual(modelState(beforeRotation));
    const more = await writeReadies(reopened, slot, 2);
    await reopened.close();
    expect((await openTracked()).durable).toEqual(modelState([...beforeRotation, ...more]));
  });

  it("zeros after the last record (an extended but unwritten file) are a torn tail", async () => {
    const dataDirectory = await openTracked();
    const records = await writeReadies(dataDirectory, 1, 4);
    await dataDirectory.close();
    const segment = await lastSegmentPath();
    const size = (await stat(segment)).size;
    await truncate(segment, size + 4096);
    expect((await openTracked()).durable).toEqual(modelState(records));
    expect((await stat(segment)).size).toBe(size);
  });
});

describe("data directory: snapshots bound the log", () => {
  it("a snapshot deletes the segments it covers and later ones stay", async () => {
    const dataDirectory = await openTracked({ ...fast, segmentBytes: 2048 });
    const records = await writeReadies(dataDirectory, 1, 60);
    const before = dataDirectory.sizes();
    expect(before.segments).toBeGreaterThan(5);
    const compaction = { snapshot: snapshot(50, 1000), entries: [], hardState: hardState(100, 60) };
    dataDirectory.append(compaction);
    await dataDirectory.sync();
    const after = dataDirectory.sizes();
    expect(after.segments).toBeLessThan(before.segments);
    expect(after.logBytes).toBeLessThan(before.logBytes / 2);
    expect(after.snapshotBytes).toBeGreaterThan(1000);
    // Slots 51..60 are above the snapshot: their segments survive.
    await dataDirectory.close();
    const expected = modelState([...records, ...readyRecords(compaction)]);
    expect(expected?.entries.map((entry) => entry.slot)).toEqual([51, 52, 53, 54, 55, 56, 57, 58, 59, 60]);
    expect((await openTracked()).durable).toEqual(expected);
  });

  it("the log stays bounded over many compactions", async () => {
    const dataDirectory = await openTracked({ ...fast, segmentBytes: 4096 });
    const records: ModelRecord[] = [];
    let largest = 0;
    for (let slot = 1; slot <= 600; slot += 1) {
      const ready = {
        ...(slot % 100 === 0 ? { snapshot: snapshot(slot - 10) } : {}),
        entries: [batchEntry(slot, 1)],
        hardState: hardState(1, slot),
      };
      dataDirectory.append(ready);
      records.push(...readyRecords(ready));
      await dataDirectory.sync();
      largest = Math.max(largest, dataDirectory.sizes().logBytes);
    }
    // 100 entries of about 330 bytes between compactions, plus one segment of slack.
    expect(largest).toBeLessThan(2 * 110 * 330 + 2 * 4096);
    await dataDirectory.close();
    expect((await openTracked()).durable).toEqual(modelState(records));
  });
});

describe("data directory: group commit and lifecycle", () => {
  it("100 concurrent append+sync calls share a few fsyncs, and all are durable", async () => {
    let fsyncs = 0;
    const dataDirectory = await openTracked({ onFsync: () => (fsyncs += 1) });
    fsyncs = 0;
    const entries = Array.from({ length: 100 }, (_unused, index) => batchEntry(index + 1, 1));
    await Promise.all(
      entries.map(async (entry) => {
        dataDirectory.append({ entries: [entry] });
        await dataDirectory.sync();
      }),
    );
    expect(fsyncs).toBeGreaterThan(0);
    expect(fsyncs).toBeLessThanOrEqual(4);
    await dataDirectory.close();
    expect((await openTracked()).durable?.entries).toEqual(entries);
  });

  it("sync with nothing appended does not fsync", async () => {
    let fsyncs = 0;
    const dataDirectory = await openTracked({ onFsync: () => (fsyncs += 1) });
    fsyncs = 0;
    await dataDirectory.sync();
    expect(fsyncs).toBe(0);
  });

  it("close is safe twice, syncs first, and refuses work afterwards", async () => {
    const dataDirectory = await openTracked();
    dataDirectory.append({ entries: [batchEntry(1, 1)], hardState: hardState(1, 0) });
    await Promise.all([dataDirectory.close(), dataDirectory.close()]);
    await dataDirectory.close();
    expect(() => dataDirectory.append({ entries: [] })).toThrow(ClosedError);
    await expect(dataDirectory.sync()).rejects.toThrow(ClosedError);
    expect((await openTracked()).durable?.entries.map((entry) => entry.slot)).toEqual([1]);
  });

  it("a bad record is refused and nothing of its Ready is queued", async () => {
    const dataDirectory = await openTracked();
    dataDirectory.append({ entries: [batchEntry(1, 1)], hardState: hardState(5, 1) });
    const bad = { slot: 0, ballot: { round: 1, proposer: "p" }, value: { kind: "noop" } } as const;
    expect(() => dataDirectory.append({ entries: [batchEntry(2, 1), bad] })).toThrow(InvalidRecordError);
    expect(() => dataDirectory.append({ entries: [batchEntry(3, 1)], hardState: hardState(4, 2) })).toThrow(
      /promise goes back/,
    );
    expect(() => dataDirectory.append({ entries: [], hardState: hardState(5, 0) })).toThrow(
      /committedThrough goes back/,
    );
    dataDirectory.append({ snapshot: snapshot(5), entries: [] });
    expect(() => dataDirectory.append({ snapshot: snapshot(4), entries: [] })).toThrow(/below the previous/);
    await dataDirectory.close();
    const durable = (await openTracked()).durable;
    expect(durable?.snapshot.index).toBe(5);
    expect(durable?.entries).toEqual([]);
    expect(durable?.hardState).toEqual({ ...hardState(5, 1), committedThrough: 5 });
  });

  it("a failed write refuses all further work; what was synced before it stays durable", async () => {
    const dataDirectory = await openTracked();
    const records = await writeReadies(dataDirectory, 1, 2);
    const beforeSnapshot = { entries: [batchEntry(3, 1)], hardState: hardState(20, 2) };
    dataDirectory.append(beforeSnapshot);
    // The snapshot's temporary file cannot be created: its install fails. The log records
    // queued before the snapshot are synced before it is written, so they survive.
    await mkdir(join(directory.path, "snapshot.tmp"));
    dataDirectory.append({ snapshot: snapshot(3), entries: [] });
    await expect(dataDirectory.sync()).rejects.toThrow(StorageFailedError);
    expect(() => dataDirectory.append({ entries: [] })).toThrow(StorageFailedError);
    await expect(dataDirectory.sync()).rejects.toThrow(/restart to recover/);
    await expect(dataDirectory.close()).rejects.toThrow(StorageFailedError);
    await rm(join(directory.path, "snapshot.tmp"), { recursive: true });
    expect((await openTracked()).durable).toEqual(modelState([...records, ...readyRecords(beforeSnapshot)]));
  });

  it("a record above the size limit is refused with a clear error", async () => {
    const dataDirectory = await openTracked();
    const huge = {
      ...batchEntry(1, 1),
      value: { kind: "batch", timeMs: 0, requests: [new Uint8Array(recordBytesMax)] },
    } as const;
    expect(() => dataDirectory.append({ entries: [huge] })).toThrow(RecordTooLargeError);
    expect(() => dataDirectory.append({ entries: [huge] })).toThrow(/limit is 67108864 bytes/);
  });
});
