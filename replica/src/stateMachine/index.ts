/**
 * The replica's state machine: keys with revisions, a change feed for watches, locks with TTL
 * leases and fencing tokens, exactly-once client sessions, and snapshots. Pure and deterministic;
 * the Paxos layer feeds it committed entries in log order.
 */
export type {
  AcquireCommand,
  ApplyContext,
  ChangesQuery,
  ClientRequest,
  Command,
  CommandResult,
  CommandResults,
  DeleteCommand,
  FailureCode,
  GetCommand,
  GetLockCommand,
  ListCommand,
  ListQuery,
  LogEntry,
  PutCommand,
  ReleaseCommand,
  RenewCommand,
  RequestResult,
} from "./commands.ts";
export { decodeCommand } from "./commands.ts";
export {
  InvalidOptionsError,
  InvalidSnapshotError,
  InvariantViolation,
  StateMachineError,
  UnsupportedSnapshotVersionError,
} from "./errors.ts";
export { defaultStateMachineOptions, type StateMachineOptions } from "./options.ts";
export type {
  AcquireResult,
  AcquireSuccess,
  ChangeEvent,
  ChangeNamespace,
  ChangesResult,
  ChangesSuccess,
  Compacted,
  DeleteResult,
  DeleteSuccess,
  Failure,
  GetLockResult,
  GetLockSuccess,
  GetResult,
  GetSuccess,
  InputFailure,
  InputFailureCode,
  KeyValueEntry,
  ListResult,
  ListSuccess,
  LockHeld,
  LockInfo,
  LockNotHeld,
  NotLockHolder,
  PutResult,
  PutSuccess,
  ReleaseResult,
  ReleaseSuccess,
  RenewResult,
  RenewSuccess,
  RevisionMismatch,
  StaleSequence,
  TokenMismatch,
  TooManyKeys,
  TooManyLocks,
} from "./results.ts";
export { snapshotFormat, snapshotVersion } from "./snapshot.ts";
export { ReplicatedStateMachine } from "./stateMachine.ts";
