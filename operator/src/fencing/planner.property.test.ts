// Whatever the planner observes, its action never costs the cluster a quorum of unfenced
// voters, never fences the leader, is never a change the replica would refuse, never
// happens while a membership operation runs or the quorum is lost, and never
// force-deletes the pod of a member that is still configured. The facts are recomputed
// here from the input, independently of the planner's own view.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { configChangeProblem, quorumSize } from "../../../replica/src/paxos/configuration.ts";
import { keyPod } from "../membership/view.ts";
import { afterPlan, catchUpLagEntries, key, type MemberSketch, type Scene, sketch } from "./planFixtures.ts";
import { planFencing } from "./planner.ts";
import type { FencingInput } from "./types.ts";

// Weighted towards members that answer, so that every kind of action is drawn often.
const member: fc.Arbitrary<MemberSketch> = fc.record(
  {
    as: fc.constantFrom("voter", "voter", "voter", "learner", "none"),
    incarnation: fc.constantFrom("a", "b"),
    fenced: fc.constantFrom(false, false, true),
    unreachableFor: fc.constantFrom(0, 0, 0, 20_000, 30_000, 30_001, 600_000),
    // Absent (the default: the leader lost it when the operator did) half the time.
    leaderSilentFor: fc.constantFrom(null, 0, 30_000, 30_001, 600_000),
    reachableFor: fc.constantFrom(1, 29_999, 30_000, 600_000),
    lag: fc.constantFrom(0, 0, 0, 50, 5000),
    exists: fc.constantFrom(true, true, true, false),
    ready: fc.boolean(),
    terminating: fc.constantFrom(false, false, true),
    nodeNotReadyFor: fc.constantFrom(30_000, 60_000, 60_000),
    nodeUnknown: fc.boolean(),
  },
  { requiredKeys: ["as", "incarnation"] },
);

const annotations = [
  undefined,
  "*",
  '["*"]',
  '["demo-0"]',
  '["demo-1"]',
  '["demo-1", "demo-2"]',
  '["demo-0", "demo-1", "demo-2", "demo-3"]',
  '["demo-4", "demo-5"]',
  "[",
  '["other-1"]',
];

const scene: fc.Arbitrary<Scene> = fc
  .record({
    members: fc.oneof(
      fc.array(member, { minLength: 1, maxLength: 6 }),
      // Mostly healthy voters with a few that are not: where changes are wanted and may be safe.
      fc.array(
        fc.oneof({ weight: 3, arbitrary: fc.constant<MemberSketch>({}) }, { weight: 2, arbitrary: member }),
        {
          minLength: 3,
          maxLength: 6,
        },
      ),
    ),
    leader: fc.option(fc.constantFrom(0, 0, 0, 1, 2, 3, 4, 5), { nil: null, freq: 8 }),
    automatic: fc.boolean(),
    forceDelete: fc.boolean(),
    holdDownMs: fc.constantFrom(0, 30_000, 60_000),
    annotation: fc.oneof(
      { weight: 2, arbitrary: fc.constant(undefined) },
      { weight: 3, arbitrary: fc.constantFrom(...annotations) },
    ),
    busy: fc.constantFrom(false, false, false, true),
    // Record entries are drawn from every key the sketch might configure, fenced or not.
    automaticRecord: fc.subarray(
      ["a", "b"].flatMap((incarnation) => [0, 1, 2, 3, 4, 5].map((n) => key(n, incarnation))),
    ),
    manualRecord: fc.subarray(
      ["a", "b"].flatMap((incarnation) => [0, 1, 2, 3, 4, 5].map((n) => key(n, incarnation))),
    ),
    evictNone: fc.boolean(),
    noConfiguration: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
  })
  .map((drawn) => {
    const members = Object.fromEntries(drawn.members.map((sketch_, ordinal) => [ordinal, sketch_]));
    // Evicted incarnations are never also configured: an old one of any pod, and the
    // incarnation of unconfigured pods.
    const evicted = drawn.members.flatMap((sketch_, ordinal) => [
      key(ordinal, "old"),
      ...(drawn.evictNone && sketch_.as === "none" ? [key(ordinal, sketch_.incarnation)] : []),
    ]);
    return {
      members,
      leader: drawn.leader,
      automatic: drawn.automatic,
      forceDelete: drawn.forceDelete,
      holdDownMs: drawn.holdDownMs,
      busy: drawn.busy,
      record: {
        automatic: drawn.automaticRecord,
        manual: drawn.manualRecord.filter((entry) => !drawn.automaticRecord.includes(entry)),
      },
      evicted,
      noConfiguration: drawn.noConfiguration,
      ...(drawn.annotation === undefined ? {} : { annotation: drawn.annotation }),
    };
  });

