import type { V1ConfigMap } from "@kubernetes/client-node";
import { clusterObjectNames, initialMembersKey, memberName } from "./names.ts";
import { ownedObjectMetadata } from "./ownerReference.ts";
import type { PaxosCluster } from "./paxosCluster.ts";

/**
 * `<name>-bootstrap`: the names of the initial members, which the replica reads as
 * PAXOS_INITIAL_MEMBERS. It exists only until status.bootstrapped; the reconciler then
 * deletes it, so that every member that starts on an empty disk afterwards (a scale-up, a
 * member that lost its volume) joins as a new incarnation that the operator adds, and
 * nothing can ever bootstrap a second cluster over the first.
 *
 * The replica honors the list only when its data directory is new, asks the listed members
 * for their configuration, and joins instead when the cluster already exists.
 */
export function buildBootstrapConfigMap(cluster: PaxosCluster): V1ConfigMap {
  const members = Array.from({ length: cluster.spec.replicas }, (_, ordinal) => memberName(cluster, ordinal));
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: ownedObjectMetadata(cluster, clusterObjectNames(cluster).bootstrapConfigMap),
    data: { [initialMembersKey]: members.join(",") },
  };
}
