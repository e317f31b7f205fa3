// `make demo` as a user meets it: it brings the sample PaxosCluster to Ready on a local
// cluster (control plane, node agent, operator), the commands it prints work as printed,
// `kubectl scale` goes through the scale subresource, and Ctrl-C (SIGINT) stops it with
// no process, network namespace or bridge left behind.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { addedNames, linkNames, networkNamespaceNames } from "../support/hostNetwork.ts";
import { isProcessRunning } from "../support/processes.ts";
import { repositoryRoot, toolPath } from "../support/tools.ts";
import { waitFor } from "../support/waitFor.ts";

const run = promisify(execFile);

/** Every descendant of a process, children first. */
async function descendants(pid: number): Promise<number[]> {
  const { stdout } = await run("pgrep", ["-P", String(pid)]).catch(() => ({ stdout: "" }));
  const children = stdout.trim().split("\n").filter(Boolean).map(Number);
  const nested = await Promise.all(children.map(descendants));
  return [...children, ...nested.flat()];
}

describe("make demo", () => {
  let stateDir = "";
  afterAll(async () => {
    if (stateDir !== "") await rm(stateDir, { recursive: true, force: true });
  });

  it("brings the sample to Ready, its printed commands work, and Ctrl-C leaves nothing behind", async () => {
    stateDir = await mkdtemp(join(tmpdir(), "paxos-demo-test-"));
    const namespacesBefore = networkNamespaceNames();
    const bridgesBefore = linkNames("bridge");
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
    try {
      await waitFor(async () => (output.includes("Press Ctrl-C") ? true : undefined), {
        description: "the demo to bring the sample to Ready and print its instructions",
        timeoutMs: 240_000,
        abortIf: () => (demo.exitCode !== null ? `demo exited early:\n${output}` : undefined),
      });
      expect(output).toMatch(/\[demo\] orders-config: Running, 3\/3 ready, orders-config-\d leads/);
      expect(output).toMatch(/\[demo\] Ready [\d.]+ s after kubectl apply/);
      const kubeconfig = /export KUBECONFIG=(\S+)/.exec(output)?.[1] ?? "";
      expect(kubeconfig.startsWith(stateDir)).toBe(true);
      const kubectl = (...args: string[]) =>
        run(toolPath("kubectl"), [`--kubeconfig=${kubeconfig}`, ...args]);

      const { stdout: clusters } = await kubectl("get", "paxosclusters", "--no-headers");
      expect(clusters).toMatch(/^orders-config\s+3\s+3\s+orders-config-\d\s+Running\s+/m);

      // The "Talk to it" block, run as printed, from the repository root.
      const talk = output.slice(output.indexOf("Talk to it"), output.indexOf("Break it"));
      const commands = talk
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line.startsWith("export ") || line.startsWith("hack/"));
      expect(commands).toHaveLength(4);
      const { stdout: answers } = await run("bash", ["-euo", "pipefail", "-c", commands.join("\n")], {
        cwd: repositoryRoot,
        env: { ...process.env, KUBECONFIG: kubeconfig },
      });
      expect(answers).toContain("hello");

      // kubectl scale goes through the scale subresource to the StatefulSet.
      await kubectl("scale", "paxoscluster/orders-config", "--replicas=5");
      await waitFor(
        async () => {
          const { stdout } = await kubectl(
            "get",
            "statefulset",
            "orders-config",
            "-o",
            "jsonpath={.spec.replicas}",
          );
          return stdout === "5" ? true : undefined;
        },
        { description: "the StatefulSet to follow kubectl scale", timeoutMs: 30_000 },
      );
    } finally {
      const processes = demo.pid === undefined ? [] : await descendants(demo.pid);
      expect(processes.length).toBeGreaterThanOrEqual(8); // 4 control plane, operator, 3+ replicas
      demo.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(output).toContain("stopped; no processes left running");
      expect(processes.filter(isProcessRunning)).toEqual([]);
      // Nothing new is left. (Fewer is fine: a new node agent removes what dead ones left.)
      expect(addedNames(networkNamespaceNames(), namespacesBefore)).toEqual([]);
      expect(addedNames(linkNames("bridge"), bridgesBefore)).toEqual([]);
    }
  }, 360_000);
});
