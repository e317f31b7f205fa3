// One reconcile of one PaxosCluster: a straight sequence of steps, each of which may end
// the pass early. Desired objects come from the pure builders; this module only reads,
// applies and records.
import { randomBytes } from "node:crypto";
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1ObjectMeta,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1StatefulSet,
} from "@kubernetes/client-node";
import {
  adminTokenKey,
  buildBootstrapConfigMap,
  buildClientService,
  buildPeerService,
  buildPodDisruptionBudget,
  buildSecret,
  buildStatefulSet,
  clusterObjectNames,
  dataVolumeName,
  type PaxosCluster,
  type PaxosClusterPhase,
  type PaxosClusterStatus,
  type PaxosMemberHealth,
  replicaTiming,
  selectorString,
} from "./builders/index.ts";
import type { ClusterSummary, FencingActionName, QuorumState } from "./clusterMetrics.ts";
import { EventRecorder } from "./events.ts";
import { fencingInput } from "./fencing/observe.ts";
import { planFencing } from "./fencing/planner.ts";
import type { FencingPlan } from "./fencing/types.ts";
import { performFencingAction } from "./fencingActions.ts";
import { probeMembers } from "./memberProbe.ts";
import { assessMembers, type NodeState, withNodes } from "./members.ts";
import { membershipInput } from "./membership/observe.ts";
import { planMembership } from "./membership/planner.ts";
import type { Plan } from "./membership/types.ts";
import { type ActionContext, performMembershipAction } from "./membershipActions.ts";
import { isLargerQuantity } from "./quantity.ts";
import { type ClusterCondition, type ComputedStatus, computeStatus, kubernetesTime } from "./status.ts";

export const finalizerName = "paxos.dev/finalizer";
export const fieldManager = "paxos-operator";
const group = "paxos.dev";
const version = "v1alpha1";
const plural = "paxosclusters";

const serverSideApply = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** The API clients a reconcile uses. */
export interface KubernetesClients {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly policy: PolicyV1Api;
  readonly objects: CustomObjectsApi;
}

export function makeClients(config: KubeConfig): KubernetesClients {
  return {
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    policy: config.makeApiClient(PolicyV1Api),
    objects: config.makeApiClient(CustomObjectsApi),
  };
}

export type ReconcileOutcome =
  | { readonly kind: "absent" }
  | { readonly kind: "deleted" }
  /** requeueAfterMs: when to look again even if nothing changes (member health is polled). */
  | {
      readonly kind: "reconciled";
      readonly phase: PaxosClusterPhase;
      readonly requeueAfterMs: number;
      readonly summary: ClusterSummary;
    };

export interface ReconcileOptions {
  /** How often a settled cluster's members are probed. */
  readonly healthIntervalMs?: number;
  readonly probeTimeoutMs?: number;
}

/** A cluster that is forming or changing is looked at more often than a settled one. */
const busyIntervalMs = 2_000;
const defaultHealthIntervalMs = 10_000;

export function isApiError(error: unknown, code: number): boolean {
  return error instanceof ApiException && error.code === code;
}

/** Reads, or undefined on 404. */
async function readOptional<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isApiError(error, 404)) return undefined;
    throw error;
  }
}

/** Wraps an API error with what was being done, so the log says which step failed. */
async function step<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw wrapError(what, error);
  }
}

function wrapError(what: string, error: unknown): unknown {
  if (!(error instanceof ApiException)) return error;
  return new ReconcileError(`${what}: HTTP ${error.code}: ${summarizeBody(error.body)}`, error.code);
}

/** A failed API call, with what the reconciler was doing and the HTTP status (409 = conflict). */
export class ReconcileError extends Error {
  readonly code: number;
  constructor(message: string, code: number) {
    super(message);
    this.name = "ReconcileError";
    this.code = code;
  }
}

function summarizeBody(body: unknown): string {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof message === "string") return message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 300);
}

