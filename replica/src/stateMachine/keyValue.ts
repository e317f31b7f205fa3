import { assert } from "./assert.ts";
import type { ChangeFeed } from "./changeFeed.ts";
import type { ListQuery } from "./commands.ts";
import type { StateMachineOptions } from "./options.ts";
import { OrderedSet } from "./orderedSet.ts";
import {
  type DeleteResult,
  failure,
  type GetResult,
  type KeyValueEntry,
  type ListResult,
  type PutResult,
  type RevisionMismatch,
} from "./results.ts";
import { scanWindowFailure } from "./scanQuery.ts";
import { snapshotCheck } from "./snapshotFields.ts";
import { compareKeys, isSafeIntegerAtLeast, textProblem, utf8ByteLength } from "./text.ts";

interface StoredEntry {
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
}

/**
 * Keys with revisions, etcd-like without multi-version history: each key holds its latest value
 * and the revisions of its creation and last change. Mutations take their revision from the
 * change feed, which also records the event for watches.
 */
export class KeyValueStore {
  private readonly options: StateMachineOptions;
  private readonly feed: ChangeFeed;
  // Invariant: createRevision <= modRevision <= feed.revision and version >= 1 for every entry.
  private readonly entries = new Map<string, StoredEntry>();
  // Derived index of the keys of `entries`, in key order; rebuilt on restore.
  readonly #orderedKeys = new OrderedSet<string>(compareKeys);

  constructor(options: StateMachineOptions, feed: ChangeFeed) {
    this.options = options;
    this.feed = feed;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): GetResult {
    const keyProblem = this.#keyProblem(key, "key");
    if (keyProblem !== undefined) return failure("InvalidKey", keyProblem);
    const stored = this.entries.get(key);
    return Object.freeze({
      ok: true,
      revision: this.feed.revision,
      entry: stored === undefined ? null : toEntry(key, stored),
    });
  }

