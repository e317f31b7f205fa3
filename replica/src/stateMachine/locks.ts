import { assert, assertSafeInteger } from "./assert.ts";
import type { ChangeFeed } from "./changeFeed.ts";
import type { StateMachineOptions } from "./options.ts";
import { OrderedSet } from "./orderedSet.ts";
import {
  type AcquireResult,
  failure,
  type GetLockResult,
  type InputFailure,
  type LockInfo,
  type LockNotHeld,
  type NotLockHolder,
  type ReleaseResult,
  type RenewResult,
  type TokenMismatch,
} from "./results.ts";
import { snapshotCheck } from "./snapshotFields.ts";
import { compareKeys, isSafeIntegerAtLeast, textProblem } from "./text.ts";

interface LockState {
  readonly owner: string;
  readonly token: number;
  readonly expiresAtMs: number;
}

interface ExpiryKey {
  readonly expiresAtMs: number;
  readonly name: string;
}

/** Locks expire in order of expiry time, and by name among locks that expire at the same time. */
function compareExpiry(left: ExpiryKey, right: ExpiryKey): number {
  return left.expiresAtMs - right.expiresAtMs || compareKeys(left.name, right.name);
}

/**
 * Named locks with TTL leases and fencing tokens, in their own namespace (a lock "x" and a key
 * "x" are unrelated).
 *
 * - A grant is a mutation: it records a lock "put" event (value: the owner), and the fencing token
 *   is that event's revision. Revisions only grow and the state machine is replicated, so a later
 *   grant of the same lock always has a larger token, across leader changes and restarts.
 * - Acquire by the current holder is re-entrant: it extends the lease to now + ttlMs and returns
 *   the same token (`alreadyHeld: true`). Renew does the same when the caller also names its
 *   token. Neither is a mutation: the holder and token do not change, so watchers see nothing and
 *   the revision does not move.
 * - Release and expiry are mutations: each records a lock "delete" event (prevValue: the owner).
 * - Time comes only from the log: before each entry is applied, every lock whose expiresAtMs is
 *   <= the entry's time expires, in order of (expiresAtMs, name).
 */
export class LockTable {
  private readonly options: StateMachineOptions;
  private readonly feed: ChangeFeed;
  // Invariant: token <= feed.revision for every lock.
  private readonly locks = new Map<string, LockState>();
  // Derived index of `locks` by expiry; rebuilt on restore.
  readonly #expiryOrder = new OrderedSet<ExpiryKey>(compareExpiry);

  constructor(options: StateMachineOptions, feed: ChangeFeed) {
    this.options = options;
    this.feed = feed;
  }

  get size(): number {
    return this.locks.size;
  }

  acquire(name: string, owner: string, ttlMs: number, nowMs: number): AcquireResult {
    const problem = this.#nameProblem(name) ?? this.#ownerProblem(owner) ?? this.#ttlProblem(ttlMs);
    if (problem !== undefined) return problem;
    const held = this.locks.get(name);
    if (held !== undefined && held.owner !== owner) {
      return Object.freeze({
        ok: false,
        code: "LockHeld",
        message: `lock ${JSON.stringify(name)} is held by ${JSON.stringify(held.owner)} until ${held.expiresAtMs} ms`,
        holder: held.owner,
        expiresAtMs: held.expiresAtMs,
      });
    }
    if (held !== undefined) {
      const extended = this.#extend(name, held, nowMs + ttlMs);
      return Object.freeze({
        ok: true,
        revision: this.feed.revision,
        token: extended.token,
        expiresAtMs: extended.expiresAtMs,
        alreadyHeld: true,
      });
    }
    if (this.locks.size >= this.options.locksMax) {
      return failure("TooManyLocks", `the state machine holds its limit of ${this.options.locksMax} locks`);
    }
    const expiresAtMs = nowMs + ttlMs;
    assertSafeInteger(expiresAtMs, "expiresAtMs", 0);
    const token = this.feed.record({ namespace: "lock", type: "put", key: name, value: owner });
    const granted: LockState = Object.freeze({ owner, token, expiresAtMs });
    this.locks.set(name, granted);
    assert(
      this.#expiryOrder.add({ expiresAtMs: granted.expiresAtMs, name }),
      "a new lock is not yet in the expiry index",
    );
    return Object.freeze({
      ok: true,
      revision: token,
      token,
      expiresAtMs: granted.expiresAtMs,
      alreadyHeld: false,
    });
  }

  renew(name: string, owner: string, token: number, ttlMs: number, nowMs: number): RenewResult {
    const problem = this.#holderProblem(name, owner, token) ?? this.#ttlProblem(ttlMs);
    if (problem !== undefined) return problem;
    const held = this.locks.get(name);
    assert(held !== undefined, "the holder's lock exists");
    const extended = this.#extend(name, held, nowMs + ttlMs);
    return Object.freeze({
      ok: true,
      revision: this.feed.revision,
      token: extended.token,
      expiresAtMs: extended.expiresAtMs,
    });
  }

