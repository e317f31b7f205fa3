import { describe, expect, it } from "vitest";
import { expectOk, startTimeMs, TestDriver } from "./testDriver.ts";

describe("locks", () => {
  it("grants a free lock with the grant's revision as fencing token", () => {
    const driver = new TestDriver();
    driver.run({ op: "put", key: "k", value: "v" });
    expect(driver.run({ op: "acquire", name: "leader", owner: "alice", ttlMs: 10_000 })).toEqual({
      ok: true,
      revision: 2,
      token: 2,
      expiresAtMs: startTimeMs + 10_000,
      alreadyHeld: false,
    });
    expect(driver.machine.getLock("leader")).toEqual({
      ok: true,
      revision: 2,
      lock: { name: "leader", owner: "alice", token: 2, expiresAtMs: startTimeMs + 10_000 },
    });
    expect(driver.machine.getLock("other")).toEqual({ ok: true, revision: 2, lock: null });
    expect(driver.run({ op: "getLock", name: "leader" })).toMatchObject({ lock: { owner: "alice" } });
    // Locks live in their own namespace.
    expect(driver.machine.get("leader")).toMatchObject({ entry: null });
  });

  it("refuses a held lock to another owner, naming the holder", () => {
    const driver = new TestDriver();
    driver.run({ op: "acquire", name: "leader", owner: "alice", ttlMs: 10_000 });
    expect(
      driver.run({ op: "acquire", name: "leader", owner: "bob", ttlMs: 10_000 }, { advanceMs: 1 }),
    ).toEqual({
      ok: false,
      code: "LockHeld",
      message: `lock "leader" is held by "alice" until ${startTimeMs + 10_000} ms`,
      holder: "alice",
      expiresAtMs: startTimeMs + 10_000,
    });
    expect(driver.machine.revision).toBe(1);
  });

  it("re-acquire by the holder extends the lease, keeps the token and is not a mutation", () => {
    const driver = new TestDriver();
    driver.run({ op: "acquire", name: "leader", owner: "alice", ttlMs: 10_000 });
    expect(
      driver.run({ op: "acquire", name: "leader", owner: "alice", ttlMs: 20_000 }, { advanceMs: 5_000 }),
    ).toEqual({
      ok: true,
      revision: 1,
      token: 1,
      expiresAtMs: startTimeMs + 25_000,
      alreadyHeld: true,
    });
    driver.tick(19_999);
    expect(driver.machine.getLock("leader")).toMatchObject({ lock: { owner: "alice" } });
    expect(driver.machine.revision).toBe(1);
    driver.tick(1);
    expect(driver.machine.getLock("leader")).toMatchObject({ lock: null });
  });

  it("renews with owner and token, and refuses the wrong ones", () => {
    const driver = new TestDriver();
    const { token } = expectOk(driver.run({ op: "acquire", name: "l", owner: "alice", ttlMs: 1_000 }));
    expect(
      driver.run({ op: "renew", name: "l", owner: "alice", token, ttlMs: 2_000 }, { advanceMs: 900 }),
    ).toEqual({
      ok: true,
      revision: 1,
      token,
      expiresAtMs: startTimeMs + 2_900,
    });
    expect(driver.run({ op: "renew", name: "l", owner: "bob", token, ttlMs: 2_000 })).toMatchObject({
      code: "NotLockHolder",
    });
    expect(
      driver.run({ op: "renew", name: "l", owner: "alice", token: token + 1, ttlMs: 2_000 }),
    ).toMatchObject({
      code: "TokenMismatch",
    });
    expect(driver.run({ op: "renew", name: "free", owner: "alice", token, ttlMs: 2_000 })).toMatchObject({
      code: "LockNotHeld",
    });
    expect(driver.run({ op: "renew", name: "l", owner: "alice", token, ttlMs: 999 })).toMatchObject({
      code: "InvalidTtl",
    });
    driver.tick(1_999); // now startTimeMs + 2_899
    expect(driver.machine.getLock("l")).toMatchObject({ lock: { owner: "alice" } });
    driver.tick(1);
    expect(driver.machine.getLock("l")).toMatchObject({ lock: null });
    expect(driver.run({ op: "renew", name: "l", owner: "alice", token, ttlMs: 2_000 })).toMatchObject({
      code: "LockNotHeld",
    });
  });

  it("releases with owner and token as a mutation, then grants the next owner a larger token", () => {
    const driver = new TestDriver();
    const first = expectOk(driver.run({ op: "acquire", name: "l", owner: "alice", ttlMs: 5_000 }));
    expect(driver.run({ op: "release", name: "l", owner: "bob", token: first.token })).toMatchObject({
      code: "NotLockHolder",
    });
    expect(driver.run({ op: "release", name: "l", owner: "alice", token: 99 })).toMatchObject({
      code: "TokenMismatch",
    });
    expect(driver.run({ op: "release", name: "l", owner: "alice", token: first.token })).toEqual({
      ok: true,
      revision: 2,
    });
    expect(driver.run({ op: "release", name: "l", owner: "alice", token: first.token })).toMatchObject({
      code: "LockNotHeld",
    });
    const second = expectOk(driver.run({ op: "acquire", name: "l", owner: "bob", ttlMs: 5_000 }));
    expect(second.token).toBe(3);
    expect(expectOk(driver.machine.changesSince({ fromRevision: 1, namespace: "lock" })).events).toEqual([
      { revision: 1, namespace: "lock", type: "put", key: "l", value: "alice" },
      { revision: 2, namespace: "lock", type: "delete", key: "l", prevValue: "alice" },
      { revision: 3, namespace: "lock", type: "put", key: "l", value: "bob" },
    ]);
  });

  it("expires leases when an entry's time reaches them, in (expiresAtMs, name) order, each a mutation", () => {
    const driver = new TestDriver();
    driver.run({ op: "acquire", name: "c", owner: "o", ttlMs: 2_000 }); // expires at +2000
    driver.run({ op: "acquire", name: "b", owner: "o", ttlMs: 2_000 }); // +2000
    driver.run({ op: "acquire", name: "a", owner: "o", ttlMs: 3_000 }); // +3000
    driver.run({ op: "acquire", name: "d", owner: "o", ttlMs: 1_000 }, { advanceMs: 500 }); // +1500
    driver.tick(999);
    expect(driver.machine.revision).toBe(4);
    // The entry at +2500 expires d, then b and c (same time, by name), before its own command runs.
    const result = expectOk(
      driver.run({ op: "acquire", name: "c", owner: "p", ttlMs: 1_000 }, { advanceMs: 1_001 }),
    );
    expect(result.token).toBe(8);
    expect(
      expectOk(driver.machine.changesSince({ fromRevision: 5, namespace: "lock" })).events.map((event) => [
        event.revision,
        event.type,
        event.key,
      ]),
    ).toEqual([
      [5, "delete", "d"],
      [6, "delete", "b"],
      [7, "delete", "c"],
      [8, "put", "c"],
    ]);
    driver.tick(500); // +3000: a expires exactly at its expiresAtMs
    expect(driver.machine.getLock("a")).toMatchObject({ lock: null });
    expect(driver.machine.revision).toBe(9);
  });

  it("checks names, owners, ttl and tokens, and bounds the number of locks", () => {
    const driver = new TestDriver({ locksMax: 1, ownerBytesMax: 4, lockTtlMsMin: 10, lockTtlMsMax: 20 });
    const cases = [
      [{ op: "acquire", name: "", owner: "o", ttlMs: 10 }, "InvalidLockName"],
      [{ op: "acquire", name: "l\n", owner: "o", ttlMs: 10 }, "InvalidLockName"],
      [{ op: "acquire", name: "l", owner: "", ttlMs: 10 }, "InvalidOwner"],
      [{ op: "acquire", name: "l", owner: "owner", ttlMs: 10 }, "InvalidOwner"],
      [{ op: "acquire", name: "l", owner: "o", ttlMs: 9 }, "InvalidTtl"],
      [{ op: "acquire", name: "l", owner: "o", ttlMs: 21 }, "InvalidTtl"],
      [{ op: "acquire", name: "l", owner: "o", ttlMs: 10.5 }, "InvalidTtl"],
      [{ op: "release", name: "l", owner: "o", token: 0 }, "InvalidToken"],
      [{ op: "renew", name: "l", owner: "o", token: -3, ttlMs: 10 }, "InvalidToken"],
      [{ op: "getLock", name: "" }, "InvalidLockName"],
    ] as const;
    for (const [command, code] of cases) {
      expect(driver.run(command), JSON.stringify(command)).toMatchObject({ ok: false, code });
    }
    expect(driver.run({ op: "acquire", name: "l", owner: "o", ttlMs: 20 })).toMatchObject({ ok: true });
    expect(driver.run({ op: "acquire", name: "m", owner: "o", ttlMs: 20 })).toMatchObject({
      code: "TooManyLocks",
    });
    expect(driver.machine.revision).toBe(1);
  });
});