export async function reconcile(
  clients: KubernetesClients,
  namespace: string,
  name: string,
  options: ReconcileOptions = {},
): Promise<ReconcileOutcome> {
  const cluster = await step(`reading PaxosCluster ${namespace}/${name}`, () =>
    readOptional(
      async () =>
        (await clients.objects.getNamespacedCustomObject({
          group,
          version,
          namespace,
          plural,
          name,
        })) as PaxosCluster,
    ),
  );
  if (cluster === undefined) return { kind: "absent" };
  const events = new EventRecorder(clients.core, cluster);

  if (cluster.metadata.deletionTimestamp !== undefined) {
    await finalize(clients, cluster, events);
    return { kind: "deleted" };
  }

  if (cluster.spec.paused) {
    // Paused: change nothing, keep reporting. The StatefulSet is read, not applied.
    const statefulSet = await step(`reading StatefulSet ${cluster.metadata.name}`, () =>
      readOptional(() => clients.apps.readNamespacedStatefulSet({ namespace, name: cluster.metadata.name })),
    );
    return await updateStatus(clients, cluster, statefulSet, events, options, undefined);
  }

  if (!(cluster.metadata.finalizers ?? []).includes(finalizerName)) {
    await step("adding the finalizer", () =>
      setFinalizers(clients, cluster, [...(cluster.metadata.finalizers ?? []), finalizerName]),
    );
    await events.normal("FinalizerAdded", `Added finalizer ${finalizerName} to clean up on deletion.`);
  }

  const names = clusterObjectNames(cluster);
  const adminToken = await ensureSecret(clients, cluster, events);
  await reconcileBootstrapConfigMap(clients, cluster);

  await applyObject(events, "Service", names.peerService, {
    read: () => clients.core.readNamespacedService({ namespace, name: names.peerService }),
    apply: () =>
      clients.core.patchNamespacedService(
        { namespace, name: names.peerService, body: buildPeerService(cluster), fieldManager, force: true },
        serverSideApply,
      ),
  });
  await applyObject(events, "Service", names.clientService, {
    read: () => clients.core.readNamespacedService({ namespace, name: names.clientService }),
    apply: () =>
      clients.core.patchNamespacedService(
        {
          namespace,
          name: names.clientService,
          body: buildClientService(cluster),
          fieldManager,
          force: true,
        },
        serverSideApply,
      ),
  });
  await applyObject(events, "PodDisruptionBudget", names.podDisruptionBudget, {
    read: () =>
      clients.policy.readNamespacedPodDisruptionBudget({ namespace, name: names.podDisruptionBudget }),
    apply: () =>
      clients.policy.patchNamespacedPodDisruptionBudget(
        {
          namespace,
          name: names.podDisruptionBudget,
          body: buildPodDisruptionBudget(cluster),
          fieldManager,
          force: true,
        },
        serverSideApply,
      ),
  });
  const existingStatefulSet = await step(`reading StatefulSet ${names.statefulSet}`, () =>
    readOptional(() => clients.apps.readNamespacedStatefulSet({ namespace, name: names.statefulSet })),
  );
  const existingClaimSize = existingStatefulSet?.spec?.volumeClaimTemplates?.find(
    (template) => template.metadata?.name === dataVolumeName,
  )?.spec?.resources?.requests?.storage;
  // Once the cluster exists the membership planner owns the replica count (one pod at a
  // time, after the configuration changed): applying repeats what is stored.
  const replicas =
    cluster.status?.bootstrapped === true
      ? (existingStatefulSet?.spec?.replicas ?? cluster.spec.replicas)
      : cluster.spec.replicas;
  const statefulSet = await applyObject(events, "StatefulSet", names.statefulSet, {
    read: async () => existingStatefulSet,
    apply: () =>
      clients.apps.patchNamespacedStatefulSet(
        {
          namespace,
          name: names.statefulSet,
          body: buildStatefulSet(cluster, {
            secretName: names.secret,
            replicas,
            ...(existingClaimSize === undefined ? {} : { existingClaimSize }),
          }),
          fieldManager,
          force: true,
        },
        serverSideApply,
      ),
  });

  // One list serves both the volume expansion and the membership planner.
  const claims = await step("listing the cluster's PersistentVolumeClaims", () =>
    clients.core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: selectorString(cluster) }),
  );
  await expandVolumes(clients, cluster, claims.items, events);
  return await updateStatus(clients, cluster, statefulSet, events, options, {
    adminToken,
    claims: claims.items,
  });
}

/**
 * The StatefulSet's volumeClaimTemplates are immutable, so a larger spec.storage.size is
 * written to each member's PVC; the storage class's resizer does the rest. (The CRD rejects
 * a smaller size at apply time.) A PVC that is already as large or larger is left alone.
 */
