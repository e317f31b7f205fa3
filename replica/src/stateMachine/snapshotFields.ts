import { InvalidSnapshotError } from "./errors.ts";

/** Readers for the fields of a decoded snapshot: each throws `InvalidSnapshotError` naming the field. */

export function snapshotCheck(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvalidSnapshotError(message);
}

export function readRecord(value: unknown, what: string): Readonly<Record<string, unknown>> {
  snapshotCheck(
    typeof value === "object" &&
      value !== null &&
      [Object.prototype, null].includes(Object.getPrototypeOf(value)),
    `${what} must be a map`,
  );
  return value as Readonly<Record<string, unknown>>;
}

export function readArray(value: unknown, what: string): readonly unknown[] {
  snapshotCheck(Array.isArray(value), `${what} must be an array`);
  return value;
}

export function readString(value: unknown, what: string): string {
  snapshotCheck(typeof value === "string", `${what} must be a string`);
  return value;
}

export function readOptionalString(value: unknown, what: string): string | undefined {
  return value === undefined ? undefined : readString(value, what);
}

export function readInteger(value: unknown, what: string, minimum: number): number {
  snapshotCheck(
    typeof value === "number" && Number.isSafeInteger(value) && value >= minimum,
    `${what} must be an integer >= ${minimum}`,
  );
  return value;
}
