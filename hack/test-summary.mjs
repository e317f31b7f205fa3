// Prints one closing line for a whole `make test`: "summary: N passed, N failed, N skipped",
// adding up vitest's JSON report and `go test -json` output. Exits 1 when anything failed
// or nothing ran, so a run that tested nothing never looks green.
import { existsSync, readFileSync } from "node:fs";

const [vitestReportPath, ...goReportPaths] = process.argv.slice(2);
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

for (const failure of failures) console.log(`FAILED ${failure}`);
console.log(`summary: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
