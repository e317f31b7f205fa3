import { describe, expect, it } from "vitest";
import { eventOverheadBytes } from "./changeFeed.ts";
import { expectOk, TestDriver } from "./testDriver.ts";

describe("change feed", () => {
  it("records one event per mutation, with values and previous values", () => {
    const driver = new TestDriver();
    driver.run({ op: "put", key: "a", value: "1" });
    driver.run({ op: "put", key: "a", value: "2" });
    driver.run({ op: "delete", key: "a" });
    driver.run({ op: "delete", key: "a" }); // not a mutation: no event
    driver.run({ op: "put", key: "b", value: "x", expectedModRevision: 9 }); // failed: no event
    expect(driver.machine.changesSince({ fromRevision: 1 })).toEqual({
      ok: true,
      revision: 3,
      events: [
        { revision: 1, namespace: "kv", type: "put", key: "a", value: "1" },
        { revision: 2, namespace: "kv", type: "put", key: "a", value: "2", prevValue: "1" },
        { revision: 3, namespace: "kv", type: "delete", key: "a", prevValue: "2" },
      ],
      nextRevision: 4,
    });
  });

  it("filters by prefix and namespace, and tells where to resume", () => {
    const driver = new TestDriver();
    driver.run({ op: "put", key: "app/x", value: "1" }); // 1
    driver.run({ op: "put", key: "other", value: "1" }); // 2
    driver.run({ op: "acquire", name: "app/lock", owner: "o", ttlMs: 5_000 }); // 3
    driver.run({ op: "put", key: "app/y", value: "1" }); // 4
    driver.run({ op: "put", key: "app/z", value: "1" }); // 5
    const revisions = (result: ReturnType<typeof driver.machine.changesSince>) =>
      expectOk(result).events.map((event) => event.revision);
    expect(revisions(driver.machine.changesSince({ fromRevision: 1, prefix: "app/" }))).toEqual([1, 4, 5]);
    expect(revisions(driver.machine.changesSince({ fromRevision: 2, prefix: "app/" }))).toEqual([4, 5]);
    expect(revisions(driver.machine.changesSince({ fromRevision: 1, namespace: "lock" }))).toEqual([3]);
    const page = expectOk(driver.machine.changesSince({ fromRevision: 1, prefix: "app/", limit: 2 }));
    expect(page.events.map((event) => event.revision)).toEqual([1, 4]);
    expect(page.nextRevision).toBe(5);
    expect(expectOk(driver.machine.changesSince({ fromRevision: 5, prefix: "app/" })).nextRevision).toBe(6);
    // Caught up, or ahead: nothing yet; resume at the same place.
    expect(driver.machine.changesSince({ fromRevision: 6 })).toEqual({
      ok: true,
      revision: 5,
      events: [],
      nextRevision: 6,
    });
    expect(expectOk(driver.machine.changesSince({ fromRevision: 9 })).nextRevision).toBe(9);
  });

  it("compacts by count and answers Compacted for revisions it no longer holds", () => {
    const driver = new TestDriver({ historyEventsMax: 3 });
    for (let index = 1; index <= 5; index += 1) driver.run({ op: "put", key: "k", value: String(index) });
    expect(driver.machine.changesSince({ fromRevision: 2 })).toEqual({
      ok: false,
      code: "Compacted",
      message: "revision 2 is compacted; the oldest retained revision is 3",
      oldestRevision: 3,
      revision: 5,
    });
    expect(
      expectOk(driver.machine.changesSince({ fromRevision: 3 })).events.map((event) => event.value),
    ).toEqual(["3", "4", "5"]);
  });

  it("compacts by bytes, always keeping the newest event", () => {
    const driver = new TestDriver({ historyBytesMax: 2 * (eventOverheadBytes + 6) });
    driver.run({ op: "put", key: "a", value: "12345" }); // 6 bytes + overhead
    driver.run({ op: "put", key: "b", value: "12345" });
    expect(expectOk(driver.machine.changesSince({ fromRevision: 1 })).events).toHaveLength(2);
    driver.run({ op: "put", key: "c", value: "1" });
    expect(driver.machine.changesSince({ fromRevision: 1 })).toMatchObject({
      code: "Compacted",
      oldestRevision: 2,
    });
    driver.run({ op: "put", key: "d", value: "x".repeat(500) });
    expect(driver.machine.changesSince({ fromRevision: 3 })).toMatchObject({
      code: "Compacted",
      oldestRevision: 4,
    });
    expect(expectOk(driver.machine.changesSince({ fromRevision: 4 })).events.map((e) => e.key)).toEqual([
      "d",
    ]);
  });

  it("stops a read at readBytesMax but returns at least one event", () => {
    const driver = new TestDriver({ readBytesMax: eventOverheadBytes + 10 });
    driver.run({ op: "put", key: "a", value: "x".repeat(100) });
    driver.run({ op: "put", key: "b", value: "1" });
    const first = expectOk(driver.machine.changesSince({ fromRevision: 1 }));
    expect(first.events.map((event) => event.key)).toEqual(["a"]);
    expect(first.nextRevision).toBe(2);
  });

  it("refuses bad queries", () => {
    const driver = new TestDriver({ readLimitMax: 10 });
    expect(driver.machine.changesSince({ fromRevision: 0 })).toMatchObject({ code: "InvalidRevision" });
    expect(driver.machine.changesSince({ fromRevision: 1.5 })).toMatchObject({ code: "InvalidRevision" });
    expect(driver.machine.changesSince({ fromRevision: 1, limit: 11 })).toMatchObject({
      code: "InvalidLimit",
    });
    expect(driver.machine.changesSince({ fromRevision: 1, prefix: "\u0000" })).toMatchObject({
      code: "InvalidPrefix",
    });
    expect(driver.machine.changesSince({ fromRevision: 1, namespace: "other" as "kv" })).toMatchObject({
      code: "InvalidNamespace",
    });
  });
});
