// One pod on one of the agent's nodes: its sandbox (network namespace, hosts file,
// volumes), its containers as local processes with probes and restarts, its status written
// through pods/status, and its termination (SIGTERM, SIGKILL after the grace period,
// cleanup, then the pod object's final deletion, as the kubelet does).
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, open, rm, writeFile } from "node:fs/promises";
import { constants as osConstants } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { CoreV1Api, V1Container, V1Pod } from "@kubernetes/client-node";
import {
  type BackoffState,
  nextRestart,
  type RestartBackoffOptions,
  type RestartPolicy,
  shouldRestart,
} from "./backoff.ts";
import { baseEnvironment, containerEnvironment, EnvError, expandArgv } from "./env.ts";
import { renderResolvConf } from "./hostsFile.ts";
import { containerArgv, type ImageMap, resolveImage } from "./images.ts";
import { describeError, hasStatus, mergePatch } from "./kube.ts";
import { launchArgv } from "./launch.ts";
import type { PodNetwork, PodSandbox } from "./network.ts";
import { buildPodStatus, type Condition, type ContainerState, type ContainerView } from "./podStatus.ts";
import { runProbe } from "./probeRunner.ts";
import { type ProbeKind, ProbeTracker, probeSettings } from "./probeState.ts";
import { containerMounts, prepareVolumes } from "./volumes.ts";

export interface PodWorkerContext {
  core: CoreV1Api;
  network: PodNetwork;
  images: ImageMap;
  stateDir: string;
  restartBackoff: RestartBackoffOptions;
  hostIP(node: string): string | undefined;
  progress(message: string): void;
  /** The hosts file this pod should see now. */
  hostsFileFor(worker: PodWorker): string;
  /** A new pod IP exists: every pod's hosts file changes. */
  sandboxChanged(): void;
  /** mkdir -p on the host, remembered for removal on stop. */
  ensureMountTarget(path: string): Promise<void>;
  /** The worker is done (terminated and cleaned up, or destroyed). */
  finished(worker: PodWorker): void;
}

const retryMs = 2000;
const nowIso = () => new Date().toISOString();

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (osConstants.signals[signal] ?? 0);
}

class ContainerRunner {
  readonly spec: V1Container;
  view: ContainerView;
  child: ChildProcess | undefined;
  env: Record<string, string> = {};
  startedAtMs = 0;
  backoff: BackoffState = { restartsInARow: 0 };
  restartTimer: NodeJS.Timeout | undefined;
  /** Bumped on every start and stop: probe loops of an older run end. */
  generation = 0;
  trackers: Partial<Record<ProbeKind, ProbeTracker>> = {};
  exited: Promise<void> = Promise.resolve();
  /** The process died while the node was stopped: restart it on resume. */
  pendingRestart = false;

  constructor(spec: V1Container, restartCount: number) {
    this.spec = spec;
    this.view = {
      name: spec.name,
      image: spec.image ?? "",
      ready: false,
      started: false,
      restartCount,
      state: { kind: "waiting", reason: "ContainerCreating" },
    };
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  signal(signal: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined || this.child?.exitCode !== null || this.child.signalCode !== null) return;
    try {
      // The whole process group: the container's own children too.
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  }
}

export class PodWorker {
  pod: V1Pod;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  sandbox: PodSandbox | undefined;
  private readonly context: PodWorkerContext;
  private readonly podDir: string;
  private readonly containers: ContainerRunner[];
  private readonly initContainers: ContainerRunner[];
  private initialized = false;
  private failure: { reason: string; message: string } | undefined;
  private readonly startTime: string;
  private terminating: Promise<void> | undefined;
  private destroyed = false;
  private suspended: "kill" | "freeze" | undefined;
  private lastHosts: string | undefined;
  private lastConditions: Condition[] | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private statusWrite: Promise<void> = Promise.resolve();
  private readyReported = false;

