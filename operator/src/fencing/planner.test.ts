import { describe, expect, it } from "vitest";
import {
  afterPlan,
  healthy,
  key,
  lostMember,
  type MemberSketch,
  pod,
  type Scene,
  sketch,
  windowMs,
} from "./planFixtures.ts";
import { duration, fencingSettings, planFencing } from "./planner.ts";
import type {
  FencingAction,
  FencingConditionType,
  FencingInput,
  FencingPlan,
  FencingRecord,
} from "./types.ts";

const plan = (scene: Scene): FencingPlan => planFencing(sketch(scene));

interface ConditionExpectation {
  readonly status?: "True" | "False" | "Unknown";
  readonly reason?: string;
  /** Every pattern must match the message. */
  readonly says?: readonly (string | RegExp)[];
}

interface Row {
  readonly name: string;
  readonly scene: Scene;
  readonly action: Partial<FencingAction> & { readonly type: FencingAction["type"] };
  readonly record?: Partial<FencingRecord>;
  readonly conditions?: Partial<Record<FencingConditionType, ConditionExpectation>>;
  /** The reason of the one Event, when there is one. */
  readonly event?: string;
}

function check(rows: readonly Row[]): void {
  it.each(rows.map((row) => [row.name, row] as const))("%s", (_name, row) => {
    const result = plan(row.scene);
    expect(result.action).toMatchObject(row.action);
    if (row.record !== undefined) expect(result.record).toMatchObject(row.record);
    expect(result.conditions.map((condition) => condition.type)).toEqual([
      "Fenced",
      "MemberLost",
      "QuorumLost",
    ]);
    for (const [type, expected] of Object.entries(row.conditions ?? {})) {
      const condition = result.conditions.find((candidate) => candidate.type === type);
      if (expected.status !== undefined) expect(condition?.status, type).toBe(expected.status);
      if (expected.reason !== undefined) expect(condition?.reason, type).toBe(expected.reason);
      for (const pattern of expected.says ?? []) expect(condition?.message, type).toMatch(pattern);
    }
    if (row.event !== undefined) expect(result.events.map((event) => event.reason)).toEqual([row.event]);
    if (result.action.type === "none" || result.action.type === "wait") expect(result.events).toEqual([]);
    else expect(result.events).toHaveLength(1);
  });
}

const voters = (n: number, overrides: Record<number, MemberSketch> = {}) => ({ ...healthy(n), ...overrides });
/** Unreachable by the operator and the leader for `ms`. */
const gone = (ms: number, extra: MemberSketch = {}): MemberSketch => ({ unreachableFor: ms, ...extra });
/** A millisecond past the 30s window. */
const past = windowMs + 1;

describe("settings", () => {
  it("converts spec.fencing to milliseconds, the hold-down equal to the window", () => {
    expect(
      fencingSettings({ automatic: true, unreachableWindowSeconds: 45, forceDeleteOnLostNode: false }),
    ).toEqual({
      automatic: true,
      unreachableWindowMs: 45_000,
      holdDownMs: 45_000,
      forceDeleteOnLostNode: false,
    });
  });

  it.each([
    [30_000, "30s"],
    [60_000, "1m"],
    [90_000, "1m30s"],
    [3_600_000, "1h"],
    [3_661_000, "1h1m1s"],
  ])("writes %d ms as %s", (ms, text) => expect(duration(ms)).toBe(text));

  it.each([
    ["a negative window", { unreachableWindowMs: -1 }],
    ["a hold-down that is not a number", { holdDownMs: Number.NaN }],
  ])("refuses %s", (_name, settings) => {
    const input = sketch({ members: voters(3) });
    expect(() => planFencing({ ...input, settings: { ...input.settings, ...settings } })).toThrow(RangeError);
  });
});

describe("a settled cluster and what is unknown", () => {
  check([
    {
      name: "healthy voters: nothing to do, and every condition says so",
      scene: { members: voters(3) },
      action: { type: "none" },
      record: { automatic: [], manual: [] },
      conditions: {
        Fenced: { status: "False", reason: "NoneFenced", says: ["No member is fenced."] },
        MemberLost: { status: "False", reason: "NoMemberLost" },
        QuorumLost: { status: "False", reason: "QuorumReachable", says: ["3 of 3 voters are reachable"] },
      },
    },
    {
      name: "no configuration: nothing is decided and every condition is Unknown",
      scene: { members: voters(3, { 1: gone(past) }), noConfiguration: true, annotation: '["demo-2"]' },
      action: { type: "none" },
      conditions: {
        Fenced: { status: "Unknown", reason: "NoConfiguration" },
        MemberLost: { status: "Unknown" },
        QuorumLost: { status: "Unknown" },
      },
    },
  ]);
});