async function expandVolumes(
  clients: KubernetesClients,
  cluster: PaxosCluster,
  claims: readonly V1PersistentVolumeClaim[],
  events: EventRecorder,
): Promise<void> {
  const namespace = cluster.metadata.namespace;
  const wanted = String(cluster.spec.storage.size);
  for (const claim of claims) {
    const name = claim.metadata?.name ?? "";
    const requested = claim.spec?.resources?.requests?.storage;
    if (claim.metadata?.deletionTimestamp !== undefined || !isLargerQuantity(wanted, requested)) continue;
    try {
      await clients.core.patchNamespacedPersistentVolumeClaim(
        {
          namespace,
          name,
          body: { spec: { resources: { requests: { storage: wanted } } } },
          fieldManager,
        },
        mergePatch,
      );
      await events.normal(
        "VolumeExpanding",
        `Asked for PersistentVolumeClaim ${name} to grow from ${requested} to ${wanted}.`,
      );
    } catch (error) {
      // The API server refuses when the storage class does not allow expansion or the
      // claim is not bound yet: say so, and keep reconciling the rest.
      const reason = wrapError(`expanding PersistentVolumeClaim ${name}`, error);
      await events.warning(
        "VolumeExpansionFailed",
        `${reason instanceof Error ? reason.message : String(reason)}. Expansion needs a bound claim whose StorageClass has allowVolumeExpansion: true.`,
      );
    }
  }
}

/**
 * Nothing to clean up by hand: every owned object carries an owner reference, so the
 * garbage collector removes them once the PaxosCluster is gone, and the StatefulSet's
 * persistentVolumeClaimRetentionPolicy (whenDeleted: Delete) takes the PVCs with it. The
 * operator must not delete the StatefulSet itself (see buildStatefulSet). The finalizer
 * only marks the point where deletion-time work (e.g. leaving a fenced state) will go.
 */
async function finalize(
  clients: KubernetesClients,
  cluster: PaxosCluster,
  events: EventRecorder,
): Promise<void> {
  const finalizers = cluster.metadata.finalizers ?? [];
  if (!finalizers.includes(finalizerName)) return;
  await events.normal(
    "Deleting",
    "The cluster is being deleted; its objects go with it through their owner references.",
  );
  await step("removing the finalizer", () =>
    setFinalizers(
      clients,
      cluster,
      finalizers.filter((finalizer) => finalizer !== finalizerName),
    ),
  );
}

/**
 * A merge patch with the resourceVersion: if anyone changed the object since it was read,
 * the API server answers 409 and the key is retried, so no other finalizer is lost.
 */
async function setFinalizers(
  clients: KubernetesClients,
  cluster: PaxosCluster,
  finalizers: readonly string[],
): Promise<void> {
  await clients.objects.patchNamespacedCustomObject(
    {
      group,
      version,
      plural,
      namespace: cluster.metadata.namespace,
      name: cluster.metadata.name,
      body: { metadata: { finalizers, resourceVersion: cluster.metadata.resourceVersion } },
    },
    mergePatch,
  );
}

/** The Secret's values are random and made once: regenerating them would split the members. */
async function ensureSecret(
  clients: KubernetesClients,
  cluster: PaxosCluster,
  events: EventRecorder,
): Promise<string> {
  const namespace = cluster.metadata.namespace;
  const name = clusterObjectNames(cluster).secret;
  const existing = await step(`reading Secret ${name}`, () =>
    readOptional(() => clients.core.readNamespacedSecret({ namespace, name })),
  );
  if (existing !== undefined) return Buffer.from(existing.data?.[adminTokenKey] ?? "", "base64").toString();
  const adminToken = randomBytes(32).toString("base64url");
  const body = buildSecret(cluster, { clusterSecret: randomBytes(32).toString("base64url"), adminToken });
  try {
    await clients.core.createNamespacedSecret({ namespace, body, fieldManager });
  } catch (error) {
    // Created by another pass since we read it: keep theirs.
    if (isApiError(error, 409)) return await ensureSecret(clients, cluster, events);
    throw wrapError(`creating Secret ${name}`, error);
  }
  await events.normal("SecretCreated", `Created Secret ${name} with a new cluster secret and admin token.`);
  return adminToken;
}

