import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Command, type KeyValueEntry, ReplicatedStateMachine, type RequestResult } from "./index.ts";

const keys = ["a", "ab", "b", "b/1", "b/2", "é", "\uE000", "\u{1F600}"];
const prefixes = ["", "a", "b/", "\u{1F600}", "z"];
const lockNames = ["leader", "shard-1", "shard-2"];
const owners = ["alice", "bob", "carol"];
const clients = ["c1", "c2", "c3", "c4"];

/** What a step asks for; "current" revisions and tokens are resolved against the state when it runs. */
type OperationSpec =
  | { kind: "put"; key: number; value: string; cas: "none" | "zero" | "current" | "wrong" }
  | { kind: "delete"; key: number; cas: "none" | "zero" | "current" | "wrong" }
  | { kind: "get"; key: number }
  | { kind: "list"; prefix: number; limit: number }
  | { kind: "acquire"; lock: number; owner: number; ttlMs: number }
  | { kind: "renew"; lock: number; owner: number; token: "current" | "wrong"; ttlMs: number }
  | { kind: "release"; lock: number; owner: number; token: "current" | "wrong" }
  | { kind: "getLock"; lock: number };

type Step =
  | { kind: "tick"; advanceMs: number }
  | {
      kind: "request";
      advanceMs: number;
      client: number;
      retry: "next" | "duplicate" | "stale";
      operation: OperationSpec;
    };

const cas = fc.constantFrom("none", "zero", "current", "wrong") as fc.Arbitrary<
  "none" | "zero" | "current" | "wrong"
>;
const tokenMode = fc.constantFrom("current", "wrong") as fc.Arbitrary<"current" | "wrong">;
const ttlMs = fc.integer({ min: 1_000, max: 6_000 });
const operation: fc.Arbitrary<OperationSpec> = fc.oneof(
  fc.record({
    kind: fc.constant("put" as const),
    key: fc.nat(keys.length - 1),
    value: fc.string({ maxLength: 6 }),
    cas,
  }),
  fc.record({ kind: fc.constant("delete" as const), key: fc.nat(keys.length - 1), cas }),
  fc.record({ kind: fc.constant("get" as const), key: fc.nat(keys.length - 1) }),
  fc.record({
    kind: fc.constant("list" as const),
    prefix: fc.nat(prefixes.length - 1),
    limit: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    kind: fc.constant("acquire" as const),
    lock: fc.nat(lockNames.length - 1),
    owner: fc.nat(owners.length - 1),
    ttlMs,
  }),
  fc.record({
    kind: fc.constant("renew" as const),
    lock: fc.nat(lockNames.length - 1),
    owner: fc.nat(owners.length - 1),
    token: tokenMode,
    ttlMs,
  }),
  fc.record({
    kind: fc.constant("release" as const),
    lock: fc.nat(lockNames.length - 1),
    owner: fc.nat(owners.length - 1),
    token: tokenMode,
  }),
  fc.record({ kind: fc.constant("getLock" as const), lock: fc.nat(lockNames.length - 1) }),
);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("tick" as const),
      advanceMs: fc.integer({ min: 0, max: 4_000 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("request" as const),
      advanceMs: fc.integer({ min: 0, max: 1_500 }),
      client: fc.nat(clients.length - 1),
      retry: fc.constantFrom("next", "next", "next", "duplicate", "stale") as fc.Arbitrary<
        "next" | "duplicate" | "stale"
      >,
      operation,
    }),
  },
);

const at = <T>(list: readonly T[], index: number): T => {
  const item = list[index];
  if (item === undefined) throw new Error(`index ${index} out of range`);
  return item;
};

