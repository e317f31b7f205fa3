import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Command,
  decodeCommand,
  defaultStateMachineOptions,
  InvalidOptionsError,
  InvariantViolation,
  type LogEntry,
  ReplicatedStateMachine,
} from "./index.ts";
import { TestDriver } from "./testDriver.ts";

describe("ReplicatedStateMachine.apply", () => {
  it("applies entries at consecutive indexes and monotone times", () => {
    const machine = new ReplicatedStateMachine();
    expect(machine.appliedIndex).toBe(0);
    expect(machine.apply({ type: "tick" }, { index: 1, timeMs: 100 })).toBeNull();
    const result = machine.apply(
      { type: "request", clientId: "c", sequence: 1, command: { op: "put", key: "k", value: "v" } },
      { index: 2, timeMs: 100 },
    );
    expect(result).toMatchObject({ ok: true, revision: 1 });
    expect(
      machine.applyRequest(
        { clientId: "c", sequence: 2, command: { op: "get", key: "k" } },
        { index: 3, timeMs: 150 },
      ),
    ).toMatchObject({ entry: { value: "v" } });
    machine.applyTick({ index: 4, timeMs: 150 });
    expect(machine.appliedIndex).toBe(4);
    expect(machine.timeMs).toBe(150);
  });

  it("throws InvariantViolation, changing nothing, for an index out of order or time going backwards", () => {
    const machine = new ReplicatedStateMachine();
    machine.apply({ type: "tick" }, { index: 1, timeMs: 100 });
    const digest = machine.digest();
    expect(() => machine.apply({ type: "tick" }, { index: 1, timeMs: 100 })).toThrow(InvariantViolation);
    expect(() => machine.apply({ type: "tick" }, { index: 3, timeMs: 100 })).toThrow(
      /expected index 2, got 3/,
    );
    expect(() => machine.apply({ type: "tick" }, { index: 2, timeMs: 99 })).toThrow(
      /time must not go backwards/,
    );
    expect(() => machine.apply({ type: "tick" }, { index: 2, timeMs: Number.NaN })).toThrow(
      InvariantViolation,
    );
    expect(() => machine.apply({ type: "tick" }, { index: 2.5, timeMs: 100 })).toThrow(InvariantViolation);
    expect(() => machine.apply({ type: "other" } as unknown as LogEntry, { index: 2, timeMs: 100 })).toThrow(
      /unexpected log entry type/,
    );
    const request = { clientId: "c", sequence: 1, command: { op: "put", key: "k", value: "v" } } as const;
    expect(() => machine.applyRequest(request, { index: 5, timeMs: 100 })).toThrow(InvariantViolation);
    expect(machine.digest()).toBe(digest);
    expect(machine.apply({ type: "tick" }, { index: 2, timeMs: 100 })).toBeNull();
  });

  it("answers malformed commands with InvalidCommand and never throws for any request content", () => {
    const driver = new TestDriver();
    expect(driver.run({ op: "explode" } as unknown as Command)).toMatchObject({
      code: "InvalidCommand",
      message: 'unknown op "explode"',
    });
    expect(driver.run({ op: "put", key: 1, value: null } as unknown as Command)).toMatchObject({
      code: "InvalidCommand",
      message: "put: key must be a string; value must be a string",
    });
    expect(driver.run(null as unknown as Command)).toMatchObject({ code: "InvalidCommand" });
    const machine = new ReplicatedStateMachine({ lockTtlMsMin: 1 });
    const ops = ["get", "list", "put", "delete", "acquire", "renew", "release", "getLock", "other"];
    const junk = fc.oneof(fc.anything(), fc.integer(), fc.string(), fc.constant(undefined));
    const command = fc.oneof(
      fc.anything(),
      fc.record({
        op: fc.constantFrom(...ops),
        key: junk,
        value: junk,
        prefix: junk,
        limit: junk,
        startAfter: junk,
        expectedModRevision: junk,
        name: junk,
        owner: junk,
        token: junk,
        ttlMs: junk,
      }),
    );
    let index = 0;
    fc.assert(
      fc.property(junk, junk, command, (clientId, sequence, anything) => {
        index += 1;
        const result = machine.apply(
          { type: "request", clientId, sequence, command: anything } as unknown as LogEntry,
          { index, timeMs: index },
        );
        expect(result).toHaveProperty("ok");
        expect(() => JSON.stringify(result)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it("serves reads directly with the same checks as through the log", () => {
    const machine = new ReplicatedStateMachine();
    expect(machine.get(5 as unknown as string)).toMatchObject({ code: "InvalidKey" });
    expect(machine.list(null as unknown as { prefix: string })).toMatchObject({ code: "InvalidPrefix" });
    expect(machine.changesSince(undefined as unknown as { fromRevision: number })).toMatchObject({
      code: "InvalidRevision",
    });
    expect(machine.getLock("")).toMatchObject({ code: "InvalidLockName" });
  });
});

describe("decodeCommand", () => {
  it("keeps only the known fields of a command", () => {
    expect(decodeCommand({ op: "put", key: "k", value: "v", extra: true })).toEqual({
      op: "put",
      key: "k",
      value: "v",
    });
    expect(decodeCommand({ op: "list", prefix: "", limit: undefined })).toEqual({ op: "list", prefix: "" });
    expect(decodeCommand({ op: "delete", key: "k", expectedModRevision: 3 })).toEqual({
      op: "delete",
      key: "k",
      expectedModRevision: 3,
    });
    expect(decodeCommand({ op: 7 })).toMatchObject({
      code: "InvalidCommand",
      message: "a command must have a string op",
    });
    expect(decodeCommand([])).toMatchObject({ code: "InvalidCommand" });
  });
});

describe("options", () => {
  it("rejects bad limits at construction", () => {
    expect(() => new ReplicatedStateMachine({ sessionsMax: 0 })).toThrow(InvalidOptionsError);
    expect(() => new ReplicatedStateMachine({ keysMax: 1.5 })).toThrow(/keysMax must be a positive integer/);
    expect(() => new ReplicatedStateMachine({ lockTtlMsMin: 10, lockTtlMsMax: 5 })).toThrow(
      /must not exceed/,
    );
    expect(() => new ReplicatedStateMachine({ nonsense: 1 } as object)).toThrow(/unknown option "nonsense"/);
    expect(defaultStateMachineOptions).toMatchObject({ keyBytesMax: 1024, valueBytesMax: 1024 * 1024 });
  });
});
