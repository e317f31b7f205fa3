import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Envelope, Message } from "../paxos/messages.ts";
import { checkEnvelope, decodeEnvelope } from "./decodeEnvelope.ts";
import { decodeFramePayload, encodeEnvelope, encodeFrame } from "./frames.ts";
import { sampleMessages } from "./testSupport.ts";

const envelopeOf = (message: Message): Envelope => ({ from: "a#1", to: "b#2", message });

/** Through the wire format and back: what a receiving transport hands to the validator. */
function overTheWire(value: unknown): unknown {
  const items = decodeFramePayload(encodeFrame([encodeEnvelope(value as Envelope)]).subarray(4));
  return items?.[0];
}

/** A deep copy of `value` with `edit` applied at `path` (a key path into nested objects and arrays). */
function edited(
  value: unknown,
  path: readonly (string | number)[],
  edit: (old: unknown) => unknown,
): unknown {
  if (path.length === 0) return edit(value);
  const [head, ...rest] = path;
  if (Array.isArray(value))
    return value.map((item, index) => (index === head ? edited(item, rest, edit) : item));
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  copy[String(head)] = edited(copy[String(head)], rest, edit);
  return copy;
}

const remove = Symbol("remove");
function withField(value: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  if (replacement !== remove) return edited(value, path, () => replacement);
  const parentPath = path.slice(0, -1);
  const key = String(path[path.length - 1]);
  return edited(value, parentPath, (parent) => {
    const copy: Record<string, unknown> = { ...(parent as Record<string, unknown>) };
    delete copy[key];
    return copy;
  });
}

