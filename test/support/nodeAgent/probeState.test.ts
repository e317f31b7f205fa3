import { describe, expect, it } from "vitest";
import { ProbeTracker, probeSettings } from "./probeState.ts";

describe("probe bookkeeping", () => {
  it("applies the kubelet's defaults", () => {
    expect(probeSettings({})).toEqual({
      initialDelayMs: 0,
      periodMs: 10_000,
      timeoutMs: 1000,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(probeSettings({ periodSeconds: 5, timeoutSeconds: 2, initialDelaySeconds: 3 }).periodMs).toBe(
      5000,
    );
  });

  it("flips readiness only after the thresholds in a row", () => {
    const tracker = new ProbeTracker("readiness", { successThreshold: 2, failureThreshold: 2 });
    expect(tracker.result).toBe(false);
    expect(tracker.record(true)).toBe(false);
    expect(tracker.record(false)).toBe(false);
    expect(tracker.record(true)).toBe(false);
    expect(tracker.record(true)).toBe(true);
    expect(tracker.result).toBe(true);
    expect(tracker.record(false)).toBe(false);
    expect(tracker.record(true)).toBe(false);
    expect(tracker.record(false)).toBe(false);
    expect(tracker.record(false)).toBe(true);
    expect(tracker.result).toBe(false);
  });

  it("starts liveness as passing and startup as failing", () => {
    const liveness = new ProbeTracker("liveness", { successThreshold: 1, failureThreshold: 1 });
    expect(liveness.result).toBe(true);
    expect(liveness.record(false)).toBe(true);
    expect(new ProbeTracker("startup", { successThreshold: 1, failureThreshold: 3 }).result).toBe(false);
  });
});
