import { createHash } from "node:crypto";
import { Packr } from "msgpackr";
import type { CommandResult } from "./commands.ts";
import { InvalidSnapshotError, UnsupportedSnapshotVersionError } from "./errors.ts";
import type { ChangeEvent, KeyValueEntry, LockInfo } from "./results.ts";
import type { SessionRecord } from "./sessions.ts";
import {
  readArray,
  readInteger,
  readOptionalString,
  readRecord,
  readString,
  snapshotCheck,
} from "./snapshotFields.ts";

export const snapshotFormat = "paxos-operator/state-machine";
export const snapshotVersion = 1;
const checksumBytes = 32;

/** Everything a state machine is, as plain data in a canonical order (the order the snapshot bytes follow). */
export interface SnapshotState {
  readonly appliedIndex: number;
  readonly timeMs: number;
  readonly options: Readonly<Record<string, unknown>>;
  readonly compactedRevision: number;
  readonly events: readonly ChangeEvent[];
  readonly entries: readonly KeyValueEntry[];
  readonly locks: readonly LockInfo[];
  readonly sessions: readonly SessionRecord[];
}

// Plain msgpack: no record extension (it would make the bytes depend on the packer's history).
const packr = new Packr({ useRecords: false, moreTypes: false, encodeUndefinedAsNil: false });

/**
 * Snapshot bytes: a msgpack map (format, version, then the state, with entries, events, locks and
 * sessions as arrays of tuples), followed by the SHA-256 of that map, which doubles as the digest
 * of the state. Replicas with equal state produce equal bytes, because every part is written in
 * a canonical order.
 */
export function encodeSnapshot(state: SnapshotState): { bytes: Uint8Array; digest: string } {
  const body = packr.pack({
    format: snapshotFormat,
    version: snapshotVersion,
    appliedIndex: state.appliedIndex,
    timeMs: state.timeMs,
    options: state.options,
    compactedRevision: state.compactedRevision,
    events: state.events.map((event) => [
      event.revision,
      event.namespace,
      event.type,
      event.key,
      event.value ?? null,
      event.prevValue ?? null,
    ]),
    entries: state.entries.map((entry) => [
      entry.key,
      entry.value,
      entry.createRevision,
      entry.modRevision,
      entry.version,
    ]),
    locks: state.locks.map((lock) => [lock.name, lock.owner, lock.token, lock.expiresAtMs]),
    sessions: state.sessions.map((session) => [
      session.clientId,
      session.sequence,
      session.appliedIndex,
      session.result,
    ]),
  });
  const checksum = createHash("sha256").update(body).digest();
  const bytes = new Uint8Array(body.length + checksumBytes);
  bytes.set(body, 0);
  bytes.set(checksum, body.length);
  return { bytes, digest: checksum.toString("hex") };
}

/**
 * Reads snapshot bytes back into plain state, checking the checksum, the format and version, and
 * the type of every field. Throws `InvalidSnapshotError` or `UnsupportedSnapshotVersionError`.
 * Consistency between the parts (revisions, order, limits) is checked by the modules on import.
 */
