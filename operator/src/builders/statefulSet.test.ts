import type { V1Affinity, V1Container, V1StatefulSet } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { buildBootstrapConfigMap } from "./bootstrapConfigMap.ts";
import { clusterLabels, selectorLabels } from "./labels.ts";
import { ownerReference } from "./ownerReference.ts";
import { buildStatefulSet } from "./statefulSet.ts";
import { testCluster } from "./testFixtures.ts";

const options = { secretName: "orders-auth" };

function container(statefulSet: V1StatefulSet): V1Container {
  const only = statefulSet.spec?.template.spec?.containers[0];
  if (only === undefined) throw new Error("the StatefulSet has no container");
  return only;
}

const spreadOverNodes = {
  weight: 100,
  podAffinityTerm: {
    topologyKey: "kubernetes.io/hostname",
    labelSelector: {
      matchLabels: { "app.kubernetes.io/name": "paxos-replica", "app.kubernetes.io/instance": "orders" },
    },
  },
};

describe("buildStatefulSet for a default 3-replica cluster", () => {
  const cluster = testCluster();
  const statefulSet = buildStatefulSet(cluster, options);

  it("names, owns and selects the members", () => {
    expect(statefulSet.apiVersion).toBe("apps/v1");
    expect(statefulSet.kind).toBe("StatefulSet");
    expect(statefulSet.metadata).toEqual({
      name: "orders",
      namespace: "shop",
      labels: clusterLabels(cluster),
      ownerReferences: [ownerReference(cluster)],
    });
    expect(statefulSet.spec).toMatchObject({
      replicas: 3,
      serviceName: "orders-peers",
      selector: { matchLabels: selectorLabels(cluster) },
      podManagementPolicy: "Parallel",
      updateStrategy: { type: "OnDelete" },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Delete" },
    });
    expect(statefulSet.spec?.template.metadata).toEqual({ labels: clusterLabels(cluster) });
  });

  it("claims a 1Gi data volume per member in the default class", () => {
    expect(statefulSet.spec?.volumeClaimTemplates).toEqual([
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "data", labels: clusterLabels(cluster) },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      },
    ]);
  });

  it("runs the replica with its flags, env, ports and mounts", () => {
    const replica = container(statefulSet);
    expect(statefulSet.spec?.template.spec?.containers).toHaveLength(1);
    expect(replica.name).toBe("replica");
    expect(replica.image).toBe("ghcr.io/paxos-operator/replica:0.1.0");
    expect(replica.imagePullPolicy).toBe("IfNotPresent");
    expect(replica.args).toEqual([
      "--name=$(POD_NAME)",
      "--data-dir=/data",
      "--listen-host=0.0.0.0",
      "--http-port=8080",
      "--peer-port=7000",
      "--peer-host-template={name}.orders-peers.shop.svc",
      "--tick-ms=50",
      "--heartbeat-ticks=2",
      "--election-timeout-ticks=20",
      "--compact-after-entries=10000",
    ]);
    expect(replica.env).toEqual([
      { name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
      {
        name: "POD_NAMESPACE",
        valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } },
      },
      { name: "POD_IP", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.podIP" } } },
      { name: "PAXOS_CLUSTER_SECRET_FILE", value: "/etc/paxos/auth/cluster-secret" },
      { name: "PAXOS_ADMIN_TOKEN_FILE", value: "/etc/paxos/auth/admin-token" },
      {
        name: "PAXOS_INITIAL_MEMBERS",
        valueFrom: { configMapKeyRef: { name: "orders-bootstrap", key: "initial-members", optional: true } },
      },
    ]);
    expect(replica.ports).toEqual([
      { name: "peer", containerPort: 7000, protocol: "TCP" },
      { name: "http", containerPort: 8080, protocol: "TCP" },
    ]);
    expect(replica.volumeMounts).toEqual([
      { name: "data", mountPath: "/data" },
      { name: "auth", mountPath: "/etc/paxos/auth", readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
    ]);
    expect(replica.resources).toBeUndefined();
    expect(statefulSet.spec?.template.spec?.volumes).toEqual([
      { name: "auth", secret: { secretName: "orders-auth", defaultMode: 0o440 } },
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
    ]);
  });

  it("probes /readyz and /livez on the http port", () => {
    const replica = container(statefulSet);
    const httpGet = (path: string) => ({ path, port: "http", scheme: "HTTP" });
    expect(replica.readinessProbe).toEqual({
      httpGet: httpGet("/readyz"),
      periodSeconds: 5,
      timeoutSeconds: 2,
      successThreshold: 1,
      failureThreshold: 2,
    });
    expect(replica.livenessProbe).toEqual({
      httpGet: httpGet("/livez"),
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 6,
    });
    expect(replica.startupProbe).toEqual({
      httpGet: httpGet("/livez"),
      periodSeconds: 5,
      timeoutSeconds: 3,
      failureThreshold: 60,
    });
  });

  it("passes the restricted Pod Security Standard", () => {
    const podSpec = statefulSet.spec?.template.spec;
    expect(podSpec?.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      fsGroupChangePolicy: "OnRootMismatch",
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container(statefulSet).securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    // restricted also forbids host namespaces, privileged containers and hostPath volumes.
    expect(podSpec?.hostNetwork).toBeUndefined();
    expect(podSpec?.hostPID).toBeUndefined();
    expect(podSpec?.volumes?.every((volume) => volume.hostPath === undefined)).toBe(true);
  });

  it("spreads members over nodes and sets the pod-level knobs", () => {
    const podSpec = statefulSet.spec?.template.spec;
    expect(podSpec?.affinity).toEqual({
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [spreadOverNodes] },
    });
    expect(podSpec?.terminationGracePeriodSeconds).toBe(30);
    expect(podSpec?.automountServiceAccountToken).toBe(false);
    expect(podSpec?.enableServiceLinks).toBe(false);
    expect(podSpec?.nodeSelector).toBeUndefined();
    expect(podSpec?.tolerations).toBeUndefined();
    expect(podSpec?.priorityClassName).toBeUndefined();
  });
});

