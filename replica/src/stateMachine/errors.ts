/**
 * Errors the state machine throws. Expected conditions (bad input, a failed compare-and-set, a
 * held lock) are never thrown: they come back as typed results (see `results.ts`). What is thrown
 * is a broken invariant (a bug, or a caller that broke the contract), a snapshot that cannot be
 * restored, or invalid construction options.
 */
export class StateMachineError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A broken invariant: the state machine must not go on, because its state may be wrong. */
export class InvariantViolation extends StateMachineError<"InvariantViolation"> {
  constructor(message: string) {
    super("InvariantViolation", message);
  }
}

/** The bytes are not a snapshot this code wrote: truncated, corrupted, or not a snapshot at all. */
export class InvalidSnapshotError extends StateMachineError<"InvalidSnapshot"> {
  constructor(message: string) {
    super("InvalidSnapshot", `invalid state machine snapshot: ${message}`);
  }
}

/** A well-formed snapshot in a format version this code does not read. */
export class UnsupportedSnapshotVersionError extends StateMachineError<"UnsupportedSnapshotVersion"> {
  readonly version: unknown;

  constructor(version: unknown, supportedVersion: number) {
    super(
      "UnsupportedSnapshotVersion",
      `state machine snapshot has format version ${String(version)}; this replica reads version ${supportedVersion}`,
    );
    this.version = version;
  }
}

/** Construction options out of range (a configuration mistake, found before any entry is applied). */
export class InvalidOptionsError extends StateMachineError<"InvalidOptions"> {
  constructor(message: string) {
    super("InvalidOptions", `invalid state machine options: ${message}`);
  }
}
