// The operator's Events against a real API server: one Event per distinct happening, and a
// repeat of it counted on the same object rather than recorded again.
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { testCluster } from "../../operator/src/builders/testFixtures.ts";
import { EventRecorder } from "../../operator/src/events.ts";

describe("operator Events", () => {
  const kubeconfigPath = inject("kubeconfigPath");
  let core: CoreV1Api;

  beforeAll(() => {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfigPath);
    core = config.makeApiClient(CoreV1Api);
  });

  it("counts a repeated Event on one object", async () => {
    const base = testCluster({});
    const uid = `events-${Date.now().toString(36)}`;
    const cluster = { ...base, metadata: { ...base.metadata, name: uid, namespace: "default", uid } };
    const events = new EventRecorder(core, cluster);
    for (let repeat = 0; repeat < 3; repeat += 1)
      await events.warning(
        "MembershipStepFailed",
        "ScaleUp of orders-3, step AddLearner: refused. The step is retried.",
      );
    await events.normal("MemberHealthy", "orders-1 is healthy again (was unreachable).");
    const recorded = (
      await core.listNamespacedEvent({ namespace: "default", fieldSelector: `involvedObject.uid=${uid}` })
    ).items;
    const byReason = new Map(recorded.map((event) => [event.reason, event]));
    expect(recorded).toHaveLength(2);
    expect(byReason.get("MembershipStepFailed")).toMatchObject({ count: 3, type: "Warning" });
    expect(byReason.get("MemberHealthy")).toMatchObject({ count: 1, type: "Normal" });
    const failed = byReason.get("MembershipStepFailed");
    expect(new Date(failed?.lastTimestamp ?? 0).getTime()).toBeGreaterThanOrEqual(
      new Date(failed?.firstTimestamp ?? 0).getTime(),
    );
  });
});
