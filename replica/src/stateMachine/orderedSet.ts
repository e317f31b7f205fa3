import { assert } from "./assert.ts";

/**
 * A sorted set kept as a list of sorted chunks (the layout of Python's `sortedcontainers`):
 * insert and delete cost a binary search plus a splice inside one chunk of at most
 * `chunkLengthMax` values, instead of a splice of the whole array (which costs milliseconds at
 * a million keys). The chunking depends on the order of operations, so the set is a derived
 * index: owners rebuild it from their authoritative state on restore and never serialize it.
 */
export class OrderedSet<T> {
  static readonly chunkLengthMax = 512;

  readonly #compare: (left: T, right: T) => number;
  // Invariant: no chunk is empty; every chunk is sorted; the last value of chunk i sorts before
  // the first value of chunk i + 1.
  readonly #chunks: T[][] = [];
  #size = 0;

  constructor(compare: (left: T, right: T) => number) {
    this.#compare = compare;
  }

  get size(): number {
    return this.#size;
  }

  first(): T | undefined {
    return this.#chunks[0]?.[0];
  }

  /** Adds `value`; returns false (and changes nothing) when an equal value is present. */
  add(value: T): boolean {
    const chunkIndex = Math.min(this.#chunkIndexFor(value), this.#chunks.length - 1);
    const chunk = this.#chunks[chunkIndex];
    if (chunk === undefined) {
      this.#chunks.push([value]);
      this.#size = 1;
      return true;
    }
    const position = this.#lowerBound(chunk, value);
    const found = chunk[position];
    if (found !== undefined && this.#compare(found, value) === 0) return false;
    chunk.splice(position, 0, value);
    this.#size += 1;
    if (chunk.length > OrderedSet.chunkLengthMax) {
      this.#chunks.splice(chunkIndex + 1, 0, chunk.splice(chunk.length >> 1));
    }
    return true;
  }

  /** Deletes the value equal to `value`; returns false when there is none. */
  delete(value: T): boolean {
    const chunkIndex = this.#chunkIndexFor(value);
    const chunk = this.#chunks[chunkIndex];
    if (chunk === undefined) return false;
    const position = this.#lowerBound(chunk, value);
    const found = chunk[position];
    if (found === undefined || this.#compare(found, value) !== 0) return false;
    chunk.splice(position, 1);
    this.#size -= 1;
    if (chunk.length === 0) {
      this.#chunks.splice(chunkIndex, 1);
    } else {
      // Merge a small chunk into its successor so that deletions cannot leave many tiny chunks.
      const next = this.#chunks[chunkIndex + 1];
      if (next !== undefined && chunk.length + next.length <= OrderedSet.chunkLengthMax >> 1) {
        chunk.push(...next);
        this.#chunks.splice(chunkIndex + 1, 1);
      }
    }
    return true;
  }

  /** Values in ascending order, starting at the first value >= `bound` (> `bound` when `exclusive`). */
  *valuesFrom(bound: T, exclusive: boolean): Generator<T, void, undefined> {
    let chunkIndex = this.#chunkIndexFor(bound);
    const startChunk = this.#chunks[chunkIndex];
    if (startChunk === undefined) return;
    let position = this.#lowerBound(startChunk, bound);
    const atBound = startChunk[position];
    if (exclusive && atBound !== undefined && this.#compare(atBound, bound) === 0) position += 1;
    for (; chunkIndex < this.#chunks.length; chunkIndex += 1, position = 0) {
      const chunk = this.#chunks[chunkIndex];
      assert(chunk !== undefined, "chunk index within bounds");
      for (; position < chunk.length; position += 1) {
        const value = chunk[position];
        assert(value !== undefined, "chunk position within bounds");
        yield value;
      }
    }
  }

  *values(): Generator<T, void, undefined> {
    for (const chunk of this.#chunks) yield* chunk;
  }

  /** The index of the first chunk whose last value is >= `value` (chunks.length when none is). */
  #chunkIndexFor(value: T): number {
    let low = 0;
    let high = this.#chunks.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const last = this.#chunks[middle]?.at(-1);
      assert(last !== undefined, "chunks are never empty");
      if (this.#compare(last, value) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  #lowerBound(chunk: readonly T[], value: T): number {
    let low = 0;
    let high = chunk.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const candidate = chunk[middle];
      assert(candidate !== undefined, "binary search stays within the chunk");
      if (this.#compare(candidate, value) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
