import type {
  V1Affinity,
  V1Container,
  V1EnvVar,
  V1PodSecurityContext,
  V1Probe,
  V1ResourceRequirements,
  V1SecurityContext,
  V1StatefulSet,
  V1WeightedPodAffinityTerm,
} from "@kubernetes/client-node";
import { clusterLabels, podLabels, selectorLabels } from "./labels.ts";
import {
  adminTokenKey,
  authMountPath,
  clusterObjectNames,
  clusterSecretKey,
  dataMountPath,
  dataVolumeName,
  httpPort,
  httpPortName,
  initialMembersKey,
  peerPort,
  peerPortName,
} from "./names.ts";
import { ownedObjectMetadata } from "./ownerReference.ts";
import type { PaxosCluster, Quantity } from "./paxosCluster.ts";
import { replicaTiming } from "./timing.ts";

export interface StatefulSetOptions {
  /** The Secret holding the cluster secret and the admin token (see buildSecret). */
  readonly secretName: string;
  /**
   * The data claim size in the existing StatefulSet's volumeClaimTemplates, which are
   * immutable: an update must repeat it, whatever spec.storage.size says now.
   */
  readonly existingClaimSize?: string;
  /**
   * The StatefulSet's replica count. Until the cluster is bootstrapped it is spec.replicas;
   * after that the membership planner moves it one pod at a time (a member joins as a
   * learner before its pod counts, and leaves the configuration before its pod goes), so
   * the reconciler passes the stored value and never changes it by applying.
   */
  readonly replicas?: number;
}

/**
 * The non-root user of the replica image (65532 is "nonroot" in distroless images). The
 * pod's fsGroup is the same id so that the kubelet makes the data volume and the mounted
 * Secret readable and writable for it.
 */
export const replicaUserId = 65532;

export const replicaContainerName = "replica";

/**
 * Enough for a member to hand its leadership over and close its connections after
 * SIGTERM: a transfer takes a few heartbeats; the rest is margin for a slow fsync.
 */
export const terminationGracePeriodSeconds = 30;

const authVolumeName = "auth";
const tmpVolumeName = "tmp";

/**
 * `<name>`: the members' pods `<name>-0` .. `<name>-(n-1)`, one PVC each.
 *
 * - serviceName `<name>-peers`: the headless Service that gives each pod its DNS name.
 * - podManagementPolicy Parallel: the initial members bootstrap together, each waiting for
 *   the others' /v1/status; with OrderedReady, `<name>-1` would not be created until
 *   `<name>-0` is ready, and `<name>-0` is not ready until there is a cluster: a deadlock.
 * - updateStrategy OnDelete: the StatefulSet controller never restarts members on its own.
 *   The operator restarts them one at a time, the leader last after transferring its
 *   leadership, each only once the previous one is ready and caught up; and it changes the
 *   membership before the replica count (add a learner and promote it before counting it,
 *   remove a voter before scaling its pod away). A RollingUpdate would restart members
 *   whatever the quorum's state.
 * - persistentVolumeClaimRetentionPolicy Delete / Delete: deleting the PaxosCluster deletes
 *   its data (the issue: deleting it removes everything; the garbage collector does it
 *   through the StatefulSet, with no finalizer work). On scale-down, the operator has
 *   already removed the member from the membership, so its data is of no use; kept, it
 *   would come back on a later scale-up as the removed incarnation with a stale
 *   configuration, instead of a fresh member that joins as a learner. The reconciler must
 *   therefore never delete the StatefulSet except with propagationPolicy Orphan.
 * - volumeClaimTemplates are immutable in a StatefulSet: the size is spec.storage.size when
 *   the StatefulSet is created and stays what it was after that (options.existingClaimSize).
 *   A larger spec.storage.size is written to the PVCs by the reconciler; a member added
 *   later starts at the template's size and is then expanded like the others.
 */
