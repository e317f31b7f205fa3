import { describe, expect, it } from "vitest";
import { mayAcquire, microTime } from "./leaderElection.ts";

describe("mayAcquire", () => {
  const held = { holderIdentity: "operator-a", leaseDurationSeconds: 15 };

  it("takes a free lease and renews its own", () => {
    expect(mayAcquire(undefined, "operator-b", 0, 0)).toBe(true);
    expect(mayAcquire({ leaseDurationSeconds: 1 }, "operator-b", 0, 0)).toBe(true);
    expect(mayAcquire(held, "operator-a", 0, 1000)).toBe(true);
  });

  it("waits a whole lease duration, on its own clock, before taking another's lease", () => {
    expect(mayAcquire(held, "operator-b", 10_000, 24_999)).toBe(false);
    expect(mayAcquire(held, "operator-b", 10_000, 25_000)).toBe(true);
  });
});

describe("microTime", () => {
  it("writes six fractional digits, as metav1.MicroTime requires", () => {
    expect(microTime(new Date("2026-03-04T05:06:07.891Z"))).toBe("2026-03-04T05:06:07.891000Z");
  });
});
