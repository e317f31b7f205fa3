// A pod's volumes as host directories the launch script bind-mounts: Secrets and
// ConfigMaps written out as files (items, modes), emptyDirs, PVCs (the PV's directory),
// hostPaths, and projected volumes (secrets, config maps, the namespace, a token).
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { CoreV1Api, V1Container, V1KeyToPath, V1Pod, V1Volume } from "@kubernetes/client-node";
import type { Mount } from "./launch.ts";

export interface VolumeContext {
  core: CoreV1Api;
  /** <stateDir>/pods/<uid> */
  podDir: string;
}

interface PreparedVolume {
  path: string;
  readOnly: boolean;
}

function decode(data: Record<string, string> | undefined, base64: boolean): Record<string, Buffer> {
  return Object.fromEntries(
    Object.entries(data ?? {}).map(([key, value]) => [key, Buffer.from(value, base64 ? "base64" : "utf8")]),
  );
}

async function writeKeys(
  dir: string,
  data: Record<string, Buffer>,
  items: V1KeyToPath[] | undefined,
  defaultMode: number,
): Promise<void> {
  const files =
    items === undefined || items.length === 0
      ? Object.keys(data).map((key) => ({ key, path: key, mode: undefined as number | undefined }))
      : items.map((item) => ({ key: item.key, path: item.path, mode: item.mode }));
  for (const file of files) {
    const content = data[file.key];
    if (content === undefined) throw new Error(`key ${file.key} not found`);
    const target = join(dir, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
    await chmod(target, file.mode ?? defaultMode);
  }
}

async function secretData(core: CoreV1Api, namespace: string, name: string): Promise<Record<string, Buffer>> {
  return decode((await core.readNamespacedSecret({ namespace, name })).data, true);
}

async function configMapData(
  core: CoreV1Api,
  namespace: string,
  name: string,
): Promise<Record<string, Buffer>> {
  const map = await core.readNamespacedConfigMap({ namespace, name });
  return { ...decode(map.data, false), ...decode(map.binaryData, true) };
}

async function prepareVolume(pod: V1Pod, volume: V1Volume, context: VolumeContext): Promise<PreparedVolume> {
  const namespace = pod.metadata?.namespace ?? "default";
  const dir = join(context.podDir, "volumes", volume.name);
  const { core } = context;
  if (volume.persistentVolumeClaim !== undefined) {
    const claim = await core.readNamespacedPersistentVolumeClaim({
      namespace,
      name: volume.persistentVolumeClaim.claimName,
    });
    const pvName = claim.spec?.volumeName;
    if (!pvName)
      throw new Error(`persistentvolumeclaim ${volume.persistentVolumeClaim.claimName} is not bound`);
    const pv = await core.readPersistentVolume({ name: pvName });
    const path = pv.spec?.local?.path ?? pv.spec?.hostPath?.path;
    if (path === undefined) throw new Error(`persistentvolume ${pvName} has no local or hostPath source`);
    await mkdir(path, { recursive: true });
    return { path, readOnly: volume.persistentVolumeClaim.readOnly === true };
  }
  if (volume.hostPath !== undefined) {
    if (volume.hostPath.type === "DirectoryOrCreate") await mkdir(volume.hostPath.path, { recursive: true });
    return { path: volume.hostPath.path, readOnly: false };
  }
  await mkdir(dir, { recursive: true });
  if (volume.secret !== undefined) {
    const source = volume.secret;
    try {
      const data = await secretData(core, namespace, source.secretName ?? "");
      await writeKeys(dir, data, source.items, source.defaultMode ?? 0o644);
    } catch (error) {
      if (source.optional !== true) throw new Error(`secret ${source.secretName}: ${String(error)}`);
    }
    return { path: dir, readOnly: true };
  }
  if (volume.configMap !== undefined) {
    const source = volume.configMap;
    try {
      const data = await configMapData(core, namespace, source.name ?? "");
      await writeKeys(dir, data, source.items, source.defaultMode ?? 0o644);
    } catch (error) {
      if (source.optional !== true) throw new Error(`configmap ${source.name}: ${String(error)}`);
    }
    return { path: dir, readOnly: true };
  }
  if (volume.projected !== undefined) {
    const defaultMode = volume.projected.defaultMode ?? 0o644;
    for (const source of volume.projected.sources ?? []) {
      if (source.secret !== undefined)
        await writeKeys(
          dir,
          await secretData(core, namespace, source.secret.name ?? ""),
          source.secret.items,
          defaultMode,
        );
      if (source.configMap !== undefined)
        await writeKeys(
          dir,
          await configMapData(core, namespace, source.configMap.name ?? ""),
          source.configMap.items,
          defaultMode,
        );
      for (const item of source.downwardAPI?.items ?? []) {
        const field = item.fieldRef?.fieldPath;
        const value =
          field === "metadata.namespace"
            ? namespace
            : field === "metadata.name"
              ? (pod.metadata?.name ?? "")
              : "";
        await writeKeys(dir, { value: Buffer.from(value) }, [{ key: "value", path: item.path }], defaultMode);
      }
      if (source.serviceAccountToken !== undefined) {
        const token = await core
          .createNamespacedServiceAccountToken({
            namespace,
            name: pod.spec?.serviceAccountName ?? "default",
            body: {
              spec: {
                audiences: source.serviceAccountToken.audience ? [source.serviceAccountToken.audience] : [],
                expirationSeconds: source.serviceAccountToken.expirationSeconds ?? 3600,
                boundObjectRef: {
                  apiVersion: "v1",
                  kind: "Pod",
                  name: pod.metadata?.name ?? "",
                  uid: pod.metadata?.uid ?? "",
                },
              },
            },
          })
          .then((response) => response.status?.token ?? "")
          .catch(() => "");
        await writeKeys(
          dir,
          { token: Buffer.from(token) },
          [{ key: "token", path: source.serviceAccountToken.path }],
          defaultMode,
        );
      }
    }
    return { path: dir, readOnly: true };
  }
  // emptyDir, and anything unsupported, is a fresh directory of the pod.
  return { path: dir, readOnly: false };
}

/** Every volume of the pod, by name. */
export async function prepareVolumes(
  pod: V1Pod,
  context: VolumeContext,
): Promise<Map<string, PreparedVolume>> {
  const prepared = new Map<string, PreparedVolume>();
  for (const volume of pod.spec?.volumes ?? [])
    prepared.set(volume.name, await prepareVolume(pod, volume, context));
  return prepared;
}

/** The container's bind mounts: source directories (with subPath) onto mountPath. */
export function containerMounts(
  container: V1Container,
  volumes: ReadonlyMap<string, PreparedVolume>,
): Mount[] {
  return (container.volumeMounts ?? []).map((mount) => {
    const volume = volumes.get(mount.name);
    if (volume === undefined) throw new Error(`volume ${mount.name} is not defined in the pod`);
    return {
      source: mount.subPath ? join(volume.path, mount.subPath) : volume.path,
      target: mount.mountPath,
      readOnly: mount.readOnly === true || volume.readOnly,
    };
  });
}
