// Watches PaxosClusters, the StatefulSets they own and their members' pods, and reconciles
// each changed cluster through one work queue: a cluster is never reconciled by two workers
// at once, failures back off per cluster, each cluster is looked at again on a schedule
// (member health is polled, not watched), and a periodic resync catches anything a watch
// missed.
import {
  ADD,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DELETE,
  ERROR,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
  type ObjectCache,
  UPDATE,
  type V1StatefulSet,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type PaxosClusterPhase, paxosClusterKind } from "./builders/index.ts";
import {
  type KubernetesClients,
  makeClients,
  ReconcileError,
  type ReconcileOptions,
  type ReconcileOutcome,
  reconcile,
} from "./reconciler.ts";
import { type BackoffOptions, backoffDelayMs, defaultBackoff, WorkQueue } from "./workQueue.ts";

export type ReconcileResult = "success" | "error" | "conflict";

export interface ControllerOptions {
  readonly config: KubeConfig;
  readonly logger: Logger;
  /** Watch one namespace only; all namespaces when unset. */
  readonly namespace?: string;
  /** Concurrent reconciles of different clusters. */
  readonly workers?: number;
  /** Every cluster is reconciled at least this often, changed or not. */
  readonly resyncPeriodMs?: number;
  readonly backoff?: BackoffOptions;
  /** Member probing: how often and with what timeout. */
  readonly reconcileOptions?: ReconcileOptions;
  /** Called after each reconcile, for metrics. */
  readonly onReconcile?: (result: ReconcileResult, durationSeconds: number) => void;
  /** Called with what a successful reconcile found (or that the cluster is gone), for metrics. */
  readonly onOutcome?: (namespace: string, name: string, outcome: ReconcileOutcome) => void;
}

/** A failing watch is restarted after 1 s, 2 s, 4 s ... up to 30 s, reset by a successful list. */
const informerRestartBackoff: BackoffOptions = { baseDelayMs: 1000, maxDelayMs: 30_000 };
/** A conflict means someone else changed the object: retry soon, it is not a failure. */
const conflictRetryDelayMs = 200;

type Watched = Informer<KubernetesObject> & ObjectCache<KubernetesObject>;

export class Controller {
  readonly #options: ControllerOptions;
  readonly #clients: KubernetesClients;
  readonly #queue: WorkQueue;
  readonly #informers: Watched[] = [];
  readonly #workers: Promise<void>[] = [];
  readonly #restartTimers = new Set<NodeJS.Timeout>();
  /** Per informer: consecutive failures since its last successful list. */
  readonly #informerFailures = new Map<string, number>();
  /** The phase each cluster's last reconcile reported, for the clusters-by-phase metric. */
  readonly #phases = new Map<string, PaxosClusterPhase>();
  #resyncTimer: NodeJS.Timeout | undefined;
  #started = false;
  #stopped = false;
  #stopping: Promise<void> | undefined;

  constructor(options: ControllerOptions) {
    this.#options = options;
    this.#clients = makeClients(options.config);
    this.#queue = new WorkQueue(options.backoff ?? defaultBackoff);
  }

  /** Keys waiting to be reconciled (queued or backing off). */
  get queueDepth(): number {
    return this.#queue.depth;
  }

  /** How many clusters are in each phase, as their last reconciles found them. */
  get clustersByPhase(): ReadonlyMap<PaxosClusterPhase, number> {
    const counts = new Map<PaxosClusterPhase, number>();
    for (const phase of this.#phases.values()) counts.set(phase, (counts.get(phase) ?? 0) + 1);
    return counts;
  }

  /** True once every informer has listed its objects (and until stop). */
  get ready(): boolean {
    return (
      this.#started &&
      !this.#stopped &&
      this.#informers.length > 0 &&
      this.#informerFailures.size === this.#informers.length &&
      [...this.#informerFailures.values()].every((failures) => failures === 0)
    );
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error("the controller was already started");
    this.#started = true;
    const { config, namespace } = this.#options;
    const objects = config.makeApiClient(CustomObjectsApi);
    const apps = config.makeApiClient(AppsV1Api);
    const core = config.makeApiClient(CoreV1Api);
    const group = "paxos.dev";
    const version = "v1alpha1";
    const plural = "paxosclusters";
    const scope = namespace === undefined ? "" : `/namespaces/${namespace}`;

    const clusters = makeInformer<KubernetesObject>(
      config,
      `/apis/${group}/${version}${scope}/${plural}`,
      this.#listed(
        "PaxosClusters",
        async () =>
          (namespace === undefined
            ? await objects.listClusterCustomObject({ group, version, plural })
            : await objects.listNamespacedCustomObject({
                group,
                version,
                namespace,
                plural,
              })) as KubernetesListObject<KubernetesObject>,
      ),
    );
    const enqueueCluster = (object: KubernetesObject) =>
      this.#enqueue(object.metadata?.namespace, object.metadata?.name);
    clusters.on(ADD, enqueueCluster);
    clusters.on(UPDATE, enqueueCluster);
    clusters.on(DELETE, enqueueCluster);

    // Only the StatefulSets this operator manages; each maps to its controlling PaxosCluster.
    const labelSelector = "app.kubernetes.io/managed-by=paxos-operator";
    const statefulSets = makeInformer<KubernetesObject>(
      config,
      `/apis/apps/v1${scope}/statefulsets`,
      this.#listed(
        "StatefulSets",
        async () =>
          (namespace === undefined
            ? await apps.listStatefulSetForAllNamespaces({ labelSelector })
            : await apps.listNamespacedStatefulSet({
                namespace,
                labelSelector,
              })) as KubernetesListObject<KubernetesObject>,
      ),
      labelSelector,
    );
    const enqueueOwner = (object: V1StatefulSet) => {
      const owner = object.metadata?.ownerReferences?.find(
        (reference) => reference.controller === true && reference.kind === paxosClusterKind,
      );
      if (owner !== undefined) this.#enqueue(object.metadata?.namespace, owner.name);
    };
    statefulSets.on(ADD, enqueueOwner);
    statefulSets.on(UPDATE, enqueueOwner);
    statefulSets.on(DELETE, enqueueOwner);

    // Members' pods: a pod that starts, becomes ready or goes away changes the status. The
    // pods are the StatefulSet's, so they map to their cluster by the instance label.
    const pods = makeInformer<KubernetesObject>(
      config,
      `/api/v1${scope}/pods`,
      this.#listed(
        "Pods",
        async () =>
          (namespace === undefined
            ? await core.listPodForAllNamespaces({ labelSelector })
            : await core.listNamespacedPod({
                namespace,
                labelSelector,
              })) as KubernetesListObject<KubernetesObject>,
      ),
      labelSelector,
    );
    const enqueueInstance = (object: KubernetesObject) =>
      this.#enqueue(object.metadata?.namespace, object.metadata?.labels?.["app.kubernetes.io/instance"]);
    pods.on(ADD, enqueueInstance);
    pods.on(UPDATE, enqueueInstance);
    pods.on(DELETE, enqueueInstance);