describe("rule 1: automatic fencing of members nobody reaches", () => {
  check([
    {
      name: "a follower neither the operator nor the leader reached for longer than the window is fenced",
      scene: { members: voters(3, { 2: gone(past) }) },
      action: { type: "fence", member: key(2), leader: pod(0), reason: "Unreachable" },
      record: { automatic: [key(2)], manual: [] },
      event: "FencingMember",
    },
    {
      name: "exactly at the window it is not fenced yet",
      scene: { members: voters(3, { 2: gone(30_000) }) },
      action: { type: "none" },
    },
    {
      name: "the leader still hears from it: not fenced",
      scene: { members: voters(3, { 2: gone(past, { leaderSilentFor: 1_000 }) }) },
      action: { type: "none" },
    },
    {
      name: "the leader has not heard from it for exactly the window: not fenced",
      scene: { members: voters(3, { 2: gone(past, { leaderSilentFor: 30_000 }) }) },
      action: { type: "none" },
    },
    {
      name: "the operator still reaches it: not fenced, however long the leader has not heard from it",
      scene: { members: voters(3, { 2: { leaderSilentFor: 600_000 } }) },
      action: { type: "none" },
    },
    {
      name: "the leader does not say when it heard from it: not fenced on the operator's word alone",
      scene: { members: voters(3, { 2: gone(600_000, { leaderSilentFor: null }) }) },
      action: { type: "none" },
    },
    {
      name: "spec.fencing.automatic false: not fenced",
      scene: { members: voters(3, { 2: gone(past) }), automatic: false },
      action: { type: "none" },
    },
    {
      name: "a learner nobody reaches is fenced too (it changes no quorum)",
      scene: { members: voters(3, { 3: gone(past, { as: "learner" }) }) },
      action: { type: "fence", member: key(3), reason: "Unreachable" },
    },
    {
      name: "one member per plan: the lowest ordinal first",
      scene: { members: voters(5, { 3: gone(past), 4: gone(past) }) },
      action: { type: "fence", member: key(3) },
      record: { automatic: [key(3)] },
    },
    {
      name: "an already fenced member is left as it is",
      scene: { members: voters(3, { 2: gone(past, { fenced: true }) }), record: { automatic: [key(2)] } },
      action: { type: "none" },
      conditions: {
        Fenced: {
          status: "True",
          reason: "MembersFenced",
          says: [key(2), "unreachable by the operator and the leader for longer than 30s"],
        },
      },
    },
    {
      name: "the leader is never fenced: while the operator cannot reach it, nothing goes through it",
      scene: { members: voters(3, { 0: gone(past, { leaderSilentFor: null }) }), leader: 0 },
      action: { type: "none" },
    },
    {
      name: "a deposed leader that nobody reaches is fenced once another member leads",
      scene: { members: voters(3, { 0: gone(past) }), leader: 1 },
      action: { type: "fence", member: key(0), leader: pod(1), reason: "Unreachable" },
    },
    {
      name: "unsafe: the unfenced voters left would be fewer than a quorum",
      scene: {
        members: voters(5, { 1: { fenced: true }, 2: { fenced: true }, 4: gone(past) }),
        annotation: '["demo-1", "demo-2"]',
        record: { manual: [key(1), key(2)] },
      },
      action: { type: "wait", reason: "FenceUnsafe" },
      record: { automatic: [], manual: [key(1), key(2)] },
      conditions: {
        Fenced: {
          status: "True",
          reason: "FencingBlocked",
          says: [`Fencing ${key(4)}`, "would leave 2 of 5 voters unfenced, fewer than a quorum of 3"],
        },
      },
    },
    {
      name: "unsafe: no healthy quorum could commit it (two voters are behind)",
      scene: { members: voters(5, { 1: { lag: 5000 }, 2: { lag: 5000 }, 4: gone(past) }) },
      action: { type: "wait", reason: "FenceUnsafe" },
      conditions: { Fenced: { reason: "FencingBlocked", says: ["only 2 of 5 voters are healthy"] } },
    },
    {
      name: "a membership operation in progress: no fence, and the record is unchanged",
      scene: { members: voters(3, { 2: gone(past) }), busy: true },
      action: { type: "wait", reason: "MembershipBusy" },
      record: { automatic: [], manual: [] },
    },
  ]);
});