/** Clusters whose bootstrap ConfigMap this process has already seen removed, by uid. */
const bootstrapConfigMapsGone = new Set<string>();

/**
 * The initial members' names exist only while the cluster forms (see
 * buildBootstrapConfigMap): applied before the StatefulSet, so that the first pods read
 * them, and deleted once the cluster is bootstrapped, once per operator process.
 */
async function reconcileBootstrapConfigMap(clients: KubernetesClients, cluster: PaxosCluster): Promise<void> {
  const namespace = cluster.metadata.namespace;
  const name = clusterObjectNames(cluster).bootstrapConfigMap;
  if (cluster.status?.bootstrapped !== true) {
    await step(`applying ConfigMap ${name}`, () =>
      clients.core.patchNamespacedConfigMap(
        { namespace, name, body: buildBootstrapConfigMap(cluster), fieldManager, force: true },
        serverSideApply,
      ),
    );
    return;
  }
  if (bootstrapConfigMapsGone.has(cluster.metadata.uid)) return;
  try {
    await clients.core.deleteNamespacedConfigMap({ namespace, name });
  } catch (error) {
    if (!isApiError(error, 404)) throw wrapError(`deleting ConfigMap ${name}`, error);
  }
  bootstrapConfigMapsGone.add(cluster.metadata.uid);
}

interface ApplyActions<T extends { metadata?: V1ObjectMeta }> {
  /** The object as it is, or undefined (or a 404) when it does not exist. */
  readonly read: () => Promise<T | undefined>;
  readonly apply: () => Promise<T>;
}

/** Applies one object and records an Event if that created or changed it. */
async function applyObject<T extends { metadata?: V1ObjectMeta }>(
  events: EventRecorder,
  kind: string,
  name: string,
  actions: ApplyActions<T>,
): Promise<T> {
  const before = await step(`reading ${kind} ${name}`, () => readOptional(actions.read));
  const after = await step(`applying ${kind} ${name}`, actions.apply);
  if (before === undefined) {
    await events.normal(`${kind}Created`, `Created ${kind} ${name}.`);
  } else if (changedBy(before, after)) {
    await events.normal(`${kind}Updated`, `Updated ${kind} ${name} to match the spec.`);
  }
  return after;
}

/**
 * Whether our apply changed the object. A no-op server-side apply keeps the
 * resourceVersion; for objects with a generation, compare that instead, so that a status
 * update by another controller between our read and our apply does not count.
 */
function changedBy(before: { metadata?: V1ObjectMeta }, after: { metadata?: V1ObjectMeta }): boolean {
  const generations = [before.metadata?.generation, after.metadata?.generation];
  if (generations[0] !== undefined && generations[1] !== undefined) return generations[0] !== generations[1];
  return before.metadata?.resourceVersion !== after.metadata?.resourceVersion;
}

/** What a reconcile that may change the membership needs beyond the status. */
interface MembershipContext {
  readonly adminToken: string;
  /** The cluster's claims, as this reconcile listed them. */
  readonly claims: readonly V1PersistentVolumeClaim[];
}

/**
 * How often a settled cluster's members are probed: the configured interval, but at least
 * three probes per fencing window, so a member is fenced soon after the window ends.
 */
function healthIntervalMs(cluster: PaxosCluster, options: ReconcileOptions): number {
  const perWindow = (cluster.spec.fencing.unreachableWindowSeconds * 1000) / 3;
  return Math.max(1_000, Math.min(options.healthIntervalMs ?? defaultHealthIntervalMs, perWindow));
}

/** While a membership operation is under way, each step is looked at again this soon. */
const membershipIntervalMs = 1_000;
/** After a step's action (a call, a scale, a deletion), the next step is planned this soon. */
const afterActionMs = 250;

/**
 * Observes pods, claims and members, plans the next membership step (unless paused), and
 * writes the status with the step's record BEFORE carrying the step out: an operator that
 * dies in between resumes the recorded step, and every step is safe to repeat.
 */