  put(key: string, value: string, expectedModRevision: number | undefined): PutResult {
    const keyProblem = this.#keyProblem(key, "key");
    if (keyProblem !== undefined) return failure("InvalidKey", keyProblem);
    const valueProblem = textProblem(value, {
      what: "value",
      bytesMax: this.options.valueBytesMax,
      allowEmpty: true,
      allowControlCharacters: true,
    });
    if (valueProblem !== undefined) return failure("InvalidValue", valueProblem);
    if (expectedModRevision !== undefined && !isSafeIntegerAtLeast(expectedModRevision, 0)) {
      return failure("InvalidRevision", "expectedModRevision must be an integer >= 0");
    }
    const previous = this.entries.get(key);
    const mismatch = revisionMismatch(key, previous, expectedModRevision);
    if (mismatch !== undefined) return mismatch;
    if (previous === undefined && this.entries.size >= this.options.keysMax) {
      return failure("TooManyKeys", `the store holds its limit of ${this.options.keysMax} keys`);
    }
    const revision = this.feed.record({
      namespace: "kv",
      type: "put",
      key,
      value,
      ...(previous === undefined ? {} : { prevValue: previous.value }),
    });
    const stored: StoredEntry = Object.freeze({
      value,
      createRevision: previous?.createRevision ?? revision,
      modRevision: revision,
      version: (previous?.version ?? 0) + 1,
    });
    this.entries.set(key, stored);
    if (previous === undefined) assert(this.#orderedKeys.add(key), "a new key is not yet in the key index");
    return Object.freeze({
      ok: true,
      revision,
      createRevision: stored.createRevision,
      version: stored.version,
    });
  }

  delete(key: string, expectedModRevision: number | undefined): DeleteResult {
    const keyProblem = this.#keyProblem(key, "key");
    if (keyProblem !== undefined) return failure("InvalidKey", keyProblem);
    if (expectedModRevision !== undefined && !isSafeIntegerAtLeast(expectedModRevision, 0)) {
      return failure("InvalidRevision", "expectedModRevision must be an integer >= 0");
    }
    const previous = this.entries.get(key);
    const mismatch = revisionMismatch(key, previous, expectedModRevision);
    if (mismatch !== undefined) return mismatch;
    if (previous === undefined)
      return Object.freeze({ ok: true, revision: this.feed.revision, deleted: false });
    const revision = this.feed.record({ namespace: "kv", type: "delete", key, prevValue: previous.value });
    this.entries.delete(key);
    assert(this.#orderedKeys.delete(key), "a stored key is in the key index");
    return Object.freeze({ ok: true, revision, deleted: true });
  }

  list(query: ListQuery): ListResult {
    const { prefix, limit = this.options.readLimitMax, startAfter } = query;
    const windowFailure = scanWindowFailure(prefix, limit, this.options);
    if (windowFailure !== undefined) return windowFailure;
    if (startAfter !== undefined) {
      const startProblem = this.#keyProblem(startAfter, "startAfter");
      if (startProblem !== undefined) return failure("InvalidKey", startProblem);
    }
    const entries: KeyValueEntry[] = [];
    let bytes = 0;
    let more = false;
    const resumeAfterStart = startAfter !== undefined && compareKeys(startAfter, prefix) >= 0;
    for (const key of this.#orderedKeys.valuesFrom(
      resumeAfterStart ? startAfter : prefix,
      resumeAfterStart,
    )) {
      if (!key.startsWith(prefix)) break;
      const stored = this.entries.get(key);
      assert(stored !== undefined, "every indexed key is stored");
      const entryBytes = utf8ByteLength(key) + utf8ByteLength(stored.value);
      if (
        entries.length === limit ||
        (entries.length > 0 && bytes + entryBytes > this.options.readBytesMax)
      ) {
        more = true;
        break;
      }
      entries.push(toEntry(key, stored));
      bytes += entryBytes;
    }
    return Object.freeze({ ok: true, revision: this.feed.revision, entries: Object.freeze(entries), more });
  }

  /** Every entry in key order, for the snapshot. */
  exportState(): KeyValueEntry[] {
    const entries: KeyValueEntry[] = [];
    for (const key of this.#orderedKeys.values()) {
      const stored = this.entries.get(key);
      assert(stored !== undefined, "every indexed key is stored");
      entries.push(toEntry(key, stored));
    }
    return entries;
  }

  /** Loads a snapshot's entries (in key order) into this empty store; throws `InvalidSnapshotError`. */
  importState(entries: readonly KeyValueEntry[]): void {
    assert(this.entries.size === 0, "import into an empty store");
    let previousKey: string | undefined;
    for (const entry of entries) {
      snapshotCheck(
        previousKey === undefined || compareKeys(previousKey, entry.key) < 0,
        "keys must be unique and in key order",
      );
      snapshotCheck(
        this.#keyProblem(entry.key, "key") === undefined,
        `key ${JSON.stringify(entry.key)} is invalid`,
      );
      snapshotCheck(
        entry.version >= 1 &&
          entry.createRevision >= 1 &&
          entry.createRevision <= entry.modRevision &&
          entry.modRevision <= this.feed.revision,
        `revisions of key ${JSON.stringify(entry.key)} are inconsistent`,
      );
      this.entries.set(
        entry.key,
        Object.freeze({
          value: entry.value,
          createRevision: entry.createRevision,
          modRevision: entry.modRevision,
          version: entry.version,
        }),
      );
      this.#orderedKeys.add(entry.key);
      previousKey = entry.key;
    }
    snapshotCheck(this.entries.size <= this.options.keysMax, "the store exceeds keysMax");
  }

  #keyProblem(key: unknown, what: string): string | undefined {
    return textProblem(key, {
      what,
      bytesMax: this.options.keyBytesMax,
      allowEmpty: false,
      allowControlCharacters: false,
    });
  }
}

function toEntry(key: string, stored: StoredEntry): KeyValueEntry {
  return Object.freeze({
    key,
    value: stored.value,
    createRevision: stored.createRevision,
    modRevision: stored.modRevision,
    version: stored.version,
  });
}

function revisionMismatch(
  key: string,
  previous: StoredEntry | undefined,
  expectedModRevision: number | undefined,
): RevisionMismatch | undefined {
  if (expectedModRevision === undefined) return undefined;
  const currentRevision = previous?.modRevision ?? 0;
  if (currentRevision === expectedModRevision) return undefined;
  return Object.freeze({
    ok: false,
    code: "RevisionMismatch",
    message:
      currentRevision === 0
        ? `key ${JSON.stringify(key)} does not exist; expected modRevision ${expectedModRevision}`
        : `key ${JSON.stringify(key)} has modRevision ${currentRevision}; expected ${expectedModRevision}`,
    currentRevision,
  });
}