/** Recomputed from the input: who answers, who is healthy, whether a quorum is reachable. */
function facts(input: FencingInput) {
  const configuration = input.configuration ?? { voters: [], learners: [], fenced: [], evicted: [] };
  const window = input.settings.unreachableWindowMs;
  const entry = (memberKey: string) => input.members.find((candidate) => candidate.pod === keyPod(memberKey));
  const responsive = (memberKey: string) => {
    const found = entry(memberKey);
    return (
      found !== undefined &&
      (found.reachable || (found.leaderContactAgeMs !== undefined && found.leaderContactAgeMs <= window))
    );
  };
  const healthy = (memberKey: string) =>
    responsive(memberKey) &&
    !configuration.fenced.includes(memberKey) &&
    (entry(memberKey)?.lag ?? Number.POSITIVE_INFINITY) <= catchUpLagEntries;
  const { voters } = configuration;
  const quorum = quorumSize(voters.length);
  const quorumLost = voters.filter(responsive).length < quorum;
  const leaderKey = voters.find((voter) => keyPod(voter) === input.leader);
  const listed = (podName: string) =>
    !("error" in input.manual) &&
    (input.manual.members.includes(podName) ||
      (input.manual.all && [...voters, ...configuration.learners].some((k) => keyPod(k) === podName)));
  return { configuration, voters, quorum, quorumLost, healthy, leaderKey, listed, entry };
}

