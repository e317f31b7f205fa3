import type { V1Affinity, V1Condition, V1ObjectMeta, V1Toleration } from "@kubernetes/client-node";

/**
 * The PaxosCluster custom resource as the operator reads it, mirroring
 * crds/paxos.dev_paxosclusters.yaml. Fields the CRD defaults are required here: the API
 * server applies those defaults before any client sees the object, so the builders never
 * invent a second set of defaults. `paxosClusterDefaults` repeats the CRD's values for the
 * places (tests, `applySpecDefaults`) that start from a user's partial spec.
 */
export interface PaxosCluster {
  readonly apiVersion?: string;
  readonly kind?: string;
  /** Name, namespace and uid are always set on an object read from the API server. */
  readonly metadata: V1ObjectMeta & {
    readonly name: string;
    readonly namespace: string;
    readonly uid: string;
  };
  readonly spec: PaxosClusterSpec;
  readonly status?: PaxosClusterStatus;
}

/** A Kubernetes quantity, as the CRD's int-or-string fields hold it (`1Gi`, `500m`, `2`). */
export type Quantity = string | number;

export type ImagePullPolicy = "Always" | "IfNotPresent" | "Never";

export interface PaxosClusterSpec {
  /** Voting members, 1 to 9. */
  readonly replicas: number;
  readonly image: string;
  readonly imagePullPolicy: ImagePullPolicy;
  readonly storage: PaxosStorageSpec;
  readonly resources?: PaxosResourcesSpec;
  readonly pod?: PaxosPodSpec;
  readonly paxos: PaxosTimingSpec;
  readonly fencing: PaxosFencingSpec;
  readonly paused: boolean;
}

export interface PaxosStorageSpec {
  readonly size: Quantity;
  /** Unset: the cluster's default StorageClass. Immutable after creation (CEL). */
  readonly storageClassName?: string;
  /** What a scale-down does with the removed member's claim (see the CRD). */
  readonly whenScaledDown: "Delete" | "Retain";
}

export interface PaxosResourcesSpec {
  readonly requests?: Readonly<Record<string, Quantity>>;
  readonly limits?: Readonly<Record<string, Quantity>>;
}

export interface PaxosPodSpec {
  /** Extra pod labels; the CRD rejects the app.kubernetes.io/ prefix. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly affinity?: V1Affinity;
  readonly tolerations?: readonly V1Toleration[];
  readonly priorityClassName?: string;
}

export interface PaxosTimingSpec {
  /** 10 to 10000; at most a fifth of electionTimeoutMs (CEL). */
  readonly heartbeatMs: number;
  /** 100 to 60000. */
  readonly electionTimeoutMs: number;
  /** 100 to 10000000. */
  readonly snapshotThresholdEntries: number;
}

export interface PaxosFencingSpec {
  readonly automatic: boolean;
  readonly unreachableWindowSeconds: number;
  readonly forceDeleteOnLostNode: boolean;
}

export const paxosClusterPhases = [
  "Pending",
  "Bootstrapping",
  "Running",
  "Degraded",
  "Failed",
  "Deleting",
] as const;
export type PaxosClusterPhase = (typeof paxosClusterPhases)[number];

export type PaxosMemberRole = "leader" | "follower" | "preCandidate" | "candidate" | "learner" | "unknown";

export type PaxosMemberHealth = "healthy" | "lagging" | "unreachable" | "fenced" | "evicted";

export interface PaxosMemberStatus {
  readonly name: string;
  readonly incarnation: string;
  readonly role?: PaxosMemberRole;
  readonly health?: PaxosMemberHealth;
  /** Counts in quorums (false for a learner or a pod not yet in the configuration). */
  readonly voter?: boolean;
  readonly lag?: number;
  readonly fenced?: boolean;
  readonly lastContactTime?: string;
  /** Set while unreachable: since when the operator could not reach it. */
  readonly unreachableSince?: string;
  /** Since when the operator and the leader both hear from it without a break. */
  readonly reachableSince?: string;
  /** The Node its pod runs on, and whether that Node is Ready. */
  readonly node?: string;
  readonly nodeReady?: boolean;
  /** Why it is not healthy, for people. */
  readonly message?: string;
}

export interface PaxosOperationStatus {
  readonly type: string;
  readonly member?: string;
  readonly incarnation?: string;
  readonly startedAt: string;
  readonly step: string;
}

export interface PaxosClusterStatus {
  readonly phase?: PaxosClusterPhase;
  readonly replicas?: number;
  readonly readyReplicas?: number;
  readonly selector?: string;
  readonly leader?: string;
  /** Once true it stays true: the initial members formed the cluster. */
  readonly bootstrapped?: boolean;
  readonly members?: readonly PaxosMemberStatus[];
  readonly conditions?: readonly V1Condition[];
  readonly observedGeneration?: number;
  readonly operation?: PaxosOperationStatus;
  /** The member keys the operator fenced, and why (see operator/src/fencing). */
  readonly fencing?: PaxosFencingStatus;
}

export interface PaxosFencingStatus {
  /** Fenced because neither the operator nor the leader could reach them. */
  readonly automatic: readonly string[];
  /** Fenced because the paxos.dev/fenced-members annotation lists their pod. */
  readonly manual: readonly string[];
}

export const paxosApiVersion = "paxos.dev/v1alpha1";
export const paxosClusterKind = "PaxosCluster";

/** The CRD's defaults, field for field. */
export const paxosClusterDefaults = {
  replicas: 3,
  image: "ghcr.io/paxos-operator/replica:0.1.0",
  imagePullPolicy: "IfNotPresent",
  storage: { size: "1Gi", whenScaledDown: "Delete" },
  paxos: { heartbeatMs: 100, electionTimeoutMs: 1000, snapshotThresholdEntries: 10000 },
  fencing: { automatic: true, unreachableWindowSeconds: 30, forceDeleteOnLostNode: false },
  paused: false,
} as const satisfies PaxosClusterSpec;

/** A spec as a user may write it: every defaulted field optional. */
export interface PaxosClusterSpecInput {
  readonly replicas?: number;
  readonly image?: string;
  readonly imagePullPolicy?: ImagePullPolicy;
  readonly storage?: Partial<PaxosStorageSpec>;
  readonly resources?: PaxosResourcesSpec;
  readonly pod?: PaxosPodSpec;
  readonly paxos?: Partial<PaxosTimingSpec>;
  readonly fencing?: Partial<PaxosFencingSpec>;
  readonly paused?: boolean;
}

/** Fills in what the API server would default, the way the CRD's `default:` markers do. */
export function applySpecDefaults(input: PaxosClusterSpecInput): PaxosClusterSpec {
  const defaults = paxosClusterDefaults;
  return {
    ...input,
    replicas: input.replicas ?? defaults.replicas,
    image: input.image ?? defaults.image,
    imagePullPolicy: input.imagePullPolicy ?? defaults.imagePullPolicy,
    storage: { ...defaults.storage, ...input.storage },
    paxos: { ...defaults.paxos, ...input.paxos },
    fencing: { ...defaults.fencing, ...input.fencing },
    paused: input.paused ?? defaults.paused,
  };
}
