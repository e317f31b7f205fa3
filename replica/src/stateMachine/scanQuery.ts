import type { StateMachineOptions } from "./options.ts";
import { type Failure, failure } from "./results.ts";
import { isSafeIntegerAtLeast, textProblem } from "./text.ts";

/**
 * Checks the window of a scan (a list or a change feed read): a key prefix, which may be
 * empty, and a page size of 1 to readLimitMax. Undefined when both are acceptable.
 */
export function scanWindowFailure(
  prefix: unknown,
  limit: unknown,
  options: Pick<StateMachineOptions, "keyBytesMax" | "readLimitMax">,
): Failure<"InvalidPrefix" | "InvalidLimit"> | undefined {
  const prefixProblem = textProblem(prefix, {
    what: "prefix",
    bytesMax: options.keyBytesMax,
    allowEmpty: true,
    allowControlCharacters: false,
  });
  if (prefixProblem !== undefined) return failure("InvalidPrefix", prefixProblem);
  if (!isSafeIntegerAtLeast(limit, 1) || limit > options.readLimitMax)
    return failure("InvalidLimit", `limit must be an integer from 1 to ${options.readLimitMax}`);
  return undefined;
}
