// The operator's object builders: pure functions from a PaxosCluster to the objects the
// reconciler applies. No I/O, clocks or randomness: the same cluster gives the same objects.
export { buildBootstrapConfigMap } from "./bootstrapConfigMap.ts";
export { clusterLabels, type Labels, podLabels, selectorLabels, selectorString } from "./labels.ts";
export {
  adminTokenKey,
  authMountPath,
  type ClusterObjectNames,
  clusterObjectNames,
  clusterSecretKey,
  dataMountPath,
  dataVolumeName,
  httpPort,
  initialMembersKey,
  memberName,
  peerPort,
} from "./names.ts";
export { ownerReference } from "./ownerReference.ts";
export * from "./paxosCluster.ts";
export {
  buildPodDisruptionBudget,
  maxUnavailableMembers,
  protectedVoters,
  quorumSize,
} from "./podDisruptionBudget.ts";
export { buildSecret, type ClusterCredentials } from "./secret.ts";
export { buildClientService, buildPeerService } from "./services.ts";
export {
  buildStatefulSet,
  replicaArgs,
  replicaContainerName,
  replicaUserId,
  type StatefulSetOptions,
  terminationGracePeriodSeconds,
} from "./statefulSet.ts";
export { heartbeatTicks, type ReplicaTiming, replicaTiming } from "./timing.ts";
