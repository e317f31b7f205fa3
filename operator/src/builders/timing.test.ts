import { describe, expect, it } from "vitest";
import { replicaTiming } from "./timing.ts";

describe("replicaTiming", () => {
  it.each([
    // heartbeatMs, electionTimeoutMs → tickMs, electionTimeoutTicks
    [100, 1000, 50, 20], // the CRD defaults give the replica's own defaults
    [100, 1500, 50, 30],
    [10, 100, 5, 20], // the smallest values the CRD allows
    [15, 100, 8, 13], // 7.5 ms rounds to 8; 12.5 ticks round up, never a shorter timeout
    [200, 1001, 100, 11],
    [10_000, 60_000, 5_000, 12],
    [10, 60_000, 5, 10_000], // 12000 ticks: kept within the replica's maximum
  ])(
    "heartbeat %i ms, election %i ms → tick %i ms, %i election ticks",
    (heartbeatMs, electionTimeoutMs, tickMs, electionTimeoutTicks) => {
      expect(replicaTiming({ heartbeatMs, electionTimeoutMs, snapshotThresholdEntries: 10_000 })).toEqual({
        tickMs,
        heartbeatTicks: 2,
        electionTimeoutTicks,
      });
    },
  );
});
