// Whole operations against the simulated world: the planner is called reconcile after
// reconcile until it settles, with the operator "killed" (record written, action lost) or
// its record lost at every step in turn. Every configuration change goes through the
// replica's own applyConfigChange, which refuses what the replica would refuse.
import { describe, expect, it } from "vitest";
import { describeAction, key, World } from "./planFixtures.ts";
import { planMembership } from "./planner.ts";
import { quorumSize } from "./safety.ts";

interface Faults {
  /** The reconcile at which the operator dies after writing the record, before acting. */
  readonly crashAt?: number;
  /** The reconcile before which status.operation is lost. */
  readonly loseRecordAt?: number;
}

/** Reconciles until the planner has nothing to do; returns the actions taken. */
function run(world: World, faults: Faults = {}, limit = 200): string[] {
  const actions: string[] = [];
  for (let reconcile = 0; reconcile < limit; reconcile += 1) {
    if (reconcile === faults.loseRecordAt) world.operation = undefined;
    const before = world.healthyVoters() >= quorumSize(world.configuration.voters.length);
    const plan = planMembership(world.input());
    if (plan.action.type === "none") return actions;
    actions.push(describeAction(plan.action));
    world.apply(plan, { crashBeforeAction: reconcile === faults.crashAt });
    // No step of the planner costs a cluster that had a healthy quorum its quorum, except a
    // restart of a cluster too small to keep one through any restart.
    if (before && world.configuration.voters.length >= 3)
      expect(world.healthyVoters(), `after ${describeAction(plan.action)}`).toBeGreaterThanOrEqual(
        quorumSize(world.configuration.voters.length),
      );
  }
  throw new Error(`did not settle in ${limit} reconciles: ${actions.slice(-10).join("; ")}`);
}

function settledWith(world: World, voters: number): void {
  expect(world.configuration.voters).toHaveLength(voters);
  expect(world.configuration.learners).toEqual([]);
  expect(world.sts).toBe(voters);
  expect([...world.pods.keys()].sort()).toEqual(Array.from({ length: voters }, (_, n) => n));
  expect(world.operation).toBeUndefined();
  for (const voter of world.configuration.voters) expect(world.answering(voter)).toBe(true);
}

function scaled(from: number, to: number): World {
  const world = new World(from);
  world.desired = to;
  return world;
}

describe.each([
  [3, 5],
  [5, 3],
  [3, 1],
  [1, 3],
  [2, 1],
])("scaling %i → %i", (from, to) => {
  const reference = run(scaled(from, to));

  it("settles with the new voters, one voting change at a time", () => {
    const world = scaled(from, to);
    run(world);
    settledWith(world, to);
    const scales = reference.filter((action) => action.startsWith("scale "));
    // The StatefulSet moves by one pod at a time.
    let replicas = from;
    for (const scale of scales) {
      const next = Number(scale.slice("scale ".length));
      expect(Math.abs(next - replicas)).toBe(1);
      replicas = next;
    }
  });

  it.each(reference.map((action, index) => [index, action] as const))(
    "the operator dies before reconcile %i (%s) is performed, and the change still completes",
    (index) => {
      const world = scaled(from, to);
      run(world, { crashAt: index });
      settledWith(world, to);
    },
  );

  it.each(reference.map((action, index) => [index, action] as const))(
    "status.operation is lost before reconcile %i (%s), and the change still completes",
    (index) => {
      const world = scaled(from, to);
      run(world, { loseRecordAt: index });
      settledWith(world, to);
    },
  );
});

describe("scale-up details", () => {
  it("3 → 5 adds each member as a learner, waits for it, then promotes it", () => {
    const actions = run(scaled(3, 5));
    expect(actions).toEqual([
      "scale 4",
      "addLearner demo-3#n1",
      "wait CatchingUp",
      "wait CatchingUp",
      "promote demo-3#n1",
      "complete",
      "scale 5",
      "addLearner demo-4#n2",
      "wait CatchingUp",
      "wait CatchingUp",
      "promote demo-4#n2",
      "complete",
    ]);
  });

  it("a pod partitioned while it catches up is promoted only after it heals and catches up", () => {
    const world = scaled(3, 4);
    for (let i = 0; i < 3; i += 1) world.apply(planMembership(world.input()));
    expect(world.configuration.learners).toEqual([key(3, "n1")]);
    world.partition(3);
    for (let i = 0; i < 10; i += 1) {
      const plan = planMembership(world.input());
      expect(plan.action.type).toBe("wait");
      world.apply(plan);
    }
    world.heal(3);
    run(world);
    settledWith(world, 4);
  });
});