export function buildStatefulSet(cluster: PaxosCluster, options: StatefulSetOptions): V1StatefulSet {
  const names = clusterObjectNames(cluster);
  const storage = cluster.spec.storage;
  const pod = cluster.spec.pod;
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: ownedObjectMetadata(cluster, names.statefulSet),
    spec: {
      replicas: options.replicas ?? cluster.spec.replicas,
      serviceName: names.peerService,
      selector: { matchLabels: selectorLabels(cluster) },
      podManagementPolicy: "Parallel",
      updateStrategy: { type: "OnDelete" },
      persistentVolumeClaimRetentionPolicy: {
        whenDeleted: "Delete",
        whenScaled: cluster.spec.storage.whenScaledDown,
      },
      template: {
        metadata: {
          labels: podLabels(cluster),
          ...(pod?.annotations === undefined ? {} : { annotations: { ...pod.annotations } }),
        },
        spec: {
          containers: [replicaContainer(cluster)],
          volumes: [
            {
              name: authVolumeName,
              // 0440: owned by root with the pod's fsGroup, so the replica's user reads it
              // through its group; nobody else needs it.
              secret: { secretName: options.secretName, defaultMode: 0o440 },
            },
            // The root filesystem is read-only; the runtime may still want a scratch directory.
            { name: tmpVolumeName, emptyDir: { sizeLimit: "64Mi" } },
          ],
          securityContext: podSecurityContext(),
          affinity: affinity(cluster),
          terminationGracePeriodSeconds,
          // The replica never calls the Kubernetes API.
          automountServiceAccountToken: false,
          // Service links would inject variables such as PAXOS_HTTP_PORT=tcp://... for a
          // Service named paxos-http in the namespace, which the replica reads as its flags.
          enableServiceLinks: false,
          ...(pod?.nodeSelector === undefined ? {} : { nodeSelector: { ...pod.nodeSelector } }),
          ...(pod?.tolerations === undefined ? {} : { tolerations: structuredClone([...pod.tolerations]) }),
          ...(pod?.priorityClassName === undefined ? {} : { priorityClassName: pod.priorityClassName }),
        },
      },
      volumeClaimTemplates: [
        {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: { name: dataVolumeName, labels: clusterLabels(cluster) },
          spec: {
            // One member's log on one node: a second writer would break the acceptor's promises.
            accessModes: ["ReadWriteOnce"],
            resources: { requests: { storage: options.existingClaimSize ?? String(storage.size) } },
            ...(storage.storageClassName === undefined ? {} : { storageClassName: storage.storageClassName }),
          },
        },
      ],
    },
  };
}

/**
 * The replica's command line. Every setting the operator decides is a flag, so `kubectl
 * describe pod` shows it; only the secrets' file paths go through the environment.
 */
export function replicaArgs(cluster: PaxosCluster): string[] {
  const timing = replicaTiming(cluster.spec.paxos);
  const peerService = clusterObjectNames(cluster).peerService;
  return [
    // Expanded by the kubelet from the POD_NAME variable below.
    "--name=$(POD_NAME)",
    `--data-dir=${dataMountPath}`,
    "--listen-host=0.0.0.0",
    `--http-port=${httpPort}`,
    `--peer-port=${peerPort}`,
    `--peer-host-template={name}.${peerService}.${cluster.metadata.namespace}.svc`,
    `--tick-ms=${timing.tickMs}`,
    `--heartbeat-ticks=${timing.heartbeatTicks}`,
    `--election-timeout-ticks=${timing.electionTimeoutTicks}`,
    `--compact-after-entries=${cluster.spec.paxos.snapshotThresholdEntries}`,
  ];
}

function replicaContainer(cluster: PaxosCluster): V1Container {
  const resources = resourceRequirements(cluster);
  return {
    name: replicaContainerName,
    image: cluster.spec.image,
    imagePullPolicy: cluster.spec.imagePullPolicy,
    args: replicaArgs(cluster),
    env: replicaEnv(cluster),
    ports: [
      { name: peerPortName, containerPort: peerPort, protocol: "TCP" },
      { name: httpPortName, containerPort: httpPort, protocol: "TCP" },
    ],
    ...probes(),
    ...(resources === undefined ? {} : { resources }),
    securityContext: containerSecurityContext(),
    volumeMounts: [
      { name: dataVolumeName, mountPath: dataMountPath },
      { name: authVolumeName, mountPath: authMountPath, readOnly: true },
      { name: tmpVolumeName, mountPath: "/tmp" },
    ],
  };
}

function replicaEnv(cluster: PaxosCluster): V1EnvVar[] {
  const field = (name: string, fieldPath: string): V1EnvVar => ({
    name,
    valueFrom: { fieldRef: { apiVersion: "v1", fieldPath } },
  });
  return [
    field("POD_NAME", "metadata.name"),
    field("POD_NAMESPACE", "metadata.namespace"),
    field("POD_IP", "status.podIP"),
    // Files, not values: the secrets stay out of the pod spec and `kubectl describe`.
    { name: "PAXOS_CLUSTER_SECRET_FILE", value: `${authMountPath}/${clusterSecretKey}` },
    { name: "PAXOS_ADMIN_TOKEN_FILE", value: `${authMountPath}/${adminTokenKey}` },
    // Only while the cluster forms (see buildBootstrapConfigMap). From a ConfigMap rather
    // than a flag so that the pod template, and with it the StatefulSet's revision, stays
    // the same once the ConfigMap is gone: otherwise every member would need a restart.
    {
      name: "PAXOS_INITIAL_MEMBERS",
      valueFrom: {
        configMapKeyRef: {
          name: clusterObjectNames(cluster).bootstrapConfigMap,
          key: initialMembersKey,
          optional: true,
        },
      },
    },
  ];
}