/** Turns a spec into a concrete command, reading current revisions and tokens from `machine`. */
function toCommand(spec: OperationSpec, machine: ReplicatedStateMachine): Command {
  const modRevision = (key: string) => {
    const result = machine.get(key);
    return result.ok ? (result.entry?.modRevision ?? 0) : 0;
  };
  const token = (name: string, mode: "current" | "wrong") => {
    const result = machine.getLock(name);
    const current = result.ok ? (result.lock?.token ?? 1) : 1;
    return mode === "current" ? current : current + 1;
  };
  const expected = (key: string, mode: "none" | "zero" | "current" | "wrong") =>
    mode === "none"
      ? {}
      : { expectedModRevision: mode === "zero" ? 0 : modRevision(key) + (mode === "wrong" ? 1 : 0) };
  switch (spec.kind) {
    case "put":
      return {
        op: "put",
        key: at(keys, spec.key),
        value: spec.value,
        ...expected(at(keys, spec.key), spec.cas),
      };
    case "delete":
      return { op: "delete", key: at(keys, spec.key), ...expected(at(keys, spec.key), spec.cas) };
    case "get":
      return { op: "get", key: at(keys, spec.key) };
    case "list":
      return { op: "list", prefix: at(prefixes, spec.prefix), limit: spec.limit };
    case "acquire":
      return {
        op: "acquire",
        name: at(lockNames, spec.lock),
        owner: at(owners, spec.owner),
        ttlMs: spec.ttlMs,
      };
    case "renew": {
      const name = at(lockNames, spec.lock);
      return {
        op: "renew",
        name,
        owner: at(owners, spec.owner),
        token: token(name, spec.token),
        ttlMs: spec.ttlMs,
      };
    }
    case "release": {
      const name = at(lockNames, spec.lock);
      return { op: "release", name, owner: at(owners, spec.owner), token: token(name, spec.token) };
    }
    case "getLock":
      return { op: "getLock", name: at(lockNames, spec.lock) };
  }
}

/** Plays steps into the log the way the Paxos layer and retrying clients would. */
class LogWriter {
  index = 0;
  timeMs = 1_700_000_000_000;
  readonly #last = new Map<string, { sequence: number; command: Command }>();

  /** The next entry and its context, or undefined when the step asks for a retry that has nothing to repeat. */
  next(step: Step, machine: ReplicatedStateMachine) {
    this.index += 1;
    this.timeMs += step.advanceMs;
    const context = { index: this.index, timeMs: this.timeMs };
    if (step.kind === "tick") return { entry: { type: "tick" as const }, context, fresh: false };
    const clientId = at(clients, step.client);
    const last = this.#last.get(clientId);
    let sequence: number;
    let command: Command;
    let fresh = false;
    if (step.retry === "duplicate" && last !== undefined) {
      ({ sequence, command } = last);
    } else if (step.retry === "stale" && last !== undefined && last.sequence > 1) {
      sequence = last.sequence - 1;
      command = toCommand(step.operation, machine);
    } else {
      sequence = (last?.sequence ?? 0) + 1;
      command = toCommand(step.operation, machine);
      this.#last.set(clientId, { sequence, command });
      fresh = true;
    }
    return { entry: { type: "request" as const, clientId, sequence, command }, context, fresh };
  }
}

const options = { historyEventsMax: 12, sessionsMax: 3, readLimitMax: 5 };

