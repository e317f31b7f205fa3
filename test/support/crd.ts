// Installs the PaxosCluster CRD on a test API server and waits until it is served.
// Server-side apply creates it, or takes it over unchanged when another suite of the same
// run installed it first; the typed client would drop the x-kubernetes-* keys.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ApiextensionsV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { parse } from "yaml";
import { repositoryRoot } from "./tools.ts";
import { waitFor } from "./waitFor.ts";

export const paxosClusterCrdName = "paxosclusters.paxos.dev";
export const paxosClusterCrdPath = join(repositoryRoot, "crds/paxos.dev_paxosclusters.yaml");
const serverSideApply = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);

/** Applies crds/paxos.dev_paxosclusters.yaml and returns the document it applied. */
export async function applyPaxosClusterCrd(config: KubeConfig, fieldManager: string): Promise<object> {
  const extensions = config.makeApiClient(ApiextensionsV1Api);
  const crd = parse(await readFile(paxosClusterCrdPath, "utf8")) as object;
  await extensions.patchCustomResourceDefinition(
    { name: paxosClusterCrdName, body: crd, fieldManager, force: true },
    serverSideApply,
  );
  await waitFor(
    async () =>
      (await extensions.readCustomResourceDefinition({ name: paxosClusterCrdName })).status?.conditions?.some(
        (condition) => condition.type === "Established" && condition.status === "True",
      )
        ? true
        : undefined,
    { description: `CRD ${paxosClusterCrdName} to be Established`, timeoutMs: 30_000, intervalMs: 100 },
  );
  return crd;
}