/**
 * - startup: /livez every 5 s, up to 60 failures (5 minutes) before the kubelet gives up, so
 *   a member that replays a long log or waits for the other initial members is not killed
 *   while it starts. Liveness and readiness begin once it answers.
 * - readiness: /readyz every 5 s, out after 2 failures. A member is ready when it votes (or
 *   is a caught-up learner), is not fenced and knows a leader; a fenced or cut-off member
 *   leaves the client Service within about 10 s.
 * - liveness: /livez every 10 s with 5 s to answer, restarted only after 6 failures (a minute).
 *   Lenient on purpose: a member busy taking or installing a large snapshot, or stuck behind
 *   a slow fsync, answers late but is healthy, and a restart would only make it catch up
 *   again. Liveness is for a process that is wedged, never for one that is behind.
 */
function probes(): Pick<V1Container, "startupProbe" | "readinessProbe" | "livenessProbe"> {
  const get = (path: string): Pick<V1Probe, "httpGet"> => ({
    httpGet: { path, port: httpPortName, scheme: "HTTP" },
  });
  return {
    startupProbe: { ...get("/livez"), periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 60 },
    readinessProbe: {
      ...get("/readyz"),
      periodSeconds: 5,
      timeoutSeconds: 2,
      successThreshold: 1,
      failureThreshold: 2,
    },
    livenessProbe: { ...get("/livez"), periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
  };
}

function resourceRequirements(cluster: PaxosCluster): V1ResourceRequirements | undefined {
  const resources = cluster.spec.resources;
  if (resources === undefined) return undefined;
  const quantities = (values: Readonly<Record<string, Quantity>>): Record<string, string> =>
    Object.fromEntries(Object.entries(values).map(([name, value]) => [name, String(value)]));
  return {
    ...(resources.requests === undefined ? {} : { requests: quantities(resources.requests) }),
    ...(resources.limits === undefined ? {} : { limits: quantities(resources.limits) }),
  };
}

/**
 * What the `restricted` Pod Security Standard requires: a non-root user, the runtime's
 * default seccomp profile. fsGroup makes the volumes the replica's; OnRootMismatch skips the
 * recursive chown of a large data volume on every start when the ownership is already right.
 */
function podSecurityContext(): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: replicaUserId,
    runAsGroup: replicaUserId,
    fsGroup: replicaUserId,
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/**
 * The container half of `restricted`: no privilege escalation, every capability dropped,
 * non-root, RuntimeDefault seccomp. The root filesystem is read-only as well: the replica
 * writes only to its data volume (and /tmp, an emptyDir).
 */
function containerSecurityContext(): V1SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: replicaUserId,
    runAsGroup: replicaUserId,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    readOnlyRootFilesystem: true,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/**
 * The user's affinity, with one more preferred pod anti-affinity term: spread the members
 * over nodes, so that losing a node costs at most one member when there are enough nodes.
 * Preferred rather than required so that a cluster still runs on fewer nodes than members
 * (kind, a small test cluster); a user who wants it required says so in spec.pod.affinity,
 * and their terms are kept as they are.
 */
function affinity(cluster: PaxosCluster): V1Affinity {
  const spreadOverNodes: V1WeightedPodAffinityTerm = {
    weight: 100,
    podAffinityTerm: {
      topologyKey: "kubernetes.io/hostname",
      labelSelector: { matchLabels: selectorLabels(cluster) },
    },
  };
  const user = cluster.spec.pod?.affinity;
  const copy: V1Affinity = user === undefined ? {} : structuredClone(user);
  const antiAffinity = copy.podAntiAffinity ?? {};
  return {
    ...copy,
    podAntiAffinity: {
      ...antiAffinity,
      preferredDuringSchedulingIgnoredDuringExecution: [
        ...(antiAffinity.preferredDuringSchedulingIgnoredDuringExecution ?? []),
        spreadOverNodes,
      ],
    },
  };
}