async function updateStatus(
  clients: KubernetesClients,
  cluster: PaxosCluster,
  statefulSet: V1StatefulSet | undefined,
  events: EventRecorder,
  options: ReconcileOptions,
  membership: MembershipContext | undefined,
): Promise<ReconcileOutcome> {
  const namespace = cluster.metadata.namespace;
  const selector = selectorString(cluster);
  const pods = await step("listing the cluster's pods", () =>
    clients.core.listNamespacedPod({ namespace, labelSelector: selector }),
  );
  const live = pods.items.filter((pod) => pod.metadata?.deletionTimestamp === undefined);
  const ready = live.filter((pod) =>
    (pod.status?.conditions ?? []).some(
      (condition) => condition.type === "Ready" && condition.status === "True",
    ),
  );
  const probes = await probeMembers(
    live.map((pod) => ({ pod: pod.metadata?.name ?? "", ip: pod.status?.podIP })),
    options.probeTimeoutMs === undefined ? {} : { timeoutMs: options.probeTimeoutMs },
  );
  const clock = new Date();
  const now = kubernetesTime(clock);
  const podNodes = new Map(
    pods.items.flatMap((pod) =>
      pod.metadata?.name !== undefined && pod.spec?.nodeName !== undefined
        ? [[pod.metadata.name, pod.spec.nodeName] as const]
        : [],
    ),
  );
  const nodes = await readNodes(clients, new Set(podNodes.values()));
  const assessed = assessMembers(probes, cluster.status?.members ?? [], now, {
    tickMs: replicaTiming(cluster.spec.paxos).tickMs,
    heardWithinMs: cluster.spec.paxos.electionTimeoutMs,
  });
  const members = { ...assessed, members: withNodes(assessed.members, podNodes, nodes) };
  const plan =
    membership === undefined
      ? undefined
      : planMembership(
          membershipInput({
            cluster,
            statefulSet,
            pods: pods.items,
            claims: membership.claims,
            probes,
            assessment: members,
            bootstrapped: cluster.status?.bootstrapped === true,
            now: clock.getTime(),
          }),
        );
  // QuorumLost comes from computeStatus, which reports it even while paused.
  const fencingPlan =
    membership === undefined
      ? undefined
      : planFencing(
          fencingInput({
            cluster,
            pods: pods.items,
            probes,
            assessment: members,
            nodes,
            membershipBusy: plan?.operation !== undefined,
            now: clock.getTime(),
          }),
        );
  const previousConditions = (cluster.status?.conditions ?? []) as unknown as readonly ClusterCondition[];
  const keptMembership = previousConditions.find((condition) => condition.type === "MembershipChanging");
  const status = computeStatus({
    generation: cluster.metadata.generation ?? 0,
    desiredReplicas: cluster.spec.replicas,
    podsFound: live.length,
    podsReady: ready.length,
    statefulSetReplicas: statefulSet?.spec?.replicas,
    selector,
    members,
    bootstrapped: cluster.status?.bootstrapped === true,
    paused: cluster.spec.paused,
    previousPhase: cluster.status?.phase,
    previousConditions,
    now,
    // While paused nothing is planned: the planners' conditions stay as they were.
    ...(plan !== undefined
      ? { membership: plan.condition }
      : keptMembership !== undefined
        ? { membership: keptMembership }
        : {}),
    fencing:
      fencingPlan === undefined
        ? previousConditions.filter(
            (condition) => condition.type === "Fenced" || condition.type === "MemberLost",
          )
        : fencingPlan.conditions.filter((condition) => condition.type !== "QuorumLost"),
  });
  // Merge-patched: null removes a finished operation's record.
  const record = {
    ...(plan === undefined ? {} : { operation: plan.operation ?? null }),
    ...(fencingPlan === undefined ? {} : { fencing: fencingPlan.record }),
  };
  await step("updating the status", () =>
    clients.objects.patchNamespacedCustomObjectStatus(
      {
        group,
        version,
        plural,
        namespace,
        name: cluster.metadata.name,
        body: { status: { ...status, ...record } },
      },
      mergePatch,
    ),
  );
  await recordTransitions(events, cluster.status, status);
  const steppedMembership =
    plan !== undefined && membership !== undefined
      ? await carryOut(clients, cluster, plan, pods.items, membership, events)
      : false;
  const fencing =
    fencingPlan === undefined || membership === undefined
      ? { acted: false, actions: [] }
      : await carryOutFencing(clients, cluster, fencingPlan, pods.items, membership, events);
  const settled = status.conditions.some(
    (condition) => condition.type === "Progressing" && condition.status === "False",
  );
  // A step that was carried out is followed up at once; one that failed waits its turn.
  const requeueAfterMs =
    steppedMembership || fencing.acted
      ? afterActionMs
      : plan?.operation !== undefined
        ? membershipIntervalMs
        : settled
          ? healthIntervalMs(cluster, options)
          : busyIntervalMs;
  return {
    kind: "reconciled",
    phase: status.phase,
    requeueAfterMs,
    summary: summarize(cluster.status, status, fencing.actions),
  };
}

