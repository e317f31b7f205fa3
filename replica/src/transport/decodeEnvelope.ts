// The boundary between bytes from the network and the Paxos core. The core trusts the
// shape of every message it steps (it is typed, not defensive), so whatever a peer sends
// is checked here field by field and rebuilt: `onMessage` only ever sees objects made
// by this module, with exactly the fields of their type and values of the right kind.
import type { Ballot } from "../paxos/ballot.ts";
import type { ConfigChange, Configuration } from "../paxos/configuration.ts";
import type {
  AcceptedEntry,
  Envelope,
  Message,
  MessageType,
  ProposedEntry,
  SlotValue,
  Snapshot,
} from "../paxos/messages.ts";

export type EnvelopeCheck =
  | { readonly ok: true; readonly envelope: Envelope }
  | { readonly ok: false; readonly problem: string };

/**
 * The envelope `value` describes, rebuilt from its checked fields, or undefined when any
 * field is missing or of the wrong kind. Never throws for plain data (what msgpack
 * decodes to); fields beyond those of the type are ignored and not passed on.
 */
export function decodeEnvelope(value: unknown): Envelope | undefined {
  const check = checkEnvelope(value);
  return check.ok ? check.envelope : undefined;
}

/** Like `decodeEnvelope`, but says what is wrong (for logs). */
export function checkEnvelope(value: unknown): EnvelopeCheck {
  try {
    return { ok: true, envelope: readEnvelope(value) };
  } catch (error) {
    if (error instanceof MalformedEnvelope) return { ok: false, problem: error.message };
    throw error;
  }
}

/** Thrown inside this module only, to unwind from a nested field to `checkEnvelope`. */
class MalformedEnvelope extends Error {}

function malformed(path: string, expected: string): never {
  throw new MalformedEnvelope(`${path}: expected ${expected}`);
}

type Fields = Readonly<Record<string, unknown>>;

function readFields(value: unknown, path: string): Fields {
  if (typeof value !== "object" || value === null || Array.isArray(value)) malformed(path, "an object");
  const prototype: unknown = Object.getPrototypeOf(value);
  // Maps, Dates, errors and the like (msgpack extensions decode to them) are not messages.
  if (prototype !== Object.prototype && prototype !== null) malformed(path, "a plain object");
  return value as Fields;
}

/** Own properties only: nothing inherited can stand in for a missing field. */
function field(fields: Fields, name: string): unknown {
  return Object.hasOwn(fields, name) ? fields[name] : undefined;
}

function readString(fields: Fields, name: string, path: string): string {
  const value = field(fields, name);
  if (typeof value !== "string") malformed(`${path}.${name}`, "a string");
  return value;
}

function readMemberKey(fields: Fields, name: string, path: string): string {
  const value = readString(fields, name, path);
  if (value.length === 0) malformed(`${path}.${name}`, "a member key");
  return value;
}

function readBoolean(fields: Fields, name: string, path: string): boolean {
  const value = field(fields, name);
  if (typeof value !== "boolean") malformed(`${path}.${name}`, "a boolean");
  return value;
}

/** Slots, indexes and rounds: integers from 0 up to 2^53 - 1. */
function readCount(fields: Fields, name: string, path: string): number {
  return checkCount(field(fields, name), `${path}.${name}`);
}

function checkCount(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    malformed(path, "a non-negative integer");
  return value + 0; // -0 becomes 0
}

function readTimeMs(fields: Fields, name: string, path: string): number {
  const value = field(fields, name);
  if (typeof value !== "number" || !Number.isFinite(value)) malformed(`${path}.${name}`, "a finite number");
  return value + 0; // -0 becomes 0
}

