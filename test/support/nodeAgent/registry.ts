// Agents on this machine record themselves under /run/paxos-node-agent/: their owner pid,
// the names and subnet they use and what they changed on the host. A new agent claims a
// free slot (its subnet) and cleans up what dead agents left behind (their processes died
// with them; network namespaces, links, iptables rules and directories do not).
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { processStartTime, run, runQuietly } from "./exec.ts";

export const registryDir = "/run/paxos-node-agent";
const maxSlots = 200;

export interface AgentRecord {
  id: string;
  slot: number;
  pid: number;
  startTime: string;
  stateDir: string;
  /** iptables argument lists after "-D"/"-A": the rules this agent added. */
  iptablesRules: string[][];
  /** Directories the agent created on the host for mount targets (removed when empty). */
  createdDirs: string[];
  /** Every host path the agent's pods use as a mount target. */
  mountTargets: string[];
}

export const names = {
  bridge: (id: string) => `pxb${id}`,
  netnsPrefix: (id: string) => `pxa${id}-`,
  netns: (id: string, index: number) => `pxa${id}-${index}`,
  vethPrefix: (id: string) => `pxv${id}`,
  veth: (id: string, index: number) => `pxv${id}${index}`,
  vethPeer: (id: string, index: number) => `pxp${id}${index}`,
  iptablesComment: (id: string) => `paxos-node-agent-${id}`,
};

const recordPath = (slot: number) => join(registryDir, `slot-${slot}.json`);

async function readRecords(): Promise<AgentRecord[]> {
  const files = await readdir(registryDir).catch(() => [] as string[]);
  const records: AgentRecord[] = [];
  for (const file of files.filter((name) => /^slot-\d+\.json$/.test(name))) {
    try {
      records.push(JSON.parse(await readFile(join(registryDir, file), "utf8")) as AgentRecord);
    } catch {
      // Being written by its owner right now, or garbage: the owner's pid check decides later.
    }
  }
  return records;
}

export async function isAlive(record: Pick<AgentRecord, "pid" | "startTime">): Promise<boolean> {
  return (await processStartTime(record.pid)) === record.startTime;
}

export async function liveRecords(exceptId?: string): Promise<AgentRecord[]> {
  const records = await readRecords();
  const alive: AgentRecord[] = [];
  for (const record of records) if (record.id !== exceptId && (await isAlive(record))) alive.push(record);
  return alive;
}

/** Removes directories this agent created, deepest first, when empty and unused by live agents. */
export async function removeCreatedDirs(record: AgentRecord): Promise<void> {
  const others = await liveRecords(record.id);
  const inUse = (dir: string) =>
    others.some((other) =>
      other.mountTargets.some((target) => target === dir || target.startsWith(`${dir}/`)),
    );
  const dirs = [...record.createdDirs].sort((a, b) => b.length - a.length);
  for (const dir of dirs) if (!inUse(dir)) await rmdir(dir).catch(() => undefined);
}

/** Everything a (dead or stopping) agent left on the host, by its recorded names. */
export async function cleanupHost(record: AgentRecord): Promise<void> {
  const netns = (await run("ip", ["netns", "list"]).catch(() => ""))
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(names.netnsPrefix(record.id)));
  for (const name of netns) await runQuietly("ip", ["netns", "delete", name]);
  const links = (await run("ip", ["-o", "link", "show"]).catch(() => ""))
    .split("\n")
    .map((line) => /^\d+: ([^:@]+)/.exec(line)?.[1] ?? "")
    .filter((name) => name.startsWith(names.vethPrefix(record.id)) || name === names.bridge(record.id));
  for (const link of links) await runQuietly("ip", ["link", "delete", link]);
  for (const rule of record.iptablesRules) await runQuietly("iptables", ["-D", ...rule]);
  await removeCreatedDirs(record);
}

/** Cleans up after dead agents, then claims a free slot for this one. */
export async function claimSlot(stateDir: string): Promise<AgentRecord> {
  await mkdir(registryDir, { recursive: true });
  for (const record of await readRecords()) {
    if (await isAlive(record)) continue;
    await cleanupHost(record);
    await rm(recordPath(record.slot), { force: true });
  }
  const usedSubnets = await run("ip", ["-4", "route", "show"]).catch(() => "");
  const startTime = (await processStartTime(process.pid)) ?? "";
  for (let slot = 1; slot <= maxSlots; slot += 1) {
    if (usedSubnets.includes(`10.244.${slot}.`)) continue;
    const record: AgentRecord = {
      id: randomBytes(3).toString("hex").slice(0, 5),
      slot,
      pid: process.pid,
      startTime,
      stateDir,
      iptablesRules: [],
      createdDirs: [],
      mountTargets: [],
    };
    try {
      await writeFile(recordPath(slot), JSON.stringify(record), { flag: "wx" });
      return record;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  throw new Error(`node agent: no free slot in ${registryDir} (${maxSlots} agents running?)`);
}

export async function saveRecord(record: AgentRecord): Promise<void> {
  await writeFile(recordPath(record.slot), JSON.stringify(record));
}

export async function releaseSlot(record: AgentRecord): Promise<void> {
  await rm(recordPath(record.slot), { force: true });
}
