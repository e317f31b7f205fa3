/**
 * The replica's durable storage: a data directory with the member's incarnation, its latest
 * snapshot and a checksummed, group-committed write-ahead log. The runtime appends the records
 * of every Ready, awaits sync() before sending its messages, and on restart rebuilds the Paxos
 * core from `durable`. See README.md for the format and the recovery rules.
 */
export {
  type DataDirectory,
  type DataDirectoryOptions,
  defaultSegmentBytes,
  openDataDirectory,
  type ReadyRecords,
  recordBytesMax,
  type StorageSizes,
  snapshotBytesMax,
} from "./dataDirectory.ts";
export {
  ClosedError,
  CorruptDataError,
  InvalidRecordError,
  InvalidStorageOptionsError,
  NotADataDirectoryError,
  RecordTooLargeError,
  StorageError,
  StorageFailedError,
} from "./errors.ts";
