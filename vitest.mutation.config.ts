import { defineConfig } from "vitest/config";

// The suite Stryker runs against each mutant of the Paxos core: the core's unit tests
// and a short simulation (see test/sim/seeds.mutation.ts).
export default defineConfig({
  test: {
    include: ["replica/src/paxos/**/*.test.ts", "test/sim/seeds.mutation.ts"],
    testTimeout: 60_000,
  },
});