function summarize(
  before: PaxosClusterStatus | undefined,
  after: ComputedStatus,
  fencingActions: readonly FencingActionName[],
): ClusterSummary {
  const membersByHealth: Partial<Record<PaxosMemberHealth, number>> = {};
  for (const member of after.members)
    if (member.health !== undefined)
      membersByHealth[member.health] = (membersByHealth[member.health] ?? 0) + 1;
  const isTrue = (type: string) =>
    after.conditions.some((condition) => condition.type === type && condition.status === "True");
  const quorum: QuorumState = !after.bootstrapped
    ? "forming"
    : isTrue("QuorumLost")
      ? "lost"
      : isTrue("QuorumAtRisk")
        ? "at_risk"
        : "healthy";
  return {
    membersByHealth,
    quorum,
    leaderChanged: before?.leader !== undefined && after.leader !== null && before.leader !== after.leader,
    fencingActions,
  };
}

/** Performs the fencing planner's action and records its Events once it is done. */
async function carryOutFencing(
  clients: KubernetesClients,
  cluster: PaxosCluster,
  plan: FencingPlan,
  pods: readonly V1Pod[],
  membership: MembershipContext,
  events: EventRecorder,
): Promise<{ readonly acted: boolean; readonly actions: FencingActionName[] }> {
  let done: FencingActionName | undefined;
  try {
    done = await performFencingAction(actionContext(clients, cluster, pods, membership), plan.action);
  } catch (error) {
    const reason = wrapError(`fencing: ${plan.action.type}`, error);
    await events.warning(
      "FencingFailed",
      `${reason instanceof Error ? reason.message : String(reason)}. The next reconcile tries again.`,
    );
    return { acted: false, actions: [] };
  }
  for (const event of plan.events)
    await (event.type === "Warning"
      ? events.warning(event.reason, event.message)
      : events.normal(event.reason, event.message));
  return { acted: !["none", "wait"].includes(plan.action.type), actions: done === undefined ? [] : [done] };
}

function actionContext(
  clients: KubernetesClients,
  cluster: PaxosCluster,
  pods: readonly V1Pod[],
  membership: MembershipContext,
): ActionContext {
  return {
    clients,
    namespace: cluster.metadata.namespace,
    statefulSet: clusterObjectNames(cluster).statefulSet,
    podIPs: new Map(
      pods.flatMap((pod) =>
        pod.metadata?.name !== undefined && pod.status?.podIP !== undefined
          ? [[pod.metadata.name, pod.status.podIP] as const]
          : [],
      ),
    ),
    adminToken: membership.adminToken,
    fieldManager,
  };
}

/**
 * Performs the planned step and says so: an Event when a step starts (not on every retry of
 * it), when an operation completes, and when a wanted change has to wait for safety.
 */
async function carryOut(
  clients: KubernetesClients,
  cluster: PaxosCluster,
  plan: Plan,
  pods: readonly V1Pod[],
  membership: MembershipContext,
  events: EventRecorder,
): Promise<boolean> {
  const before = cluster.status?.operation;
  const after = plan.operation;
  const newStep =
    after !== undefined &&
    (before?.type !== after.type || before.member !== after.member || before.step !== after.step);
  let done: string | undefined;
  try {
    done = await performMembershipAction(actionContext(clients, cluster, pods, membership), plan.action);
  } catch (error) {
    const reason = wrapError(`${after?.type ?? "membership"} step ${after?.step ?? ""}`.trim(), error);
    await events.warning(
      "MembershipStepFailed",
      `${after === undefined ? "" : `${after.type} of ${after.member}, step ${after.step}: `}${reason instanceof Error ? reason.message : String(reason)}. The step is retried.`,
    );
    return false;
  }
  if (newStep && after !== undefined)
    await events.normal(after.type, `${after.member}: step ${after.step}. ${done ?? plan.condition.message}`);
  else if (done !== undefined && plan.action.type === "deleteClaim")
    await events.normal("ClaimDeleted", done);
  if (plan.action.type === "complete" && before !== undefined)
    await events.normal("MembershipChanged", plan.condition.message);
  const previous = (cluster.status?.conditions ?? []).find(
    (condition) => condition.type === "MembershipChanging",
  );
  if (
    plan.action.type === "wait" &&
    after === undefined &&
    plan.condition.status === "True" &&
    previous?.reason !== plan.condition.reason
  )
    await events.warning(plan.condition.reason, plan.condition.message);
  return !["none", "wait"].includes(plan.action.type);
}