describe("rule 2: automatic unfencing after the hold-down", () => {
  const fencedBack = (reachableFor: number, extra: MemberSketch = {}): MemberSketch => ({
    fenced: true,
    reachableFor,
    ...extra,
  });
  check([
    {
      name: "reachable by both for exactly the hold-down and caught up: unfenced",
      scene: { members: voters(3, { 2: fencedBack(30_000) }), record: { automatic: [key(2)] } },
      action: { type: "unfence", member: key(2), leader: pod(0), reason: "Reachable" },
      record: { automatic: [key(2)] },
      event: "UnfencingMember",
    },
    {
      name: "a millisecond short of the hold-down: still fenced",
      scene: { members: voters(3, { 2: fencedBack(29_999) }), record: { automatic: [key(2)] } },
      action: { type: "none" },
      conditions: { Fenced: { status: "True", reason: "MembersFenced" } },
    },
    {
      name: "a longer hold-down than the window is honoured",
      scene: {
        members: voters(3, { 2: fencedBack(59_999) }),
        record: { automatic: [key(2)] },
        holdDownMs: 60_000,
      },
      action: { type: "none" },
    },
    {
      name: "reachable long enough but behind: still fenced",
      scene: {
        members: voters(3, { 2: fencedBack(600_000, { lag: 5000 }) }),
        record: { automatic: [key(2)] },
      },
      action: { type: "none" },
    },
    {
      name: "the leader does not hear from it yet: still fenced",
      scene: {
        members: voters(3, { 2: fencedBack(600_000, { leaderSilentFor: 60_000 }) }),
        record: { automatic: [key(2)] },
      },
      action: { type: "none" },
    },
    {
      name: "fenced by someone else (in neither the annotation nor the record): left alone",
      scene: { members: voters(3, { 2: fencedBack(600_000) }) },
      action: { type: "none" },
      record: { automatic: [], manual: [] },
      conditions: { Fenced: { status: "True", says: ["fenced by someone else", "leaves it alone"] } },
    },
    {
      name: "also listed in the annotation: manual wins, it is never unfenced automatically",
      scene: {
        members: voters(3, { 2: fencedBack(600_000) }),
        record: { automatic: [key(2)] },
        annotation: '["demo-2"]',
      },
      action: { type: "none" },
      record: { automatic: [], manual: [key(2)] },
      conditions: { Fenced: { says: [`${key(2)} (listed in paxos.dev/fenced-members)`] } },
    },
    {
      name: "a membership operation in progress: the unfence waits",
      scene: { members: voters(3, { 2: fencedBack(600_000) }), record: { automatic: [key(2)] }, busy: true },
      action: { type: "wait", reason: "MembershipBusy" },
    },
    {
      name: "while the annotation is invalid nothing is unfenced",
      scene: {
        members: voters(3, { 2: fencedBack(600_000) }),
        record: { automatic: [key(2)] },
        annotation: "[",
      },
      action: { type: "none" },
      conditions: {
        Fenced: { reason: "InvalidAnnotation", says: ["is not valid JSON", "nothing is unfenced"] },
      },
    },
    {
      name: "a record entry whose fence is gone is dropped",
      scene: { members: voters(3), record: { automatic: [key(2)], manual: [key(1)] } },
      action: { type: "none" },
      record: { automatic: [], manual: [] },
    },
  ]);
});

