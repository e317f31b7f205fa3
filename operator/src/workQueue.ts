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
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  readonly #backoff: BackoffOptions;
  #shutDown = false;

  constructor(backoff: BackoffOptions = defaultBackoff) {
    this.#backoff = backoff;
  }

  /** Keys waiting for a worker or for their backoff to pass. */
  get depth(): number {
    return this.#queued.length + this.#timers.size;
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

  /** Adds the key after `delayMs`, unless an earlier delayed add is already pending. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shutDown || this.#timers.has(key)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    this.#timers.set(key, timer);
  }

  /** Retries the key after its backoff; returns the delay chosen. */
  addRateLimited(key: string): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const delayMs = backoffDelayMs(failures, this.#backoff);
    this.addAfter(key, delayMs);
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
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#queued.length = 0;
    this.#queuedSet.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }
}
