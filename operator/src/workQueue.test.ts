import { afterEach, describe, expect, it, vi } from "vitest";
import { backoffDelayMs, WorkQueue } from "./workQueue.ts";

describe("backoffDelayMs", () => {
  it("doubles from the base delay up to the cap", () => {
    const options = { baseDelayMs: 500, maxDelayMs: 60_000 };
    expect([1, 2, 3, 4, 8, 100].map((failures) => backoffDelayMs(failures, options))).toEqual([
      500, 1000, 2000, 4000, 60_000, 60_000,
    ]);
    expect(backoffDelayMs(0, options)).toBe(0);
  });
});

describe("WorkQueue", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("queues a key once, and requeues a key added while it is being processed", async () => {
    const queue = new WorkQueue();
    queue.add("a/x");
    queue.add("a/x");
    queue.add("a/y");
    expect(queue.depth).toBe(2);
    expect(await queue.get()).toBe("a/x");
    queue.add("a/x");
    expect(await queue.get()).toBe("a/y");
    expect(queue.depth).toBe(0);
    queue.done("a/x");
    expect(await queue.get()).toBe("a/x");
    queue.shutDown();
    expect(await queue.get()).toBeUndefined();
  });

  it("hands a key to a waiting worker, and wakes waiters on shutdown", async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.add("a/x");
    expect(await waiting).toBe("a/x");
    const idle = queue.get();
    queue.shutDown();
    queue.shutDown();
    expect(await idle).toBeUndefined();
  });

  it("retries a failing key with growing delays, reset by forget", () => {
    vi.useFakeTimers();
    const queue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect(queue.addRateLimited("a/x")).toBe(100);
    expect(queue.depth).toBe(1);
    vi.advanceTimersByTime(100);
    expect(queue.addRateLimited("a/x")).toBe(200);
    queue.forget("a/x");
    vi.advanceTimersByTime(200);
    expect(queue.addRateLimited("a/x")).toBe(100);
    queue.shutDown();
    expect(queue.depth).toBe(0);
  });

  it("keeps the earlier of two delayed adds and leaves scheduled looks out of the depth", async () => {
    vi.useFakeTimers();
    const queue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
    queue.addAfter("a/x", 10_000);
    expect(queue.depth).toBe(0);
    queue.addAfter("a/x", 50);
    vi.advanceTimersByTime(50);
    expect(queue.depth).toBe(1);
    expect(await queue.get()).toBe("a/x");
    queue.done("a/x");
    // The 10 s look was replaced, not kept: nothing comes back later.
    vi.advanceTimersByTime(20_000);
    expect(queue.depth).toBe(0);
    queue.addAfter("a/y", 10_000);
    expect(queue.addRateLimited("a/y")).toBe(100);
    expect(queue.depth).toBe(1);
    queue.shutDown();
    vi.useRealTimers();
  });
});
