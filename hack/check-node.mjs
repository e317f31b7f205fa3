// Runs first in every npm script: a clear one-line error instead of a stack trace
// from a dependency when Node is too old. Plain JavaScript so that any Node can run it.
const requiredMajor = 24;
const actualMajor = Number(process.versions.node.split(".")[0]);
if (actualMajor < requiredMajor) {
  console.error(
    `paxos-operator needs Node >= ${requiredMajor} (this is ${process.version}); run the make targets, which fetch Node ${requiredMajor} (see hack/node.sh), or install it (e.g. nvm install ${requiredMajor}) and put it first on PATH.`,
  );
  process.exit(1);
}