  constructor(pod: V1Pod, context: PodWorkerContext) {
    this.pod = pod;
    this.context = context;
    this.uid = pod.metadata?.uid ?? "";
    this.namespace = pod.metadata?.namespace ?? "default";
    this.name = pod.metadata?.name ?? "";
    this.node = pod.spec?.nodeName ?? "";
    this.podDir = join(context.stateDir, "pods", this.uid);
    const startTime = pod.status?.startTime;
    this.startTime = startTime instanceof Date ? startTime.toISOString() : (startTime ?? nowIso());
    // A pod that ran before (under an agent that died) restarts its containers: count it.
    const previous = (name: string, statuses: V1Pod["status"] extends infer S ? S : never) => {
      const status = [
        ...(statuses?.containerStatuses ?? []),
        ...(statuses?.initContainerStatuses ?? []),
      ].find((s) => s.name === name);
      return status === undefined ? 0 : status.restartCount + (status.containerID ? 1 : 0);
    };
    this.containers = (pod.spec?.containers ?? []).map(
      (c) => new ContainerRunner(c, previous(c.name, pod.status)),
    );
    this.initContainers = (pod.spec?.initContainers ?? []).map((c) => new ContainerRunner(c, 0));
  }

  get key(): string {
    return `${this.namespace}/${this.name}`;
  }

  get ip(): string | undefined {
    return this.sandbox?.ip;
  }

  /** The main (first) container's process. */
  get mainPid(): number | undefined {
    return this.containers[0]?.pid;
  }

  private get restartPolicy(): RestartPolicy {
    return (this.pod.spec?.restartPolicy as RestartPolicy | undefined) ?? "Always";
  }

  private get stopping(): boolean {
    return this.terminating !== undefined || this.destroyed;
  }

  // ---- lifecycle -------------------------------------------------------------------------

  async start(): Promise<void> {
    try {
      await mkdir(join(this.podDir), { recursive: true });
      this.sandbox = await this.context.network.createSandbox();
      await writeFile(join(this.podDir, "hosts"), "");
      await writeFile(join(this.podDir, "resolv.conf"), renderResolvConf(this.namespace));
      await this.refreshHosts();
      this.context.sandboxChanged();
      this.scheduleStatus();
      const volumes = await this.retry("volumes", () =>
        prepareVolumes(this.pod, { core: this.context.core, podDir: this.podDir }),
      );
      if (volumes === undefined) return;
      const lookups = await this.retry("env", () => this.envLookups());
      if (lookups === undefined) return;
      for (const runner of this.initContainers) {
        const ok = await this.runToCompletion(runner, volumes, lookups);
        if (!ok) return;
      }
      this.initialized = true;
      for (const runner of this.containers) await this.startContainer(runner, volumes, lookups);
    } catch (error) {
      if (this.stopping) return;
      this.failure = { reason: "NodeAgentError", message: describeError(error) };
      this.context.progress(`pod ${this.key} failed to start: ${describeError(error)}`);
      this.scheduleStatus();
    }
  }

  private volumes: Awaited<ReturnType<typeof prepareVolumes>> | undefined;
  private lookups: Awaited<ReturnType<PodWorker["envLookups"]>> | undefined;

  /** Retries a setup step until it works or the pod goes away; reports it as the waiting message. */
  private async retry<T>(what: string, step: () => Promise<T>): Promise<T | undefined> {
    for (;;) {
      if (this.stopping) return undefined;
      try {
        return await step();
      } catch (error) {
        for (const runner of this.containers)
          runner.view.state = {
            kind: "waiting",
            reason: "ContainerCreating",
            message: `${what}: ${describeError(error)}`,
          };
        this.scheduleStatus();
        await sleep(retryMs);
      }
    }
  }

