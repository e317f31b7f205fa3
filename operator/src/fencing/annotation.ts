// The `paxos.dev/fenced-members` annotation: which members a person wants fenced, like
// CloudNativePG's `cnpg.io/fencedInstances`. A JSON list of pod names, or "*" for all.
// Anything that does not parse is an error, never a partial list: the planner then changes
// no manual fence at all, so a typo cannot unfence a member someone meant to keep fenced.
import { podOrdinal } from "../membership/view.ts";
import type { ParsedFencedMembers } from "./types.ts";

export const fencedMembersAnnotation = "paxos.dev/fenced-members";

/** More names than any cluster has members (replicas are at most 9); a longer list is a mistake. */
export const fencedMembersMax = 64;

const usage = (cluster: string) =>
  `a JSON list of this cluster's pod names, such as ["${cluster}-1"], or "*" for every member`;

/**
 * Parses the annotation's value for the cluster `cluster`. Missing or empty: nobody. `*`,
 * `"*"` or a list holding `"*"`: every member. Duplicates are allowed and dropped; names are
 * returned by ordinal.
 */
export function parseFencedMembersAnnotation(
  value: string | undefined,
  cluster: string,
): ParsedFencedMembers {
  const text = value?.trim() ?? "";
  if (text === "") return { members: [], all: false };
  if (text === "*") return { members: [], all: true };
  const expected = usage(cluster);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return {
      error: `${fencedMembersAnnotation} is not valid JSON (${(error as Error).message}); it must be ${expected}.`,
    };
  }
  if (parsed === "*") return { members: [], all: true };
  if (!Array.isArray(parsed))
    return {
      error: `${fencedMembersAnnotation} is a JSON ${describeJson(parsed)}, not a list; it must be ${expected}.`,
    };
  if (parsed.length > fencedMembersMax)
    return {
      error: `${fencedMembersAnnotation} lists ${parsed.length} names; at most ${fencedMembersMax} are allowed.`,
    };
  const nonStrings = parsed.flatMap((item, index) =>
    typeof item === "string" ? [] : [`${JSON.stringify(item)} at position ${index}`],
  );
  if (nonStrings.length > 0)
    return {
      error: `${fencedMembersAnnotation} holds items that are not strings: ${nonStrings.join(", ")}; it must be ${expected}.`,
    };
  const names = (parsed as string[]).map((name) => name.trim());
  const all = names.includes("*");
  const pods = [...new Set(names.filter((name) => name !== "*"))];
  const foreign = pods.filter((name) => podOrdinal(cluster, name) === undefined);
  if (foreign.length > 0)
    return {
      error: `${fencedMembersAnnotation} names ${foreign.map((name) => JSON.stringify(name)).join(", ")}, which ${foreign.length === 1 ? "is not a pod" : "are not pods"} of cluster ${cluster}; use pod names ${cluster}-0, ${cluster}-1, … (not member keys).`,
    };
  const ordinal = (name: string) => podOrdinal(cluster, name) ?? Number.POSITIVE_INFINITY;
  return { members: pods.sort((a, b) => ordinal(a) - ordinal(b)), all };
}

function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return "object";
  return typeof value;
}
