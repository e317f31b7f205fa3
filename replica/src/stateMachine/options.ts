import { InvalidOptionsError } from "./errors.ts";

/**
 * Limits of the state machine. Every replica must apply entries with the same limits, or their
 * states diverge: the options are stored in the snapshot, and a restored state machine uses the
 * options of its snapshot.
 */
export interface StateMachineOptions {
  /** Longest key, lock name or list prefix, in bytes of UTF-8. */
  readonly keyBytesMax: number;
  /** Largest value, in bytes of UTF-8. */
  readonly valueBytesMax: number;
  /** Most keys the store holds; a put of a new key beyond it fails with `TooManyKeys`. */
  readonly keysMax: number;
  /** Largest `limit` of a list or a change-feed read. */
  readonly readLimitMax: number;
  /**
   * Most bytes (UTF-8 of keys and values) one list or change-feed read returns; a read stops
   * early (with `more` or a `nextRevision` to resume from) but always returns at least one item.
   */
  readonly readBytesMax: number;
  /** Most change events retained for watches; older ones are compacted. */
  readonly historyEventsMax: number;
  /** Most bytes of change events retained (UTF-8 of keys and values, plus a fixed overhead per event). */
  readonly historyBytesMax: number;
  /** Most locks held at once; an acquire beyond it fails with `TooManyLocks`. */
  readonly locksMax: number;
  readonly lockTtlMsMin: number;
  readonly lockTtlMsMax: number;
  /** Longest lock owner, in bytes of UTF-8. */
  readonly ownerBytesMax: number;
  /** Longest client id of a request, in bytes of UTF-8. */
  readonly clientIdBytesMax: number;
  /** Most client sessions remembered for exactly-once requests; the least recently used is evicted. */
  readonly sessionsMax: number;
}

export const defaultStateMachineOptions: StateMachineOptions = Object.freeze({
  keyBytesMax: 1024,
  valueBytesMax: 1024 * 1024,
  keysMax: 1_000_000,
  readLimitMax: 10_000,
  readBytesMax: 16 * 1024 * 1024,
  historyEventsMax: 10_000,
  historyBytesMax: 64 * 1024 * 1024,
  locksMax: 100_000,
  lockTtlMsMin: 1_000,
  lockTtlMsMax: 60 * 60 * 1_000,
  ownerBytesMax: 256,
  clientIdBytesMax: 128,
  sessionsMax: 10_000,
});

/** Fills in defaults and checks every limit; throws `InvalidOptionsError` on a bad one. */
export function resolveOptions(overrides: Readonly<Record<string, unknown>>): StateMachineOptions {
  for (const name of Object.keys(overrides)) {
    if (!Object.hasOwn(defaultStateMachineOptions, name))
      throw new InvalidOptionsError(`unknown option "${name}"`);
  }
  const read = (name: keyof StateMachineOptions): number => {
    const value = overrides[name] ?? defaultStateMachineOptions[name];
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
      throw new InvalidOptionsError(`${name} must be a positive integer, got ${String(value)}`);
    }
    return value;
  };
  // Spelled out, so that the property order (which the snapshot bytes depend on) is fixed.
  const options: StateMachineOptions = {
    keyBytesMax: read("keyBytesMax"),
    valueBytesMax: read("valueBytesMax"),
    keysMax: read("keysMax"),
    readLimitMax: read("readLimitMax"),
    readBytesMax: read("readBytesMax"),
    historyEventsMax: read("historyEventsMax"),
    historyBytesMax: read("historyBytesMax"),
    locksMax: read("locksMax"),
    lockTtlMsMin: read("lockTtlMsMin"),
    lockTtlMsMax: read("lockTtlMsMax"),
    ownerBytesMax: read("ownerBytesMax"),
    clientIdBytesMax: read("clientIdBytesMax"),
    sessionsMax: read("sessionsMax"),
  };
  if (options.lockTtlMsMin > options.lockTtlMsMax) {
    throw new InvalidOptionsError(
      `lockTtlMsMin (${options.lockTtlMsMin}) must not exceed lockTtlMsMax (${options.lockTtlMsMax})`,
    );
  }
  return Object.freeze(options);
}
