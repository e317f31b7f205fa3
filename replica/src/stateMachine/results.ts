/**
 * Results of commands and reads. Every result is plain data (strings, safe integers, booleans,
 * null, arrays, objects without undefined fields), so it travels as JSON or msgpack unchanged.
 * Success has `ok: true`; an expected failure has `ok: false` and a stable `code` (the HTTP layer
 * maps codes to statuses) plus a `message` for people. Results are frozen: they may be stored in
 * the session table and returned again for a duplicate request.
 */

/** Malformed input: the command changed nothing. */
export type InputFailureCode =
  | "InvalidCommand"
  | "InvalidRequest"
  | "InvalidKey"
  | "InvalidValue"
  | "InvalidPrefix"
  | "InvalidLimit"
  | "InvalidRevision"
  | "InvalidNamespace"
  | "InvalidLockName"
  | "InvalidOwner"
  | "InvalidTtl"
  | "InvalidToken";

export interface Failure<Code extends string> {
  readonly ok: false;
  readonly code: Code;
  readonly message: string;
}

export type InputFailure<Code extends InputFailureCode = InputFailureCode> = Failure<Code>;

/** A compare-and-set found another modRevision. `currentRevision` is the key's modRevision, 0 when absent. */
export interface RevisionMismatch extends Failure<"RevisionMismatch"> {
  readonly currentRevision: number;
}

/** The change feed no longer holds `fromRevision`; a watcher must re-read and watch from `oldestRevision`. */
export interface Compacted extends Failure<"Compacted"> {
  readonly oldestRevision: number;
  readonly revision: number;
}

export interface LockHeld extends Failure<"LockHeld"> {
  readonly holder: string;
  readonly expiresAtMs: number;
}

/** The client already moved past this sequence number: the request is a late duplicate of an old one. */
export interface StaleSequence extends Failure<"StaleSequence"> {
  readonly lastSequence: number;
}

export type TooManyKeys = Failure<"TooManyKeys">;
export type TooManyLocks = Failure<"TooManyLocks">;
/** Renew or release of a lock that nobody holds (never acquired, released, or expired). */
export type LockNotHeld = Failure<"LockNotHeld">;
/** Renew or release by an owner that does not hold the lock. */
export type NotLockHolder = Failure<"NotLockHolder">;
/** Renew or release by the holder with another grant's token: that grant is over. */
export type TokenMismatch = Failure<"TokenMismatch">;

export interface KeyValueEntry {
  readonly key: string;
  readonly value: string;
  /** Revision of the put that created the key (since its last delete). */
  readonly createRevision: number;
  /** Revision of the last put of the key. */
  readonly modRevision: number;
  /** Number of puts since the key was created: 1 after the first. */
  readonly version: number;
}

/** Every success carries `revision`: the store's revision after the operation. */
export interface GetSuccess {
  readonly ok: true;
  readonly revision: number;
  readonly entry: KeyValueEntry | null;
}
export type GetResult = GetSuccess | InputFailure<"InvalidKey">;

export interface ListSuccess {
  readonly ok: true;
  readonly revision: number;
  readonly entries: readonly KeyValueEntry[];
  /** More keys match: list again with `startAfter` set to the last key returned. */
  readonly more: boolean;
}
export type ListResult = ListSuccess | InputFailure<"InvalidPrefix" | "InvalidLimit" | "InvalidKey">;

export interface PutSuccess {
  readonly ok: true;
  /** The new revision, which is also the key's modRevision. */
  readonly revision: number;
  readonly createRevision: number;
  readonly version: number;
}
export type PutResult =
  | PutSuccess
  | InputFailure<"InvalidKey" | "InvalidValue" | "InvalidRevision">
  | RevisionMismatch
  | TooManyKeys;

export interface DeleteSuccess {
  readonly ok: true;
  readonly revision: number;
  /** False when the key did not exist: nothing changed and the revision did not move. */
  readonly deleted: boolean;
}
export type DeleteResult = DeleteSuccess | InputFailure<"InvalidKey" | "InvalidRevision"> | RevisionMismatch;

/** Keys and locks are separate namespaces; both record their changes in the one change feed. */
export type ChangeNamespace = "kv" | "lock";

/**
 * One mutation. For keys: a put carries `value` (and `prevValue` when the key existed), a delete
 * carries `prevValue`. For locks: a grant is a put whose `value` is the owner (its revision is
 * the fencing token), a release or expiry is a delete whose `prevValue` is the former owner.
 */
export interface ChangeEvent {
  readonly revision: number;
  readonly namespace: ChangeNamespace;
  readonly type: "put" | "delete";
  readonly key: string;
  readonly value?: string;
  readonly prevValue?: string;
}

export interface ChangesSuccess {
  readonly ok: true;
  readonly revision: number;
  readonly events: readonly ChangeEvent[];
  /** Where to continue: every event before it that matches the query has been returned. */
  readonly nextRevision: number;
}
export type ChangesResult =
  | ChangesSuccess
  | InputFailure<"InvalidRevision" | "InvalidPrefix" | "InvalidLimit" | "InvalidNamespace">
  | Compacted;

export interface LockInfo {
  readonly name: string;
  readonly owner: string;
  /** The fencing token: the revision at which this owner was granted the lock. */
  readonly token: number;
  readonly expiresAtMs: number;
}

export interface AcquireSuccess {
  readonly ok: true;
  readonly revision: number;
  readonly token: number;
  readonly expiresAtMs: number;
  /** True when the owner already held the lock: the lease was extended and the token is unchanged. */
  readonly alreadyHeld: boolean;
}
export type AcquireResult =
  | AcquireSuccess
  | InputFailure<"InvalidLockName" | "InvalidOwner" | "InvalidTtl">
  | LockHeld
  | TooManyLocks;

export interface RenewSuccess {
  readonly ok: true;
  readonly revision: number;
  readonly token: number;
  readonly expiresAtMs: number;
}
type LockHolderFailure =
  | InputFailure<"InvalidLockName" | "InvalidOwner" | "InvalidToken">
  | LockNotHeld
  | NotLockHolder
  | TokenMismatch;
export type RenewResult = RenewSuccess | LockHolderFailure | InputFailure<"InvalidTtl">;

export interface ReleaseSuccess {
  readonly ok: true;
  readonly revision: number;
}
export type ReleaseResult = ReleaseSuccess | LockHolderFailure;

export interface GetLockSuccess {
  readonly ok: true;
  readonly revision: number;
  readonly lock: LockInfo | null;
}
export type GetLockResult = GetLockSuccess | InputFailure<"InvalidLockName">;

/** Builds a failure without details. */
export function failure<Code extends string>(code: Code, message: string): Failure<Code> {
  return Object.freeze({ ok: false, code, message });
}
