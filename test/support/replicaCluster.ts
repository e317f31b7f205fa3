// Real replica processes on their own loopback addresses (127.a.b.1, .2, ...), with
// the faults a process test needs: SIGKILL, SIGSTOP/SIGCONT, wiped data directories,
// and iptables DROP rules between addresses. `make cluster` and the process tests use it.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { type HttpAnswer, jsonRequest } from "./jsonRequest.ts";
import { ManagedProcess } from "./processes.ts";
import { repositoryRoot } from "./tools.ts";
import { waitFor } from "./waitFor.ts";

const run = promisify(execFile);

export interface ReplicaClusterOptions {
  readonly size: number;
  readonly baseDir: string;
  /** Second and third octets of the members' addresses; random when omitted. */
  readonly network?: readonly [number, number];
  readonly httpPort?: number;
  readonly peerPort?: number;
  readonly tickMs?: number;
  readonly electionTimeoutTicks?: number;
  readonly requestTimeoutMs?: number;
  readonly extraArgs?: readonly string[];
}

export interface ReplicaHandle {
  readonly name: string;
  readonly host: string;
  readonly url: string;
  readonly dataDir: string;
  process: ManagedProcess | undefined;
}

export class ReplicaCluster {
  readonly members: ReplicaHandle[];
  readonly adminToken = randomBytes(16).toString("hex");
  readonly secret = randomBytes(24).toString("hex");
  private readonly options: Required<Omit<ReplicaClusterOptions, "network" | "extraArgs">> & {
    extraArgs: readonly string[];
  };
  private readonly chain: string;
  private iptablesReady = false;

  private constructor(options: ReplicaClusterOptions) {
    const [second, third] = options.network ?? [
      100 + Math.floor(Math.random() * 150),
      1 + Math.floor(Math.random() * 250),
    ];
    this.options = {
      size: options.size,
      baseDir: options.baseDir,
      httpPort: options.httpPort ?? 18080,
      peerPort: options.peerPort ?? 17000,
      tickMs: options.tickMs ?? 20,
      electionTimeoutTicks: options.electionTimeoutTicks ?? 15,
      requestTimeoutMs: options.requestTimeoutMs ?? 2_000,
      extraArgs: options.extraArgs ?? [],
    };
    this.chain = `PAXOS-${second}-${third}`;
    this.members = Array.from({ length: options.size }, (_, index) => {
      const host = `127.${second}.${third}.${index + 1}`;
      return {
        name: `m${index}`,
        host,
        url: `http://${host}:${this.options.httpPort}`,
        dataDir: join(options.baseDir, `m${index}`),
        process: undefined,
      };
    });
  }

  /** Starts every member as a new cluster and waits until one leads and all are ready. */
  static async start(options: ReplicaClusterOptions): Promise<ReplicaCluster> {
    const cluster = new ReplicaCluster(options);
    await mkdir(options.baseDir, { recursive: true });
    for (const member of cluster.members) cluster.launch(member, { initial: true });
    await cluster.waitForLeader();
    await cluster.waitUntilReady(cluster.members);
    return cluster;
  }

  member(name: string): ReplicaHandle {
    const member = this.members.find((candidate) => candidate.name === name);
    if (member === undefined) throw new Error(`no member ${name}`);
    return member;
  }

  private args(member: ReplicaHandle, initial: boolean): string[] {
    return [
      join(repositoryRoot, "replica/src/main.ts"),
      `--name=${member.name}`,
      `--data-dir=${member.dataDir}`,
      `--listen-host=${member.host}`,
      `--http-port=${this.options.httpPort}`,
      `--peer-port=${this.options.peerPort}`,
      `--peers=${this.members.map((other) => `${other.name}=${other.host}`).join(",")}`,
      `--tick-ms=${this.options.tickMs}`,
      `--election-timeout-ticks=${this.options.electionTimeoutTicks}`,
      `--request-timeout-ms=${this.options.requestTimeoutMs}`,
      "--log-level=info",
      ...(initial ? [`--initial-members=${this.members.map((other) => other.name).join(",")}`] : []),
      ...this.options.extraArgs,
    ];
  }

