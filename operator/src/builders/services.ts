import type { V1Service } from "@kubernetes/client-node";
import { selectorLabels } from "./labels.ts";
import { clusterObjectNames, httpPort, httpPortName, peerPort, peerPortName } from "./names.ts";
import { ownedObjectMetadata } from "./ownerReference.ts";
import type { PaxosCluster } from "./paxosCluster.ts";

/**
 * `<name>-peers`, headless: it gives each member the stable DNS name
 * `<pod>.<name>-peers.<namespace>.svc` that the replicas' --peer-host-template resolves.
 * publishNotReadyAddresses is true because a member is ready only once it knows a leader,
 * and there is no leader until the members have found each other: with only ready
 * addresses published, a new cluster could never bootstrap and a cluster that lost its
 * leader could never elect one. The http port is here too because bootstrapping members
 * ask each other's /v1/status on it.
 */
export function buildPeerService(cluster: PaxosCluster): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedObjectMetadata(cluster, clusterObjectNames(cluster).peerService),
    spec: {
      clusterIP: "None",
      publishNotReadyAddresses: true,
      selector: selectorLabels(cluster),
      ports: [
        { name: peerPortName, port: peerPort, targetPort: peerPortName, protocol: "TCP" },
        { name: httpPortName, port: httpPort, targetPort: httpPortName, protocol: "TCP" },
      ],
    },
  };
}

/**
 * `<name>`, the address clients use. An ordinary ClusterIP Service routes only to ready
 * pods, and a member is ready only when it is voting (or a caught-up learner), not fenced,
 * and knows a leader: clients never reach a member that cannot serve them. Any ready member
 * forwards to the leader, so no leader-only routing is needed.
 */
export function buildClientService(cluster: PaxosCluster): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedObjectMetadata(cluster, clusterObjectNames(cluster).clientService),
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(cluster),
      ports: [{ name: httpPortName, port: httpPort, targetPort: httpPortName, protocol: "TCP" }],
    },
  };
}
