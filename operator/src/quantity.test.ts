import { describe, expect, it } from "vitest";
import { isLargerQuantity, quantityToNanos } from "./quantity.ts";

describe("quantityToNanos", () => {
  it.each([
    ["1Gi", 1_073_741_824n * 1_000_000_000n],
    ["1G", 10n ** 18n],
    ["500Mi", 524_288_000n * 1_000_000_000n],
    ["1.5Ki", 1536n * 1_000_000_000n],
    ["100m", 100_000_000n],
    ["2", 2_000_000_000n],
    ["2e3", 2_000n * 1_000_000_000n],
    ["1.5e-3", 1_500_000n],
    [".5", 500_000_000n],
    [3, 3_000_000_000n],
  ])("reads %s", (quantity, nanos) => {
    expect(quantityToNanos(quantity)).toBe(nanos);
  });

  it.each(["", "1 Gi", "1GB", "Gi", "1.2.3", "1e"])("rejects %j", (quantity) => {
    expect(quantityToNanos(quantity)).toBeUndefined();
  });
});

describe("isLargerQuantity", () => {
  it("orders binary and decimal suffixes by value", () => {
    expect(isLargerQuantity("2Gi", "1Gi")).toBe(true);
    expect(isLargerQuantity("1Gi", "1G")).toBe(true);
    expect(isLargerQuantity("1G", "1Gi")).toBe(false);
    expect(isLargerQuantity("1024Mi", "1Gi")).toBe(false);
    expect(isLargerQuantity("1025Mi", "1Gi")).toBe(true);
  });

  it("is false when the current size is unset or either is malformed", () => {
    expect(isLargerQuantity("2Gi", undefined)).toBe(false);
    expect(isLargerQuantity("lots", "1Gi")).toBe(false);
    expect(isLargerQuantity("2Gi", "some")).toBe(false);
  });
});
