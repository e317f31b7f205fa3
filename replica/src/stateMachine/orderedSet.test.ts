import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OrderedSet } from "./orderedSet.ts";

const compareNumbers = (left: number, right: number) => left - right;

describe("OrderedSet", () => {
  it("behaves like a sorted array under random adds and deletes, across chunk splits and merges", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 })), { maxLength: 3000 }),
        fc.integer({ min: -1, max: 3001 }),
        (operations, bound) => {
          const set = new OrderedSet(compareNumbers);
          const model = new Set<number>();
          for (const [isAdd, value] of operations) {
            if (isAdd) {
              expect(set.add(value)).toBe(!model.has(value));
              model.add(value);
            } else {
              expect(set.delete(value)).toBe(model.has(value));
              model.delete(value);
            }
          }
          const sorted = [...model].sort(compareNumbers);
          expect(set.size).toBe(sorted.length);
          expect([...set.values()]).toEqual(sorted);
          expect(set.first()).toBe(sorted[0]);
          expect([...set.valuesFrom(bound, false)]).toEqual(sorted.filter((value) => value >= bound));
          expect([...set.valuesFrom(bound, true)]).toEqual(sorted.filter((value) => value > bound));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("stays sorted through many chunk splits and merges", () => {
    const set = new OrderedSet(compareNumbers);
    // A fixed permutation of 0..9999 (7919 is prime to 10000).
    const values = Array.from({ length: 10_000 }, (_, index) => (index * 7919) % 10_000);
    for (const value of values) set.add(value);
    expect([...set.values()]).toEqual(Array.from({ length: 10_000 }, (_, index) => index));
    for (const value of values) if (value % 10 !== 0) expect(set.delete(value)).toBe(true);
    expect([...set.values()]).toEqual(Array.from({ length: 1_000 }, (_, index) => index * 10));
    expect([...set.valuesFrom(4_995, false)].slice(0, 2)).toEqual([5_000, 5_010]);
  });

  it("starts empty", () => {
    const set = new OrderedSet(compareNumbers);
    expect(set.first()).toBeUndefined();
    expect([...set.valuesFrom(0, false)]).toEqual([]);
    expect(set.delete(1)).toBe(false);
  });
});
