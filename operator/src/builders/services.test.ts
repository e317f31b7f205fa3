import { describe, expect, it } from "vitest";
import { clusterLabels, selectorLabels } from "./labels.ts";
import { ownerReference } from "./ownerReference.ts";
import { buildClientService, buildPeerService } from "./services.ts";
import { testCluster } from "./testFixtures.ts";

describe("buildPeerService", () => {
  it("is headless and publishes members before they are ready", () => {
    const cluster = testCluster();
    expect(buildPeerService(cluster)).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "orders-peers",
        namespace: "shop",
        labels: clusterLabels(cluster),
        ownerReferences: [ownerReference(cluster)],
      },
      spec: {
        clusterIP: "None",
        publishNotReadyAddresses: true,
        selector: selectorLabels(cluster),
        ports: [
          { name: "peer", port: 7000, targetPort: "peer", protocol: "TCP" },
          { name: "http", port: 8080, targetPort: "http", protocol: "TCP" },
        ],
      },
    });
  });
});

describe("buildClientService", () => {
  it("is a ClusterIP Service on the http port that routes to ready members only", () => {
    const cluster = testCluster();
    const service = buildClientService(cluster);
    expect(service).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "orders",
        namespace: "shop",
        labels: clusterLabels(cluster),
        ownerReferences: [ownerReference(cluster)],
      },
      spec: {
        type: "ClusterIP",
        selector: selectorLabels(cluster),
        ports: [{ name: "http", port: 8080, targetPort: "http", protocol: "TCP" }],
      },
    });
    expect(service.spec?.publishNotReadyAddresses).toBeUndefined();
  });
});