export function decodeSnapshot(bytes: Uint8Array): SnapshotState {
  if (!(bytes instanceof Uint8Array)) throw new InvalidSnapshotError("expected bytes (a Uint8Array)");
  if (bytes.length <= checksumBytes) {
    throw new InvalidSnapshotError(`only ${bytes.length} bytes, too short to be a snapshot`);
  }
  const body = bytes.subarray(0, bytes.length - checksumBytes);
  const checksum = createHash("sha256").update(body).digest();
  if (!checksum.equals(bytes.subarray(bytes.length - checksumBytes))) {
    throw new InvalidSnapshotError("checksum mismatch: the bytes are corrupted or truncated");
  }
  let decoded: unknown;
  try {
    decoded = packr.unpack(body);
  } catch (error) {
    throw new InvalidSnapshotError(`not msgpack (${error instanceof Error ? error.message : String(error)})`);
  }
  const root = readRecord(decoded, "snapshot");
  snapshotCheck(root.format === snapshotFormat, `format must be "${snapshotFormat}"`);
  if (root.version !== snapshotVersion)
    throw new UnsupportedSnapshotVersionError(root.version, snapshotVersion);
  return {
    appliedIndex: readInteger(root.appliedIndex, "appliedIndex", 0),
    timeMs: readInteger(root.timeMs, "timeMs", 0),
    options: readRecord(root.options, "options"),
    compactedRevision: readInteger(root.compactedRevision, "compactedRevision", 0),
    events: readArray(root.events, "events").map(readEvent),
    entries: readArray(root.entries, "entries").map(readEntry),
    locks: readArray(root.locks, "locks").map(readLock),
    sessions: readArray(root.sessions, "sessions").map(readSession),
  };
}

function readTuple(value: unknown, what: string, length: number): readonly unknown[] {
  const tuple = readArray(value, what);
  snapshotCheck(tuple.length === length, `${what} must have ${length} fields`);
  return tuple;
}

function readEvent(value: unknown): ChangeEvent {
  const [revision, namespace, type, key, eventValue, prevValue] = readTuple(value, "event", 6);
  snapshotCheck(namespace === "kv" || namespace === "lock", "event namespace must be kv or lock");
  snapshotCheck(type === "put" || type === "delete", "event type must be put or delete");
  const valueText = readOptionalString(eventValue ?? undefined, "event value");
  const prevValueText = readOptionalString(prevValue ?? undefined, "event prevValue");
  snapshotCheck(
    type === "put" ? valueText !== undefined : valueText === undefined && prevValueText !== undefined,
    "a put event has a value; a delete event has a prevValue and no value",
  );
  return Object.freeze({
    revision: readInteger(revision, "event revision", 1),
    namespace,
    type,
    key: readString(key, "event key"),
    ...(valueText === undefined ? {} : { value: valueText }),
    ...(prevValueText === undefined ? {} : { prevValue: prevValueText }),
  });
}

function readEntry(value: unknown): KeyValueEntry {
  const [key, entryValue, createRevision, modRevision, version] = readTuple(value, "entry", 5);
  return {
    key: readString(key, "entry key"),
    value: readString(entryValue, "entry value"),
    createRevision: readInteger(createRevision, "entry createRevision", 1),
    modRevision: readInteger(modRevision, "entry modRevision", 1),
    version: readInteger(version, "entry version", 1),
  };
}

function readLock(value: unknown): LockInfo {
  const [name, owner, token, expiresAtMs] = readTuple(value, "lock", 4);
  return {
    name: readString(name, "lock name"),
    owner: readString(owner, "lock owner"),
    token: readInteger(token, "lock token", 1),
    expiresAtMs: readInteger(expiresAtMs, "lock expiresAtMs", 0),
  };
}

function readSession(value: unknown): SessionRecord {
  const [clientId, sequence, appliedIndex, result] = readTuple(value, "session", 4);
  return {
    clientId: readString(clientId, "session clientId"),
    sequence: readInteger(sequence, "session sequence", 1),
    appliedIndex: readInteger(appliedIndex, "session appliedIndex", 1),
    result: readStoredResult(result),
  };
}

/** Stored results are those of mutations: flat maps of strings, numbers and booleans with an `ok` flag. */
function readStoredResult(value: unknown): CommandResult {
  const result = readRecord(value, "session result");
  snapshotCheck(typeof result.ok === "boolean", "session result must have a boolean ok");
  for (const field of Object.values(result)) {
    snapshotCheck(
      typeof field === "string" ||
        typeof field === "boolean" ||
        (typeof field === "number" && Number.isSafeInteger(field)),
      "session result fields must be strings, integers or booleans",
    );
  }
  return Object.freeze({ ...result }) as unknown as CommandResult;
}
