import { applySpecDefaults, type PaxosCluster, type PaxosClusterSpecInput } from "./paxosCluster.ts";

/** A PaxosCluster as the API server returns it: defaults applied, uid set. Tests only. */
export function testCluster(
  spec: PaxosClusterSpecInput = {},
  extra: { readonly status?: PaxosCluster["status"] } = {},
): PaxosCluster {
  return {
    apiVersion: "paxos.dev/v1alpha1",
    kind: "PaxosCluster",
    metadata: {
      name: "orders",
      namespace: "shop",
      uid: "0f4a2b7c-1111-4222-8333-944455556666",
      generation: 1,
    },
    spec: applySpecDefaults(spec),
    ...(extra.status === undefined ? {} : { status: extra.status }),
  };
}
