// Probe bookkeeping, as the kubelet keeps it: settings with their defaults, and a result
// that flips only after successThreshold successes or failureThreshold failures in a row.
import type { V1Probe } from "@kubernetes/client-node";

export type ProbeKind = "startup" | "readiness" | "liveness";

export interface ProbeSettings {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

export function probeSettings(probe: V1Probe): ProbeSettings {
  return {
    initialDelayMs: (probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, probe.periodSeconds ?? 10) * 1000,
    timeoutMs: Math.max(1, probe.timeoutSeconds ?? 1) * 1000,
    successThreshold: Math.max(1, probe.successThreshold ?? 1),
    failureThreshold: Math.max(1, probe.failureThreshold ?? 3),
  };
}

/** Before the first result: readiness and startup fail, liveness passes (kubelet). */
export function initialResult(kind: ProbeKind): boolean {
  return kind === "liveness";
}

export class ProbeTracker {
  result: boolean;
  private successes = 0;
  private failures = 0;
  private readonly settings: Pick<ProbeSettings, "successThreshold" | "failureThreshold">;

  constructor(kind: ProbeKind, settings: Pick<ProbeSettings, "successThreshold" | "failureThreshold">) {
    this.result = initialResult(kind);
    this.settings = settings;
  }

  /** Records one probe outcome; returns true when the result changed. */
  record(success: boolean): boolean {
    if (success) {
      this.successes += 1;
      this.failures = 0;
    } else {
      this.failures += 1;
      this.successes = 0;
    }
    const before = this.result;
    if (success && this.successes >= this.settings.successThreshold) this.result = true;
    if (!success && this.failures >= this.settings.failureThreshold) this.result = false;
    return before !== this.result;
  }
}
