import type { PaxosTimingSpec } from "./paxosCluster.ts";

/** The replica's clock settings, in its own units (--tick-ms and counts of ticks). */
export interface ReplicaTiming {
  readonly tickMs: number;
  readonly heartbeatTicks: number;
  readonly electionTimeoutTicks: number;
}

/**
 * The leader sends a heartbeat every 2 ticks. Two rather than one so that a tick is half a
 * heartbeat: the protocol core's timers (election, backoff) get a resolution finer than the
 * heartbeat without making the clock tick needlessly often.
 */
export const heartbeatTicks = 2;

/** The replica's bounds for --election-timeout-ticks (replica/src/config.ts). */
const electionTimeoutTicksMin = 3;
const electionTimeoutTicksMax = 10_000;

/**
 * Converts the spec's milliseconds into the replica's ticks.
 *
 * - tickMs = heartbeatMs / 2, rounded to a whole millisecond (at least 1), so that
 *   heartbeatTicks = 2 gives the heartbeat the user asked for (within half a millisecond).
 * - electionTimeoutTicks = electionTimeoutMs / tickMs, rounded up: the effective timeout is
 *   never shorter than asked, since a shorter one only causes needless elections. It is kept
 *   within the replica's bounds (3 to 10000 ticks): the CRD allows heartbeatMs 10 with
 *   electionTimeoutMs 60000, which would be 12000 ticks of 5 ms; the replica then times out
 *   after 50 s, still thousands of heartbeats.
 *
 * The defaults (100 ms, 1000 ms) give 50 ms ticks and 20 election ticks: the replica's own
 * flag defaults.
 */
export function replicaTiming(paxos: PaxosTimingSpec): ReplicaTiming {
  const tickMs = Math.max(1, Math.round(paxos.heartbeatMs / heartbeatTicks));
  const electionTimeoutTicks = Math.min(
    electionTimeoutTicksMax,
    Math.max(electionTimeoutTicksMin, heartbeatTicks + 1, Math.ceil(paxos.electionTimeoutMs / tickMs)),
  );
  return { tickMs, heartbeatTicks, electionTimeoutTicks };
}
