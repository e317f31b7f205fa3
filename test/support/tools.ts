// Where the Go-built tools live: `make tools` builds them into the cache and links
// them into bin/ at the repository root.
import { accessSync, constants } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export type ToolName =
  | "etcd"
  | "kube-apiserver"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "kubectl"
  | "helm"
  | "lincheck";

/** The path of a built tool, or an error that says how to build it. */
export function toolPath(name: ToolName, binDir = join(repositoryRoot, "bin")): string {
  const path = join(binDir, name);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${path} is missing: run \`make tools\` to build it (cached after the first build)`);
  }
  return path;
}