describe("scale-down details", () => {
  it("5 → 3 with the leader on the top ordinal: transfers first, removes, shrinks, deletes the claim", () => {
    const world = scaled(5, 3);
    world.leader = key(4);
    const actions = run(world);
    expect(actions.slice(0, 6)).toEqual([
      "transfer demo-4 -> demo-0#i0",
      "removeMember demo-4#i4",
      "scale 4",
      "deleteClaim data-demo-4",
      "complete",
      "removeMember demo-3#i3",
    ]);
    settledWith(world, 3);
    expect(world.claims.has(4)).toBe(false);
  });

  it("a member that fails during a scale-down: waits rather than lose the quorum, completes when it heals", () => {
    // 3 → 2 removes demo-2, which would leave demo-0 and the partitioned demo-1.
    const world = scaled(3, 2);
    world.partition(1);
    for (let i = 0; i < 5; i += 1) {
      const plan = planMembership(world.input());
      expect(plan.action).toMatchObject({ type: "wait", reason: "RemovalUnsafe" });
      expect(plan.condition).toMatchObject({ status: "True", reason: "RemovalUnsafe" });
      world.apply(plan);
    }
    world.heal(1);
    run(world);
    settledWith(world, 2);
  });

  it("a member wiped during a scale-down ends healthy as a new incarnation", () => {
    const world = scaled(5, 3);
    world.apply(planMembership(world.input())); // removeMember demo-4
    world.wipe(1);
    run(world);
    settledWith(world, 3);
    expect(world.configuration.voters).toContain(key(1, "n1"));
    expect(world.configuration.evicted).toEqual([key(1)]);
  });
});

describe("replacing members", () => {
  it("a wiped member is evicted and re-added as its new incarnation", () => {
    const world = new World(3);
    world.wipe(2);
    const actions = run(world);
    expect(actions[0]).toBe("evictMember demo-2#i2");
    expect(actions).toContain("addLearner demo-2#n1");
    expect(actions).toContain("promote demo-2#n1");
    settledWith(world, 3);
  });

  it("a lost member is evicted; when it comes back with its old data, that data is wiped before it joins", () => {
    const world = new World(3);
    world.partition(2);
    // Within the window nothing happens.
    expect(planMembership(world.input()).action.type).toBe("none");
    world.clock += 31_000;
    world.apply(planMembership(world.input()));
    expect(world.configuration.evicted).toEqual([key(2)]);
    world.heal(2);
    const actions = run(world);
    expect(actions).toContain("deleteClaim data-demo-2");
    expect(actions.some((action) => action.startsWith("addLearner demo-2#i2"))).toBe(false);
    settledWith(world, 3);
    expect(world.configuration.voters).not.toContain(key(2));
  });

  it.each(Array.from({ length: 12 }, (_, index) => index))(
    "a replacement completes when the operator dies before reconcile %i",
    (crashAt) => {
      const world = new World(3);
      world.wipe(1);
      run(world, { crashAt });
      settledWith(world, 3);
    },
  );
});

describe("rolling restart", () => {
  it("restarts followers first, the leader last after one transfer, each once", () => {
    const world = new World(3);
    world.updateRevision = "r2";
    const actions = run(world);
    const restarts = actions.filter(
      (action) => action.startsWith("deletePod") || action.startsWith("transfer"),
    );
    expect(restarts).toEqual([
      "deletePod demo-2",
      "deletePod demo-1",
      "transfer demo-0 -> demo-1#i1",
      "deletePod demo-0",
    ]);
    for (const pod of world.pods.values()) expect(pod.revision).toBe("r2");
    settledWith(world, 3);
    expect(world.configuration.voters).toEqual([key(0), key(1), key(2)]);
  });

  it.each(Array.from({ length: 14 }, (_, index) => index))(
    "completes when the operator dies before reconcile %i",
    (crashAt) => {
      const world = new World(5);
      world.updateRevision = "r2";
      run(world, { crashAt });
      for (const pod of world.pods.values()) expect(pod.revision).toBe("r2");
      settledWith(world, 5);
    },
  );
});