describe("replicated state machine properties", () => {
  it("two replicas, one restored from a snapshot midway, give equal results and end in equal state", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), fc.nat(), (steps, cut) => {
        const snapshotAt = cut % (steps.length + 1);
        const writer = new LogWriter();
        const original = new ReplicatedStateMachine(options);
        let replica = new ReplicatedStateMachine(options);
        steps.forEach((current, position) => {
          if (position === snapshotAt) {
            replica = ReplicatedStateMachine.restore(replica.snapshot());
            expect(replica.digest()).toBe(original.digest());
          }
          const { entry, context } = writer.next(current, original);
          const expected = original.apply(entry, context);
          expect(replica.apply(entry, context)).toEqual(expected);
        });
        expect(replica.digest()).toBe(original.digest());
        expect(replica.snapshot()).toEqual(original.snapshot());
        const restoredAtEnd = ReplicatedStateMachine.restore(original.snapshot());
        expect(restoredAtEnd).toEqual(original);
        expect(restoredAtEnd.digest()).toBe(original.digest());
      }),
      { numRuns: 150 },
    );
  });

  it("fencing tokens strictly increase per lock, and the lock events match the holders", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 120 }), (steps) => {
        const writer = new LogWriter();
        const machine = new ReplicatedStateMachine({ ...options, historyEventsMax: 10_000 });
        const lastGrant = new Map<string, number>();
        let revision = 0;
        for (const current of steps) {
          const { entry, context, fresh } = writer.next(current, machine);
          const result: RequestResult | null = machine.apply(entry, context);
          expect(machine.revision).toBeGreaterThanOrEqual(revision);
          revision = machine.revision;
          // Duplicates answer with a stored result (checked by the replica property); look at fresh acquires.
          if (!fresh || entry.type !== "request" || entry.command.op !== "acquire" || result === null)
            continue;
          if (!result.ok) continue;
          if (!("alreadyHeld" in result)) throw new Error("an acquire returns an acquire result");
          const name = entry.command.name;
          if (result.alreadyHeld) {
            expect(result.token).toBe(lastGrant.get(name));
          } else {
            // A grant is the newest mutation, and its token beats every earlier grant of the lock.
            expect(result.token).toBe(machine.revision);
            expect(result.token).toBeGreaterThan(lastGrant.get(name) ?? 0);
            lastGrant.set(name, result.token);
          }
          expect(machine.getLock(name)).toMatchObject({
            lock: { token: result.token, owner: entry.command.owner },
          });
        }
        // The lock events, read page by page, tell a consistent story that ends in the current holders.
        const all = [];
        for (let from = 1; ; ) {
          const page = machine.changesSince({ fromRevision: from, namespace: "lock", limit: 5 });
          if (!page.ok) throw new Error(JSON.stringify(page));
          all.push(...page.events);
          if (page.nextRevision > machine.revision) break;
          from = page.nextRevision;
        }
        const holder = new Map<string, string>();
        for (const event of all) {
          // Puts and deletes of one lock alternate: a grant only when free, a release only when held.
          expect(holder.has(event.key)).toBe(event.type === "delete");
          if (event.type === "put") holder.set(event.key, event.value ?? "");
          else {
            expect(event.prevValue).toBe(holder.get(event.key));
            holder.delete(event.key);
          }
        }
        for (const name of lockNames) {
          const lock = machine.getLock(name);
          expect(lock.ok ? (lock.lock?.owner ?? null) : "error").toBe(holder.get(name) ?? null);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("keys behave like a simple model, with revisions counted by mutation and byte-ordered lists", () => {
    type ModelEntry = Omit<KeyValueEntry, "key">;
    const kvStep = fc.oneof(
      fc.record({
        kind: fc.constant("put" as const),
        key: fc.nat(keys.length - 1),
        value: fc.string({ maxLength: 6 }),
        cas,
      }),
      fc.record({ kind: fc.constant("delete" as const), key: fc.nat(keys.length - 1), cas }),
      fc.record({
        kind: fc.constant("list" as const),
        prefix: fc.nat(prefixes.length - 1),
        limit: fc.integer({ min: 1, max: 5 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(kvStep, { maxLength: 60 }), (specs) => {
        const machine = new ReplicatedStateMachine(options);
        const model = new Map<string, ModelEntry>();
        let revision = 0;
        specs.forEach((spec, position) => {
          const command = toCommand(spec, machine);
          const result = machine.applyRequest(
            { clientId: "c", sequence: position + 1, command },
            { index: position + 1, timeMs: position },
          );
          if (command.op === "put" || command.op === "delete") {
            const current = model.get(command.key);
            const matches =
              command.expectedModRevision === undefined ||
              command.expectedModRevision === (current?.modRevision ?? 0);
            if (!matches) {
              expect(result).toMatchObject({
                ok: false,
                code: "RevisionMismatch",
                currentRevision: current?.modRevision ?? 0,
              });
            } else if (command.op === "put") {
              revision += 1;
              const entry = {
                value: command.value,
                createRevision: current?.createRevision ?? revision,
                modRevision: revision,
                version: (current?.version ?? 0) + 1,
              };
              model.set(command.key, entry);
              expect(result).toEqual({
                ok: true,
                revision,
                createRevision: entry.createRevision,
                version: entry.version,
              });
            } else {
              if (current !== undefined) revision += 1;
              model.delete(command.key);
              expect(result).toEqual({ ok: true, revision, deleted: current !== undefined });
            }
          } else if (command.op === "list") {
            const matching = [...model.entries()]
              .filter(([key]) => key.startsWith(command.prefix))
              .sort(([left], [right]) => Buffer.compare(Buffer.from(left), Buffer.from(right)))
              .map(([key, entry]) => ({ key, ...entry }));
            expect(result).toEqual({
              ok: true,
              revision,
              entries: matching.slice(0, command.limit),
              more: matching.length > (command.limit ?? 0),
            });
          }
        });
        expect(machine.revision).toBe(revision);
      }),
      { numRuns: 150 },
    );
  });
});
