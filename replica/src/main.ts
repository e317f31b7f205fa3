// paxos-replica: the program in every pod. Reads its configuration, opens (or creates)
// its data directory, bootstraps a new cluster exactly once or waits to be added to an
// existing one, then serves peers and clients until SIGTERM, when it hands leadership
// over, flushes and exits.
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import express from "express";
import { pino } from "pino";
import { parseReplicaConfig, peerHost, type ReplicaConfig, usage } from "./config.ts";
import { createApi } from "./http/api.ts";
import { emptyConfiguration, initialConfiguration, parseMemberKey } from "./paxos/configuration.ts";
import { emptyDurableState } from "./paxos/core.ts";
import type { DurableState } from "./paxos/messages.ts";
import { ReplicaMetrics } from "./runtime/metrics.ts";
import { ReplicaNode } from "./runtime/replicaNode.ts";
import { type DataDirectory, openDataDirectory } from "./storage/index.ts";
import { PeerTransport } from "./transport/index.ts";

const exitCodes = { usage: 2, storage: 70, bootstrap: 71 } as const;

function listen(app: express.Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) =>
      error === undefined ? resolve(server) : reject(error),
    );
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

interface StatusAnswer {
  readonly member?: unknown;
  readonly configuration?: { readonly voters?: unknown };
}

/**
 * A new cluster's members learn each other's incarnations (each creates its own with its
 * data directory) and agree on the same initial configuration. If any of them already
 * has a configuration, the cluster exists: this member joins instead.
 */
