// The pinned tool versions, read from hack/versions.env (the one place they are set).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repositoryRoot } from "./tools.ts";

export function readPinnedVersions(
  path = join(repositoryRoot, "hack", "versions.env"),
): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^\s*([A-Z][A-Z0-9_]*)=["']?([^"'#\s]*)["']?\s*(#.*)?$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) versions[match[1]] = match[2];
  }
  return versions;
}

export function pinnedVersion(name: string): string {
  const version = readPinnedVersions()[name];
  if (version === undefined || version === "") throw new Error(`hack/versions.env does not set ${name}`);
  return version;
}