  /** Secrets and ConfigMaps the containers' env refers to, fetched once before starting. */
  private async envLookups() {
    const secrets = new Map<string, Record<string, string> | undefined>();
    const configMaps = new Map<string, Record<string, string> | undefined>();
    const { core } = this.context;
    const namespace = this.namespace;
    for (const container of [
      ...(this.pod.spec?.initContainers ?? []),
      ...(this.pod.spec?.containers ?? []),
    ]) {
      const secretNames = [
        ...(container.envFrom ?? []).map((s) => s.secretRef?.name),
        ...(container.env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name),
      ];
      const configMapNames = [
        ...(container.envFrom ?? []).map((s) => s.configMapRef?.name),
        ...(container.env ?? []).map((e) => e.valueFrom?.configMapKeyRef?.name),
      ];
      for (const name of secretNames)
        if (name !== undefined && !secrets.has(name))
          secrets.set(
            name,
            await core.readNamespacedSecret({ namespace, name }).then(
              (s) =>
                Object.fromEntries(
                  Object.entries(s.data ?? {}).map(([k, v]) => [
                    k,
                    Buffer.from(v, "base64").toString("utf8"),
                  ]),
                ),
              (error: unknown) => {
                if (hasStatus(error, 404)) return undefined;
                throw error;
              },
            ),
          );
      for (const name of configMapNames)
        if (name !== undefined && !configMaps.has(name))
          configMaps.set(
            name,
            await core.readNamespacedConfigMap({ namespace, name }).then(
              (m) => ({ ...(m.data ?? {}) }),
              (error: unknown) => {
                if (hasStatus(error, 404)) return undefined;
                throw error;
              },
            ),
          );
    }
    return {
      podIP: this.sandbox?.ip,
      hostIP: this.context.hostIP(this.node),
      secret: (_namespace: string, name: string) => secrets.get(name),
      configMap: (_namespace: string, name: string) => configMaps.get(name),
    };
  }

  private async runToCompletion(
    runner: ContainerRunner,
    volumes: NonNullable<PodWorker["volumes"]>,
    lookups: NonNullable<PodWorker["lookups"]>,
  ): Promise<boolean> {
    for (;;) {
      if (this.stopping) return false;
      let exitCode = -1;
      await this.startContainer(runner, volumes, lookups, (code) => {
        exitCode = code;
      });
      await runner.exited;
      if (this.stopping) return false;
      if (exitCode === 0) return true;
      if (this.restartPolicy === "Never") {
        this.scheduleStatus();
        return false;
      }
      const next = nextRestart(runner.backoff, Date.now() - runner.startedAtMs, this.context.restartBackoff);
      runner.backoff = next.state;
      await sleep(next.delayMs);
      runner.view.restartCount += 1;
    }
  }

