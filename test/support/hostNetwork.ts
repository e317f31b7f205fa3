// The host's network namespaces and links, by name: tests check that what they started
// leaves none behind. Other runs may add or (a new node agent cleaning up after dead ones)
// remove names meanwhile, so tests compare what was added, not the whole lists.
import { execFileSync } from "node:child_process";

export function networkNamespaceNames(): string[] {
  return execFileSync("ip", ["netns", "list"])
    .toString()
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter(Boolean);
}

/** Link names (without the `@peer` suffix of a veth), optionally of one type (`bridge`). */
export function linkNames(type?: string): string[] {
  return execFileSync("ip", ["-o", "link", "show", ...(type === undefined ? [] : ["type", type])])
    .toString()
    .split("\n")
    .map((line) => line.split(":")[1]?.trim().split("@")[0] ?? "")
    .filter(Boolean);
}

/** The names in `now` that were not in `before`. */
export function addedNames(now: readonly string[], before: readonly string[]): string[] {
  return now.filter((name) => !before.includes(name));
}
