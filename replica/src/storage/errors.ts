/**
 * Errors the storage layer throws, each with a stable `code`. Expected conditions do not
 * exist here: every error means the caller broke the contract, the data on disk cannot be
 * trusted, or the disk failed. The runtime maps them to a crash with a clear log line.
 */
export class StorageError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The data directory holds bytes that no crash can explain: a bad checksum before the end
 * of the log, a missing segment, a record that does not decode, files of another directory.
 * Starting from it could forget votes this member cast, so the member must not start.
 */
export class CorruptDataError extends StorageError<"CorruptData"> {
  readonly file: string;
  readonly offset: number | undefined;

  constructor(file: string, offset: number | undefined, reason: string) {
    const where = offset === undefined ? file : `${file} at byte ${offset}`;
    super(
      "CorruptData",
      `corrupt data directory: ${where}: ${reason}. This member's votes cannot be trusted. ` +
        "Do not edit the files: move the data directory aside (or delete it) and restart; the member " +
        "then comes back as a new incarnation and must be added to the cluster again.",
    );
    this.file = file;
    this.offset = offset;
  }
}

/** The path is not a data directory and is not empty: refuse rather than write into it. */
export class NotADataDirectoryError extends StorageError<"NotADataDirectory"> {
  constructor(path: string, reason: string) {
    super("NotADataDirectory", `${path} is not a paxos data directory: ${reason}`);
  }
}

/** A record that the caller passed does not fit the format (a bug in the caller); nothing was queued. */
export class InvalidRecordError extends StorageError<"InvalidRecord"> {
  constructor(message: string) {
    super("InvalidRecord", `invalid record: ${message}`);
  }
}

/** A record larger than the limit; nothing was queued. */
export class RecordTooLargeError extends StorageError<"RecordTooLarge"> {
  readonly bytes: number;
  readonly maxBytes: number;

  constructor(what: string, bytes: number, maxBytes: number) {
    super("RecordTooLarge", `${what} encodes to ${bytes} bytes; the limit is ${maxBytes} bytes`);
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}

/** `append` or `sync` after `close`. */
export class ClosedError extends StorageError<"Closed"> {
  constructor() {
    super("Closed", "the data directory is closed");
  }
}

/**
 * A write, fsync, rename or unlink failed. After a failed fsync the kernel may have dropped
 * the dirty pages, so what is on disk is unknown: the directory refuses all further work and
 * the process must restart and recover from what is durable.
 */
export class StorageFailedError extends StorageError<"StorageFailed"> {
  constructor(cause: unknown) {
    super(
      "StorageFailed",
      `the data directory failed and accepts no more writes; restart to recover: ${String(cause)}`,
      { cause },
    );
  }
}

/** Options out of range. */
export class InvalidStorageOptionsError extends StorageError<"InvalidStorageOptions"> {
  constructor(message: string) {
    super("InvalidStorageOptions", `invalid storage options: ${message}`);
  }
}