function readBytes(value: unknown, path: string): Uint8Array {
  if (!(value instanceof Uint8Array)) malformed(path, "bytes");
  // msgpack decodes to Buffers: the core gets plain Uint8Arrays (a view, not a copy), like it makes.
  if (Object.getPrototypeOf(value) === Uint8Array.prototype) return value;
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function readList<T>(
  fields: Fields,
  name: string,
  path: string,
  readItem: (item: unknown, itemPath: string) => T,
): T[] {
  const value = field(fields, name);
  if (!Array.isArray(value)) malformed(`${path}.${name}`, "an array");
  const items: T[] = [];
  for (let position = 0; position < value.length; position += 1)
    items.push(readItem(value[position], `${path}.${name}[${position}]`));
  return items;
}

function checkString(value: unknown, path: string): string {
  if (typeof value !== "string" || value.length === 0) malformed(path, "a member key");
  return value;
}

function readBallot(fields: Fields, name: string, path: string): Ballot {
  const ballotPath = `${path}.${name}`;
  const ballot = readFields(field(fields, name), ballotPath);
  // The proposer is "" only in the zero ballot; any other string is a member key.
  return {
    round: readCount(ballot, "round", ballotPath),
    proposer: readString(ballot, "proposer", ballotPath),
  };
}

const configChangeTypes: ReadonlySet<string> = new Set<ConfigChange["type"]>([
  "addLearner",
  "promote",
  "remove",
  "fence",
  "unfence",
  "evict",
]);

function readConfigChange(value: unknown, path: string): ConfigChange {
  const change = readFields(value, path);
  const type = readString(change, "type", path);
  if (!configChangeTypes.has(type)) malformed(`${path}.type`, "a configuration change type");
  return { type: type as ConfigChange["type"], member: readMemberKey(change, "member", path) };
}

function readSlotValue(value: unknown, path: string): SlotValue {
  const slotValue = readFields(value, path);
  const kind = readString(slotValue, "kind", path);
  switch (kind) {
    case "noop":
      return { kind };
    case "batch":
      return {
        kind,
        timeMs: readTimeMs(slotValue, "timeMs", path),
        requests: readList(slotValue, "requests", path, readBytes),
      };
    case "config":
      return {
        kind,
        timeMs: readTimeMs(slotValue, "timeMs", path),
        change: readConfigChange(field(slotValue, "change"), `${path}.change`),
      };
    default:
      return malformed(`${path}.kind`, "noop, batch or config");
  }
}

function readProposedEntry(value: unknown, path: string): ProposedEntry {
  const entry = readFields(value, path);
  return {
    slot: readCount(entry, "slot", path),
    value: readSlotValue(field(entry, "value"), `${path}.value`),
  };
}

function readAcceptedEntry(value: unknown, path: string): AcceptedEntry {
  const entry = readFields(value, path);
  return {
    slot: readCount(entry, "slot", path),
    value: readSlotValue(field(entry, "value"), `${path}.value`),
    ballot: readBallot(entry, "ballot", path),
  };
}

function readConfiguration(value: unknown, path: string): Configuration {
  const configuration = readFields(value, path);
  return {
    voters: readList(configuration, "voters", path, checkString),
    learners: readList(configuration, "learners", path, checkString),
    fenced: readList(configuration, "fenced", path, checkString),
    evicted: readList(configuration, "evicted", path, checkString),
  };
}

function readSnapshot(value: unknown, path: string): Snapshot {
  const snapshot = readFields(value, path);
  return {
    index: readCount(snapshot, "index", path),
    configuration: readConfiguration(field(snapshot, "configuration"), `${path}.configuration`),
    stateMachine: readBytes(field(snapshot, "stateMachine"), `${path}.stateMachine`),
  };
}

/** One reader per message type: the record type makes a new type in messages.ts a compile error here. */
const messageReaders: { readonly [Type in MessageType]: (fields: Fields, path: string) => Message } = {
  preVote: (fields, path) => ({
    type: "preVote",
    ballot: readBallot(fields, "ballot", path),
    committedThrough: readCount(fields, "committedThrough", path),
    transfer: readBoolean(fields, "transfer", path),
  }),
  preVoteReply: (fields, path) => ({
    type: "preVoteReply",
    ballot: readBallot(fields, "ballot", path),
    granted: readBoolean(fields, "granted", path),
    promised: readBallot(fields, "promised", path),
  }),
  prepare: (fields, path) => ({
    type: "prepare",
    ballot: readBallot(fields, "ballot", path),
    fromSlot: readCount(fields, "fromSlot", path),
    transfer: readBoolean(fields, "transfer", path),
  }),
  promise: (fields, path) => ({
    type: "promise",
    ballot: readBallot(fields, "ballot", path),
    fromSlot: readCount(fields, "fromSlot", path),
    committedThrough: readCount(fields, "committedThrough", path),
    snapshotIndex: readCount(fields, "snapshotIndex", path),
    accepted: readList(fields, "accepted", path, readAcceptedEntry),
    ...(field(fields, "snapshot") === undefined
      ? {}
      : { snapshot: readSnapshot(field(fields, "snapshot"), `${path}.snapshot`) }),
  }),
  reject: (fields, path) => ({
    type: "reject",
    ballot: readBallot(fields, "ballot", path),
    promised: readBallot(fields, "promised", path),
  }),
  accept: (fields, path) => ({
    type: "accept",
    ballot: readBallot(fields, "ballot", path),
    entries: readList(fields, "entries", path, readProposedEntry),
    commitThrough: readCount(fields, "commitThrough", path),
    readRound: readCount(fields, "readRound", path),
  }),
  accepted: (fields, path) => ({
    type: "accepted",
    ballot: readBallot(fields, "ballot", path),
    slots: readList(fields, "slots", path, checkCount),
    committedThrough: readCount(fields, "committedThrough", path),
    commitSeen: readCount(fields, "commitSeen", path),
    readRound: readCount(fields, "readRound", path),
    uninitialized: readBoolean(fields, "uninitialized", path),
  }),
  learn: (fields, path) => ({
    type: "learn",
    ballot: readBallot(fields, "ballot", path),
    entries: readList(fields, "entries", path, readProposedEntry),
  }),
  installSnapshot: (fields, path) => ({
    type: "installSnapshot",
    ballot: readBallot(fields, "ballot", path),
    snapshot: readSnapshot(field(fields, "snapshot"), `${path}.snapshot`),
  }),
  timeoutNow: (fields, path) => ({ type: "timeoutNow", ballot: readBallot(fields, "ballot", path) }),
};

function isMessageType(type: string): type is MessageType {
  return Object.hasOwn(messageReaders, type);
}

function readMessage(value: unknown, path: string): Message {
  const message = readFields(value, path);
  const type = readString(message, "type", path);
  if (!isMessageType(type)) malformed(`${path}.type`, "a message type");
  return messageReaders[type](message, path);
}

function readEnvelope(value: unknown): Envelope {
  const envelope = readFields(value, "envelope");
  return {
    from: readMemberKey(envelope, "from", "envelope"),
    to: readMemberKey(envelope, "to", "envelope"),
    message: readMessage(field(envelope, "message"), "envelope.message"),
  };
}
