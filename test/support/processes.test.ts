import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { isProcessRunning, ManagedProcess } from "./processes.ts";
import { waitFor } from "./waitFor.ts";

describe("ManagedProcess", () => {
  it("logs output, stops with SIGTERM, and can be stopped twice", async () => {
    const dir = await mkdtemp(join(tmpdir(), "processes-test-"));
    const child = ManagedProcess.start({
      name: "echoer",
      command: "/bin/sh",
      args: ["-c", "echo started; trap 'echo got TERM; exit 0' TERM; while true; do sleep 0.05; done"],
      logPath: join(dir, "echoer.log"),
    });
    await waitFor(
      async () => ((await readFile(child.logPath, "utf8")).includes("started") ? true : undefined),
      {
        description: "the child to print",
        timeoutMs: 5_000,
      },
    );
    await Promise.all([child.stop(), child.stop()]);
    expect(child.hasExited).toBe(true);
    expect(await readFile(child.logPath, "utf8")).toContain("got TERM");
  });

  it("kills a child that ignores SIGTERM after the grace period", async () => {
    const dir = await mkdtemp(join(tmpdir(), "processes-test-"));
    const child = ManagedProcess.start({
      name: "stubborn",
      command: "/bin/sh",
      args: ["-c", "trap '' TERM; echo ready; while true; do sleep 0.05; done"],
      logPath: join(dir, "stubborn.log"),
    });
    await waitFor(
      async () => ((await readFile(child.logPath, "utf8")).includes("ready") ? true : undefined),
      {
        description: "the child to start",
        timeoutMs: 5_000,
      },
    );
    await child.stop(300);
    expect(child.describeExit()).toMatch(/signal SIGKILL/);
  });

  it("reports a command that cannot start", async () => {
    const dir = await mkdtemp(join(tmpdir(), "processes-test-"));
    const child = ManagedProcess.start({
      name: "missing",
      command: join(dir, "no-such-binary"),
      args: [],
      logPath: join(dir, "missing.log"),
    });
    await child.exited;
    expect(child.describeExit()).toMatch(/^missing exited/);
  });

  it("leaves no orphan when the test runner itself is killed", async () => {
    // A runner process starts a long sleep through ManagedProcess, prints the sleep's
    // pid, and is then SIGKILLed: no handler of ours runs, only the kernel's
    // parent-death signal can take the sleep down.
    const dir = await mkdtemp(join(tmpdir(), "processes-test-"));
    const script = `
      import { ManagedProcess } from ${JSON.stringify(new URL("./processes.ts", import.meta.url).pathname)};
      const child = ManagedProcess.start({ name: "sleeper", command: "sleep", args: ["300"], logPath: ${JSON.stringify(join(dir, "sleeper.log"))} });
      setTimeout(() => console.log(child.pid), 200);
      setInterval(() => {}, 1000);
    `;
    const runner = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const childPid = await new Promise<number>((resolve) =>
      runner.stdout.once("data", (data) => resolve(Number(String(data).trim()))),
    );
    // setpriv execs sleep in place, so the pid we got is the sleep itself.
    const { stdout } = await promisify(execFile)("ps", ["-o", "comm=", "-p", String(childPid)]);
    expect(stdout.trim()).toBe("sleep");
    runner.kill("SIGKILL");
    await waitFor(async () => (isProcessRunning(childPid) ? undefined : true), {
      description: `sleep (pid ${childPid}) to die with its parent`,
      timeoutMs: 5_000,
    });
  });
});