describe("rule 3: manual fencing from the annotation", () => {
  check([
    {
      name: "a listed follower is fenced",
      scene: { members: voters(3), annotation: '["demo-2"]' },
      action: { type: "fence", member: key(2), leader: pod(0), reason: "Manual" },
      record: { manual: [key(2)], automatic: [] },
      event: "FencingMember",
    },
    {
      name: "a listed member that is fenced already: nothing to do, and it is recorded as manual",
      scene: { members: voters(3, { 2: { fenced: true } }), annotation: '["demo-2"]' },
      action: { type: "none" },
      record: { manual: [key(2)] },
      conditions: { Fenced: { status: "True", reason: "MembersFenced" } },
    },
    {
      name: "removed from the annotation, reachable and caught up: unfenced at once (no hold-down)",
      scene: { members: voters(3, { 2: { fenced: true, reachableFor: 1 } }), record: { manual: [key(2)] } },
      action: { type: "unfence", member: key(2), reason: "Manual" },
    },
    {
      name: "removed from the annotation but behind: still fenced, and the condition says when it is unfenced",
      scene: { members: voters(3, { 2: { fenced: true, lag: 5000 } }), record: { manual: [key(2)] } },
      action: { type: "none" },
      conditions: {
        Fenced: { says: ["no longer listed", "unfenced once the operator and the leader reach it"] },
      },
    },
    {
      name: "removed from the annotation but unreachable: still fenced",
      scene: { members: voters(3, { 2: gone(600_000, { fenced: true }) }), record: { manual: [key(2)] } },
      action: { type: "none" },
    },
    {
      name: "unfencing comes before fencing: moving the fence from demo-1 to demo-2 unfences demo-1 first",
      scene: {
        members: voters(3, { 1: { fenced: true } }),
        annotation: '["demo-2"]',
        record: { manual: [key(1)] },
      },
      action: { type: "unfence", member: key(1) },
    },
    {
      name: "a listed leader hands over first, to the healthy unlisted voter least behind",
      scene: {
        members: voters(5, { 1: { lag: 40 }, 2: { lag: 10 }, 3: { lag: 10 } }),
        annotation: '["demo-0"]',
      },
      action: { type: "transferLeadership", leader: pod(0), to: key(4) },
      event: "TransferringLeadership",
    },
    {
      name: "then, no longer leading, it is fenced",
      scene: { members: voters(3), annotation: '["demo-0"]', leader: 1 },
      action: { type: "fence", member: key(0), leader: pod(1), reason: "Manual" },
    },
    {
      name: "a listed leader with nobody unlisted to take over stays unfenced (someone must lead)",
      scene: { members: voters(5), annotation: '["demo-0", "demo-1", "demo-2", "demo-3", "demo-4"]' },
      action: { type: "fence", member: key(1) },
      conditions: {
        Fenced: { reason: "FencingBlocked", says: ["no healthy voter that is not listed can take over"] },
      },
    },
    {
      name: '"*" fences followers first, by ordinal, never the leader',
      scene: { members: voters(3), annotation: "*" },
      action: { type: "fence", member: key(1), reason: "Manual" },
    },
    {
      name: '"*" stops at what stays safe, and the condition names who could not be fenced and why',
      scene: {
        members: voters(3, { 1: { fenced: true } }),
        annotation: '["*"]',
        record: { manual: [key(1)] },
      },
      action: { type: "wait", reason: "FenceUnsafe" },
      conditions: {
        Fenced: {
          status: "True",
          reason: "FencingBlocked",
          says: [
            `${key(1)} (listed in paxos.dev/fenced-members)`,
            `Fencing ${key(2)} (listed in paxos.dev/fenced-members) waits: it would leave 1 of 3 voters unfenced`,
            `Fencing ${key(0)} (listed in paxos.dev/fenced-members) waits: it would leave 1 of 3 voters unfenced`,
          ],
        },
      },
    },
    {
      name: '"*" in five voters fences a second follower',
      scene: { members: voters(5, { 1: { fenced: true } }), annotation: "*", record: { manual: [key(1)] } },
      action: { type: "fence", member: key(2), reason: "Manual" },
    },
    {
      name: "one of two voters: refused (the other alone is no quorum)",
      scene: { members: voters(2), annotation: '["demo-1"]' },
      action: { type: "wait", reason: "FenceUnsafe" },
    },
    {
      name: "a healthy listed voter is not fenced when the rest would not be a healthy quorum",
      scene: { members: voters(3, { 2: { lag: 5000 } }), annotation: '["demo-1"]' },
      action: { type: "wait", reason: "FenceUnsafe" },
      conditions: { Fenced: { says: ["without it, only 1 of 3 voters would be healthy and unfenced"] } },
    },
    {
      name: "an unreachable listed member is fenced as Manual, not Unreachable",
      scene: { members: voters(3, { 2: gone(past) }), annotation: '["demo-2"]' },
      action: { type: "fence", member: key(2), reason: "Manual" },
      record: { manual: [key(2)], automatic: [] },
    },
    {
      name: "a listed pod that is no member yet: nothing now, and the condition says so",
      scene: { members: voters(3), annotation: '["demo-5"]' },
      action: { type: "none" },
      conditions: { Fenced: { says: ["Listed but not members: demo-5"] } },
    },
    {
      name: "an invalid annotation changes no manual fence and says why",
      scene: {
        members: voters(3, { 2: { fenced: true } }),
        annotation: '["other-2"]',
        record: { manual: [key(2)] },
      },
      action: { type: "none" },
      record: { manual: [key(2)] },
      conditions: {
        Fenced: {
          status: "True",
          reason: "InvalidAnnotation",
          says: ['"other-2", which is not a pod of cluster demo'],
        },
      },
    },
    {
      name: "an invalid annotation does not stop automatic fencing",
      scene: { members: voters(3, { 2: gone(past) }), annotation: "{}" },
      action: { type: "fence", member: key(2), reason: "Unreachable" },
    },
    {
      name: "no known leader: the manual fence waits",
      scene: { members: voters(3), annotation: '["demo-2"]', leader: null },
      action: { type: "wait", reason: "NoLeader" },
    },
    {
      name: "a membership operation in progress: the manual fence waits",
      scene: { members: voters(3), annotation: '["demo-2"]', busy: true },
      action: { type: "wait", reason: "MembershipBusy" },
      record: { manual: [] },
    },
  ]);
});

