import { defineConfig } from "vitest/config";

// Two projects: fast unit tests, and suites that need a real Kubernetes control plane
// (started once per run by the project's global setup, shared by its test files).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "operator/**/*.test.ts",
            "replica/**/*.test.ts",
            "test/support/**/*.test.ts",
            "test/sim/**/*.test.ts",
            "hack/**/*.test.ts",
          ],
        },
      },
      {
        test: {
          name: "process",
          include: ["test/process/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          // Real processes and iptables rules: one file at a time keeps timings honest.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "controlplane",
          include: ["test/controlplane/**/*.test.ts"],
          globalSetup: ["test/support/controlPlaneSetup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One control plane per run: test files share it, so they run one after another.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/e2e/setup.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // One cluster per run, and real faults: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