describe("the fencing planner's safety properties", () => {
  it("hold for every observed state, annotation and record", () => {
    fc.assert(
      fc.property(scene, (drawn) => {
        const input = sketch(drawn);
        const plan = planFencing(input);
        const { action } = plan;
        expect(plan.conditions.map((condition) => condition.type)).toEqual([
          "Fenced",
          "MemberLost",
          "QuorumLost",
        ]);
        expect(plan.events).toHaveLength(action.type === "none" || action.type === "wait" ? 0 : 1);
        if (input.configuration === undefined || input.configuration.voters.length === 0) {
          // Nothing is known: nothing is done, and the record is kept as it is.
          expect(action).toEqual({ type: "none" });
          expect(plan.record).toEqual(input.record ?? { automatic: [], manual: [] });
          return;
        }
        const { configuration, voters, quorum, quorumLost, healthy, leaderKey, listed, entry } = facts(input);
        const record = input.record ?? { automatic: [], manual: [] };

        // The record: disjoint lists of keys that are fenced (or being fenced now).
        for (const entryKey of plan.record.automatic) expect(plan.record.manual).not.toContain(entryKey);
        for (const entryKey of [...plan.record.automatic, ...plan.record.manual])
          expect(
            configuration.fenced.includes(entryKey) ||
              (action.type === "fence" && action.member === entryKey),
          ).toBe(true);

        if (quorumLost) expect(action).toEqual({ type: "none" });

        switch (action.type) {
          case "fence":
          case "unfence":
          case "evict":
          case "transferLeadership": {
            // Only through a reachable voting leader, never while membership changes or
            // without a quorum.
            expect(input.membershipBusy).toBe(false);
            expect(quorumLost).toBe(false);
            expect(action.leader).toBe(input.leader);
            expect(leaderKey).toBeDefined();
            expect(entry(leaderKey ?? "")?.reachable).toBe(true);
            expect(voters.filter(healthy).length).toBeGreaterThanOrEqual(quorum);
            break;
          }
          default:
            break;
        }

        switch (action.type) {
          case "fence": {
            expect(configChangeProblem(configuration, { type: "fence", member: action.member })).toBe(
              undefined,
            );
            expect(keyPod(action.member)).not.toBe(input.leader);
            if (voters.includes(action.member)) {
              const others = voters.filter((voter) => voter !== action.member);
              expect(
                others.filter((voter) => !configuration.fenced.includes(voter)).length,
              ).toBeGreaterThanOrEqual(quorum);
              expect(others.filter(healthy).length).toBeGreaterThanOrEqual(quorum);
            }
            if (action.reason === "Unreachable") {
              expect(input.settings.automatic).toBe(true);
              expect(listed(keyPod(action.member))).toBe(false);
            } else expect(listed(keyPod(action.member))).toBe(true);
            break;
          }
          case "unfence": {
            expect(configChangeProblem(configuration, { type: "unfence", member: action.member })).toBe(
              undefined,
            );
            // Never someone else's fence, never while listed, never automatically a manual one.
            expect("error" in input.manual).toBe(false);
            expect(listed(keyPod(action.member))).toBe(false);
            const found = entry(action.member);
            expect(found?.caughtUp).toBe(true);
            expect(found?.reachableSinceMs).toBeDefined();
            if (action.reason === "Reachable") {
              expect(record.automatic).toContain(action.member);
              expect(record.manual).not.toContain(action.member);
              expect(input.now - (found?.reachableSinceMs ?? input.now)).toBeGreaterThanOrEqual(
                input.settings.holdDownMs,
              );
            } else expect(record.manual).toContain(action.member);
            break;
          }
          case "evict": {
            expect(input.settings.forceDeleteOnLostNode).toBe(true);
            expect(configChangeProblem(configuration, { type: "evict", member: action.member })).toBe(
              undefined,
            );
            expect(keyPod(action.member)).not.toBe(input.leader);
            if (voters.includes(action.member)) {
              const remaining = voters.filter((voter) => voter !== action.member);
              expect(remaining.filter(healthy).length).toBeGreaterThanOrEqual(quorumSize(remaining.length));
            }
            const found = entry(action.member);
            expect(found?.reachable).toBe(false);
            expect(found?.node?.ready).not.toBe(true);
            break;
          }
          case "transferLeadership":
            expect(listed(action.leader)).toBe(true);
            expect(voters).toContain(action.to);
            expect(healthy(action.to)).toBe(true);
            expect(keyPod(action.to)).not.toBe(input.leader);
            expect(listed(keyPod(action.to))).toBe(false);
            break;
          case "forceDeletePod": {
            // Never the pod of a configured member: only once its incarnation was evicted.
            expect(input.settings.forceDeleteOnLostNode).toBe(true);
            const configured = [...voters, ...configuration.learners];
            expect(configured.some((k) => keyPod(k) === action.pod)).toBe(false);
            expect(configuration.evicted.some((k) => keyPod(k) === action.pod)).toBe(true);
            const found = input.members.find((candidate) => candidate.pod === action.pod);
            expect(found?.reachable).toBe(false);
            expect(found?.nodeName).toBe(action.node);
            expect(found?.node?.ready).not.toBe(true);
            break;
          }
          default:
            break;
        }
      }),
      { numRuns: 5000 },
    );
  });

  it("runs of plans make only changes the replica accepts, keep a quorum unfenced and delete no member's pod", () => {
    fc.assert(
      fc.property(scene, (drawn) => {
        let input = sketch({ ...drawn, noConfiguration: false });
        const unfencedQuorum = (current: FencingInput) => {
          const voters = current.configuration?.voters ?? [];
          const fenced = current.configuration?.fenced ?? [];
          const unfenced = voters.filter((voter) => !fenced.includes(voter));
          return unfenced.length >= quorumSize(voters.length);
        };
        const keptQuorum = unfencedQuorum(input);
        for (let round = 0; round < 8; round += 1) {
          const plan = planFencing(input);
          const { action } = plan;
          if (action.type === "none" || action.type === "wait") return;
          if (action.type === "forceDeletePod") {
            const configuration = input.configuration;
            const configured = [...(configuration?.voters ?? []), ...(configuration?.learners ?? [])];
            expect(configured.map(keyPod)).not.toContain(action.pod);
          }
          // afterPlan applies configuration changes with the replica's own rules: a refused one throws.
          input = afterPlan(input, plan);
          if (keptQuorum) expect(unfencedQuorum(input)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
