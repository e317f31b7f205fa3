import type { PaxosCluster } from "./paxosCluster.ts";

export type Labels = Record<string, string>;

/**
 * The recommended app.kubernetes.io labels on every object the operator creates, so
 * `kubectl get all -l app.kubernetes.io/instance=<cluster>` finds them all.
 */
export function clusterLabels(cluster: PaxosCluster): Labels {
  return {
    ...selectorLabels(cluster),
    "app.kubernetes.io/component": "replica",
    "app.kubernetes.io/managed-by": "paxos-operator",
    "app.kubernetes.io/part-of": "paxos-operator",
  };
}

/**
 * The labels that select a cluster's pods: the StatefulSet's selector, the Services' and
 * the PodDisruptionBudget's. Only name and instance, because a StatefulSet's selector is
 * immutable: a label added here later could never be applied to an existing cluster.
 */
export function selectorLabels(cluster: PaxosCluster): Labels {
  return {
    "app.kubernetes.io/name": "paxos-replica",
    "app.kubernetes.io/instance": cluster.metadata.name,
  };
}

/**
 * The pods' labels: the user's spec.pod.labels, then ours on top. Ours must win: the
 * StatefulSet, the Services and the PDB find the pods by them, and a user label that
 * replaced one would orphan the pods. (The CRD already rejects app.kubernetes.io/ keys;
 * this is the second line of defence.)
 */
export function podLabels(cluster: PaxosCluster): Labels {
  return { ...cluster.spec.pod?.labels, ...clusterLabels(cluster) };
}

/** The selector as a string, for status.selector (the scale subresource reads it). */
export function selectorString(cluster: PaxosCluster): string {
  return Object.entries(selectorLabels(cluster))
    .map(([key, value]) => `${key}=${value}`)
    .sort()
    .join(",");
}
