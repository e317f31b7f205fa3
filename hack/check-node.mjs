// Runs first in every npm script: a clear one-line error instead of a stack trace
// from a dependency when Node is too old. Plain JavaScript so that any Node can run it.
import { pathToFileURL } from "node:url";

export const requiredNodeMajor = 24;

/** The message to print for a Node version string like "20.20.2", or undefined when it will do. */
export function nodeVersionProblem(version) {
  const major = Number(String(version).replace(/^v/, "").split(".")[0]);
  if (Number.isInteger(major) && major >= requiredNodeMajor) return undefined;
  return (
    `paxos-operator needs Node >= ${requiredNodeMajor} (this is v${String(version).replace(/^v/, "")}); ` +
    `use the make targets, which fetch Node ${requiredNodeMajor} (hack/node.sh), ` +
    `or install it (e.g. nvm install ${requiredNodeMajor}) and put it first on PATH.`
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const problem = nodeVersionProblem(process.versions.node);
  if (problem !== undefined) {
    console.error(problem);
    process.exit(1);
  }
}
