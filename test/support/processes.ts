// Child processes for tests: each one logs to its own file, dies with the test run
// (the kernel's parent-death signal, through util-linux's setpriv), and stops
// gracefully first (SIGTERM, then SIGKILL after a grace period).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants, createWriteStream, type WriteStream } from "node:fs";

export interface StartOptions {
  /** A short name for logs and errors, e.g. "kube-apiserver". */
  name: string;
  command: string;
  args: string[];
  /** Where stdout and stderr go; read it when the process fails. */
  logPath: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const stopGraceMs = 10_000;
const setprivPath = "/usr/bin/setpriv";

function hasSetpriv(): boolean {
  try {
    accessSync(setprivPath, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const withParentDeathSignal = hasSetpriv();
const running = new Set<ManagedProcess>();

// Last line of defence for an abrupt exit of the test runner (process.exit, an
// uncaught error): kill synchronously what is still running.
process.once("exit", () => {
  for (const child of running) child.killNow();
});

export class ManagedProcess {
  readonly name: string;
  readonly logPath: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private stopping: Promise<void> | undefined;
  private exitState: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(options: StartOptions) {
    this.name = options.name;
    this.logPath = options.logPath;
    this.log = createWriteStream(options.logPath, { flags: "a" });
    const [command, args] = withParentDeathSignal
      ? [setprivPath, ["--pdeathsig", "KILL", "--", options.command, ...options.args]]
      : [options.command, options.args];
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.pipe(this.log, { end: false });
    this.child.stderr?.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.exitState = { code, signal };
        running.delete(this);
        resolve(this.exitState);
      });
      this.child.once("error", (error) => {
        this.log.write(`failed to start ${options.command}: ${error.message}\n`);
        this.exitState = { code: 127, signal: null };
        running.delete(this);
        resolve(this.exitState);
      });
    });
    running.add(this);
  }

  static start(options: StartOptions): ManagedProcess {
    return new ManagedProcess(options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitState !== undefined;
  }

  /** Why the process is gone, for error messages; undefined while it runs. */
  describeExit(): string | undefined {
    if (this.exitState === undefined) return undefined;
    const { code, signal } = this.exitState;
    return `${this.name} exited (${signal ? `signal ${signal}` : `code ${code}`}); see ${this.logPath}`;
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.hasExited) this.child.kill(signal);
  }

  killNow(): void {
    if (!this.hasExited) this.child.kill("SIGKILL");
  }

  /** SIGTERM, wait for the exit, SIGKILL after the grace period. Safe to call twice. */
  stop(graceMs = stopGraceMs): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.hasExited) {
        this.child.kill("SIGTERM");
        const timer = setTimeout(() => this.killNow(), graceMs);
        await this.exited;
        clearTimeout(timer);
      }
      this.log.end();
      await once(this.log, "close").catch(() => undefined);
    })();
    return this.stopping;
  }
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops every process this module started (for global teardown and signal handlers). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop()));
}

/**
 * For long-running entry points (make demo, make cluster): on SIGINT or SIGTERM, run
 * `stop` once, then stop whatever else this module started, say so, and exit 0.
 */
export function stopOnSignals(what: string, log: (message: string) => void, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping ${what} ...`);
    await stop();
    await stopAll();
    log("stopped; no processes left running");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}
