// Prints one closing line for a whole `make test`: "summary: N passed, N failed, N skipped",
// adding up vitest's JSON report, `go test -json` output and the simulator's report (one
// seed counts as one test). Exits 1 when anything failed or nothing ran, so a run that
// tested nothing never looks green.
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { vitest: { type: "string" }, go: { type: "string", multiple: true }, sim: { type: "string" } },
});
const vitestReportPath = values.vitest;
const goReportPaths = values.go ?? [];
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];

if (vitestReportPath && existsSync(vitestReportPath)) {
  const report = JSON.parse(readFileSync(vitestReportPath, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests + (report.numFailedTestSuites ?? 0);
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  for (const file of report.testResults ?? []) {
    for (const test of file.assertionResults ?? []) {
      if (test.status === "failed") failures.push(`vitest: ${test.fullName}`);
    }
  }
} else {
  failed += 1;
  failures.push(`vitest: no report at ${vitestReportPath}`);
}

for (const path of goReportPaths) {
  if (!existsSync(path)) {
    failed += 1;
    failures.push(`go test: no report at ${path}`);
    continue;
  }
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.startsWith("{")) continue;
    const event = JSON.parse(line);
    if (!event.Test) continue;
    if (event.Action === "pass") passed += 1;
    else if (event.Action === "fail") {
      failed += 1;
      failures.push(`go test: ${event.Package} ${event.Test}`);
    } else if (event.Action === "skip") skipped += 1;
  }
}

if (values.sim !== undefined) {
  if (existsSync(values.sim)) {
    const report = JSON.parse(readFileSync(values.sim, "utf8"));
    for (const outcome of report.outcomes) {
      const ok =
        outcome.violations.length === 0 &&
        outcome.verdicts.kv === "linearizable" &&
        outcome.verdicts.lock === "linearizable";
      if (ok) passed += 1;
      else {
        failed += 1;
        failures.push(`sim: seed ${outcome.seed} (replay: make sim SEEDS=1 START=${outcome.seed})`);
      }
    }
  } else {
    failed += 1;
    failures.push(`sim: no report at ${values.sim}`);
  }
}

for (const failure of failures) console.log(`FAILED ${failure}`);
console.log(`summary: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
