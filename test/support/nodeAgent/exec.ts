// Runs the host tools the agent needs (ip, iptables, mount) and reports their stderr.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";

export function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/** For cleanup: whatever is already gone is fine. */
export async function runQuietly(command: string, args: readonly string[]): Promise<void> {
  await run(command, args).catch(() => undefined);
}

export async function readTrimmed(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    return undefined;
  }
}

/** The process's start time in clock ticks since boot, to tell a live owner from a reused pid. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  const stat = await readTrimmed(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Field 22, counted after the command name, which may contain spaces and parentheses.
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}