  /** Starts (or restarts) a member's process; `initial` only for the first start of a new cluster. */
  launch(member: ReplicaHandle, { initial = false }: { initial?: boolean } = {}): ManagedProcess {
    const child = ManagedProcess.start({
      name: member.name,
      command: process.execPath,
      args: this.args(member, initial),
      logPath: join(this.options.baseDir, `${member.name}.log`),
      env: { ...process.env, PAXOS_CLUSTER_SECRET: this.secret, PAXOS_ADMIN_TOKEN: this.adminToken },
    });
    member.process = child;
    return child;
  }

  /** A member that was stopped or killed, started again from its data directory. */
  restart(member: ReplicaHandle): ManagedProcess {
    return this.launch(member);
  }

  kill(member: ReplicaHandle): void {
    member.process?.killNow();
  }

  pause(member: ReplicaHandle): void {
    member.process?.signal("SIGSTOP");
  }

  resume(member: ReplicaHandle): void {
    member.process?.signal("SIGCONT");
  }

  async wipe(member: ReplicaHandle): Promise<void> {
    member.process?.killNow();
    await member.process?.exited;
    await rm(member.dataDir, { recursive: true, force: true });
  }

  async request(
    member: ReplicaHandle,
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; admin?: boolean; timeoutMs?: number } = {},
  ): Promise<HttpAnswer> {
    return await jsonRequest(`${member.url}${path}`, method, {
      ...options,
      headers: {
        ...(options.admin ? { authorization: `Bearer ${this.adminToken}` } : {}),
        ...options.headers,
      },
    });
  }

  async status(member: ReplicaHandle): Promise<Record<string, unknown> | undefined> {
    try {
      const answer = await this.request(member, "GET", "/v1/status", { timeoutMs: 1_000 });
      return answer.status === 200 ? (answer.body as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The member that leads, as every live member that knows a leader agrees. */
  async waitForLeader(
    among: readonly ReplicaHandle[] = this.members,
    timeoutMs = 20_000,
  ): Promise<ReplicaHandle> {
    return waitFor(
      async () => {
        for (const member of among) {
          const status = await this.status(member);
          if (status?.role === "leader") return member;
        }
        return undefined;
      },
      { description: "a leader", timeoutMs, intervalMs: 50 },
    );
  }

  async waitUntilReady(members: readonly ReplicaHandle[], timeoutMs = 20_000): Promise<void> {
    for (const member of members) {
      await waitFor(
        async () => {
          const answer = await this.request(member, "GET", "/readyz", { timeoutMs: 1_000 }).catch(
            () => undefined,
          );
          return answer?.status === 200 ? true : undefined;
        },
        { description: `${member.name} to be ready`, timeoutMs, intervalMs: 50 },
      );
    }
  }

  // ------------------------------------------------------------ iptables

  private async iptables(...args: string[]): Promise<void> {
    await run("iptables", ["-w", ...args]);
  }

  private async ensureChain(): Promise<void> {
    if (this.iptablesReady) return;
    await this.iptables("-N", this.chain).catch(() => undefined);
    await this.iptables("-F", this.chain);
    await this.iptables("-C", "INPUT", "-j", this.chain).catch(() =>
      this.iptables("-I", "INPUT", "1", "-j", this.chain),
    );
    this.iptablesReady = true;
  }

  /** Drops every packet between the two groups, both ways. */
  async partition(groupA: readonly ReplicaHandle[], groupB: readonly ReplicaHandle[]): Promise<void> {
    await this.ensureChain();
    for (const a of groupA) {
      for (const b of groupB) {
        await this.iptables("-A", this.chain, "-s", a.host, "-d", b.host, "-j", "DROP");
        await this.iptables("-A", this.chain, "-s", b.host, "-d", a.host, "-j", "DROP");
      }
    }
  }

  async heal(): Promise<void> {
    if (this.iptablesReady) await this.iptables("-F", this.chain);
  }

  /** Stops every member and removes the iptables rules. Safe to call twice. */
  async stop(): Promise<void> {
    for (const member of this.members) member.process?.signal("SIGCONT");
    await Promise.all(this.members.map((member) => member.process?.stop(5_000)));
    if (this.iptablesReady) {
      await this.iptables("-D", "INPUT", "-j", this.chain).catch(() => undefined);
      await this.iptables("-F", this.chain).catch(() => undefined);
      await this.iptables("-X", this.chain).catch(() => undefined);
      this.iptablesReady = false;
    }
  }
}
