import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareKeys, textProblem } from "./text.ts";

const keyRules = { what: "key", bytesMax: 8, allowEmpty: false, allowControlCharacters: false };

describe("compareKeys", () => {
  it("orders like the UTF-8 bytes of the keys", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (left, right) => {
        const byBytes = Buffer.compare(Buffer.from(left, "utf8"), Buffer.from(right, "utf8"));
        expect(Math.sign(compareKeys(left, right))).toBe(byBytes);
      }),
      { numRuns: 500 },
    );
  });

  it("puts characters above U+FFFF after U+E000..U+FFFF, unlike UTF-16 order", () => {
    const astral = "\u{1F600}";
    const privateUse = "\uE000";
    expect(astral < privateUse).toBe(true); // JavaScript's code unit order
    expect(compareKeys(astral, privateUse)).toBeGreaterThan(0);
    expect(compareKeys("a", "ab")).toBeLessThan(0);
    expect(compareKeys("ab", "ab")).toBe(0);
  });
});

describe("textProblem", () => {
  it("accepts text within the rules", () => {
    expect(textProblem("abc", keyRules)).toBeUndefined();
    expect(textProblem("\u{1F600}\u{1F600}", keyRules)).toBeUndefined(); // 8 bytes
    expect(textProblem("", { ...keyRules, allowEmpty: true })).toBeUndefined();
    expect(textProblem("a\nb", { ...keyRules, allowControlCharacters: true })).toBeUndefined();
  });

  it("names what is wrong", () => {
    expect(textProblem(7, keyRules)).toBe("key must be a string");
    expect(textProblem("", keyRules)).toBe("key must not be empty");
    expect(textProblem("123456789", keyRules)).toBe("key is longer than the limit of 8 bytes of UTF-8");
    expect(textProblem("ééééé", keyRules)).toBe("key is 10 bytes of UTF-8; the limit is 8");
    expect(textProblem("a\u0000", keyRules)).toBe("key has a control character at position 1");
    expect(textProblem("a\u007f", keyRules)).toBe("key has a control character at position 1");
    expect(textProblem("\u0085", keyRules)).toBe("key has a control character at position 0");
    expect(textProblem("a\ud800", keyRules)).toBe("key is not well-formed Unicode (it has a lone surrogate)");
  });
});