describe("rule 4: members on lost nodes", () => {
  const evictedPod = (extra: MemberSketch = {}): MemberSketch => lostMember({ as: "none", ...extra });
  check([
    {
      name: "without forceDeleteOnLostNode: fenced as unreachable, and MemberLost tells a person what to do",
      scene: { members: voters(3, { 2: lostMember({ node: "node-b" }) }) },
      action: { type: "fence", member: key(2), reason: "Unreachable" },
      conditions: {
        MemberLost: {
          status: "True",
          reason: "ForceDeleteDisabled",
          says: [
            "Pod demo-2 is stuck on node node-b, which has been NotReady for longer than 30s",
            "set spec.fencing.forceDeleteOnLostNode: true",
            "make sure the node is gone",
            "kubectl delete pod demo-2 --grace-period=0 --force",
          ],
        },
      },
    },
    {
      name: "without forceDeleteOnLostNode, fenced already: nothing more is done",
      scene: { members: voters(3, { 2: lostMember({ fenced: true }) }), record: { automatic: [key(2)] } },
      action: { type: "none" },
      conditions: { MemberLost: { status: "True", reason: "ForceDeleteDisabled" } },
    },
    {
      name: "with forceDeleteOnLostNode: fenced first (automatic fencing is on)",
      scene: { members: voters(3, { 2: lostMember() }), forceDelete: true },
      action: { type: "fence", member: key(2), reason: "Unreachable" },
      conditions: { MemberLost: { status: "True", reason: "RecoveringLostMember" } },
    },
    {
      name: "then evicted",
      scene: {
        members: voters(3, { 2: lostMember({ fenced: true }) }),
        forceDelete: true,
        record: { automatic: [key(2)] },
      },
      action: { type: "evict", member: key(2), leader: pod(0) },
      event: "EvictingLostMember",
    },
    {
      name: "evicted directly when automatic fencing is off",
      scene: { members: voters(3, { 2: lostMember() }), forceDelete: true, automatic: false },
      action: { type: "evict", member: key(2) },
    },
    {
      name: "then, evicted, its pod is force-deleted",
      scene: {
        members: voters(3, { 2: evictedPod({ node: "node-b" }) }),
        forceDelete: true,
        evicted: [key(2)],
      },
      action: { type: "forceDeletePod", pod: pod(2), node: "node-b" },
      event: "ForceDeletingPod",
      conditions: { MemberLost: { status: "True", says: ["its member was evicted"] } },
    },
    {
      name: "a stuck terminating pod (Ready still true) of an evicted member is force-deleted too",
      scene: {
        members: voters(3, { 2: evictedPod({ ready: true, terminating: true }) }),
        forceDelete: true,
        evicted: [key(2)],
      },
      action: { type: "forceDeletePod", pod: pod(2) },
    },
    {
      name: "a pod that is configured is never force-deleted, even on a lost node",
      scene: {
        members: voters(3, { 2: lostMember({ fenced: true }) }),
        forceDelete: true,
        evicted: [key(2, "old")],
      },
      action: { type: "evict", member: key(2) },
    },
    {
      name: "the force-delete happens even during a membership operation (it is no configuration change)",
      scene: { members: voters(3, { 2: evictedPod() }), forceDelete: true, evicted: [key(2)], busy: true },
      action: { type: "forceDeletePod", pod: pod(2) },
    },
    {
      name: "the eviction waits for a membership operation",
      scene: { members: voters(3, { 2: lostMember({ fenced: true }) }), forceDelete: true, busy: true },
      action: { type: "wait", reason: "MembershipBusy" },
    },
    {
      name: "the eviction waits when it is unsafe, and MemberLost says why",
      scene: {
        members: voters(3, { 1: { lag: 5000 }, 2: lostMember() }),
        forceDelete: true,
        automatic: false,
      },
      action: { type: "wait", reason: "EvictionUnsafe" },
      conditions: {
        MemberLost: {
          reason: "RecoveryBlocked",
          says: [`Evicting ${key(2)} waits: only 1 of 3 voters are healthy`],
        },
      },
    },
    {
      name: "a node NotReady for exactly the window is not lost yet",
      scene: {
        members: voters(3, { 2: lostMember({ nodeNotReadyFor: 30_000, fenced: true }) }),
        forceDelete: true,
      },
      action: { type: "none" },
      conditions: { MemberLost: { status: "False" } },
    },
    {
      name: "a node whose Ready condition is Unknown counts as NotReady",
      scene: {
        members: voters(3, { 2: lostMember({ nodeUnknown: true, fenced: true }) }),
        forceDelete: true,
        automatic: false,
      },
      action: { type: "evict", member: key(2) },
    },
    {
      name: "a pod still Ready on a NotReady node is not stuck",
      scene: { members: voters(3, { 2: lostMember({ ready: true, fenced: true }) }), forceDelete: true },
      action: { type: "none" },
      conditions: { MemberLost: { status: "False" } },
    },
    {
      name: "a member the leader still hears from is not lost, whatever its node says",
      scene: { members: voters(3, { 2: lostMember({ leaderSilentFor: 0 }) }), forceDelete: true },
      action: { type: "none" },
    },
    {
      name: "an evicted member's pod whose node is back is left to the StatefulSet",
      scene: { members: voters(3, { 2: { as: "none" } }), forceDelete: true, evicted: [key(2)] },
      action: { type: "none" },
      conditions: { MemberLost: { status: "False" } },
    },
    {
      name: "without forceDeleteOnLostNode an evicted pod is not force-deleted either",
      scene: { members: voters(3, { 2: evictedPod() }), evicted: [key(2)] },
      action: { type: "none" },
      conditions: { MemberLost: { reason: "ForceDeleteDisabled", says: ["kubectl delete pod demo-2"] } },
    },
  ]);
});

