import { describe, expect, it } from "vitest";
import { checkHistory, type HistoryOperation, pruneUnobservedUnknownWrites } from "./lincheck.ts";

const put = (value: string, output: HistoryOperation["output"], call: number): HistoryOperation => ({
  clientId: 0,
  input: { op: "put", key: "x", value },
  output,
  call,
  return: output === null ? null : call + 5,
});
const get = (value: string | undefined, revision: number, call: number): HistoryOperation => ({
  clientId: 1,
  input: { op: "get", key: "x" },
  output: value === undefined ? { found: false } : { found: true, value, revision },
  call,
  return: call + 5,
});

// The checker itself is tested in Go (hack/lincheck); this checks the TypeScript side
// that the simulator and process tests use: format, exit codes, verdicts.
describe("checkHistory", () => {
  it("accepts a linearizable key-value history", async () => {
    const result = await checkHistory({
      model: "kv",
      operations: [put("a", { revision: 1 }, 0), get("a", 1, 20)],
    });
    expect(result.verdict).toBe("linearizable");
  });

  it("rejects a stale read after a completed write", async () => {
    const result = await checkHistory({
      model: "kv",
      operations: [put("a", { revision: 1 }, 0), put("b", { revision: 2 }, 11), get("a", 1, 20)],
    });
    expect(result.verdict).toBe("not-linearizable");
  });

  it("rejects two holders of one lock", async () => {
    const result = await checkHistory({
      model: "lock",
      operations: [
        {
          clientId: 0,
          input: { op: "acquire", lock: "l", owner: "a" },
          output: { ok: true, token: 5 },
          call: 0,
          return: 10,
        },
        {
          clientId: 1,
          input: { op: "acquire", lock: "l", owner: "b" },
          output: { ok: true, token: 6 },
          call: 20,
          return: 30,
        },
      ],
    });
    expect(result.verdict).toBe("not-linearizable");
  });

  it("reports bad input as an error", async () => {
    await expect(
      checkHistory({
        model: "kv",
        operations: [{ clientId: 0, input: { op: "gte" }, output: {}, call: 0, return: 1 }],
      }),
    ).rejects.toThrow(/unknown op/);
  });
});

describe("pruneUnobservedUnknownWrites", () => {
  it("drops unknown writes nobody read and keeps the ones a read saw", () => {
    const history = [
      put("a", { revision: 1 }, 0),
      put("lost", null, 10),
      put("seen", null, 20),
      get("seen", 7, 40),
      get("a", 1, 1),
    ];
    expect(pruneUnobservedUnknownWrites(history).map((operation) => operation.input.value)).toEqual([
      "a",
      "seen",
      undefined,
      undefined,
    ]);
  });

  it("keeps a history's verdict: a stale read after an acknowledged write is still caught", async () => {
    const result = await checkHistory({
      model: "kv",
      operations: [
        put("a", { revision: 1 }, 0),
        put("b", { revision: 2 }, 10),
        put("never-read", null, 20),
        get("a", 1, 30),
      ],
    });
    expect(result.verdict).toBe("not-linearizable");
  });
});
