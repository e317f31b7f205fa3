// `make demo` as a user meets it: it prints a kubeconfig that kubectl can use, and
// Ctrl-C (SIGINT) stops it with no process left behind.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { isProcessRunning } from "../support/processes.ts";
import { repositoryRoot, toolPath } from "../support/tools.ts";
import { waitFor } from "../support/waitFor.ts";

const run = promisify(execFile);

describe("make demo", () => {
  let stateDir = "";
  afterAll(async () => {
    if (stateDir !== "") await rm(stateDir, { recursive: true, force: true });
  });

  it("serves kubectl until Ctrl-C, then leaves no process behind", async () => {
    stateDir = await mkdtemp(join(tmpdir(), "paxos-demo-test-"));
    const demo = spawn(process.execPath, [join(repositoryRoot, "test/support/demo.ts")], {
      env: { ...process.env, PAXOS_DEMO_DIR: stateDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    demo.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    demo.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => demo.once("exit", (code) => resolve(code)));

    await waitFor(async () => (output.includes("Press Ctrl-C") ? true : undefined), {
      description: "the demo to print its instructions",
      timeoutMs: 90_000,
      abortIf: () => (demo.exitCode !== null ? `demo exited early:\n${output}` : undefined),
    });
    const kubeconfig = /export KUBECONFIG=(\S+)/.exec(output)?.[1];
    expect(kubeconfig).toBe(join(stateDir, "kubeconfig"));
    const { stdout } = await run(toolPath("kubectl"), [
      "get",
      "namespaces",
      "--no-headers",
      `--kubeconfig=${kubeconfig}`,
    ]);
    expect(stdout).toMatch(/^default\s+Active/m);

    const { stdout: childList } = await run("pgrep", ["-P", String(demo.pid)]);
    const children = childList.trim().split("\n").map(Number);
    expect(children).toHaveLength(4);

    demo.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(output).toContain("stopped; no processes left running");
    expect(children.filter(isProcessRunning)).toEqual([]);
  });
});
