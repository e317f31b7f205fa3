import type { V1Secret } from "@kubernetes/client-node";
import { adminTokenKey, clusterObjectNames, clusterSecretKey } from "./names.ts";
import { ownedObjectMetadata } from "./ownerReference.ts";
import type { PaxosCluster } from "./paxosCluster.ts";

/** The random values of a cluster's Secret: the reconciler generates them once and keeps them. */
export interface ClusterCredentials {
  /** The peers' shared secret; the replica requires at least 16 bytes. */
  readonly clusterSecret: string;
  /** The bearer token of the replicas' /v1/admin routes; at least 16 characters. */
  readonly adminToken: string;
}

/**
 * `<name>-auth`, mounted into every member. The values are passed in rather than made here
 * so that this stays a pure function: regenerating them on each reconcile would cut the
 * members off from each other. They go into `data` (base64), not `stringData`, because the
 * API server stores only `data`: comparing a built object with the stored one then works.
 */
export function buildSecret(cluster: PaxosCluster, credentials: ClusterCredentials): V1Secret {
  if (Buffer.byteLength(credentials.clusterSecret) < 16)
    throw new Error("the cluster secret must be at least 16 bytes: the replica refuses a shorter one");
  if (credentials.adminToken.length < 16)
    throw new Error("the admin token must be at least 16 characters: the replica refuses a shorter one");
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: ownedObjectMetadata(cluster, clusterObjectNames(cluster).secret),
    type: "Opaque",
    data: {
      [clusterSecretKey]: Buffer.from(credentials.clusterSecret, "utf8").toString("base64"),
      [adminTokenKey]: Buffer.from(credentials.adminToken, "utf8").toString("base64"),
    },
  };
}
