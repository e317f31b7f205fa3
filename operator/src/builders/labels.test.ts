import { describe, expect, it } from "vitest";
import { clusterLabels, podLabels, selectorLabels, selectorString } from "./labels.ts";
import { ownerReference } from "./ownerReference.ts";
import { testCluster } from "./testFixtures.ts";

describe("labels", () => {
  it("puts the recommended app.kubernetes.io labels on the cluster's objects", () => {
    expect(clusterLabels(testCluster())).toEqual({
      "app.kubernetes.io/name": "paxos-replica",
      "app.kubernetes.io/instance": "orders",
      "app.kubernetes.io/component": "replica",
      "app.kubernetes.io/managed-by": "paxos-operator",
      "app.kubernetes.io/part-of": "paxos-operator",
    });
  });

  it("selects by name and instance only, whatever the spec says", () => {
    const expected = { "app.kubernetes.io/name": "paxos-replica", "app.kubernetes.io/instance": "orders" };
    expect(selectorLabels(testCluster())).toEqual(expected);
    expect(selectorLabels(testCluster({ replicas: 5, pod: { labels: { team: "orders" } } }))).toEqual(
      expected,
    );
    expect(selectorString(testCluster())).toBe(
      "app.kubernetes.io/instance=orders,app.kubernetes.io/name=paxos-replica",
    );
  });

  it("merges the user's pod labels under ours", () => {
    const cluster = testCluster({
      pod: {
        labels: { team: "orders", "app.kubernetes.io/instance": "hijacked", "app.kubernetes.io/x": "y" },
      },
    });
    expect(podLabels(cluster)).toEqual({
      ...clusterLabels(cluster),
      team: "orders",
      "app.kubernetes.io/x": "y",
    });
    expect(podLabels(cluster)["app.kubernetes.io/instance"]).toBe("orders");
  });
});

describe("ownerReference", () => {
  it("makes the PaxosCluster the controlling owner", () => {
    expect(ownerReference(testCluster())).toEqual({
      apiVersion: "paxos.dev/v1alpha1",
      kind: "PaxosCluster",
      name: "orders",
      uid: "0f4a2b7c-1111-4222-8333-944455556666",
      controller: true,
      blockOwnerDeletion: true,
    });
  });
});
