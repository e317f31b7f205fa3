import { describe, expect, it } from "vitest";
import { clusterLabels } from "./labels.ts";
import { ownerReference } from "./ownerReference.ts";
import { buildSecret } from "./secret.ts";
import { testCluster } from "./testFixtures.ts";

const credentials = { clusterSecret: "peer-secret-0123456789abcdef", adminToken: "admin-token-0123456789" };

describe("buildSecret", () => {
  it("holds the passed-in values under cluster-secret and admin-token", () => {
    const cluster = testCluster();
    expect(buildSecret(cluster, credentials)).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "orders-auth",
        namespace: "shop",
        labels: clusterLabels(cluster),
        ownerReferences: [ownerReference(cluster)],
      },
      type: "Opaque",
      data: {
        "cluster-secret": Buffer.from(credentials.clusterSecret).toString("base64"),
        "admin-token": Buffer.from(credentials.adminToken).toString("base64"),
      },
    });
  });

  it("is the same for the same input", () => {
    expect(buildSecret(testCluster(), credentials)).toEqual(buildSecret(testCluster(), credentials));
  });

  it("refuses values the replica would refuse", () => {
    expect(() => buildSecret(testCluster(), { ...credentials, clusterSecret: "short" })).toThrow(/16 bytes/);
    expect(() => buildSecret(testCluster(), { ...credentials, adminToken: "short" })).toThrow(
      /16 characters/,
    );
  });
});