describe("rule 5: quorum lost", () => {
  check([
    {
      name: "two of three voters unreachable: nothing is proposed at all, and QuorumLost says what to bring back",
      scene: {
        members: voters(3, {
          1: gone(past, { exists: false }),
          2: lostMember({ node: "node-b", fenced: true }),
        }),
        forceDelete: true,
        annotation: '["demo-0"]',
        record: { automatic: [key(2)] },
      },
      action: { type: "none" },
      record: { automatic: [key(2)] },
      conditions: {
        QuorumLost: {
          status: "True",
          reason: "QuorumLost",
          says: [
            "Only 1 of 3 voters are reachable",
            "a quorum is 2",
            "demo-1 (its pod does not exist), demo-2 (its node node-b is NotReady)",
            "claims data-demo-1, data-demo-2",
            "never delete the claims of a majority",
          ],
        },
        MemberLost: { status: "True", reason: "RecoveryBlocked" },
      },
    },
    {
      name: "quorum lost: an evicted member's pod is not force-deleted either",
      scene: {
        members: voters(3, { 1: gone(past), 2: gone(past), 3: lostMember({ as: "none" }) }),
        leader: null,
        forceDelete: true,
        evicted: [key(3)],
        annotation: '["demo-2"]',
      },
      action: { type: "none" },
    },
    {
      name: "quorum lost: no fence, however long members have been unreachable",
      scene: { members: voters(5, { 2: gone(600_000), 3: gone(600_000), 4: gone(600_000) }) },
      action: { type: "none" },
      conditions: {
        QuorumLost: {
          status: "True",
          says: ["demo-2 (its pod is not ready), demo-3 (its pod is not ready)"],
        },
      },
    },
    {
      name: "a pod that is ready but does not answer is named as such",
      scene: { members: voters(3, { 1: gone(past, { ready: true }), 2: gone(past, { terminating: true }) }) },
      action: { type: "none" },
      conditions: {
        QuorumLost: {
          says: ["demo-1 (its pod is ready but does not answer), demo-2 (its pod is terminating)"],
        },
      },
    },
    {
      name: "voters the operator cannot reach but the leader hears count for the quorum",
      scene: {
        members: voters(3, { 1: gone(past, { leaderSilentFor: 0 }), 2: gone(past, { leaderSilentFor: 0 }) }),
      },
      action: { type: "none" },
      conditions: { QuorumLost: { status: "False", says: ["3 of 3 voters are reachable"] } },
    },
  ]);
});