async function bootstrapConfiguration(
  config: ReplicaConfig,
  self: string,
  logger: pino.Logger,
): Promise<DurableState> {
  const keys = new Map<string, string>([[config.name, self]]);
  const others = config.initialMembers.filter((name) => name !== config.name);
  let lastReport = 0;
  while (keys.size < config.initialMembers.length) {
    for (const name of others) {
      if (keys.has(name)) continue;
      const host = peerHost(config, name);
      if (host === undefined)
        throw new Error(
          `no address for initial member ${name}: add it to --peers or set --peer-host-template`,
        );
      try {
        const response = await fetch(`http://${host}:${config.httpPort}/v1/status`, {
          signal: AbortSignal.timeout(1_000),
        });
        const status = (await response.json()) as StatusAnswer;
        const voters = status.configuration?.voters;
        if (Array.isArray(voters) && voters.length > 0) {
          // Another initial member finished first: its configuration includes this
          // incarnation, so adopt it. If it does not, the cluster predates this member.
          if (voters.includes(self) && voters.every((voter) => typeof voter === "string")) {
            logger.info(
              { peer: name, voters },
              "bootstrapping with the configuration another initial member chose",
            );
            return emptyDurableState(initialConfiguration(voters as string[]));
          }
          logger.info(
            { peer: name },
            "the cluster already exists: joining it as a new member (an admin must add this member)",
          );
          return emptyDurableState(emptyConfiguration);
        }
        if (typeof status.member === "string" && parseMemberKey(status.member).name === name)
          keys.set(name, status.member);
      } catch {
        // Not up yet: ask again shortly.
      }
    }
    if (Date.now() - lastReport > 5_000) {
      lastReport = Date.now();
      logger.info(
        { known: [...keys.keys()], waitingFor: others.filter((name) => !keys.has(name)) },
        "bootstrapping: waiting for the other initial members",
      );
    }
    if (keys.size < config.initialMembers.length) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const configuration = initialConfiguration([...keys.values()]);
  logger.info({ voters: configuration.voters }, "bootstrapping a new cluster");
  return emptyDurableState(configuration);
}

async function persistInitialState(dataDirectory: DataDirectory, durable: DurableState): Promise<void> {
  dataDirectory.append({ snapshot: durable.snapshot, entries: [], hardState: durable.hardState });
  await dataDirectory.sync();
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage());
    return;
  }
  const parsed = parseReplicaConfig({
    argv,
    env: process.env,
    readFile: (path) => readFileSync(path, "utf8"),
  });
  if (!parsed.ok) {
    for (const problem of parsed.problems) console.error(`paxos-replica: ${problem}`);
    console.error("paxos-replica: run with --help for every flag");
    process.exit(exitCodes.usage);
  }
  const config = parsed.config;
  let logger = pino({ level: config.logLevel, base: { name: config.name } });

  let dataDirectory: DataDirectory;
  let metrics: ReplicaMetrics | undefined;
  try {
    dataDirectory = await openDataDirectory(config.dataDir, {
      fsync: !config.unsafeNoFsync,
      onFsync: (ms) => metrics?.fsyncDuration.observe(ms / 1000),
    });
  } catch (error) {
    logger.fatal({ err: error, dataDir: config.dataDir }, "cannot open the data directory");
    process.exit(exitCodes.storage);
  }
  const self = `${config.name}#${dataDirectory.incarnation}`;
  metrics = new ReplicaMetrics(self);
  logger = logger.child({ member: self });
  if (config.unsafeNoFsync) logger.warn("fsync is off: acknowledged writes can be lost on power failure");

  let durable = dataDirectory.durable;
  if (durable === undefined) {
    // Answer /v1/status while the initial members find each other.
    const early = express();
    early.get("/v1/status", (_request, response) => {
      response.json({
        member: self,
        incarnation: dataDirectory.incarnation,
        configuration: emptyConfiguration,
      });
    });
    early.get("/livez", (_request, response) => {
      response.json({ status: "alive" });
    });
    // Not ready until the node runs; a 404 here would read as a wrong path, not as "starting".
    early.get("/readyz", (_request, response) => {
      const reason =
        config.initialMembers.length > 0
          ? "starting: the initial members are forming the cluster"
          : "starting: opening a new data directory";
      response.status(503).json({ ready: false, reason });
    });
    const earlyServer = await listen(early, config.listenHost, config.httpPort);
    try {
      durable =
        config.initialMembers.length > 0
          ? await bootstrapConfiguration(config, self, logger)
          : emptyDurableState(emptyConfiguration);
      await persistInitialState(dataDirectory, durable);
    } catch (error) {
      logger.fatal({ err: error }, "bootstrap failed");
      process.exit(exitCodes.bootstrap);
    } finally {
      await closeServer(earlyServer);
    }
    if (durable.snapshot.configuration.voters.length === 0)
      logger.info('waiting to be added: POST /v1/admin/members {"member": "%s"} on the leader', self);
  }

  const node = new ReplicaNode(
    {
      self,
      tickMs: config.tickMs,
      electionTimeoutTicks: config.electionTimeoutTicks,
      heartbeatTicks: config.heartbeatTicks,
      requestTimeoutMs: config.requestTimeoutMs,
      compactAfterEntries: config.compactAfterEntries,
    },
    dataDirectory,
    durable,
    logger,
    metrics,
  );
  const transport = new PeerTransport({
    self,
    host: config.listenHost,
    port: config.peerPort,
    secret: config.clusterSecret,
    resolve: (member) => {
      const host = peerHost(config, parseMemberKey(member).name);
      return host === undefined ? undefined : { host, port: config.peerPort };
    },
    onMessage: (envelope) => node.receive(envelope),
    // Accepts and learns are bounded by the core's maxMessageBytes (4 MiB), but a snapshot
    // travels whole: this bounds the state a lagging member can catch up from.
    maxFrameBytes: 256 << 20,
    logger,
  });
  await transport.start();
  metrics.attachTransport(() => transport.stats());
  metrics.attachStorage(() => dataDirectory.sizes());
  node.start(transport);
  const app = createApi({
    node,
    incarnation: dataDirectory.incarnation,
    adminToken: config.adminToken,
    maxBodyBytes: config.maxBodyBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    localAddress: ["0.0.0.0", "::"].includes(config.listenHost) ? undefined : config.listenHost,
    logger,
    metrics,
    memberUrl: (member) => {
      const host = peerHost(config, parseMemberKey(member).name);
      return host === undefined ? undefined : `http://${host}:${config.httpPort}`;
    },
  });
  const server = await listen(app, config.listenHost, config.httpPort);
  logger.info(
    { http: `${config.listenHost}:${config.httpPort}`, peer: `${config.listenHost}:${config.peerPort}` },
    "replica serving",
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping: handing leadership over and flushing");
    const deadline = setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, 10_000);
    await node.stop();
    await closeServer(server);
    await transport.close();
    await dataDirectory.close();
    clearTimeout(deadline);
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

await main();
