// The simulator's own guarantees: a seed replays exactly, its parts behave as their
// comments say, and faults really happen (a simulator that injects nothing proves nothing).
import { describe, expect, it } from "vitest";
import { SimCluster } from "./cluster.ts";
import { EventQueue } from "./eventQueue.ts";
import { Prng } from "./prng.ts";
import { optionsForSeed } from "./seed.ts";
import { SimDisk } from "./simDisk.ts";

describe("Prng", () => {
  it("gives the same sequence for the same seed, another for another", () => {
    const draw = (seed: number) =>
      Array.from({ length: 5 }, (_, index, prng = new Prng(seed)) => prng.nextUint32() + index);
    const first = new Prng(42);
    const second = new Prng(42);
    const third = new Prng(43);
    const sequence = (prng: Prng) => Array.from({ length: 8 }, () => prng.nextUint32());
    expect(sequence(first)).toEqual(sequence(second));
    expect(sequence(new Prng(42))).not.toEqual(sequence(third));
    expect(draw(1)).toHaveLength(5);
  });

  it("stays within bounds", () => {
    const prng = new Prng(7);
    for (let i = 0; i < 1000; i += 1) {
      const value = prng.between(3, 5);
      expect(value).toBeGreaterThanOrEqual(3);
      expect(value).toBeLessThanOrEqual(5);
      expect(prng.next()).toBeLessThan(1);
    }
  });
});

describe("EventQueue", () => {
  it("pops by time, and in insertion order at equal times", () => {
    const queue = new EventQueue<string>();
    queue.push(5, "c");
    queue.push(1, "a");
    queue.push(5, "d");
    queue.push(3, "b");
    const order: string[] = [];
    for (let next = queue.pop(); next !== undefined; next = queue.pop()) order.push(next.event);
    expect(order).toEqual(["a", "b", "c", "d"]);
  });
});

describe("SimDisk", () => {
  it("loses unsynced writes on a crash, except a torn prefix", () => {
    const disk = new SimDisk();
    const configuration = { voters: ["a#1"], learners: [], fenced: [], evicted: [] };
    disk.write([
      { kind: "snapshot", snapshot: { index: 0, configuration, stateMachine: new Uint8Array() } },
      { kind: "hardState", hardState: { promised: { round: 1, proposer: "a#1" }, committedThrough: 0 } },
    ]);
    disk.sync();
    const ballot = { round: 1, proposer: "a#1" };
    disk.write([
      { kind: "entry", entry: { slot: 1, ballot, value: { kind: "noop" } } },
      { kind: "entry", entry: { slot: 2, ballot, value: { kind: "noop" } } },
      { kind: "hardState", hardState: { promised: { round: 2, proposer: "a#1" }, committedThrough: 2 } },
    ]);
    disk.crash(1);
    const state = disk.load();
    expect(state?.entries.map((entry) => entry.slot)).toEqual([1]);
    expect(state?.hardState.promised.round).toBe(1);
  });
});

describe("SimCluster", () => {
  it("replays a seed exactly", () => {
    const options = { ...optionsForSeed(5), faultPhaseMs: 1_500, livenessDeadlineMs: 2_000 };
    const first = new SimCluster(options).run();
    const second = new SimCluster(options).run();
    expect(second.stats).toEqual(first.stats);
    expect(second.kvHistory).toEqual(first.kvHistory);
    expect(second.lockHistory).toEqual(first.lockHistory);
    expect(first.violations).toEqual([]);
  });

  it("injects the faults it promises and still checks the run", () => {
    const totals = { crashes: 0, partitions: 0, messagesDropped: 0, configChanges: 0, opsCompleted: 0 };
    for (const seed of [1, 2, 3, 6]) {
      const result = new SimCluster({
        ...optionsForSeed(seed),
        faultPhaseMs: 2_000,
        livenessDeadlineMs: 3_000,
      }).run();
      expect(result.violations).toEqual([]);
      for (const name of Object.keys(totals) as (keyof typeof totals)[])
        totals[name] += result.stats[name] ?? 0;
    }
    expect(totals.crashes).toBeGreaterThan(0);
    expect(totals.partitions).toBeGreaterThan(0);
    expect(totals.messagesDropped).toBeGreaterThan(0);
    expect(totals.configChanges).toBeGreaterThan(0);
    expect(totals.opsCompleted).toBeGreaterThan(100);
  });
});