    for (const [what, informer] of [
      ["PaxosClusters", clusters],
      ["StatefulSets", statefulSets],
      ["Pods", pods],
    ] as const) {
      this.#informers.push(informer);
      // A watch that fails (410 Gone, a dropped connection) stops its informer: start it
      // again, which lists afresh.
      informer.on(ERROR, (error?: unknown) => {
        if (this.#stopped) return;
        const failures = (this.#informerFailures.get(what) ?? 0) + 1;
        this.#informerFailures.set(what, failures);
        const delayMs = backoffDelayMs(failures, informerRestartBackoff);
        this.#options.logger.warn(
          { err: error, informer: what, retryInMs: delayMs },
          "watch failed; restarting it",
        );
        const timer = setTimeout(() => {
          this.#restartTimers.delete(timer);
          if (!this.#stopped)
            informer.start().catch((startError: unknown) => {
              this.#options.logger.error({ err: startError, informer: what }, "restarting the watch failed");
            });
        }, delayMs);
        this.#restartTimers.add(timer);
      });
      await informer.start();
    }

    const workers = this.#options.workers ?? 2;
    for (let index = 0; index < workers; index += 1) this.#workers.push(this.#work());

    const resyncPeriodMs = this.#options.resyncPeriodMs ?? 300_000;
    this.#resyncTimer = setInterval(() => {
      for (const object of clusters.list()) enqueueCluster(object);
    }, resyncPeriodMs);
    this.#options.logger.info(
      { namespace: namespace ?? "(all)", workers, resyncPeriodMs },
      "controller started",
    );
  }

  /** Stops the watches, lets running reconciles finish, and drops the rest. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#stopped = true;
    if (this.#resyncTimer !== undefined) clearInterval(this.#resyncTimer);
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    this.#queue.shutDown();
    await Promise.all(this.#informers.map((informer) => informer.stop()));
    await Promise.all(this.#workers);
    this.#options.logger.info("controller stopped");
  }

  /** Wraps an informer's list function to record that it succeeded (for readiness and backoff). */
  #listed(
    what: string,
    list: () => Promise<KubernetesListObject<KubernetesObject>>,
  ): () => Promise<KubernetesListObject<KubernetesObject>> {
    return async () => {
      const result = await list();
      this.#informerFailures.set(what, 0);
      return result;
    };
  }

  #enqueue(namespace: string | undefined, name: string | undefined): void {
    if (namespace === undefined || name === undefined) return;
    this.#queue.add(`${namespace}/${name}`);
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      try {
        await this.#reconcileKey(key);
      } finally {
        this.#queue.done(key);
      }
    }
  }

  async #reconcileKey(key: string): Promise<void> {
    const [namespace = "", name = ""] = key.split("/");
    const logger = this.#options.logger.child({ namespace, name });
    const started = performance.now();
    let result: ReconcileResult;
    try {
      const outcome: ReconcileOutcome = await reconcile(
        this.#clients,
        namespace,
        name,
        this.#options.reconcileOptions,
      );
      this.#queue.forget(key);
      result = "success";
      if (outcome.kind === "reconciled") {
        this.#phases.set(key, outcome.phase);
        this.#queue.addAfter(key, outcome.requeueAfterMs);
      } else this.#phases.delete(key);
      this.#options.onOutcome?.(namespace, name, outcome);
      logger.debug({ outcome }, "reconciled");
    } catch (error) {
      if (error instanceof ReconcileError && error.code === 409) {
        result = "conflict";
        logger.info({ reason: error.message }, "conflict; retrying");
        this.#queue.addAfter(key, conflictRetryDelayMs);
      } else {
        result = "error";
        const delayMs = this.#queue.addRateLimited(key);
        logger.error({ err: error, retryInMs: delayMs }, "reconcile failed");
      }
    }
    this.#options.onReconcile?.(result, (performance.now() - started) / 1000);
  }
}
