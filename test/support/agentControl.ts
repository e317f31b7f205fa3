// A small HTTP API, on loopback, over a running node agent: the faults the e2e suite injects
// on the local cluster (signals to a pod's process, iptables in a pod's network namespace,
// stopping a Node, and crash-restarting the operator when the caller runs one). The agent
// lives in the test run's main process; the tests run in workers and reach it through this
// API (test/e2e/targets/local.ts).
import { execFile } from "node:child_process";
import type { Server } from "node:http";
import { promisify } from "node:util";
import express, { type Request, type Response } from "express";
import type { NodeAgent } from "./nodeAgent/index.ts";

const run = promisify(execFile);

export interface AgentControl {
  readonly url: string;
  close(): Promise<void>;
}

/** What GET /pods/:namespace/:pod answers. */
export interface PodProcessInfo {
  readonly ip: string;
  readonly pid: number;
  readonly netns: string;
}

/** What the control API does beyond the agent's pods and nodes, supplied by whoever runs them. */
export interface AgentControlOptions {
  /**
   * POST /operator/restart: SIGKILL the operator process and start it again, resolving once
   * the new one is ready (see LocalCluster.restartOperator). Without it, that route answers 404.
   */
  readonly restartOperator?: () => Promise<void>;
}

const signals = new Set(["SIGKILL", "SIGSTOP", "SIGCONT", "SIGTERM"]);
/** Our rules go into a chain of their own in each pod's namespace, so heal removes only ours. */
const chain = "PAXOS-E2E";

export async function startAgentControl(
  agent: NodeAgent,
  options: AgentControlOptions = {},
): Promise<AgentControl> {
  /** Network namespaces we added rules to, for heal. */
  const touched = new Set<string>();
  const app = express();
  app.use(express.json());

  const pod = (request: Request, response: Response): PodProcessInfo | undefined => {
    const namespace = String(request.params.namespace);
    const name = String(request.params.pod);
    const process = agent.podProcess(namespace, name);
    const ip = agent.podIP(namespace, name);
    if (process === undefined || ip === undefined) {
      response.status(404).json({ error: `pod ${namespace}/${name} has no running process on this agent` });
      return undefined;
    }
    return { ip, ...process };
  };
  const fail = (response: Response, error: unknown) =>
    response.status(500).json({ error: error instanceof Error ? error.message : String(error) });

  app.get("/pods/:namespace/:pod", (request, response) => {
    const info = pod(request, response);
    if (info !== undefined) response.json(info);
  });

  app.post("/pods/:namespace/:pod/signal", (request, response) => {
    const signal = String(request.body?.signal ?? "");
    if (!signals.has(signal)) {
      response.status(400).json({ error: `signal must be one of ${[...signals].join(", ")}` });
      return;
    }
    const info = pod(request, response);
    if (info === undefined) return;
    try {
      process.kill(info.pid, signal);
      response.json({ pid: info.pid, signal });
    } catch (error) {
      fail(response, error);
    }
  });

  /** Drops traffic between the pod and the given peer IPs, both ways, inside the pod's namespace. */
  app.post("/pods/:namespace/:pod/isolate", async (request, response) => {
    const peers = request.body?.peers;
    if (!Array.isArray(peers) || !peers.every((peer) => typeof peer === "string" && /^[\d.]+$/.test(peer))) {
      response.status(400).json({ error: "peers must be a list of IPv4 addresses" });
      return;
    }
    const info = pod(request, response);
    if (info === undefined) return;
    try {
      await ensureChain(info.netns);
      touched.add(info.netns);
      for (const peer of peers) {
        await iptables(info.netns, ["-A", chain, "-s", peer, "-j", "DROP"]);
        await iptables(info.netns, ["-A", chain, "-d", peer, "-j", "DROP"]);
      }
      response.json({ isolated: info.ip, from: peers });
    } catch (error) {
      fail(response, error);
    }
  });

  app.post("/network/heal", async (_request, response) => {
    try {
      for (const netns of touched) await iptables(netns, ["-F", chain]).catch(() => undefined);
      touched.clear();
      response.json({ healed: true });
    } catch (error) {
      fail(response, error);
    }
  });

  app.post("/nodes/:node/stop", async (request, response) => {
    const mode = request.body?.mode;
    if (mode !== "kill" && mode !== "freeze") {
      response.status(400).json({ error: 'mode must be "kill" or "freeze"' });
      return;
    }
    try {
      await agent.stopNode(String(request.params.node), mode);
      response.json({ stopped: request.params.node, mode });
    } catch (error) {
      fail(response, error);
    }
  });

  app.post("/nodes/:node/start", async (request, response) => {
    try {
      await agent.startNode(String(request.params.node));
      response.json({ started: request.params.node });
    } catch (error) {
      fail(response, error);
    }
  });

  app.post("/operator/restart", async (_request, response) => {
    const restart = options.restartOperator;
    if (restart === undefined) {
      response.status(404).json({ error: "this control API runs no operator to restart" });
      return;
    }
    const started = Date.now();
    try {
      await restart();
      response.json({ restarted: "operator", ms: Date.now() - started });
    } catch (error) {
      fail(response, error);
    }
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(0, "127.0.0.1", (error?: Error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const netns of touched) await iptables(netns, ["-F", chain]).catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function iptables(netns: string, args: readonly string[]): Promise<void> {
  await run("nsenter", [`--net=${netns}`, "iptables", "-w", ...args]);
}

/** Our chain, jumped to first from INPUT and OUTPUT, created once per namespace. */
async function ensureChain(netns: string): Promise<void> {
  try {
    await iptables(netns, ["-N", chain]);
  } catch {
    return; // exists already, with its jumps
  }
  await iptables(netns, ["-I", "INPUT", "1", "-j", chain]);
  await iptables(netns, ["-I", "OUTPUT", "1", "-j", chain]);
}