describe("conditions are stable from one reconcile to the next", () => {
  const scenes: readonly [string, Scene][] = [
    [
      "fenced automatically",
      { members: voters(3, { 2: gone(past, { fenced: true }) }), record: { automatic: [key(2)] } },
    ],
    [
      "fencing blocked",
      { members: voters(3, { 1: { fenced: true } }), annotation: "*", record: { manual: [key(1)] } },
    ],
    ["a lost member", { members: voters(3, { 2: lostMember({ fenced: true }) }), forceDelete: false }],
    ["quorum lost", { members: voters(3, { 1: gone(past), 2: lostMember() }) }],
  ];
  it.each(scenes)("%s: the same conditions ten seconds later", (_name, scene) => {
    expect(plan({ ...scene, later: 10_000 }).conditions).toEqual(plan(scene).conditions);
  });
});

describe("runs over several reconciles", () => {
  /** Plans and applies until the plan proposes nothing; the actions in order. */
  function run(
    start: FencingInput,
    limit = 10,
  ): { actions: FencingAction[]; last: FencingPlan; input: FencingInput } {
    let input = start;
    const actions: FencingAction[] = [];
    for (let round = 0; round < limit; round += 1) {
      const next = planFencing(input);
      if (next.action.type === "none" || next.action.type === "wait") return { actions, last: next, input };
      actions.push(next.action);
      input = afterPlan(input, next);
    }
    throw new Error(`no settled plan after ${limit} rounds: ${JSON.stringify(actions)}`);
  }

  it("a lost node: fence, then evict, then force-delete, then nothing", () => {
    const { actions, last } = run(sketch({ members: voters(3, { 2: lostMember() }), forceDelete: true }));
    expect(actions.map((action) => action.type)).toEqual(["fence", "evict", "forceDeletePod"]);
    expect(last.action).toEqual({ type: "none" });
    expect(last.record).toEqual({ automatic: [], manual: [] });
  });

  it('"*" on five voters fences the two followers it safely can, and says why not the rest', () => {
    const { actions, last } = run(sketch({ members: voters(5), annotation: "*" }));
    expect(actions).toEqual([
      { type: "fence", member: key(1), leader: pod(0), reason: "Manual" },
      { type: "fence", member: key(2), leader: pod(0), reason: "Manual" },
    ]);
    expect(last.action).toMatchObject({ type: "wait", reason: "FenceUnsafe" });
    expect(last.record.manual).toEqual([key(1), key(2)]);
    const fenced = last.conditions.find((condition) => condition.type === "Fenced");
    expect(fenced).toMatchObject({ status: "True", reason: "FencingBlocked" });
    for (const waiting of [key(3), key(4), key(0)]) expect(fenced?.message).toContain(`Fencing ${waiting}`);
  });

  it("a listed leader: transfer, then fence; removed from the annotation: unfenced", () => {
    const { actions, last, input } = run(sketch({ members: voters(3), annotation: '["demo-0"]' }));
    expect(actions).toEqual([
      { type: "transferLeadership", leader: pod(0), to: key(1) },
      { type: "fence", member: key(0), leader: pod(1), reason: "Manual" },
    ]);
    expect(last.record.manual).toEqual([key(0)]);
    const after = run({ ...input, manual: { members: [], all: false } });
    expect(after.actions).toEqual([{ type: "unfence", member: key(0), leader: pod(1), reason: "Manual" }]);
  });
});
