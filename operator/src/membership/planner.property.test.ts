// Whatever the planner observes, including operation records from any step of any
// operation, its action never costs a quorum, never skips the leader and never makes a
// change the replica would refuse. The healthy set is recomputed here independently.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { configChangeProblem } from "../../../replica/src/paxos/configuration.ts";
import { type ClusterSketch, key, type MemberSketch, operation, sketch, thresholds } from "./planFixtures.ts";
import { planMembership } from "./planner.ts";
import { quorumSize } from "./safety.ts";
import { operationSteps, operationTypes, type PlanInput } from "./types.ts";
import { keyIncarnation, keyPod, podOrdinal } from "./view.ts";

const member: fc.Arbitrary<MemberSketch> = fc.record(
  {
    as: fc.constantFrom("voter", "voter", "learner", "none"),
    incarnation: fc.constantFrom("a", "b"),
    answers: fc.constantFrom("a", "a", "b", null),
    lag: fc.constantFrom(0, 50, 5000),
    ready: fc.boolean(),
    exists: fc.boolean(),
    revision: fc.constantFrom("r1", "r2"),
    claim: fc.constantFrom("present", "terminating", "missing"),
    unreachableFor: fc.constantFrom(0, 60_000),
    joined: fc.boolean(),
    fenced: fc.boolean(),
    evicted: fc.boolean(),
  },
  { requiredKeys: ["as", "incarnation", "answers"] },
);

const cluster: fc.Arbitrary<ClusterSketch> = fc
  .record({
    desired: fc.integer({ min: 1, max: 6 }),
    sts: fc.integer({ min: 0, max: 7 }),
    leader: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
    members: fc.array(member, { minLength: 1, maxLength: 6 }),
    updateRevision: fc.constantFrom("r1", "r2"),
    claimPolicy: fc.constantFrom("Delete" as const, "Retain" as const),
    evictedB: fc.boolean(),
    op: fc.option(
      fc.record({
        type: fc.constantFrom(...operationTypes),
        stepIndex: fc.nat(5),
        ordinal: fc.integer({ min: 0, max: 6 }),
        incarnation: fc.constantFrom("a", "b", undefined),
      }),
      { nil: undefined },
    ),
  })
  .map((drawn) => {
    const members = Object.fromEntries(drawn.members.map((sketch_, ordinal) => [ordinal, sketch_]));
    const op = drawn.op;
    const steps = op === undefined ? [] : operationSteps[op.type];
    return {
      desired: drawn.desired,
      sts: drawn.sts,
      leader: drawn.leader,
      members,
      updateRevision: drawn.updateRevision,
      claimPolicy: drawn.claimPolicy,
      // An evicted incarnation is never also a voter or learner.
      evicted: drawn.evictedB
        ? drawn.members.flatMap((sketch_, ordinal) =>
            sketch_.as !== "none" && sketch_.incarnation === "b" ? [] : [key(ordinal, "b")],
          )
        : [],
      ...(op === undefined
        ? {}
        : {
            operation: operation(
              op.type,
              op.ordinal,
              steps[op.stepIndex % steps.length] ?? "",
              op.incarnation,
            ),
          }),
    };
  });

/** Voters that answer as themselves, caught up and unfenced: recomputed from the input. */
function healthyKeys(input: PlanInput): Set<string> {
  const configuration = input.configuration;
  if (configuration === undefined) return new Set();
  return new Set(
    [...configuration.voters, ...configuration.learners].filter((memberKey) => {
      const report = input.members.find((candidate) => candidate.pod === keyPod(memberKey))?.report;
      return (
        report !== undefined &&
        report.incarnation === keyIncarnation(memberKey) &&
        report.lag <= thresholds.catchUpLagEntries &&
        !report.fenced &&
        !report.evicted &&
        !configuration.fenced.includes(memberKey)
      );
    }),
  );
}

describe("the planner's safety properties", () => {
  it("holds for every observed state and operation record", () => {
    fc.assert(
      fc.property(cluster, (drawn) => {
        const input = sketch(drawn);
        const configuration = input.configuration ?? { voters: [], learners: [], fenced: [], evicted: [] };
        const { voters } = configuration;
        const healthy = healthyKeys(input);
        const healthyVoters = (keys: readonly string[]) => keys.filter((voter) => healthy.has(voter)).length;
        const commits = healthyVoters(voters) >= quorumSize(voters.length);
        const plan = planMembership(input);
        const { action } = plan;
        expect(plan.condition.type).toBe("MembershipChanging");

        switch (action.type) {
          case "addLearner":
          case "promote":
          case "removeMember":
          case "evictMember": {
            // Only through the leader, only one the replica accepts, only with a healthy quorum.
            expect(action.leader).toBe(input.leader);
            expect(voters.some((voter) => keyPod(voter) === input.leader)).toBe(true);
            const change = {
              addLearner: "addLearner",
              promote: "promote",
              removeMember: "remove",
              evictMember: "evict",
            } as const;
            expect(
              configChangeProblem(configuration, { type: change[action.type], member: action.member }),
            ).toBe(undefined);
            expect(commits).toBe(true);
            if (action.type === "promote") expect(healthy.has(action.member)).toBe(true);
            if (
              (action.type === "removeMember" || action.type === "evictMember") &&
              voters.includes(action.member)
            ) {
              const remaining = voters.filter((voter) => voter !== action.member);
              expect(healthyVoters(remaining)).toBeGreaterThanOrEqual(quorumSize(remaining.length));
              expect(keyPod(action.member)).not.toBe(input.leader);
            }
            break;
          }
          case "transferLeadership":
            expect(action.leader).toBe(input.leader);
            expect(voters).toContain(action.to);
            expect(healthy.has(action.to)).toBe(true);
            expect(keyPod(action.to)).not.toBe(input.leader);
            break;
          case "deletePod": {
            const configured = voters.find((voter) => keyPod(voter) === action.pod);
            const report = input.members.find((candidate) => candidate.pod === action.pod)?.report;
            // A voter's pod (answering as that voter) is deleted only for a restart that keeps a quorum.
            if (
              configured !== undefined &&
              report?.incarnation === keyIncarnation(configured) &&
              voters.length >= 3
            )
              expect(healthyVoters(voters.filter((voter) => voter !== configured))).toBeGreaterThanOrEqual(
                quorumSize(voters.length),
              );
            break;
          }
          case "deleteClaim": {
            // Never the data of a configured member that still answers from it.
            const pod = action.claim.slice("data-".length);
            const configured = [...voters, ...configuration.learners].find(
              (candidate) => keyPod(candidate) === pod,
            );
            const report = input.members.find((candidate) => candidate.pod === pod)?.report;
            if (configured !== undefined) expect(report?.incarnation).not.toBe(keyIncarnation(configured));
            break;
          }
          case "scaleStatefulSet": {
            const replicas = input.statefulSetReplicas ?? 0;
            expect(Math.abs(action.replicas - replicas)).toBe(1);
            if (action.replicas < replicas)
              for (const configured of [...voters, ...configuration.learners])
                expect(podOrdinal(input.cluster, keyPod(configured)) ?? -1).toBeLessThan(action.replicas);
            break;
          }
          default:
            break;
        }
        if (action.type !== "none" && action.type !== "wait" && action.type !== "complete")
          expect(input.leader).toBeDefined();
      }),
      { numRuns: 3000 },
    );
  });
});