/**
 * The Nodes the members' pods run on, by name. A Node that cannot be read is left out (its
 * members then say so); reading Nodes never fails a reconcile.
 */
async function readNodes(
  clients: KubernetesClients,
  names: ReadonlySet<string>,
): Promise<ReadonlyMap<string, NodeState>> {
  const read = await Promise.all(
    [...names].map(async (name) => {
      try {
        const node = await clients.core.readNode({ name });
        const ready = node.status?.conditions?.find((condition) => condition.type === "Ready");
        const state: NodeState = {
          ready: ready?.status === "True" ? true : ready?.status === "False" ? false : undefined,
          notReadySince:
            ready?.status !== "True" && ready?.lastTransitionTime !== undefined
              ? kubernetesTime(new Date(ready.lastTransitionTime))
              : undefined,
        };
        return [[name, state] as const];
      } catch {
        return [];
      }
    }),
  );
  return new Map(read.flat());
}

/** One Event per change people care about: phase, bootstrap, leader, a condition's status. */
async function recordTransitions(
  events: EventRecorder,
  before: PaxosClusterStatus | undefined,
  after: ComputedStatus,
): Promise<void> {
  const conditionOf = (type: string) => after.conditions.find((condition) => condition.type === type);
  if (before?.bootstrapped !== true && after.bootstrapped)
    await events.normal(
      "Bootstrapped",
      "The initial members formed the cluster; it will never bootstrap again.",
    );
  // A voter's health turning, either way (a joining learner's catching up is not news).
  for (const member of after.members) {
    const previous = before?.members?.find((candidate) => candidate.name === member.name);
    if (member.voter !== true || previous?.voter !== true || previous.health === member.health) continue;
    if (member.health === "healthy")
      await events.normal("MemberHealthy", `${member.name} is healthy again (was ${previous.health}).`);
    else
      await events.warning(
        "MemberUnhealthy",
        `${member.name} is ${member.health}${member.message === undefined ? "" : `: ${member.message}`}.`,
      );
  }
  if (before?.phase !== after.phase) {
    const available = conditionOf("Available");
    await events.normal("PhaseChanged", `Phase is now ${after.phase}: ${available?.message ?? ""}`.trim());
  }
  if ((before?.leader ?? null) !== after.leader && after.leader !== null)
    await events.normal(
      "LeaderChanged",
      before?.leader === undefined
        ? `${after.leader} leads.`
        : `${after.leader} leads (was ${before.leader}).`,
    );
  const turned = (type: string) => {
    const next = conditionOf(type);
    const previous = (before?.conditions ?? []).find((condition) => condition.type === type);
    return next !== undefined && previous?.status !== next.status
      ? { next, hadOne: previous !== undefined }
      : undefined;
  };
  const atRisk = turned("QuorumAtRisk");
  if (atRisk?.next.status === "True") await events.warning(atRisk.next.reason, atRisk.next.message);
  const lost = turned("QuorumLost");
  if (lost?.next.status === "True") await events.warning("QuorumLost", lost.next.message);
  else if (lost?.next.status === "False" && lost.hadOne)
    await events.normal("QuorumRestored", lost.next.message);
  const paused = turned("Paused");
  // A new cluster's first Paused=False is not a resumption.
  if (paused?.next.status === "True") await events.normal("ReconcilePaused", paused.next.message);
  else if (paused?.hadOne === true) await events.normal("ReconcileResumed", paused.next.message);
}
