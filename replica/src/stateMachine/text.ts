/**
 * Key order and text checks. Keys sort by Unicode code point, which is also the order of their
 * UTF-8 bytes (etcd's order), not by JavaScript's UTF-16 code units: the two differ for
 * characters above U+FFFF against U+E000..U+FFFF.
 */

/** Compares two well-formed strings by code point; negative, zero or positive like `Array.sort`. */
export function compareKeys(left: string, right: string): number {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index += 1) {
    const leftUnit = left.charCodeAt(index);
    const rightUnit = right.charCodeAt(index);
    if (leftUnit !== rightUnit) return codePointRank(leftUnit) - codePointRank(rightUnit);
  }
  return left.length - right.length;
}

/**
 * At the first code unit where two well-formed strings differ, a surrogate stands for a code
 * point above U+FFFF, so it must sort after every other code unit; between two surrogates the
 * code unit order is already the code point order.
 */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000; // to 0xf800..0xffff
  if (unit >= 0xe000) return unit - 0x800; // to 0xd800..0xf7ff
  return unit;
}

export function utf8ByteLength(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

export interface TextRules {
  /** What the text is, as it should read in a message: "key", "lock owner". */
  readonly what: string;
  readonly bytesMax: number;
  readonly allowEmpty: boolean;
  /** Control characters (C0, DEL, C1) are refused in names, which end up in URLs, logs and headers. */
  readonly allowControlCharacters: boolean;
}

/** Returns why `text` breaks `rules`, or undefined when it is acceptable. */
export function textProblem(text: unknown, rules: TextRules): string | undefined {
  if (typeof text !== "string") return `${rules.what} must be a string`;
  if (text.length === 0) return rules.allowEmpty ? undefined : `${rules.what} must not be empty`;
  // Each UTF-16 code unit takes at least one UTF-8 byte: refuse huge strings before measuring them.
  if (text.length > rules.bytesMax) {
    return `${rules.what} is longer than the limit of ${rules.bytesMax} bytes of UTF-8`;
  }
  // A lone surrogate has no UTF-8 form: it would be stored as U+FFFD and come back changed.
  if (!text.isWellFormed()) return `${rules.what} is not well-formed Unicode (it has a lone surrogate)`;
  const bytes = utf8ByteLength(text);
  if (bytes > rules.bytesMax) {
    return `${rules.what} is ${bytes} bytes of UTF-8; the limit is ${rules.bytesMax}`;
  }
  if (!rules.allowControlCharacters) {
    const position = controlCharacterPosition(text);
    if (position !== -1) return `${rules.what} has a control character at position ${position}`;
  }
  return undefined;
}

function controlCharacterPosition(text: string): number {
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit <= 0x1f || (unit >= 0x7f && unit <= 0x9f)) return index;
  }
  return -1;
}

/** True for an integer that JavaScript numbers hold exactly (no rounding) and that is >= `minimum`. */
export function isSafeIntegerAtLeast(value: unknown, minimum: number): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= minimum;
}