describe("buildStatefulSet with the user's settings", () => {
  const userAffinity: V1Affinity = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }] }],
      },
    },
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 50, podAffinityTerm: { topologyKey: "topology.kubernetes.io/zone" } },
      ],
    },
  };
  const cluster = testCluster({
    image: "registry.example/replica:1.2.3",
    imagePullPolicy: "Always",
    storage: { size: "20Gi", storageClassName: "fast-ssd" },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi", cpu: 2 } },
    pod: {
      labels: { team: "orders", "app.kubernetes.io/name": "mine" },
      annotations: { "prometheus.io/scrape": "true" },
      nodeSelector: { "kubernetes.io/os": "linux" },
      affinity: userAffinity,
      tolerations: [{ key: "dedicated", operator: "Equal", value: "paxos", effect: "NoSchedule" }],
      priorityClassName: "critical-config",
    },
    paxos: { heartbeatMs: 200, electionTimeoutMs: 3000, snapshotThresholdEntries: 500 },
  });
  const statefulSet = buildStatefulSet(cluster, options);
  const podSpec = statefulSet.spec?.template.spec;

  it("merges labels and annotations into the pod template, our labels winning", () => {
    expect(statefulSet.spec?.template.metadata).toEqual({
      labels: { ...clusterLabels(cluster), team: "orders" },
      annotations: { "prometheus.io/scrape": "true" },
    });
    // The selector and the StatefulSet's own labels stay ours.
    expect(statefulSet.spec?.selector).toEqual({ matchLabels: selectorLabels(cluster) });
    expect(statefulSet.metadata?.labels).toEqual(clusterLabels(cluster));
  });

  it("keeps the user's affinity and adds the spread over nodes", () => {
    expect(podSpec?.affinity).toEqual({
      nodeAffinity: userAffinity.nodeAffinity,
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 50, podAffinityTerm: { topologyKey: "topology.kubernetes.io/zone" } },
          spreadOverNodes,
        ],
      },
    });
    // The cluster's own affinity is not changed by building.
    expect(userAffinity.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
  });

  it("passes node selector, tolerations and priority class through", () => {
    expect(podSpec?.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
    expect(podSpec?.tolerations).toEqual([
      { key: "dedicated", operator: "Equal", value: "paxos", effect: "NoSchedule" },
    ]);
    expect(podSpec?.priorityClassName).toBe("critical-config");
  });

  it("maps image, resources, storage and timing", () => {
    const replica = container(statefulSet);
    expect(replica.image).toBe("registry.example/replica:1.2.3");
    expect(replica.imagePullPolicy).toBe("Always");
    expect(replica.resources).toEqual({
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { memory: "512Mi", cpu: "2" },
    });
    expect(statefulSet.spec?.volumeClaimTemplates?.[0]?.spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "20Gi" } },
      storageClassName: "fast-ssd",
    });
    expect(replica.args).toEqual(
      expect.arrayContaining([
        "--tick-ms=100",
        "--heartbeat-ticks=2",
        "--election-timeout-ticks=30",
        "--compact-after-entries=500",
      ]),
    );
  });
});

