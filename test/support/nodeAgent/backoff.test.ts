import { describe, expect, it } from "vitest";
import { nextRestart, shouldRestart } from "./backoff.ts";

describe("restart backoff", () => {
  const options = { initialMs: 1000, maxMs: 8000 };

  it("doubles from the initial delay up to the maximum", () => {
    let state = { restartsInARow: 0 };
    const delays: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const next = nextRestart(state, 100, options);
      delays.push(next.delayMs);
      state = next.state;
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it("resets after a long enough run", () => {
    expect(nextRestart({ restartsInARow: 5 }, 16_001, options)).toEqual({
      delayMs: 1000,
      state: { restartsInARow: 1 },
    });
  });

  it("follows the restart policy", () => {
    expect(shouldRestart("Always", 0)).toBe(true);
    expect(shouldRestart("OnFailure", 0)).toBe(false);
    expect(shouldRestart("OnFailure", 2)).toBe(true);
    expect(shouldRestart("Never", 2)).toBe(false);
  });
});
