import type { PaxosCluster } from "./paxosCluster.ts";

/**
 * The names of the objects a PaxosCluster owns. The CRD limits a cluster's name to 52
 * characters, so every name here stays a valid DNS label (63) and the StatefulSet's
 * controller-revision-hash label (name + 11) stays a valid label value.
 */
export interface ClusterObjectNames {
  /** The StatefulSet; its pods are `<name>-0` .. `<name>-(n-1)`. */
  readonly statefulSet: string;
  /** The headless Service that gives each member a stable DNS name. */
  readonly peerService: string;
  /** The ClusterIP Service clients use; it routes to ready members only. */
  readonly clientService: string;
  readonly podDisruptionBudget: string;
  /** The Secret with the peer-authentication secret and the admin token. */
  readonly secret: string;
  /** The initial members' names, only while the cluster forms (see buildBootstrapConfigMap). */
  readonly bootstrapConfigMap: string;
}

export function clusterObjectNames(cluster: PaxosCluster): ClusterObjectNames {
  const name = cluster.metadata.name;
  return {
    statefulSet: name,
    peerService: `${name}-peers`,
    clientService: name,
    podDisruptionBudget: name,
    secret: `${name}-auth`,
    bootstrapConfigMap: `${name}-bootstrap`,
  };
}

/** The name of the member at an ordinal: the StatefulSet's pod name. */
export function memberName(cluster: PaxosCluster, ordinal: number): string {
  return `${cluster.metadata.name}-${ordinal}`;
}

/** The replica's ports (its flag defaults, stated explicitly in the container args). */
export const peerPort = 7000;
export const httpPort = 8080;
export const peerPortName = "peer";
export const httpPortName = "http";

/** The keys of the auth Secret, and where the replica reads them. */
export const clusterSecretKey = "cluster-secret";
export const adminTokenKey = "admin-token";
/** The bootstrap ConfigMap's key, read by the replica as PAXOS_INITIAL_MEMBERS. */
export const initialMembersKey = "initial-members";
export const authMountPath = "/etc/paxos/auth";
export const dataMountPath = "/data";
export const dataVolumeName = "data";
