// Kubernetes resource quantities (`1Gi`, `500M`, `1.5Ti`, `2e9`), compared exactly. The
// CRD already rejects malformed ones (CEL isQuantity); this only orders valid ones.

/** Nano-units per suffix: every quantity is a whole number of nano-units. */
const nanoPerSuffix: Readonly<Record<string, bigint>> = {
  n: 1n,
  u: 1_000n,
  m: 1_000_000n,
  "": 1_000_000_000n,
  k: 10n ** 12n,
  M: 10n ** 15n,
  G: 10n ** 18n,
  T: 10n ** 21n,
  P: 10n ** 24n,
  E: 10n ** 27n,
  Ki: 1_000_000_000n * 2n ** 10n,
  Mi: 1_000_000_000n * 2n ** 20n,
  Gi: 1_000_000_000n * 2n ** 30n,
  Ti: 1_000_000_000n * 2n ** 40n,
  Pi: 1_000_000_000n * 2n ** 50n,
  Ei: 1_000_000_000n * 2n ** 60n,
};

const quantityPattern = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/** The quantity in nano-units (rounded toward zero below a nano-unit), or undefined if malformed. */
export function quantityToNanos(quantity: string | number): bigint | undefined {
  const match = quantityPattern.exec(String(quantity).trim());
  if (match === null) return undefined;
  const [, sign = "", number = "", exponent, suffix = ""] = match;
  const [whole = "", fraction = ""] = number.split(".");
  const digits = BigInt(`${whole || "0"}${fraction}`);
  let nanos = digits * (nanoPerSuffix[suffix] ?? 1_000_000_000n);
  let scale = BigInt(fraction.length);
  if (exponent !== undefined) scale -= BigInt(exponent.slice(1));
  if (scale >= 0n) nanos /= 10n ** scale;
  else nanos *= 10n ** -scale;
  return sign === "-" ? -nanos : nanos;
}

/** Whether `wanted` is strictly larger than `current`; false when either is unset or malformed. */
export function isLargerQuantity(wanted: string | number, current: string | number | undefined): boolean {
  if (current === undefined) return false;
  const a = quantityToNanos(wanted);
  const b = quantityToNanos(current);
  return a !== undefined && b !== undefined && a > b;
}