describe("decodeEnvelope", () => {
  it.each(Object.values(sampleMessages))("accepts a well-formed $type message, after the wire", (message) => {
    const envelope = envelopeOf(message);
    expect(decodeEnvelope(overTheWire(envelope))).toEqual(envelope);
    expect(decodeEnvelope(envelope)).toEqual(envelope);
  });

  it("rebuilds the envelope: extra fields are not passed on", () => {
    const envelope = envelopeOf(sampleMessages.timeoutNow);
    const decoded = decodeEnvelope({
      ...envelope,
      extra: 1,
      message: {
        ...envelope.message,
        sneaky: { nested: true },
        ballot: { ...sampleMessages.timeoutNow.ballot, x: 1 },
      },
    });
    expect(decoded).toEqual(envelope);
    expect(decoded?.message).not.toHaveProperty("sneaky");
    expect(decoded?.message.ballot).not.toHaveProperty("x");
  });

  it("decodes byte strings into their own memory, not views of the frame", () => {
    const decoded = decodeEnvelope(overTheWire(envelopeOf(sampleMessages.installSnapshot)));
    expect(decoded?.message.type).toBe("installSnapshot");
    if (decoded?.message.type !== "installSnapshot") return;
    const { stateMachine } = decoded.message.snapshot;
    expect(stateMachine).toBeInstanceOf(Uint8Array);
    expect(stateMachine.buffer.byteLength).toBe(stateMachine.byteLength);
  });

  it("accepts plain objects without a prototype", () => {
    const envelope = Object.assign(Object.create(null) as object, envelopeOf(sampleMessages.reject));
    expect(decodeEnvelope(envelope)).toEqual(envelopeOf(sampleMessages.reject));
  });

  const accept = envelopeOf(sampleMessages.accept);
  const promise = envelopeOf(sampleMessages.promise);
  const snapshot = envelopeOf(sampleMessages.installSnapshot);
  const accepted = envelopeOf(sampleMessages.accepted);
  const malformed: [string, unknown][] = [
    ["null", null],
    ["a number", 42],
    ["a string", "accept"],
    ["an array", [accept]],
    ["a Map", new Map(Object.entries(accept))],
    ["a Date", new Date(0)],
    ["no from", withField(accept, ["from"], remove)],
    ["an empty from", withField(accept, ["from"], "")],
    ["a numeric to", withField(accept, ["to"], 2)],
    ["no message", withField(accept, ["message"], remove)],
    ["a message that is an array", withField(accept, ["message"], [])],
    ["an unknown message type", withField(accept, ["message", "type"], "acceptt")],
    ["a message type inherited from Object", withField(accept, ["message", "type"], "constructor")],
    ["a message type named __proto__", withField(accept, ["message", "type"], "__proto__")],
    ["a type that is not a string", withField(accept, ["message", "type"], 1)],
    ["no ballot", withField(accept, ["message", "ballot"], remove)],
    ["a negative round", withField(accept, ["message", "ballot", "round"], -1)],
    ["a fractional round", withField(accept, ["message", "ballot", "round"], 1.5)],
    ["an unsafe round", withField(accept, ["message", "ballot", "round"], 2 ** 53)],
    ["a NaN round", withField(accept, ["message", "ballot", "round"], Number.NaN)],
    ["a round as a string", withField(accept, ["message", "ballot", "round"], "1")],
    ["a round as a bigint", withField(accept, ["message", "ballot", "round"], 1n)],
    ["a proposer that is not a string", withField(accept, ["message", "ballot", "proposer"], null)],
    ["entries that are not an array", withField(accept, ["message", "entries"], { 0: 1 })],
    ["an entry without a slot", withField(accept, ["message", "entries", 0, "slot"], remove)],
    [
      "an entry with an unknown value kind",
      withField(accept, ["message", "entries", 0, "value", "kind"], "nop"),
    ],
    [
      "a request that is a string",
      withField(accept, ["message", "entries", 0, "value", "requests", 0], "abc"),
    ],
    [
      "a request that is a number array",
      withField(accept, ["message", "entries", 0, "value", "requests", 0], [1]),
    ],
    [
      "a request that is another typed array",
      withField(accept, ["message", "entries", 0, "value", "requests", 0], new Uint16Array(2)),
    ],
    [
      "an infinite timeMs",
      withField(accept, ["message", "entries", 0, "value", "timeMs"], Number.POSITIVE_INFINITY),
    ],
    [
      "an unknown change type",
      withField(accept, ["message", "entries", 1, "value", "change", "type"], "join"),
    ],
    ["a change for no member", withField(accept, ["message", "entries", 1, "value", "change", "member"], "")],
    ["no commitThrough", withField(accept, ["message", "commitThrough"], remove)],
    ["a readRound of null", withField(accept, ["message", "readRound"], null)],
    ["an accepted entry without a ballot", withField(promise, ["message", "accepted", 0, "ballot"], remove)],
    ["a fractional slot in accepted", withField(accepted, ["message", "slots", 1], 16.5)],
    ["uninitialized as a number", withField(accepted, ["message", "uninitialized"], 0)],
    ["a snapshot without state", withField(snapshot, ["message", "snapshot", "stateMachine"], remove)],
    [
      "a voter that is a number",
      withField(snapshot, ["message", "snapshot", "configuration", "voters", 1], 3),
    ],
    [
      "a configuration without evicted",
      withField(snapshot, ["message", "snapshot", "configuration", "evicted"], remove),
    ],
    [
      "a transfer flag as a string",
      withField(envelopeOf(sampleMessages.prepare), ["message", "transfer"], "yes"),
    ],
    ["fields that are only inherited", { ...accept, message: Object.create(sampleMessages.timeoutNow) }],
  ];

  it.each(malformed)("rejects %s", (_, value) => {
    expect(decodeEnvelope(value)).toBeUndefined();
    const check = checkEnvelope(value);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problem).toMatch(/expected/);
  });

  it("says where the problem is", () => {
    const check = checkEnvelope(withField(accept, ["message", "entries", 0, "value", "requests", 0], "abc"));
    expect(check).toEqual({
      ok: false,
      problem: "envelope.message.entries[0].value.requests[0]: expected bytes",
    });
  });

  it("never throws on random values, and accepts only well-typed ones", () => {
    fc.assert(
      fc.property(
        fc.anything({ withNullPrototype: true, withBigInt: true, withTypedArray: true }),
        (value) => {
          const decoded = decodeEnvelope(value);
          if (decoded !== undefined) expect(decodeEnvelope(decoded)).toEqual(decoded);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("never throws when any field of a valid message is replaced by junk", () => {
    const samples = Object.values(sampleMessages).map(envelopeOf);
    const paths = (value: unknown, prefix: (string | number)[] = []): (string | number)[][] => {
      if (value instanceof Uint8Array || typeof value !== "object" || value === null) return [prefix];
      const keys: (string | number)[] = Array.isArray(value)
        ? value.map((_, index) => index)
        : Object.keys(value);
      return [
        prefix,
        ...keys.flatMap((key) => paths((value as Record<string, unknown>)[key], [...prefix, key])),
      ];
    };
    const cases = samples.flatMap((sample) => paths(sample).map((path) => ({ sample, path })));
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.anything(), ({ sample, path }, junk) => {
        const decoded = decodeEnvelope(withField(sample, path, junk));
        if (decoded !== undefined) expect(decodeEnvelope(overTheWire(decoded))).toEqual(decoded);
      }),
      { numRuns: 3000 },
    );
  });
});