  private async startContainer(
    runner: ContainerRunner,
    volumes: NonNullable<PodWorker["volumes"]>,
    lookups: NonNullable<PodWorker["lookups"]>,
    onInitExit?: (code: number) => void,
  ): Promise<void> {
    this.volumes = volumes;
    this.lookups = lookups;
    if (this.stopping || this.suspended !== undefined || this.sandbox === undefined) return;
    const spec = runner.spec;
    const image = resolveImage(this.context.images, spec.image ?? "");
    const argv = containerArgv(image, spec);
    if (argv === undefined) {
      runner.view.state = {
        kind: "waiting",
        reason: "ErrImagePull",
        message: `the node agent has no command for image ${spec.image} (add it to its image map)`,
      };
      this.scheduleStatus();
      return;
    }
    let env: Record<string, string>;
    try {
      env = containerEnvironment(this.pod, spec, lookups);
    } catch (error) {
      if (!(error instanceof EnvError)) throw error;
      runner.view.state = { kind: "waiting", reason: "CreateContainerConfigError", message: error.message };
      this.scheduleStatus();
      runner.restartTimer = setTimeout(
        () => void this.startContainer(runner, volumes, lookups, onInitExit),
        retryMs,
      );
      return;
    }
    const hostname = this.pod.spec?.hostname ?? this.name;
    runner.env = { ...baseEnvironment, HOSTNAME: hostname, ...env };
    const mounts = containerMounts(spec, volumes);
    for (const mount of mounts) await this.context.ensureMountTarget(mount.target);
    const command = launchArgv({
      netnsPath: this.sandbox.netnsPath,
      hostname,
      hostsFile: join(this.podDir, "hosts"),
      resolvConf: join(this.podDir, "resolv.conf"),
      mounts,
      workingDir: spec.workingDir ?? image?.workingDir,
      argv: expandArgv(argv, runner.env),
    });
    const logDir = join(this.context.stateDir, "logs");
    await mkdir(logDir, { recursive: true });
    const logFd = openSync(join(logDir, `${this.namespace}_${this.name}_${spec.name}.log`), "a");
    const [program, ...args] = command;
    let child: ChildProcess;
    try {
      child = spawn(program ?? "", args, {
        env: runner.env,
        stdio: ["ignore", logFd, logFd],
        detached: true,
      });
    } finally {
      closeSync(logFd);
    }
    runner.child = child;
    runner.generation += 1;
    runner.startedAtMs = Date.now();
    runner.pendingRestart = false;
    const startedAt = nowIso();
    const hasStartup = spec.startupProbe !== undefined;
    runner.trackers = {};
    runner.view = {
      ...runner.view,
      ready: false,
      started: !hasStartup,
      state: { kind: "running", startedAt },
      ...(child.pid === undefined
        ? {}
        : { containerID: `paxos-node-agent://${this.context.network.bridge}/${child.pid}` }),
    };
    if (!hasStartup && spec.readinessProbe === undefined) runner.view.ready = true;
    runner.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        const exitCode = code ?? 128 + signalNumber(signal);
        this.containerExited(runner, exitCode, signalNumber(signal), startedAt);
        onInitExit?.(exitCode);
        resolve();
      });
    });
    child.once("error", (error) => this.context.progress(`pod ${this.key}: ${spec.name}: ${error.message}`));
    this.context.progress(
      `pod ${this.key} container ${spec.name} started on ${this.node} (pid ${child.pid}, ip ${this.sandbox.ip})`,
    );
    if (onInitExit === undefined) this.startProbes(runner);
    this.scheduleStatus();
  }

  private containerExited(
    runner: ContainerRunner,
    exitCode: number,
    signal: number,
    startedAt: string,
  ): void {
    runner.generation += 1;
    runner.child = undefined;
    const terminated: ContainerState = {
      kind: "terminated",
      exitCode,
      ...(signal === 0 ? {} : { signal }),
      reason: exitCode === 0 ? "Completed" : "Error",
      startedAt,
      finishedAt: nowIso(),
    };
    runner.view = { ...runner.view, ready: false, state: terminated };
    if (this.stopping) return;
    const isInit = this.initContainers.includes(runner);
    if (this.suspended !== undefined) {
      runner.pendingRestart = !isInit;
      return;
    }
    this.context.progress(`pod ${this.key} container ${runner.spec.name} exited with ${exitCode}`);
    if (!isInit) this.afterExit(runner, exitCode);
    this.scheduleStatus();
  }

  private afterExit(runner: ContainerRunner, exitCode: number): void {
    if (
      !shouldRestart(this.restartPolicy, exitCode) ||
      this.volumes === undefined ||
      this.lookups === undefined
    )
      return;
    const next = nextRestart(runner.backoff, Date.now() - runner.startedAtMs, this.context.restartBackoff);
    runner.backoff = next.state;
    const terminated = runner.view.state;
    runner.view = {
      ...runner.view,
      lastState: terminated,
      state: {
        kind: "waiting",
        reason: "CrashLoopBackOff",
        message: `back-off ${Math.round(next.delayMs / 1000)}s restarting failed container=${runner.spec.name} pod=${this.name}`,
      },
    };
    const volumes = this.volumes;
    const lookups = this.lookups;
    runner.restartTimer = setTimeout(() => {
      runner.restartTimer = undefined;
      if (this.stopping || this.suspended !== undefined) {
        runner.pendingRestart = true;
        return;
      }
      runner.view.restartCount += 1;
      this.startContainer(runner, volumes, lookups).catch((error: unknown) =>
        this.context.progress(`pod ${this.key}: restart failed: ${describeError(error)}`),
      );
    }, next.delayMs);
  }

  // ---- probes ----------------------------------------------------------------------------

  private startProbes(runner: ContainerRunner): void {
    const generation = runner.generation;
    for (const kind of ["startup", "readiness", "liveness"] as const) {
      const probe =
        kind === "startup"
          ? runner.spec.startupProbe
          : kind === "readiness"
            ? runner.spec.readinessProbe
            : runner.spec.livenessProbe;
      if (probe === undefined) continue;
      const settings = probeSettings(probe);
      const tracker = new ProbeTracker(kind, settings);
      runner.trackers[kind] = tracker;
      void (async () => {
        await sleep(settings.initialDelayMs);
        while (runner.generation === generation && !this.stopping) {
          const active = kind === "startup" ? !runner.view.started : runner.view.started;
          if (kind === "startup" && !active) return;
          if (active && this.suspended === undefined && this.sandbox !== undefined) {
            const ok = await runProbe(
              probe,
              { podIP: this.sandbox.ip, container: runner.spec, pid: runner.pid, env: runner.env },
              settings.timeoutMs,
            );
            if (runner.generation !== generation || this.suspended !== undefined) continue;
            if (tracker.record(ok))
              this.probeChanged(runner, kind, tracker.result, probe.terminationGracePeriodSeconds);
          }
          await sleep(settings.periodMs);
        }
      })();
    }
  }

  private probeChanged(
    runner: ContainerRunner,
    kind: ProbeKind,
    result: boolean,
    graceSeconds?: number,
  ): void {
    if (kind === "startup" && result) {
      runner.view.started = true;
      if (runner.spec.readinessProbe === undefined) runner.view.ready = true;
    } else if (kind === "readiness") {
      runner.view.ready = result && runner.view.started;
    } else if (!result) {
      this.context.progress(
        `pod ${this.key} container ${runner.spec.name} failed its ${kind} probe; restarting it`,
      );
      void this.stopContainer(runner, graceSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30);
    }
    this.scheduleStatus();
  }

  private killContainer(runner: ContainerRunner): Promise<void> {
    runner.signal("SIGKILL");
    return runner.exited;
  }

  private async stopContainer(runner: ContainerRunner, graceSeconds: number): Promise<void> {
    if (runner.child === undefined) return;
    runner.signal("SIGCONT");
    runner.signal("SIGTERM");
    const timer = setTimeout(() => runner.signal("SIGKILL"), graceSeconds * 1000);
    await runner.exited;
    clearTimeout(timer);
  }

  // ---- status ----------------------------------------------------------------------------

  private scheduleStatus(): void {
    if (this.statusTimer !== undefined || this.destroyed) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.statusWrite = this.statusWrite.then(() => this.writeStatus());
    }, 50);
  }

  private async writeStatus(): Promise<void> {
    if (this.destroyed || this.suspended !== undefined) return;
    const now = nowIso();
    const status = buildPodStatus(
      {
        restartPolicy: this.restartPolicy,
        podIP: this.sandbox?.ip,
        hostIP: this.context.hostIP(this.node),
        startTime: this.startTime,
        initialized: this.initialized,
        initContainers: this.initContainers.map((r) => r.view),
        containers: this.containers.map((r) => r.view),
        ...(this.failure === undefined ? {} : { failure: this.failure }),
      },
      this.lastConditions ?? this.pod.status?.conditions ?? [],
      now,
    );
    try {
      await this.context.core.patchNamespacedPodStatus(
        { namespace: this.namespace, name: this.name, body: { metadata: { uid: this.uid }, status } },
        mergePatch,
      );
      this.lastConditions = status.conditions as Condition[];
      const ready = this.lastConditions.some((c) => c.type === "Ready" && c.status === "True");
      if (ready !== this.readyReported) {
        this.readyReported = ready;
        this.context.progress(`pod ${this.key} ${ready ? "ready" : "not ready"}`);
      }
    } catch (error) {
      if (hasStatus(error, 404) || hasStatus(error, 409)) return;
      this.context.progress(`pod ${this.key}: status update failed: ${describeError(error)}`);
      if (!this.destroyed) setTimeout(() => this.scheduleStatus(), retryMs);
    }
  }

  // ---- hosts file ------------------------------------------------------------------------

  /** Rewrites the hosts file in place: the same inode stays bind-mounted in the pod. */
  async refreshHosts(): Promise<void> {
    if (this.sandbox === undefined || this.destroyed) return;
    const text = this.context.hostsFileFor(this);
    if (text === this.lastHosts) return;
    this.lastHosts = text;
    const file = await open(join(this.podDir, "hosts"), "r+").catch(() => undefined);
    if (file === undefined) return;
    try {
      const bytes = Buffer.from(text);
      await file.write(bytes, 0, bytes.length, 0);
      await file.truncate(bytes.length);
    } finally {
      await file.close();
    }
  }

  // ---- updates, termination, node loss ---------------------------------------------------

  update(pod: V1Pod): void {
    this.pod = pod;
    if (pod.metadata?.deletionTimestamp && this.suspended === undefined) void this.terminate();
  }

  /** Graceful: SIGTERM, SIGKILL after the grace period, cleanup, then delete the pod object. */
  terminate(): Promise<void> {
    this.terminating ??= (async () => {
      const grace =
        this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
      this.context.progress(`pod ${this.key} terminating (grace ${grace}s)`);
      await this.stopAll(grace);
      await this.cleanUp();
      await this.context.core
        .deleteNamespacedPod({
          namespace: this.namespace,
          name: this.name,
          gracePeriodSeconds: 0,
          body: { gracePeriodSeconds: 0, preconditions: { uid: this.uid } },
        })
        .catch((error: unknown) => {
          if (!hasStatus(error, 404) && !hasStatus(error, 409))
            this.context.progress(`pod ${this.key}: delete failed: ${describeError(error)}`);
        });
      this.context.progress(`pod ${this.key} deleted`);
      this.context.finished(this);
    })();
    return this.terminating;
  }

  /** Immediate: the pod object is gone, or the agent stops. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.statusTimer !== undefined) clearTimeout(this.statusTimer);
    await this.stopAll(0);
    await this.cleanUp();
    this.context.finished(this);
  }

  private async stopAll(graceSeconds: number): Promise<void> {
    const runners = [...this.initContainers, ...this.containers];
    for (const runner of runners) {
      if (runner.restartTimer !== undefined) clearTimeout(runner.restartTimer);
      runner.generation += 1;
    }
    await Promise.all(
      runners.map((runner) =>
        graceSeconds > 0 ? this.stopContainer(runner, graceSeconds) : this.killContainer(runner),
      ),
    );
  }

  private async cleanUp(): Promise<void> {
    if (this.sandbox !== undefined) await this.context.network.removeSandbox(this.sandbox);
    this.sandbox = undefined;
    this.context.sandboxChanged();
    await rm(this.podDir, { recursive: true, force: true });
  }

  suspend(mode: "kill" | "freeze"): void {
    this.suspended = mode;
    for (const runner of [...this.initContainers, ...this.containers]) {
      if (mode === "freeze") runner.signal("SIGSTOP");
      else runner.signal("SIGKILL");
    }
  }

  resume(): void {
    const mode = this.suspended;
    this.suspended = undefined;
    for (const runner of this.containers) {
      if (mode === "freeze") runner.signal("SIGCONT");
      if (runner.pendingRestart && runner.child === undefined) this.afterExit(runner, 137);
    }
    this.scheduleStatus();
    if (this.pod.metadata?.deletionTimestamp) void this.terminate();
  }
}
