import { describe, expect, it } from "vitest";
import { expectOk, TestDriver } from "./testDriver.ts";

describe("key-value store", () => {
  it("puts and gets with revisions and versions", () => {
    const driver = new TestDriver();
    expect(driver.machine.revision).toBe(0);
    expect(driver.run({ op: "put", key: "a", value: "1" })).toEqual({
      ok: true,
      revision: 1,
      createRevision: 1,
      version: 1,
    });
    expect(driver.run({ op: "put", key: "b", value: "x" })).toMatchObject({ revision: 2, version: 1 });
    expect(driver.run({ op: "put", key: "a", value: "2" })).toEqual({
      ok: true,
      revision: 3,
      createRevision: 1,
      version: 2,
    });
    expect(driver.machine.get("a")).toEqual({
      ok: true,
      revision: 3,
      entry: { key: "a", value: "2", createRevision: 1, modRevision: 3, version: 2 },
    });
    expect(driver.machine.get("missing")).toEqual({ ok: true, revision: 3, entry: null });
    expect(driver.run({ op: "get", key: "b" })).toMatchObject({ entry: { value: "x", modRevision: 2 } });
  });

  it("deletes, bumping the revision only when the key existed, and restarts versions on re-create", () => {
    const driver = new TestDriver();
    driver.run({ op: "put", key: "a", value: "1" });
    driver.run({ op: "put", key: "a", value: "2" });
    expect(driver.run({ op: "delete", key: "a" })).toEqual({ ok: true, revision: 3, deleted: true });
    expect(driver.run({ op: "delete", key: "a" })).toEqual({ ok: true, revision: 3, deleted: false });
    expect(driver.machine.get("a")).toMatchObject({ entry: null });
    expect(driver.run({ op: "put", key: "a", value: "3" })).toEqual({
      ok: true,
      revision: 4,
      createRevision: 4,
      version: 1,
    });
  });

  it("compare-and-set put succeeds only on the expected modRevision; 0 means must not exist", () => {
    const driver = new TestDriver();
    expect(driver.run({ op: "put", key: "a", value: "1", expectedModRevision: 0 })).toMatchObject({
      ok: true,
      revision: 1,
    });
    expect(driver.run({ op: "put", key: "a", value: "2", expectedModRevision: 0 })).toEqual({
      ok: false,
      code: "RevisionMismatch",
      message: 'key "a" has modRevision 1; expected 0',
      currentRevision: 1,
    });
    expect(driver.run({ op: "put", key: "a", value: "2", expectedModRevision: 5 })).toMatchObject({
      code: "RevisionMismatch",
      currentRevision: 1,
    });
    expect(driver.machine.revision).toBe(1);
    expect(driver.machine.get("a")).toMatchObject({ entry: { value: "1" } });
    expect(driver.run({ op: "put", key: "a", value: "2", expectedModRevision: 1 })).toMatchObject({
      ok: true,
      revision: 2,
      version: 2,
    });
    expect(driver.run({ op: "put", key: "new", value: "x", expectedModRevision: 2 })).toMatchObject({
      code: "RevisionMismatch",
      currentRevision: 0,
    });
    expect(driver.machine.get("new")).toMatchObject({ entry: null });
  });

  it("compare-and-set delete", () => {
    const driver = new TestDriver();
    driver.run({ op: "put", key: "a", value: "1" });
    expect(driver.run({ op: "delete", key: "a", expectedModRevision: 7 })).toMatchObject({
      code: "RevisionMismatch",
      currentRevision: 1,
    });
    expect(driver.machine.get("a")).toMatchObject({ entry: { value: "1" } });
    expect(driver.run({ op: "delete", key: "a", expectedModRevision: 1 })).toEqual({
      ok: true,
      revision: 2,
      deleted: true,
    });
    expect(driver.run({ op: "delete", key: "a", expectedModRevision: 0 })).toEqual({
      ok: true,
      revision: 2,
      deleted: false,
    });
    expect(driver.run({ op: "delete", key: "a", expectedModRevision: 1 })).toMatchObject({
      code: "RevisionMismatch",
      currentRevision: 0,
    });
  });

  it("lists by prefix in code point order, with limit, startAfter and more", () => {
    const driver = new TestDriver();
    for (const key of ["b/2", "a", "b/1", "b/\u{1F600}", "b/\uE000", "c", "b/10"]) {
      driver.run({ op: "put", key, value: key.toUpperCase() });
    }
    const keys = (result: ReturnType<typeof driver.machine.list>) =>
      expectOk(result).entries.map((e) => e.key);
    expect(keys(driver.machine.list({ prefix: "b/" }))).toEqual([
      "b/1",
      "b/10",
      "b/2",
      "b/\uE000",
      "b/\u{1F600}",
    ]);
    expect(keys(driver.machine.list({ prefix: "" }))).toEqual([
      "a",
      "b/1",
      "b/10",
      "b/2",
      "b/\uE000",
      "b/\u{1F600}",
      "c",
    ]);
    const firstPage = expectOk(driver.machine.list({ prefix: "b/", limit: 2 }));
    expect(firstPage.entries.map((e) => e.key)).toEqual(["b/1", "b/10"]);
    expect(firstPage.more).toBe(true);
    expect(firstPage.revision).toBe(7);
    expect(firstPage.entries[0]).toEqual({
      key: "b/1",
      value: "B/1",
      createRevision: 3,
      modRevision: 3,
      version: 1,
    });
    const secondPage = expectOk(driver.machine.list({ prefix: "b/", limit: 3, startAfter: "b/10" }));
    expect(secondPage.entries.map((e) => e.key)).toEqual(["b/2", "b/\uE000", "b/\u{1F600}"]);
    expect(secondPage.more).toBe(false);
    expect(keys(driver.machine.list({ prefix: "b/", startAfter: "a" }))).toHaveLength(5);
    expect(keys(driver.machine.list({ prefix: "b/", startAfter: "b/\u{1F600}" }))).toEqual([]);
    expect(keys(driver.machine.list({ prefix: "zz" }))).toEqual([]);
    expect(keys(driver.run({ op: "list", prefix: "b/1" }))).toEqual(["b/1", "b/10"]);
  });

  it("stops a list at readBytesMax but returns at least one entry", () => {
    const driver = new TestDriver({ readBytesMax: 10 });
    driver.run({ op: "put", key: "a", value: "1234" });
    driver.run({ op: "put", key: "b", value: "1234" });
    driver.run({ op: "put", key: "c", value: "123456789012" });
    const first = expectOk(driver.machine.list({ prefix: "" }));
    expect(first.entries.map((e) => e.key)).toEqual(["a", "b"]);
    expect(first.more).toBe(true);
    const second = expectOk(driver.machine.list({ prefix: "", startAfter: "b" }));
    expect(second.entries.map((e) => e.key)).toEqual(["c"]);
    expect(second.more).toBe(false);
  });

  it("refuses bad keys, values, prefixes, limits and revisions with a code, changing nothing", () => {
    const driver = new TestDriver({ keyBytesMax: 8, valueBytesMax: 4, readLimitMax: 5 });
    const cases = [
      [{ op: "put", key: "", value: "v" }, "InvalidKey"],
      [{ op: "put", key: "123456789", value: "v" }, "InvalidKey"],
      [{ op: "put", key: "a\tb", value: "v" }, "InvalidKey"],
      [{ op: "put", key: "\ud800", value: "v" }, "InvalidKey"],
      [{ op: "put", key: "k", value: "12345" }, "InvalidValue"],
      [{ op: "put", key: "k", value: "\udc00" }, "InvalidValue"],
      [{ op: "put", key: "k", value: "v", expectedModRevision: -1 }, "InvalidRevision"],
      [{ op: "put", key: "k", value: "v", expectedModRevision: 1.5 }, "InvalidRevision"],
      [{ op: "delete", key: "" }, "InvalidKey"],
      [{ op: "delete", key: "k", expectedModRevision: Number.NaN }, "InvalidRevision"],
      [{ op: "get", key: "" }, "InvalidKey"],
      [{ op: "list", prefix: "\u0001" }, "InvalidPrefix"],
      [{ op: "list", prefix: "", limit: 0 }, "InvalidLimit"],
      [{ op: "list", prefix: "", limit: 6 }, "InvalidLimit"],
      [{ op: "list", prefix: "", startAfter: "" }, "InvalidKey"],
    ] as const;
    for (const [command, code] of cases) {
      expect(driver.run(command), JSON.stringify(command)).toMatchObject({ ok: false, code });
    }
    expect(driver.run({ op: "put", key: "k", value: "\n\u0000éé" })).toMatchObject({
      ok: false,
      code: "InvalidValue",
    });
    expect(driver.run({ op: "put", key: "k", value: "\n\u0000" })).toMatchObject({ ok: true });
    expect(driver.run({ op: "put", key: "\u{1F600}\u{1F600}", value: "" })).toMatchObject({ ok: true });
    expect(driver.machine.revision).toBe(2);
    expect(driver.machine.changesSince({ fromRevision: 1 })).toMatchObject({ events: [{ key: "k" }, {}] });
  });

  it("refuses new keys beyond keysMax but still updates and deletes existing ones", () => {
    const driver = new TestDriver({ keysMax: 2 });
    driver.run({ op: "put", key: "a", value: "1" });
    driver.run({ op: "put", key: "b", value: "1" });
    expect(driver.run({ op: "put", key: "c", value: "1" })).toMatchObject({ ok: false, code: "TooManyKeys" });
    expect(driver.run({ op: "put", key: "a", value: "2" })).toMatchObject({ ok: true });
    driver.run({ op: "delete", key: "b" });
    expect(driver.run({ op: "put", key: "c", value: "1" })).toMatchObject({ ok: true });
  });

  it("keys and values cannot be changed through returned results", () => {
    const driver = new TestDriver();
    driver.run({ op: "put", key: "a", value: "1" });
    const entry = expectOk(driver.machine.get("a")).entry;
    expect(Object.isFrozen(entry)).toBe(true);
    expect(Object.isFrozen(expectOk(driver.machine.list({ prefix: "" })).entries)).toBe(true);
  });
});
