/** A broken invariant: a bug, never an expected condition. Crash loudly. */
export class InvariantViolation extends Error {
  override readonly name = "InvariantViolation";
}

export function assert(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantViolation(typeof message === "function" ? message() : message);
}

export function assertNever(value: never, what = "value"): never {
  throw new InvariantViolation(`unexpected ${what}: ${JSON.stringify(value)}`);
}
