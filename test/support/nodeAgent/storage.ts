// Local storage: a default StorageClass and the external provisioner behind it. A PVC of
// the class that the scheduler placed on one of the agent's nodes (WaitForFirstConsumer
// sets volume.kubernetes.io/selected-node) gets a PV backed by a directory under
// <stateDir>/volumes/, with node affinity to that node and a claimRef, which the controller
// manager's PV controller binds. A Released PV of the class with reclaimPolicy Delete is
// deleted with its directory. A larger request on a bound PVC is granted at once.
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  ADD,
  type CoreV1Api,
  ERROR,
  type Informer,
  type KubeConfig,
  makeInformer,
  type StorageV1Api,
  UPDATE,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
} from "@kubernetes/client-node";
import { describeError, hasStatus, ignoreStatus, mergePatch } from "./kube.ts";

export const storageClassName = "paxos-local";
export const provisionerName = "paxos.dev/node-agent";
const selectedNodeAnnotation = "volume.kubernetes.io/selected-node";
const provisionedByAnnotation = "pv.kubernetes.io/provisioned-by";

export interface ProvisionerOptions {
  config: KubeConfig;
  core: CoreV1Api;
  storage: StorageV1Api;
  stateDir: string;
  ownsNode: (name: string) => boolean;
  progress: (message: string) => void;
}

export async function ensureStorageClass(storage: StorageV1Api): Promise<void> {
  await storage
    .createStorageClass({
      body: {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: {
          name: storageClassName,
          annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        },
        provisioner: provisionerName,
        volumeBindingMode: "WaitForFirstConsumer",
        reclaimPolicy: "Delete",
        allowVolumeExpansion: true,
      },
    })
    .catch(ignoreStatus(409));
}

export class LocalProvisioner {
  private readonly options: ProvisionerOptions;
  private readonly informers: Informer<V1PersistentVolumeClaim | V1PersistentVolume>[] = [];
  private readonly busy = new Set<string>();
  private stopped = false;

  constructor(options: ProvisionerOptions) {
    this.options = options;
  }

  volumePath(pvName: string): string {
    return join(this.options.stateDir, "volumes", pvName);
  }

  async start(): Promise<void> {
    const { config, core } = this.options;
    const claims = makeInformer<V1PersistentVolumeClaim>(config, "/api/v1/persistentvolumeclaims", () =>
      core.listPersistentVolumeClaimForAllNamespaces(),
    );
    const volumes = makeInformer<V1PersistentVolume>(config, "/api/v1/persistentvolumes", () =>
      core.listPersistentVolume(),
    );
    const onClaim = (claim: V1PersistentVolumeClaim) =>
      this.once(`pvc/${claim.metadata?.uid}`, () => this.claim(claim));
    const onVolume = (volume: V1PersistentVolume) =>
      this.once(`pv/${volume.metadata?.name}`, () => this.volume(volume));
    claims.on(ADD, onClaim);
    claims.on(UPDATE, onClaim);
    volumes.on(ADD, onVolume);
    volumes.on(UPDATE, onVolume);
    for (const informer of [claims, volumes] as Informer<V1PersistentVolumeClaim | V1PersistentVolume>[]) {
      informer.on(ERROR, () => {
        if (!this.stopped) setTimeout(() => void informer.start().catch(() => undefined), 1000);
      });
      this.informers.push(informer);
      await informer.start();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const informer of this.informers) await informer.stop();
  }

  private once(key: string, work: () => Promise<void>): void {
    if (this.busy.has(key) || this.stopped) return;
    this.busy.add(key);
    work()
      .catch((error: unknown) => this.options.progress(`storage: ${key}: ${describeError(error)}`))
      .finally(() => this.busy.delete(key));
  }

  private async claim(claim: V1PersistentVolumeClaim): Promise<void> {
    if (claim.spec?.storageClassName !== storageClassName || claim.metadata?.deletionTimestamp) return;
    const namespace = claim.metadata?.namespace ?? "";
    const name = claim.metadata?.name ?? "";
    const requested = claim.spec?.resources?.requests?.storage;
    if (claim.spec?.volumeName) {
      await this.resize(claim, requested);
      return;
    }
    const node = claim.metadata?.annotations?.[selectedNodeAnnotation];
    if (node === undefined || !this.options.ownsNode(node)) return;
    const pvName = `pvc-${claim.metadata?.uid}`;
    const path = this.volumePath(pvName);
    await mkdir(path, { recursive: true });
    try {
      await this.options.core.createPersistentVolume({
        body: {
          apiVersion: "v1",
          kind: "PersistentVolume",
          metadata: { name: pvName, annotations: { [provisionedByAnnotation]: provisionerName } },
          spec: {
            capacity: { storage: requested ?? "1Gi" },
            accessModes: claim.spec?.accessModes ?? ["ReadWriteOnce"],
            persistentVolumeReclaimPolicy: "Delete",
            storageClassName,
            volumeMode: claim.spec?.volumeMode ?? "Filesystem",
            claimRef: {
              apiVersion: "v1",
              kind: "PersistentVolumeClaim",
              namespace,
              name,
              uid: claim.metadata?.uid ?? "",
            },
            local: { path },
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] },
                ],
              },
            },
          },
        },
      });
      this.options.progress(`volume ${pvName} for ${namespace}/${name} on ${node}`);
    } catch (error) {
      if (!hasStatus(error, 409)) throw error;
    }
  }

  private async resize(claim: V1PersistentVolumeClaim, requested: string | undefined): Promise<void> {
    const current = claim.status?.capacity?.storage;
    if (requested === undefined || current === undefined || current === requested) return;
    const pvName = claim.spec?.volumeName ?? "";
    const volume = await this.options.core.readPersistentVolume({ name: pvName });
    if (volume.metadata?.annotations?.[provisionedByAnnotation] !== provisionerName) return;
    await this.options.core.patchPersistentVolume(
      { name: pvName, body: { spec: { capacity: { storage: requested } } } },
      mergePatch,
    );
    await this.options.core.patchNamespacedPersistentVolumeClaimStatus(
      {
        namespace: claim.metadata?.namespace ?? "",
        name: claim.metadata?.name ?? "",
        body: { status: { capacity: { storage: requested }, allocatedResources: { storage: requested } } },
      },
      mergePatch,
    );
    this.options.progress(`volume ${pvName} resized to ${requested}`);
  }

  private async volume(volume: V1PersistentVolume): Promise<void> {
    if (volume.metadata?.annotations?.[provisionedByAnnotation] !== provisionerName) return;
    const phase = volume.status?.phase;
    if (
      (phase !== "Released" && phase !== "Failed") ||
      volume.spec?.persistentVolumeReclaimPolicy !== "Delete"
    )
      return;
    const name = volume.metadata?.name ?? "";
    const path = volume.spec?.local?.path;
    // Only directories of this agent: another agent's state directory is not ours to delete.
    if (path === this.volumePath(name)) await rm(path, { recursive: true, force: true });
    await this.options.core.deletePersistentVolume({ name }).catch(ignoreStatus(404));
    this.options.progress(`volume ${name} deleted (released)`);
  }
}
