import { assert, assertSafeInteger } from "./assert.ts";
import type { ChangesQuery } from "./commands.ts";
import type { StateMachineOptions } from "./options.ts";
import { type ChangeEvent, type ChangeNamespace, type ChangesResult, failure } from "./results.ts";
import { scanWindowFailure } from "./scanQuery.ts";
import { snapshotCheck } from "./snapshotFields.ts";
import { isSafeIntegerAtLeast, utf8ByteLength } from "./text.ts";

/** Per-event overhead counted against `historyBytesMax`, for the fields around key and values. */
export const eventOverheadBytes = 64;

/** The fields of an event that the mutation supplies; the feed assigns the revision. */
export interface Change {
  readonly namespace: ChangeNamespace;
  readonly type: "put" | "delete";
  readonly key: string;
  readonly value?: string;
  readonly prevValue?: string;
}

interface RetainedEvent {
  readonly event: ChangeEvent;
  readonly bytes: number;
}

/**
 * The global revision counter and the bounded history of change events behind watches.
 *
 * Every mutation of the state machine (key put or delete, lock grant, release or expiry) is
 * recorded here and gets the next revision, so that revisions and events correspond one to one:
 * revision r's event is retained until it is compacted, which happens by count and by bytes.
 *
 * Revisions are plain numbers: one per mutation, they stay below 2^53 for 285 years at a million
 * mutations per second; `record` asserts that they stay safe integers.
 */
export class ChangeFeed {
  private readonly options: StateMachineOptions;
  /** The revision of the newest compacted (dropped) event; 0 while nothing was dropped. */
  private compactedRevision = 0;
  /** Bytes of the retained events, as counted against `historyBytesMax`. */
  private retainedBytes = 0;
  // Invariant: #events[#head..] are the retained events, revisions compactedRevision + 1 .. revision.
  // A ring-like array (the consumed prefix is dropped in amortized O(1)), which is physical layout,
  // not state: it is private to the class and rebuilt on restore.
  #events: (RetainedEvent | undefined)[] = [];
  #head = 0;

  constructor(options: StateMachineOptions) {
    this.options = options;
  }

  /** The current revision: the number of mutations ever applied. */
  get revision(): number {
    return this.compactedRevision + this.retainedCount;
  }

  /** The oldest revision a watch can start from. */
  get oldestRevision(): number {
    return this.compactedRevision + 1;
  }

  private get retainedCount(): number {
    return this.#events.length - this.#head;
  }

  /** Appends the event of one mutation and returns its revision. */
  record(change: Change): number {
    const revision = this.revision + 1;
    assertSafeInteger(revision, "revision", 1);
    const event: ChangeEvent = Object.freeze({
      revision,
      namespace: change.namespace,
      type: change.type,
      key: change.key,
      ...(change.value === undefined ? {} : { value: change.value }),
      ...(change.prevValue === undefined ? {} : { prevValue: change.prevValue }),
    });
    this.#append(event);
    this.#compact();
    assert(this.revision === revision, "the recorded event is the newest");
    return revision;
  }

  changesSince(query: ChangesQuery): ChangesResult {
    const { fromRevision, prefix = "", limit = this.options.readLimitMax, namespace = "kv" } = query;
    if (!isSafeIntegerAtLeast(fromRevision, 1)) {
      return failure("InvalidRevision", "fromRevision must be an integer >= 1");
    }
    const windowFailure = scanWindowFailure(prefix, limit, this.options);
    if (windowFailure !== undefined) return windowFailure;
    if (namespace !== "kv" && namespace !== "lock") {
      return failure("InvalidNamespace", 'namespace must be "kv" or "lock"');
    }
    if (fromRevision <= this.compactedRevision) {
      return Object.freeze({
        ok: false,
        code: "Compacted",
        message: `revision ${fromRevision} is compacted; the oldest retained revision is ${this.oldestRevision}`,
        oldestRevision: this.oldestRevision,
        revision: this.revision,
      });
    }
    const events: ChangeEvent[] = [];
    let bytes = 0;
    let nextRevision = Math.max(fromRevision, this.revision + 1);
    for (
      let position = this.#head + (fromRevision - this.oldestRevision);
      position < this.#events.length;
      position += 1
    ) {
      const retained = this.#events[position];
      assert(retained !== undefined, "position within the retained events");
      const { event } = retained;
      if (event.namespace !== namespace || !event.key.startsWith(prefix)) continue;
      if (
        events.length === limit ||
        (events.length > 0 && bytes + retained.bytes > this.options.readBytesMax)
      ) {
        nextRevision = event.revision;
        break;
      }
      events.push(event);
      bytes += retained.bytes;
    }
    return Object.freeze({ ok: true, revision: this.revision, events: Object.freeze(events), nextRevision });
  }

  /** The retained events and the compaction point, for the snapshot. */
  exportState(): { compactedRevision: number; events: ChangeEvent[] } {
    const events: ChangeEvent[] = [];
    for (let position = this.#head; position < this.#events.length; position += 1) {
      const retained = this.#events[position];
      assert(retained !== undefined, "position within the retained events");
      events.push(retained.event);
    }
    return { compactedRevision: this.compactedRevision, events };
  }

  /** Loads a snapshot's state into this empty feed; throws `InvalidSnapshotError` on inconsistent state. */
  importState(compactedRevision: number, events: readonly ChangeEvent[]): void {
    assert(this.revision === 0, "import into an empty change feed");
    this.compactedRevision = compactedRevision;
    for (const event of events) {
      snapshotCheck(event.revision === this.revision + 1, "change events must have consecutive revisions");
      this.#append(event);
    }
    snapshotCheck(
      this.retainedCount <= this.options.historyEventsMax &&
        (this.retainedCount <= 1 || this.retainedBytes <= this.options.historyBytesMax),
      "the change history exceeds its limits",
    );
  }

  #append(event: ChangeEvent): void {
    const bytes =
      eventOverheadBytes +
      utf8ByteLength(event.key) +
      (event.value === undefined ? 0 : utf8ByteLength(event.value)) +
      (event.prevValue === undefined ? 0 : utf8ByteLength(event.prevValue));
    this.#events.push({ event, bytes });
    this.retainedBytes += bytes;
  }

  /** Drops the oldest events beyond the limits, always keeping the newest one. */
  #compact(): void {
    while (
      this.retainedCount > this.options.historyEventsMax ||
      (this.retainedCount > 1 && this.retainedBytes > this.options.historyBytesMax)
    ) {
      const oldest = this.#events[this.#head];
      assert(oldest !== undefined, "a retained event to compact");
      this.#events[this.#head] = undefined;
      this.#head += 1;
      this.compactedRevision = oldest.event.revision;
      this.retainedBytes -= oldest.bytes;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#events.length) {
      this.#events = this.#events.slice(this.#head);
      this.#head = 0;
    }
  }
}
