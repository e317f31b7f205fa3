// The pod status the agent writes through pods/status, computed from what it knows about
// its containers. Pure; times are ISO strings so the result is plain JSON for a patch.
import type { RestartPolicy } from "./backoff.ts";

export type ContainerState =
  | { kind: "waiting"; reason: string; message?: string }
  | { kind: "running"; startedAt: string }
  | {
      kind: "terminated";
      exitCode: number;
      signal?: number;
      reason: string;
      startedAt: string;
      finishedAt: string;
    };

export interface ContainerView {
  name: string;
  image: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: ContainerState;
  lastState?: ContainerState;
  containerID?: string;
}

export interface PodView {
  restartPolicy: RestartPolicy;
  podIP: string | undefined;
  hostIP: string | undefined;
  startTime: string;
  initialized: boolean;
  initContainers: ContainerView[];
  containers: ContainerView[];
  /** Set when the pod cannot run at all (e.g. an unknown image). */
  failure?: { reason: string; message: string };
}

export interface Condition {
  type: string;
  status: "True" | "False";
  lastTransitionTime: string;
  lastProbeTime?: null;
  reason?: string;
}

export type Phase = "Pending" | "Running" | "Succeeded" | "Failed";

export function podPhase(view: PodView): Phase {
  if (view.failure !== undefined) return "Failed";
  if (!view.initialized) {
    const failedInit = view.initContainers.some(
      (c) => c.state.kind === "terminated" && c.state.exitCode !== 0 && view.restartPolicy === "Never",
    );
    return failedInit ? "Failed" : "Pending";
  }
  const states = view.containers.map((c) => c.state);
  if (states.some((s) => s.kind === "running")) return "Running";
  const restarting = view.containers.some((c) => c.state.kind === "waiting" && c.lastState !== undefined);
  if (restarting) return "Running";
  if (states.length > 0 && states.every((s) => s.kind === "terminated")) {
    const allSucceeded = states.every((s) => s.kind === "terminated" && s.exitCode === 0);
    if (view.restartPolicy === "Always") return "Running";
    if (allSucceeded) return "Succeeded";
    return view.restartPolicy === "Never" ? "Failed" : "Running";
  }
  return "Pending";
}

function conditionsFor(view: PodView): Array<Omit<Condition, "lastTransitionTime">> {
  const containersReady = view.containers.length > 0 && view.containers.every((c) => c.ready);
  const phase = podPhase(view);
  const ready = containersReady && phase === "Running";
  const status = (value: boolean) => (value ? "True" : "False") as "True" | "False";
  const notReadyReason = phase === "Succeeded" || phase === "Failed" ? "PodCompleted" : "ContainersNotReady";
  return [
    { type: "PodReadyToStartContainers", status: status(view.podIP !== undefined) },
    { type: "Initialized", status: status(view.initialized) },
    { type: "Ready", status: status(ready), ...(ready ? {} : { reason: notReadyReason }) },
    {
      type: "ContainersReady",
      status: status(containersReady),
      ...(containersReady ? {} : { reason: notReadyReason }),
    },
    { type: "PodScheduled", status: "True" },
  ];
}

/** Keeps a condition's lastTransitionTime while its status does not change. */
export function mergeConditions(
  next: ReadonlyArray<Omit<Condition, "lastTransitionTime">>,
  previous: ReadonlyArray<{ type?: string; status?: string; lastTransitionTime?: Date | string }>,
  now: string,
): Condition[] {
  return next.map((condition) => {
    const before = previous.find((p) => p.type === condition.type);
    const keep = before !== undefined && before.status === condition.status && before.lastTransitionTime;
    const lastTransitionTime =
      keep instanceof Date ? keep.toISOString() : typeof keep === "string" ? keep : now;
    return { ...condition, lastProbeTime: null, lastTransitionTime };
  });
}

function stateJson(state: ContainerState): Record<string, unknown> {
  switch (state.kind) {
    case "waiting":
      return { waiting: { reason: state.reason, ...(state.message ? { message: state.message } : {}) } };
    case "running":
      return { running: { startedAt: state.startedAt } };
    case "terminated":
      return {
        terminated: {
          exitCode: state.exitCode,
          ...(state.signal === undefined ? {} : { signal: state.signal }),
          reason: state.reason,
          startedAt: state.startedAt,
          finishedAt: state.finishedAt,
        },
      };
  }
}

function containerStatusJson(container: ContainerView): Record<string, unknown> {
  return {
    name: container.name,
    image: container.image,
    imageID: `paxos-node-agent://${container.image}`,
    ...(container.containerID === undefined ? {} : { containerID: container.containerID }),
    ready: container.ready,
    started: container.started,
    restartCount: container.restartCount,
    state: stateJson(container.state),
    lastState: container.lastState === undefined ? {} : stateJson(container.lastState),
  };
}

/** The whole status object; a merge patch with it replaces the lists it contains. */
export function buildPodStatus(
  view: PodView,
  previousConditions: ReadonlyArray<{ type?: string; status?: string; lastTransitionTime?: Date | string }>,
  now: string,
): Record<string, unknown> {
  return {
    phase: podPhase(view),
    ...(view.failure === undefined ? {} : { reason: view.failure.reason, message: view.failure.message }),
    ...(view.hostIP === undefined ? {} : { hostIP: view.hostIP, hostIPs: [{ ip: view.hostIP }] }),
    ...(view.podIP === undefined ? {} : { podIP: view.podIP, podIPs: [{ ip: view.podIP }] }),
    startTime: view.startTime,
    // No qosClass: the API server sets it when the pod is created and it never changes; the
    // status is merge-patched, so leaving it out keeps the server's value.
    conditions: mergeConditions(conditionsFor(view), previousConditions, now),
    ...(view.initContainers.length === 0
      ? {}
      : { initContainerStatuses: view.initContainers.map(containerStatusJson) }),
    containerStatuses: view.containers.map(containerStatusJson),
  };
}
