import type { V1ObjectMeta, V1OwnerReference } from "@kubernetes/client-node";
import { clusterLabels } from "./labels.ts";
import { type PaxosCluster, paxosApiVersion, paxosClusterKind } from "./paxosCluster.ts";

/**
 * The owner reference every object the operator creates carries. `controller: true` makes
 * the PaxosCluster the one object that manages it (the operator maps events on it back to
 * the cluster); `blockOwnerDeletion: true` makes a foreground deletion of the cluster wait
 * until the garbage collector has removed it.
 */
export function ownerReference(cluster: PaxosCluster): V1OwnerReference {
  return {
    apiVersion: paxosApiVersion,
    kind: paxosClusterKind,
    name: cluster.metadata.name,
    uid: cluster.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The metadata of an object the cluster owns: its name, the cluster's namespace and labels, and the owner reference. */
export function ownedObjectMetadata(cluster: PaxosCluster, name: string): V1ObjectMeta {
  return {
    name,
    namespace: cluster.metadata.namespace,
    labels: clusterLabels(cluster),
    ownerReferences: [ownerReference(cluster)],
  };
}
