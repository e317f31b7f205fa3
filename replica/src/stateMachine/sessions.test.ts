import { describe, expect, it } from "vitest";
import { expectOk, TestDriver } from "./testDriver.ts";

describe("client sessions", () => {
  it("answers a duplicate request with the stored result and does not apply it again", () => {
    const driver = new TestDriver();
    const put = { op: "put", key: "counter", value: "1" } as const;
    const first = driver.request("c1", 1, put);
    expect(first).toMatchObject({ ok: true, revision: 1 });
    driver.run({ op: "put", key: "other", value: "x" }, { clientId: "c2" });
    const duplicate = driver.request("c1", 1, put);
    expect(duplicate).toEqual(first);
    expect(driver.machine.revision).toBe(2);
    expect(driver.machine.get("counter")).toMatchObject({ entry: { version: 1, modRevision: 1 } });
  });

  it("returns the stored failure too, even if the state changed since", () => {
    const driver = new TestDriver();
    driver.request("c1", 1, { op: "put", key: "a", value: "1" });
    const failed = driver.request("c1", 2, { op: "put", key: "a", value: "2", expectedModRevision: 0 });
    expect(failed).toMatchObject({ code: "RevisionMismatch" });
    driver.request("c2", 1, { op: "delete", key: "a" });
    expect(driver.request("c1", 2, { op: "put", key: "a", value: "2", expectedModRevision: 0 })).toEqual(
      failed,
    );
    expect(driver.machine.get("a")).toMatchObject({ entry: null });
  });

  it("answers an older sequence with StaleSequence, changing nothing", () => {
    const driver = new TestDriver();
    driver.request("c1", 1, { op: "put", key: "a", value: "1" });
    driver.request("c1", 5, { op: "put", key: "a", value: "5" }); // gaps are allowed
    expect(driver.request("c1", 3, { op: "put", key: "a", value: "3" })).toEqual({
      ok: false,
      code: "StaleSequence",
      message: 'request 3 of client "c1" is older than its last applied request 5',
      lastSequence: 5,
    });
    expect(driver.request("c1", 1, { op: "put", key: "a", value: "1" })).toMatchObject({
      code: "StaleSequence",
    });
    expect(driver.machine.get("a")).toMatchObject({ entry: { value: "5", version: 2 } });
    expect(driver.request("c1", 5, { op: "put", key: "a", value: "5" })).toMatchObject({
      ok: true,
      revision: 2,
    });
  });

  it("reads bypass the session table and answer from the current state", () => {
    const driver = new TestDriver();
    driver.request("c1", 1, { op: "put", key: "a", value: "1" });
    expect(driver.request("c1", 2, { op: "get", key: "a" })).toMatchObject({ entry: { value: "1" } });
    driver.request("c2", 1, { op: "put", key: "a", value: "2" });
    // A retried read answers again from the state at its own log position.
    expect(driver.request("c1", 2, { op: "get", key: "a" })).toMatchObject({ entry: { value: "2" } });
    // The read did not advance the client's sequence: its next mutation may reuse 2.
    expect(driver.request("c1", 2, { op: "put", key: "b", value: "1" })).toMatchObject({ ok: true });
    expect(driver.request("c1", 1, { op: "list", prefix: "" })).toMatchObject({ ok: true });
  });

  it("evicts the least recently applied client when the table is full", () => {
    const driver = new TestDriver({ sessionsMax: 2 });
    const first = driver.request("c1", 1, { op: "put", key: "a", value: "1" });
    driver.request("c2", 1, { op: "put", key: "b", value: "1" });
    driver.request("c1", 2, { op: "put", key: "a", value: "2" }); // c1 is now the most recent
    driver.request("c3", 1, { op: "put", key: "c", value: "1" }); // evicts c2
    expect(driver.request("c1", 2, { op: "put", key: "a", value: "2" })).toMatchObject({ revision: 3 });
    // c2 is forgotten: its retry applies again (why sessionsMax must cover the active clients).
    expect(driver.request("c2", 1, { op: "put", key: "b", value: "1" })).toMatchObject({ revision: 5 });
    expect(expectOk(driver.machine.get("b")).entry?.version).toBe(2);
    expect(first).toMatchObject({ revision: 1 });
  });

  it("refuses a request with a bad client id or sequence, without applying it", () => {
    const driver = new TestDriver({ clientIdBytesMax: 4 });
    const put = { op: "put", key: "a", value: "1" } as const;
    expect(driver.request("", 1, put)).toMatchObject({ code: "InvalidRequest" });
    expect(driver.request("12345", 1, put)).toMatchObject({ code: "InvalidRequest" });
    expect(driver.request("c\n", 1, put)).toMatchObject({ code: "InvalidRequest" });
    expect(driver.request("c", 0, put)).toMatchObject({ code: "InvalidRequest" });
    expect(driver.request("c", 2 ** 53, put)).toMatchObject({ code: "InvalidRequest" });
    expect(driver.machine.revision).toBe(0);
    expect(driver.machine.appliedIndex).toBe(5);
  });
});