  release(name: string, owner: string, token: number): ReleaseResult {
    const problem = this.#holderProblem(name, owner, token);
    if (problem !== undefined) return problem;
    return Object.freeze({ ok: true, revision: this.#remove(name) });
  }

  get(name: string): GetLockResult {
    const problem = this.#nameProblem(name);
    if (problem !== undefined) return problem;
    const held = this.locks.get(name);
    return Object.freeze({
      ok: true,
      revision: this.feed.revision,
      lock: held === undefined ? null : toLockInfo(name, held),
    });
  }

  /** Expires every lock whose lease ended at or before `nowMs`; returns how many expired. */
  expire(nowMs: number): number {
    let expired = 0;
    for (let next = this.#expiryOrder.first(); next !== undefined && next.expiresAtMs <= nowMs; ) {
      this.#remove(next.name);
      expired += 1;
      next = this.#expiryOrder.first();
    }
    return expired;
  }

  /** Every lock in name order, for the snapshot. */
  exportState(): LockInfo[] {
    return [...this.locks.entries()]
      .sort(([left], [right]) => compareKeys(left, right))
      .map(([name, held]) => toLockInfo(name, held));
  }

  /** Loads a snapshot's locks (in name order) into this empty table; throws `InvalidSnapshotError`. */
  importState(locks: readonly LockInfo[]): void {
    assert(this.locks.size === 0, "import into an empty lock table");
    let previousName: string | undefined;
    for (const lock of locks) {
      snapshotCheck(
        previousName === undefined || compareKeys(previousName, lock.name) < 0,
        "locks must be unique and in name order",
      );
      snapshotCheck(
        this.#nameProblem(lock.name) === undefined && this.#ownerProblem(lock.owner) === undefined,
        `lock ${JSON.stringify(lock.name)} has an invalid name or owner`,
      );
      snapshotCheck(
        lock.token >= 1 && lock.token <= this.feed.revision,
        `lock ${JSON.stringify(lock.name)} has a token beyond the revision`,
      );
      this.locks.set(
        lock.name,
        Object.freeze({ owner: lock.owner, token: lock.token, expiresAtMs: lock.expiresAtMs }),
      );
      this.#expiryOrder.add({ expiresAtMs: lock.expiresAtMs, name: lock.name });
      previousName = lock.name;
    }
    snapshotCheck(this.locks.size <= this.options.locksMax, "the lock table exceeds locksMax");
  }

  #extend(name: string, held: LockState, expiresAtMs: number): LockState {
    assertSafeInteger(expiresAtMs, "expiresAtMs", 0);
    const extended: LockState = Object.freeze({ owner: held.owner, token: held.token, expiresAtMs });
    assert(
      this.#expiryOrder.delete({ expiresAtMs: held.expiresAtMs, name }),
      "a held lock is in the expiry index",
    );
    assert(this.#expiryOrder.add({ expiresAtMs, name }), "the extended lock is not yet in the expiry index");
    this.locks.set(name, extended);
    return extended;
  }

  /** Removes a held lock as a mutation and returns its revision. */
  #remove(name: string): number {
    const held = this.locks.get(name);
    assert(held !== undefined, "only a held lock is removed");
    const revision = this.feed.record({
      namespace: "lock",
      type: "delete",
      key: name,
      prevValue: held.owner,
    });
    this.locks.delete(name);
    assert(
      this.#expiryOrder.delete({ expiresAtMs: held.expiresAtMs, name }),
      "a held lock is in the expiry index",
    );
    return revision;
  }

  #holderProblem(
    name: string,
    owner: string,
    token: number,
  ):
    | InputFailure<"InvalidLockName" | "InvalidOwner" | "InvalidToken">
    | LockNotHeld
    | NotLockHolder
    | TokenMismatch
    | undefined {
    const problem = this.#nameProblem(name) ?? this.#ownerProblem(owner);
    if (problem !== undefined) return problem;
    if (!isSafeIntegerAtLeast(token, 1)) return failure("InvalidToken", "token must be an integer >= 1");
    const held = this.locks.get(name);
    if (held === undefined) return failure("LockNotHeld", `lock ${JSON.stringify(name)} is not held`);
    if (held.owner !== owner) {
      return failure("NotLockHolder", `lock ${JSON.stringify(name)} is held by another owner`);
    }
    if (held.token !== token) {
      return failure(
        "TokenMismatch",
        `lock ${JSON.stringify(name)} is held with token ${held.token}, not ${token}: that grant is over`,
      );
    }
    return undefined;
  }

  #nameProblem(name: unknown): InputFailure<"InvalidLockName"> | undefined {
    const problem = textProblem(name, {
      what: "lock name",
      bytesMax: this.options.keyBytesMax,
      allowEmpty: false,
      allowControlCharacters: false,
    });
    return problem === undefined ? undefined : failure("InvalidLockName", problem);
  }

  #ownerProblem(owner: unknown): InputFailure<"InvalidOwner"> | undefined {
    const problem = textProblem(owner, {
      what: "lock owner",
      bytesMax: this.options.ownerBytesMax,
      allowEmpty: false,
      allowControlCharacters: false,
    });
    return problem === undefined ? undefined : failure("InvalidOwner", problem);
  }

  #ttlProblem(ttlMs: unknown): InputFailure<"InvalidTtl"> | undefined {
    const { lockTtlMsMin, lockTtlMsMax } = this.options;
    if (isSafeIntegerAtLeast(ttlMs, lockTtlMsMin) && ttlMs <= lockTtlMsMax) return undefined;
    return failure("InvalidTtl", `ttlMs must be an integer from ${lockTtlMsMin} to ${lockTtlMsMax}`);
  }
}

function toLockInfo(name: string, held: LockState): LockInfo {
  return Object.freeze({ name, owner: held.owner, token: held.token, expiresAtMs: held.expiresAtMs });
}
