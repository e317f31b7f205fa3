import { createHash } from "node:crypto";
import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import {
  InvalidSnapshotError,
  InvariantViolation,
  ReplicatedStateMachine,
  snapshotVersion,
  UnsupportedSnapshotVersionError,
} from "./index.ts";
import { TestDriver } from "./testDriver.ts";

/** A machine with some of everything: keys, a compacted history, locks, sessions. */
function busyDriver(): TestDriver {
  const driver = new TestDriver({ historyEventsMax: 4, sessionsMax: 3 });
  driver.run({ op: "put", key: "a", value: "1" }, { clientId: "c1" });
  driver.run({ op: "put", key: "b/\u{1F600}", value: "\u0000binary-ish\n" }, { clientId: "c2" });
  driver.run({ op: "acquire", name: "leader", owner: "alice", ttlMs: 5_000 }, { clientId: "c3" });
  driver.run({ op: "acquire", name: "short", owner: "bob", ttlMs: 1_000 }, { clientId: "c4" });
  driver.run({ op: "put", key: "a", value: "2", expectedModRevision: 9 }, { clientId: "c1" });
  driver.run({ op: "delete", key: "b/\u{1F600}" }, { clientId: "c2", advanceMs: 500 });
  driver.tick(700); // "short" expires
  driver.run({ op: "put", key: "c", value: "3" }, { clientId: "c5" });
  return driver;
}

const packr = new Packr({ useRecords: false });

/** Rewrites a snapshot's content and re-seals it with a valid checksum. */
function tamper(bytes: Uint8Array, change: (root: Record<string, unknown>) => void): Uint8Array {
  const body = bytes.subarray(0, bytes.length - 32);
  const root = packr.unpack(body) as Record<string, unknown>;
  change(root);
  const newBody = packr.pack(root);
  return new Uint8Array([...newBody, ...createHash("sha256").update(newBody).digest()]);
}

