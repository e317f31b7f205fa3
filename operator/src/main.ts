// The operator process: loads the kubeconfig ($KUBECONFIG, else in-cluster), runs the
// controller, serves /healthz, /readyz and /metrics, and stops cleanly on SIGTERM/SIGINT.
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import express from "express";
import { pino } from "pino";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { paxosClusterPhases } from "./builders/index.ts";
import { ClusterMetrics } from "./clusterMetrics.ts";
import { Controller, type ReconcileResult } from "./controller.ts";
import { LeaderElector } from "./leaderElection.ts";
import type { ReconcileOutcome } from "./reconciler.ts";

export interface LeaderElectionSettings {
  readonly namespace: string;
  readonly leaseName: string;
  /** Unique per operator process: the pod name, or host, pid and a random suffix. */
  readonly identity: string;
  readonly leaseDurationSeconds?: number;
  readonly retryPeriodMs?: number;
}

export interface OperatorOptions {
  readonly metricsPort: number;
  /** Watch one namespace only; all namespaces when unset. */
  readonly namespace?: string;
  readonly resyncPeriodMs?: number;
  /** Unset: this process reconciles without asking (for a single replica or a test). */
  readonly leaderElection?: LeaderElectionSettings;
}

export const defaultLeaseName = "paxos-operator-leader";

function defaultIdentity(): string {
  return process.env.POD_NAME ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

export function parseOperatorArgs(args: readonly string[]): OperatorOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      "metrics-port": { type: "string", default: "8081" },
      namespace: { type: "string" },
      "resync-period-seconds": { type: "string" },
      "leader-elect": { type: "boolean", default: true },
      "leader-election-namespace": { type: "string" },
    },
    strict: true,
    allowNegative: true,
  });
  const metricsPort = Number(values["metrics-port"]);
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65_535)
    throw new Error(`--metrics-port must be a port number (0 to 65535), got ${values["metrics-port"]}`);
  const resync = values["resync-period-seconds"];
  const resyncSeconds = resync === undefined ? undefined : Number(resync);
  if (resyncSeconds !== undefined && !(resyncSeconds > 0))
    throw new Error(`--resync-period-seconds must be a positive number, got ${resync}`);
  return {
    metricsPort,
    ...(values.namespace === undefined ? {} : { namespace: values.namespace }),
    ...(resyncSeconds === undefined ? {} : { resyncPeriodMs: resyncSeconds * 1000 }),
    ...(values["leader-elect"] === true
      ? {
          leaderElection: {
            namespace: values["leader-election-namespace"] ?? process.env.POD_NAMESPACE ?? "default",
            leaseName: defaultLeaseName,
            identity: defaultIdentity(),
          },
        }
      : {}),
  };
}

export function loadKubeConfig(): KubeConfig {
  const config = new KubeConfig();
  if (process.env.KUBECONFIG !== undefined && process.env.KUBECONFIG !== "") config.loadFromDefault();
  else config.loadFromCluster();
  return config;
}

export interface RunningOperator {
  readonly port: number;
  /** True while this process runs the controller (always, without leader election). */
  readonly leading: boolean;
  stop(): Promise<void>;
}

export async function runOperator(options: OperatorOptions, config: KubeConfig): Promise<RunningOperator> {
  const logger = pino({ name: "paxos-operator" });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const reconcileTotal = new Counter({
    name: "paxos_operator_reconcile_total",
    help: "Reconciles of PaxosClusters, by result.",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const reconcileDuration = new Histogram({
    name: "paxos_operator_reconcile_duration_seconds",
    help: "How long one reconcile of one PaxosCluster took.",
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const onReconcile = (result: ReconcileResult, seconds: number) => {
    reconcileTotal.inc({ result });
    reconcileDuration.observe(seconds);
  };
  const clusterMetrics = new ClusterMetrics(registry);
  const onOutcome = (namespace: string, name: string, outcome: ReconcileOutcome) => {
    if (outcome.kind === "reconciled") clusterMetrics.observe(namespace, name, outcome.summary);
    else clusterMetrics.forget(namespace, name);
  };
  // One controller per leadership term: a controller is started once and stopped once.
  let controller: Controller | undefined;
  const startController = async () => {
    const next = new Controller({
      config,
      logger,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      ...(options.resyncPeriodMs === undefined ? {} : { resyncPeriodMs: options.resyncPeriodMs }),
      onReconcile,
      onOutcome,
    });
    controller = next;
    try {
      await next.start();
    } catch (error) {
      await next.stop();
      throw error;
    }
  };
  const stopController = async () => {
    const current = controller;
    controller = undefined;
    await current?.stop();
  };
  new Gauge({
    name: "paxos_operator_queue_depth",
    help: "PaxosClusters waiting to be reconciled.",
    registers: [registry],
    collect() {
      this.set(controller?.queueDepth ?? 0);
    },
  });
  new Gauge({
    name: "paxos_operator_clusters",
    help: "PaxosClusters this operator reconciles, by the phase their last reconcile found.",
    labelNames: ["phase"] as const,
    registers: [registry],
    collect() {
      const counts = controller?.clustersByPhase ?? new Map<string, number>();
      for (const phase of paxosClusterPhases) this.set({ phase }, counts.get(phase) ?? 0);
    },
  });
  const elector =
    options.leaderElection === undefined
      ? undefined
      : new LeaderElector({
          objects: config.makeApiClient(CustomObjectsApi),
          logger,
          ...options.leaderElection,
        });
  new Gauge({
    name: "paxos_operator_leader",
    help: "1 while this operator process holds the leader lease and reconciles.",
    registers: [registry],
    collect() {
      this.set(elector === undefined || elector.leading ? 1 : 0);
    },
  });

  const app = express();
  app.get("/healthz", (_request, response) => {
    response.type("text/plain").send("ok");
  });
  app.get("/readyz", (_request, response) => {
    // A standby (not leading) is ready too: it is healthy and waiting to take over.
    if (elector !== undefined ? !elector.leading || controller?.ready === true : controller?.ready === true)
      response.type("text/plain").send("ok");
    else response.status(503).type("text/plain").send("the controller is not watching yet");
  });
  app.get("/metrics", async (_request, response) => {
    response.type(registry.contentType).send(await registry.metrics());
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(options.metricsPort, (error?: Error) => {
      if (error === undefined) resolve(listening);
      else reject(error);
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.metricsPort;
  logger.info({ port }, "serving /healthz, /readyz and /metrics");

  if (elector === undefined) {
    try {
      await startController();
    } catch (error) {
      server.close();
      throw error;
    }
  } else {
    elector.start({
      onStartedLeading: () =>
        startController().catch((error: unknown) => {
          logger.error({ err: error }, "the controller failed to start");
        }),
      onStoppedLeading: stopController,
    });
  }

  let stopping: Promise<void> | undefined;
  return {
    port,
    get leading() {
      return elector === undefined || elector.leading;
    },
    stop() {
      stopping ??= (async () => {
        await elector?.stop();
        await stopController();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        logger.info("operator stopped");
      })();
      return stopping;
    },
  };
}

async function main(): Promise<void> {
  const options = parseOperatorArgs(process.argv.slice(2));
  const operator = await runOperator(options, loadKubeConfig());
  const shutDown = () => {
    operator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", shutDown);
  process.once("SIGINT", shutDown);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    pino({ name: "paxos-operator" }).fatal({ err: error }, "the operator failed to start");
    process.exit(1);
  });
}
