import { describe, expect, it } from "vitest";
import { fencedMembersMax, parseFencedMembersAnnotation } from "./annotation.ts";

const parse = (value: string | undefined) => parseFencedMembersAnnotation(value, "demo");

describe("parseFencedMembersAnnotation", () => {
  it.each([
    ["missing", undefined, { members: [], all: false }],
    ["empty", "", { members: [], all: false }],
    ["blank", "  ", { members: [], all: false }],
    ["an empty list", "[]", { members: [], all: false }],
    ["one pod", '["demo-1"]', { members: ["demo-1"], all: false }],
    [
      "pods by ordinal, duplicates dropped",
      '["demo-10", "demo-2", "demo-2", " demo-0 "]',
      {
        members: ["demo-0", "demo-2", "demo-10"],
        all: false,
      },
    ],
    ["a bare star", "*", { members: [], all: true }],
    ["a JSON star", '"*"', { members: [], all: true }],
    ["a list holding a star", '["*"]', { members: [], all: true }],
    ["a star with names", '["demo-1", "*"]', { members: ["demo-1"], all: true }],
  ] as const)("%s", (_name, value, expected) => {
    expect(parse(value)).toEqual(expected);
  });

  it.each([
    [
      "bad JSON",
      '["demo-1"',
      /is not valid JSON .*a JSON list of this cluster's pod names, such as \["demo-1"\]/,
    ],
    ["an object", '{"demo-1": true}', /is a JSON object, not a list/],
    ["a number", "3", /is a JSON number, not a list/],
    ["null", "null", /is a JSON null, not a list/],
    ["a single name as a string", '"demo-1"', /is a JSON string, not a list/],
    ["non-strings", '["demo-1", 2, null]', /items that are not strings: 2 at position 1, null at position 2/],
    [
      "names of another cluster",
      '["demo-1", "other-0", "demo"]',
      /names "other-0", "demo", which are not pods of cluster demo/,
    ],
    [
      "a member key rather than a pod name",
      '["demo-1#k3f9"]',
      /"demo-1#k3f9", which is not a pod of cluster demo/,
    ],
    ["a padded ordinal", '["demo-01"]', /"demo-01", which is not a pod/],
    [
      "too many names",
      JSON.stringify(Array.from({ length: fencedMembersMax + 1 }, (_, n) => `demo-${n}`)),
      /at most 64/,
    ],
  ] as const)("rejects %s", (_name, value, message) => {
    const parsed = parse(value);
    expect(parsed).toHaveProperty("error");
    expect("error" in parsed ? parsed.error : "").toMatch(/^paxos\.dev\/fenced-members /);
    expect("error" in parsed ? parsed.error : "").toMatch(message);
  });
});
