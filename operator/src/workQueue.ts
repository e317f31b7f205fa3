// A work queue keyed by cluster ("namespace/name"), like client-go's rate-limited queue:
// a key is queued at most once, never handled by two workers at once, and a key that keeps
// failing is retried with per-key exponential backoff.

export interface BackoffOptions {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const defaultBackoff: BackoffOptions = { baseDelayMs: 500, maxDelayMs: 60_000 };

/** The delay before retry number `failures` (1 for the first retry): base * 2^(failures-1), capped. */
export function backoffDelayMs(failures: number, options: BackoffOptions = defaultBackoff): number {
  if (failures < 1) return 0;
  // 2^30 already exceeds any sensible cap; the exponent is bounded so the number stays exact.
  const exponent = Math.min(failures - 1, 30);
  return Math.min(options.baseDelayMs * 2 ** exponent, options.maxDelayMs);
}

export class WorkQueue {
  /** Keys waiting for a worker, in order. Invariant: no key is both queued and processing. */
  readonly #queued: string[] = [];
  readonly #queuedSet = new Set<string>();
  readonly #processing = new Set<string>();
  /** Keys added while being processed: they go back into the queue when done. */
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  /** Delayed adds: `retry` for a failure's backoff (counted in depth), else a scheduled look. */
  readonly #timers = new Map<string, { timer: NodeJS.Timeout; dueAt: number; retry: boolean }>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  readonly #backoff: BackoffOptions;
  #shutDown = false;

  constructor(backoff: BackoffOptions = defaultBackoff) {
    this.#backoff = backoff;
  }

  /** Keys waiting for a worker or for a failure's backoff to pass (not scheduled looks). */
  get depth(): number {
    let retries = 0;
    for (const pending of this.#timers.values()) if (pending.retry) retries += 1;
    return this.#queued.length + retries;
  }

  add(key: string): void {
    if (this.#shutDown) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queuedSet.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queuedSet.add(key);
    this.#queued.push(key);
  }

  /**
   * Adds the key after `delayMs`. Of two delayed adds of one key, the earlier wins: a
   * scheduled look in 10 s does not postpone a retry due in 1 s, nor the other way round.
   */
  addAfter(key: string, delayMs: number): void {
    this.#addAfter(key, delayMs, false);
  }

  #addAfter(key: string, delayMs: number, retry: boolean): void {
    if (this.#shutDown) return;
    const dueAt = performance.now() + delayMs;
    const pending = this.#timers.get(key);
    if (pending !== undefined) {
      if (pending.dueAt <= dueAt) {
        pending.retry ||= retry;
        return;
      }
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    this.#timers.set(key, { timer, dueAt, retry: retry || pending?.retry === true });
  }

  /** Retries the key after its backoff; returns the delay chosen. */
  addRateLimited(key: string): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const delayMs = backoffDelayMs(failures, this.#backoff);
    this.#addAfter(key, delayMs, true);
    return delayMs;
  }

  /** Resets the key's backoff after a success. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** The next key, once there is one; undefined after shutDown. The caller must call done(key). */
  get(): Promise<string | undefined> {
    if (this.#shutDown) return Promise.resolve(undefined);
    const key = this.#queued.shift();
    if (key !== undefined) {
      this.#queuedSet.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /** Stops handing out keys and cancels pending retries. Safe to call twice. */
  shutDown(): void {
    this.#shutDown = true;
    for (const pending of this.#timers.values()) clearTimeout(pending.timer);
    this.#timers.clear();
    this.#queued.length = 0;
    this.#queuedSet.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }
}