describe("snapshots", () => {
  it("restore yields a deep-equal state machine with equal bytes and digest", () => {
    const original = busyDriver().machine;
    const bytes = original.snapshot();
    const restored = ReplicatedStateMachine.restore(bytes);
    expect(restored).toEqual(original);
    const later = ReplicatedStateMachine.restore(bytes);
    later.apply({ type: "tick" }, { index: later.appliedIndex + 1, timeMs: later.timeMs });
    expect(later).not.toEqual(original); // the comparison does see the state
    expect(restored.snapshot()).toEqual(bytes);
    expect(restored.digest()).toBe(original.digest());
    expect(restored.digest()).toMatch(/^[0-9a-f]{64}$/);
    expect(restored.appliedIndex).toBe(original.appliedIndex);
    expect(restored.timeMs).toBe(original.timeMs);
    expect(restored.revision).toBe(original.revision);
    expect(restored.changesSince({ fromRevision: 1 })).toEqual(original.changesSince({ fromRevision: 1 }));
    expect(restored.changesSince({ fromRevision: 4 })).toEqual(original.changesSince({ fromRevision: 4 }));
    expect(restored.list({ prefix: "" })).toEqual(original.list({ prefix: "" }));
    expect(restored.getLock("leader")).toEqual(original.getLock("leader"));
  });

  it("a restored machine goes on exactly like the original, with the snapshot's options", () => {
    const originalDriver = busyDriver();
    const restoredDriver = new TestDriver(
      {},
      ReplicatedStateMachine.restore(originalDriver.machine.snapshot()),
    );
    restoredDriver.timeMs = originalDriver.timeMs;
    const steps = [
      (driver: TestDriver) =>
        driver.request("c1", 2, { op: "put", key: "a", value: "2", expectedModRevision: 9 }),
      (driver: TestDriver) => driver.request("c2", 1, { op: "put", key: "x", value: "stale" }),
      (driver: TestDriver) => driver.request("c6", 1, { op: "put", key: "d", value: "4" }, 4_000),
      (driver: TestDriver) =>
        driver.request("c3", 1, { op: "acquire", name: "leader", owner: "x", ttlMs: 1_000 }),
      (driver: TestDriver) =>
        driver.request("c7", 1, { op: "acquire", name: "leader", owner: "x", ttlMs: 1_000 }, 1_000),
      (driver: TestDriver) => driver.request("c1", 3, { op: "list", prefix: "" }),
    ];
    for (const step of steps) {
      expect(step(restoredDriver)).toEqual(step(originalDriver));
      expect(restoredDriver.machine.digest()).toBe(originalDriver.machine.digest());
    }
    // The options came with the snapshot: history is still compacted at 4 events.
    expect(restoredDriver.machine.changesSince({ fromRevision: 1 })).toMatchObject({ code: "Compacted" });
    expect(() =>
      restoredDriver.machine.apply(
        { type: "tick" },
        { index: originalDriver.machine.appliedIndex + 2, timeMs: 0 },
      ),
    ).toThrow(InvariantViolation);
  });

  it("round-trips an empty machine", () => {
    const empty = new ReplicatedStateMachine();
    const restored = ReplicatedStateMachine.restore(empty.snapshot());
    expect(restored).toEqual(empty);
    expect(restored.digest()).toBe(empty.digest());
    restored.apply({ type: "tick" }, { index: 1, timeMs: 0 });
  });

  it("differs in digest when any state differs", () => {
    const left = busyDriver();
    const right = busyDriver();
    expect(left.machine.digest()).toBe(right.machine.digest());
    right.tick(0);
    expect(right.machine.digest()).not.toBe(left.machine.digest());
    left.tick(1);
    expect(right.machine.digest()).not.toBe(left.machine.digest());
  });

  it("rejects corrupt, truncated or foreign bytes", () => {
    const bytes = busyDriver().machine.snapshot();
    const flipped = bytes.slice();
    flipped[40] = (flipped[40] ?? 0) ^ 0x01;
    expect(() => ReplicatedStateMachine.restore(flipped)).toThrow(/checksum mismatch/);
    expect(() => ReplicatedStateMachine.restore(bytes.subarray(0, bytes.length - 1))).toThrow(
      InvalidSnapshotError,
    );
    expect(() => ReplicatedStateMachine.restore(new Uint8Array(10))).toThrow(/too short/);
    expect(() => ReplicatedStateMachine.restore("snapshot" as unknown as Uint8Array)).toThrow(
      InvalidSnapshotError,
    );
    const sealed = (body: number[]) =>
      new Uint8Array([...body, ...createHash("sha256").update(new Uint8Array(body)).digest()]);
    expect(() => ReplicatedStateMachine.restore(sealed([0x92, 0x01]))).toThrow(/not msgpack/);
    expect(() => ReplicatedStateMachine.restore(sealed([0xc1]))).toThrow(/snapshot must be a map/);
    expect(() => ReplicatedStateMachine.restore(sealed([0x92, 0x01, 0x02]))).toThrow(
      /snapshot must be a map/,
    );
  });

  it("rejects another format version with its own error", () => {
    const bytes = busyDriver().machine.snapshot();
    const future = tamper(bytes, (root) => {
      root.version = snapshotVersion + 1;
    });
    expect(() => ReplicatedStateMachine.restore(future)).toThrow(UnsupportedSnapshotVersionError);
    expect(() => ReplicatedStateMachine.restore(future)).toThrow(
      /format version 2; this replica reads version 1/,
    );
    const foreign = tamper(bytes, (root) => {
      root.format = "something-else";
    });
    expect(() => ReplicatedStateMachine.restore(foreign)).toThrow(/format must be/);
  });

  it("rejects well-sealed snapshots whose content is inconsistent", () => {
    const bytes = busyDriver().machine.snapshot();
    const cases: [string, (root: Record<string, unknown>) => void, RegExp][] = [
      ["missing field", (root) => delete root.entries, /entries must be an array/],
      ["bad options", (root) => Object.assign(root.options as object, { keysMax: 0 }), /keysMax/],
      ["unknown option", (root) => Object.assign(root.options as object, { surprise: 1 }), /unknown option/],
      [
        "unsorted keys",
        (root) => (root.entries as unknown[]).reverse(),
        /keys must be unique and in key order/,
      ],
      ["gap in events", (root) => (root.events as unknown[]).splice(1, 1), /consecutive revisions/],
      [
        "revision from the future",
        (root) => ((root.entries as unknown[][])[0] as unknown[]).splice(3, 1, 99),
        /revisions of key/,
      ],
      [
        "token from the future",
        (root) => ((root.locks as unknown[][])[0] as unknown[]).splice(2, 1, 99),
        /token/,
      ],
      [
        "lock that should have expired",
        (root) => ((root.locks as unknown[][])[0] as unknown[]).splice(3, 1, 5),
        /should have expired/,
      ],
      ["sessions out of order", (root) => (root.sessions as unknown[]).reverse(), /ordered by applied index/],
      [
        "wrong tuple",
        (root) => ((root.locks as unknown[][])[0] as unknown[]).pop(),
        /lock must have 4 fields/,
      ],
      ["negative time", (root) => Object.assign(root, { timeMs: -1 }), /timeMs must be an integer/],
    ];
    for (const [what, change, message] of cases) {
      expect(() => ReplicatedStateMachine.restore(tamper(bytes, change)), what).toThrow(message);
      expect(() => ReplicatedStateMachine.restore(tamper(bytes, change)), what).toThrow(InvalidSnapshotError);
    }
  });
});
