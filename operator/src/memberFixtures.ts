// Test fixtures: a member's /v1/status answer, as the probe returns it, in a three-member
// cluster `orders` whose voters are orders-0#a, orders-1#b and orders-2#c and whose leader
// is orders-0.
import type { MemberConfiguration, MemberProbe, MemberReport } from "./members.ts";

export const ordersConfiguration: MemberConfiguration = {
  voters: ["orders-0#a", "orders-1#b", "orders-2#c"],
  learners: [],
  fenced: [],
  evicted: [],
};

export function answeredProbe(
  name: string,
  incarnation: string,
  overrides: Partial<MemberReport> = {},
): MemberProbe {
  return {
    pod: name,
    ok: true,
    report: {
      member: `${name}#${incarnation}`,
      name,
      incarnation,
      role: "follower",
      leader: "orders-0#a",
      fenced: false,
      evicted: false,
      committedIndex: 50,
      appliedIndex: 50,
      configuration: ordersConfiguration,
      peers: [],
      ...overrides,
    },
  };
}