describe("buildStatefulSet is deterministic", () => {
  it("gives deep-equal objects for the same cluster", () => {
    const cluster = testCluster({ pod: { labels: { team: "orders" } } });
    expect(buildStatefulSet(cluster, options)).toEqual(buildStatefulSet(cluster, options));
  });

  it("takes the replica count from the planner once given, and keeps the template the same across bootstrap and scaling", () => {
    const forming = buildStatefulSet(testCluster({ replicas: 3 }), options);
    expect(forming.spec?.replicas).toBe(3);
    const status = { bootstrapped: true };
    const scaled = buildStatefulSet(testCluster({ replicas: 5 }, { status }), { ...options, replicas: 4 });
    expect(scaled.spec?.replicas).toBe(4);
    // The same pod template means the same revision: bootstrapping or scaling restarts no one.
    expect(scaled.spec?.template).toEqual(forming.spec?.template);
  });

  it("keeps or deletes a scaled-away member's claim as spec.storage.whenScaledDown says", () => {
    const policy = (built: ReturnType<typeof buildStatefulSet>) =>
      built.spec?.persistentVolumeClaimRetentionPolicy;
    expect(policy(buildStatefulSet(testCluster({}), options))).toEqual({
      whenDeleted: "Delete",
      whenScaled: "Delete",
    });
    expect(
      policy(buildStatefulSet(testCluster({ storage: { size: "1Gi", whenScaledDown: "Retain" } }), options)),
    ).toEqual({ whenDeleted: "Delete", whenScaled: "Retain" });
  });

  it("keeps the existing claim template's size, which the API server does not let change", () => {
    const grown = testCluster({ storage: { size: "5Gi" } });
    const template = (built: ReturnType<typeof buildStatefulSet>) =>
      built.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage;
    expect(template(buildStatefulSet(grown, options))).toBe("5Gi");
    expect(template(buildStatefulSet(grown, { ...options, existingClaimSize: "1Gi" }))).toBe("1Gi");
  });

  it("names the initial members in a ConfigMap that only exists while the cluster forms", () => {
    const configMap = buildBootstrapConfigMap(testCluster({ replicas: 5 }));
    expect(configMap.metadata?.name).toBe("orders-bootstrap");
    expect(configMap.metadata?.ownerReferences?.[0]?.kind).toBe("PaxosCluster");
    expect(configMap.data).toEqual({ "initial-members": "orders-0,orders-1,orders-2,orders-3,orders-4" });
  });
});
