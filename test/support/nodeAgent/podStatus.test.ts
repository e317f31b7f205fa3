import { describe, expect, it } from "vitest";
import { buildPodStatus, type ContainerView, type PodView, podPhase } from "./podStatus.ts";

const running = (ready: boolean, restartCount = 0): ContainerView => ({
  name: "app",
  image: "x/app:1",
  ready,
  started: true,
  restartCount,
  state: { kind: "running", startedAt: "2025-01-01T00:00:01Z" },
});
const view = (containers: ContainerView[], extra: Partial<PodView> = {}): PodView => ({
  restartPolicy: "Always",
  podIP: "10.244.1.2",
  hostIP: "10.244.1.241",
  startTime: "2025-01-01T00:00:00Z",
  initialized: true,
  initContainers: [],
  containers,
  ...extra,
});
const conditions = (status: Record<string, unknown>) =>
  Object.fromEntries(
    (status.conditions as { type: string; status: string }[]).map((c) => [c.type, c.status]),
  );

describe("pod status", () => {
  it("is Running and Ready when every container is ready", () => {
    const status = buildPodStatus(view([running(true)]), [], "2025-01-01T00:00:05Z");
    expect(status.phase).toBe("Running");
    expect(status.podIP).toBe("10.244.1.2");
    expect(status.podIPs).toEqual([{ ip: "10.244.1.2" }]);
    expect(conditions(status)).toMatchObject({
      Ready: "True",
      ContainersReady: "True",
      Initialized: "True",
      PodScheduled: "True",
    });
    expect((status.containerStatuses as unknown[])[0]).toMatchObject({
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: "2025-01-01T00:00:01Z" } },
    });
  });

  it("keeps transition times while a condition holds and moves them when it flips", () => {
    const previous = [
      { type: "Ready", status: "True", lastTransitionTime: new Date("2025-01-01T00:00:02Z") },
      { type: "PodScheduled", status: "True", lastTransitionTime: "2025-01-01T00:00:00Z" },
    ];
    const status = buildPodStatus(view([running(false)]), previous, "2025-01-01T00:01:00Z");
    const byType = Object.fromEntries(
      (status.conditions as { type: string; lastTransitionTime: string }[]).map((c) => [
        c.type,
        c.lastTransitionTime,
      ]),
    );
    expect(byType.Ready).toBe("2025-01-01T00:01:00Z");
    expect(byType.PodScheduled).toBe("2025-01-01T00:00:00Z");
    expect(conditions(status).Ready).toBe("False");
  });

  it("reports a crash loop as Running with the last termination", () => {
    const crashing: ContainerView = {
      ...running(false, 3),
      state: { kind: "waiting", reason: "CrashLoopBackOff", message: "back-off 4s" },
      lastState: {
        kind: "terminated",
        exitCode: 1,
        reason: "Error",
        startedAt: "2025-01-01T00:00:01Z",
        finishedAt: "2025-01-01T00:00:02Z",
      },
    };
    const status = buildPodStatus(view([crashing]), [], "2025-01-01T00:00:05Z");
    expect(status.phase).toBe("Running");
    expect((status.containerStatuses as unknown[])[0]).toMatchObject({
      restartCount: 3,
      state: { waiting: { reason: "CrashLoopBackOff" } },
      lastState: { terminated: { exitCode: 1, reason: "Error" } },
    });
  });

  it("computes terminal phases from the restart policy", () => {
    const done = (exitCode: number): ContainerView => ({
      ...running(false),
      state: {
        kind: "terminated",
        exitCode,
        reason: exitCode === 0 ? "Completed" : "Error",
        startedAt: "a",
        finishedAt: "b",
      },
    });
    expect(podPhase(view([done(0)], { restartPolicy: "Never" }))).toBe("Succeeded");
    expect(podPhase(view([done(1)], { restartPolicy: "Never" }))).toBe("Failed");
    expect(podPhase(view([done(0)], { restartPolicy: "OnFailure" }))).toBe("Succeeded");
    expect(podPhase(view([done(1)], { restartPolicy: "OnFailure" }))).toBe("Running");
    expect(podPhase(view([], { initialized: false }))).toBe("Pending");
    expect(podPhase(view([], { failure: { reason: "x", message: "y" } }))).toBe("Failed");
  });
});
