import { InvariantViolation } from "./errors.ts";

/** Throws `InvariantViolation` when `condition` is false: for bugs and broken contracts, never for bad input. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantViolation(message);
}

/** Ends an exhaustive `switch` over a discriminated union that the type checker has proven complete. */
export function assertNever(value: never, what: string): never {
  throw new InvariantViolation(`unexpected ${what}: ${JSON.stringify(value)}`);
}

export function assertSafeInteger(value: number, what: string, minimum: number): void {
  assert(
    Number.isSafeInteger(value) && value >= minimum,
    `${what} must be a safe integer >= ${minimum}, got ${String(value)}`,
  );
}
