// The PaxosCluster CRD as the real API server enforces it: defaults filled in on create,
// bad specs rejected with messages that say what to fix, immutable and grow-only storage,
// the status and scale subresources, printer columns and the short name in kubectl.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse } from "yaml";
import { applyPaxosClusterCrd } from "../support/crd.ts";
import { repositoryRoot, toolPath } from "../support/tools.ts";
import { waitFor } from "../support/waitFor.ts";

const run = promisify(execFile);

const group = "paxos.dev";
const version = "v1alpha1";
const plural = "paxosclusters";
const crdName = `${plural}.${group}`;
const samplePath = join(repositoryRoot, "config/samples/paxoscluster.yaml");
const fieldManager = "crd-test";

type Spec = Record<string, unknown>;
interface PaxosClusterObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; resourceVersion?: string };
  spec?: Spec;
  status?: Record<string, unknown>;
}
// The CRD as written in YAML. Not V1CustomResourceDefinition: the client's typed model
// spells the x-kubernetes-* keys in camelCase and would drop them when serializing it.
interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  maxProperties?: number;
  [keyword: string]: unknown;
}
interface CrdDocument {
  metadata: { name: string };
  spec: { group: string; versions: { schema: { openAPIV3Schema: JsonSchema } }[] };
}
interface ScaleObject {
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const serverSideApply = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);

/** The API server's answer to a request that must fail: status code and Status message. */
async function rejectionOf(request: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await request;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body: unknown = typeof error.body === "string" ? JSON.parse(error.body) : error.body;
    const message = (body as { message?: unknown } | undefined)?.message;
    return { code: error.code, message: typeof message === "string" ? message : String(error.body) };
  }
  throw new Error("expected the API server to reject the request, but it accepted it");
}

// Each bad spec breaks exactly one rule: the API server skips the CEL rules of an object
// that already fails its OpenAPI schema, so one mistake per case keeps the messages clear.
interface InvalidCase {
  what: string;
  name?: string;
  spec: Spec;
  field: string;
  message: string;
}
const invalidCases: InvalidCase[] = [
  {
    what: "no replicas",
    spec: { replicas: 0 },
    field: "spec.replicas",
    message: "should be greater than or equal to 1",
  },
  {
    what: "more than 9 replicas",
    spec: { replicas: 10 },
    field: "spec.replicas",
    message: "should be less than or equal to 9",
  },
  { what: "an empty image", spec: { image: "" }, field: "spec.image", message: "at least 1 chars long" },
  {
    what: "an image with whitespace",
    spec: { image: "ghcr.io/paxos-operator/replica: 0.1.0" },
    field: "spec.image",
    message: "spec.image must be an image reference without whitespace",
  },
  {
    what: "an unknown pull policy",
    spec: { imagePullPolicy: "Sometimes" },
    field: "spec.imagePullPolicy",
    message: 'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
  },
  {
    what: "a storage size that is not a quantity",
    spec: { storage: { size: "2GB-ish" } },
    field: "spec.storage.size",
    message: "spec.storage.size must be a quantity such as 1Gi, 500Mi or 10G",
  },
  {
    what: "a negative storage size",
    spec: { storage: { size: "-1Gi" } },
    field: "spec.storage.size",
    message: "spec.storage.size must be greater than zero",
  },
  {
    what: "an unknown scale-down claim policy",
    spec: { storage: { whenScaledDown: "Archive" } },
    field: "spec.storage.whenScaledDown",
    message: 'Unsupported value: "Archive": supported values: "Delete", "Retain"',
  },
  {
    what: "a storage class that cannot be a name",
    spec: { storage: { storageClassName: "Fast SSD" } },
    field: "spec.storage.storageClassName",
    message: "spec.storage.storageClassName must be the name of a StorageClass",
  },
  {
    what: "a request above its limit",
    spec: { resources: { requests: { cpu: "2", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } } },
    field: "spec.resources.requests",
    message: "spec.resources.requests.cpu must not exceed spec.resources.limits.cpu",
  },
  {
    what: "a resource limit that is not a quantity",
    spec: { resources: { limits: { memory: "lots" } } },
    field: "spec.resources.limits[memory]",
    message: "must be a non-negative quantity such as 500m, 2 or 1Gi",
  },
  {
    what: "a pod label the operator owns",
    spec: { pod: { labels: { team: "orders", "app.kubernetes.io/name": "mine" } } },
    field: "spec.pod.labels",
    message:
      "spec.pod.labels must not set app.kubernetes.io/name: the operator sets the app.kubernetes.io/ labels",
  },
  {
    what: "a pod label key with a space",
    spec: { pod: { labels: { "team name": "orders" } } },
    field: "spec.pod.labels",
    message: "spec.pod.labels keys must be label keys",
  },
  {
    what: "a pod label value that is not a label value",
    spec: { pod: { labels: { team: "-orders" } } },
    field: "spec.pod.labels",
    message: "spec.pod.labels values must be label values",
  },
  {
    what: "a priority class that cannot be a name",
    spec: { pod: { priorityClassName: "High" } },
    field: "spec.pod.priorityClassName",
    message: "spec.pod.priorityClassName must be the name of a PriorityClass",
  },
  {
    what: "a toleration with operator Exists and a value",
    spec: { pod: { tolerations: [{ key: "dedicated", operator: "Exists", value: "paxos" }] } },
    field: "spec.pod.tolerations[0].value",
    message: "a toleration with operator Exists matches any value; remove its value",
  },
  {
    what: "a heartbeat that is not well below the election timeout",
    spec: { paxos: { heartbeatMs: 300 } },
    field: "spec.paxos.heartbeatMs",
    message:
      "spec.paxos.heartbeatMs must be at most a fifth of spec.paxos.electionTimeoutMs so followers do not time out between heartbeats",
  },
  {
    what: "an election timeout below 100 ms",
    spec: { paxos: { electionTimeoutMs: 50, heartbeatMs: 10 } },
    field: "spec.paxos.electionTimeoutMs",
    message: "should be greater than or equal to 100",
  },
  {
    what: "a snapshot threshold of a few entries",
    spec: { paxos: { snapshotThresholdEntries: 5 } },
    field: "spec.paxos.snapshotThresholdEntries",
    message: "should be greater than or equal to 100",
  },
  {
    what: "a fencing window within the election timeout",
    spec: { paxos: { electionTimeoutMs: 6000 }, fencing: { unreachableWindowSeconds: 5 } },
    field: "spec.fencing.unreachableWindowSeconds",
    message: "spec.fencing.unreachableWindowSeconds must be longer than spec.paxos.electionTimeoutMs",
  },
  {
    what: "force-deleting pods without automatic fencing",
    spec: { fencing: { automatic: false, forceDeleteOnLostNode: true } },
    field: "spec.fencing.forceDeleteOnLostNode",
    message: "spec.fencing.forceDeleteOnLostNode requires spec.fencing.automatic",
  },
  {
    what: "a name too long for the pods' labels",
    name: `orders-${"x".repeat(46)}`,
    spec: {},
    field: "metadata.name",
    message: "metadata.name must be at most 52 characters",
  },
  {
    what: "a name that cannot name a Service",
    name: "1-orders",
    spec: {},
    field: "metadata.name",
    message: "metadata.name must start with a lowercase letter",
  },
];

describe("the PaxosCluster CRD", () => {
  const kubeconfigPath = inject("kubeconfigPath");
  const namespace = `crd-test-${Date.now().toString(36)}`;
  let extensions: ApiextensionsV1Api;
  let core: CoreV1Api;
  let objects: CustomObjectsApi;
  let crd: CrdDocument;

  const clusterObject = (name: string, spec: Spec): PaxosClusterObject => ({
    apiVersion: `${group}/${version}`,
    kind: "PaxosCluster",
    metadata: { name, namespace },
    spec,
  });
  const create = async (name: string, spec: Spec) =>
    (await objects.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      body: clusterObject(name, spec),
    })) as PaxosClusterObject;
  const read = async (name: string) =>
    (await objects.getNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      name,
    })) as PaxosClusterObject;
  const patchSpec = (name: string, body: object) =>
    objects.patchNamespacedCustomObject({ group, version, namespace, plural, name, body }, mergePatch);
  const patchStatus = (name: string, body: object) =>
    objects.patchNamespacedCustomObjectStatus({ group, version, namespace, plural, name, body }, mergePatch);
  const patchScale = (name: string, replicas: number) =>
    objects.patchNamespacedCustomObjectScale(
      { group, version, namespace, plural, name, body: { spec: { replicas } } },
      mergePatch,
    );
  const kubectl = async (...args: string[]) =>
    (await run(toolPath("kubectl"), [...args, `--namespace=${namespace}`, `--kubeconfig=${kubeconfigPath}`]))
      .stdout;

  beforeAll(async () => {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfigPath);
    extensions = config.makeApiClient(ApiextensionsV1Api);
    core = config.makeApiClient(CoreV1Api);
    objects = config.makeApiClient(CustomObjectsApi);

    await core.createNamespace({ body: { metadata: { name: namespace } } });
    crd = (await applyPaxosClusterCrd(config, fieldManager)) as CrdDocument;
    await waitFor(
      async () => {
        // The first write of a new resource takes the API server about 2 s; pay it here, in a
        // dry run, so that the tests' timings are their own.
        await objects.createNamespacedCustomObject({
          group,
          version,
          namespace,
          plural,
          body: clusterObject("warm-up", {}),
          dryRun: "All",
        });
        return true;
      },
      { description: `CRD ${crdName} to be served`, timeoutMs: 20_000, intervalMs: 100 },
    );
  });

  afterAll(async () => {
    // The namespace controller deletes the PaxosClusters with it; no need to wait.
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it("is served under its names, with status and scale subresources and printer columns", async () => {
    const served = await extensions.readCustomResourceDefinition({ name: crdName });
    expect(served.status?.acceptedNames).toMatchObject({
      kind: "PaxosCluster",
      plural: "paxosclusters",
      singular: "paxoscluster",
      shortNames: ["pxc"],
      categories: ["paxos"],
    });
    expect(served.spec.scope).toBe("Namespaced");
    const [v1alpha1] = served.spec.versions;
    expect(v1alpha1?.subresources).toEqual({
      status: {},
      scale: {
        specReplicasPath: ".spec.replicas",
        statusReplicasPath: ".status.replicas",
        labelSelectorPath: ".status.selector",
      },
    });
    expect(v1alpha1?.additionalPrinterColumns?.map((column) => column.name)).toEqual([
      "Replicas",
      "Ready",
      "Leader",
      "Phase",
      "Age",
    ]);
  });

  it("accepts the sample and fills in every default", async () => {
    const sample = parse(await readFile(samplePath, "utf8")) as PaxosClusterObject;
    const created = (await objects.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      body: { ...sample, metadata: { ...sample.metadata, namespace } },
    })) as PaxosClusterObject;
    const expected = {
      replicas: 3,
      image: "ghcr.io/paxos-operator/replica:0.1.0",
      imagePullPolicy: "IfNotPresent",
      storage: { size: "2Gi", whenScaledDown: "Delete" },
      resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
      pod: { labels: { team: "orders" } },
      paxos: { heartbeatMs: 100, electionTimeoutMs: 1500, snapshotThresholdEntries: 10_000 },
      fencing: { automatic: true, unreachableWindowSeconds: 30, forceDeleteOnLostNode: false },
      paused: false,
    };
    expect(created.spec).toEqual(expected);
    expect((await read(sample.metadata.name)).spec).toEqual(expected);
  });

  it("fills in the defaults of an object without a spec", async () => {
    const created = (await objects.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      body: { apiVersion: `${group}/${version}`, kind: "PaxosCluster", metadata: { name: "bare" } },
    })) as PaxosClusterObject;
    expect(created.spec).toEqual({
      replicas: 3,
      image: "ghcr.io/paxos-operator/replica:0.1.0",
      imagePullPolicy: "IfNotPresent",
      storage: { size: "1Gi", whenScaledDown: "Delete" },
      paxos: { heartbeatMs: 100, electionTimeoutMs: 1000, snapshotThresholdEntries: 10_000 },
      fencing: { automatic: true, unreachableWindowSeconds: 30, forceDeleteOnLostNode: false },
      paused: false,
    });
  });

  it.each(invalidCases)("rejects $what at create time", async ({ name, spec, field, message }) => {
    const rejected = await rejectionOf(create(name ?? "invalid", spec));
    expect(rejected.code).toBe(422);
    expect(rejected.message).toContain(`${field}: `);
    expect(rejected.message).toContain(message);
  });

  it("keeps the storage class fixed and lets the volume size grow but not shrink", async () => {
    const name = "storage-rules";
    await create(name, { storage: { size: "1Gi", storageClassName: "standard" } });

    const changedClass = await rejectionOf(
      patchSpec(name, { spec: { storage: { storageClassName: "fast" } } }),
    );
    expect(changedClass.code).toBe(422);
    expect(changedClass.message).toContain(
      "spec.storage.storageClassName: Forbidden: spec.storage.storageClassName cannot be set, changed or removed after the cluster is created",
    );
    const removedClass = await rejectionOf(
      patchSpec(name, { spec: { storage: { storageClassName: null } } }),
    );
    expect(removedClass.code).toBe(422);
    expect(removedClass.message).toContain("spec.storage.storageClassName: Forbidden");

    const shrunk = await rejectionOf(patchSpec(name, { spec: { storage: { size: "512Mi" } } }));
    expect(shrunk.code).toBe(422);
    expect(shrunk.message).toContain(
      "spec.storage.size: Forbidden: spec.storage.size cannot shrink from 1Gi to 512Mi: volumes can only be expanded; set it to 1Gi or more",
    );
    // The same size in other units is not a shrink.
    await patchSpec(name, { spec: { storage: { size: "1024Mi" } } });

    await patchSpec(name, { spec: { storage: { size: "2Gi" } } });
    expect((await read(name)).spec?.storage).toEqual({
      size: "2Gi",
      storageClassName: "standard",
      whenScaledDown: "Delete",
    });

    // A cluster created without a class got the default one: it cannot be named later either.
    await create("default-class", {});
    const addedClass = await rejectionOf(
      patchSpec("default-class", { spec: { storage: { storageClassName: "standard" } } }),
    );
    expect(addedClass.message).toContain("spec.storage.storageClassName: Forbidden");
  });

  it("keeps spec and status apart through the status subresource", async () => {
    const name = "status-split";
    const created = await create(name, { replicas: 3 });
    const status = {
      phase: "Running",
      replicas: 3,
      readyReplicas: 3,
      selector: `app.kubernetes.io/instance=${name}`,
      leader: `${name}-0`,
      bootstrapped: true,
      observedGeneration: created.metadata.generation,
      members: [
        {
          name: `${name}-0`,
          incarnation: "7f3a9c",
          role: "leader",
          health: "healthy",
          lag: 0,
          fenced: false,
          lastContactTime: "2026-01-01T00:00:00Z",
        },
      ],
      conditions: [
        {
          type: "Available",
          status: "True",
          observedGeneration: created.metadata.generation,
          lastTransitionTime: "2026-01-01T00:00:00Z",
          reason: "QuorumHealthy",
          message: "All 3 members are healthy and agree on a leader.",
        },
      ],
      operation: {
        type: "AddMember",
        member: `${name}-3`,
        startedAt: "2026-01-01T00:00:00Z",
        step: "AddLearner",
      },
    };

    // The status subresource ignores spec changes ...
    const afterStatus = (await patchStatus(name, { spec: { replicas: 7 }, status })) as PaxosClusterObject;
    expect(afterStatus.status).toEqual(status);
    expect(afterStatus.spec?.replicas).toBe(3);
    expect(afterStatus.metadata.generation).toBe(created.metadata.generation);

    // ... and the main resource ignores status changes, while a spec change bumps the generation.
    const afterSpec = (await patchSpec(name, {
      spec: { replicas: 5 },
      status: { phase: "Failed", leader: "nobody" },
    })) as PaxosClusterObject;
    expect(afterSpec.spec?.replicas).toBe(5);
    expect(afterSpec.status).toEqual(status);
    expect(afterSpec.metadata.generation).toBe((created.metadata.generation ?? 0) + 1);

    const badStatus = await rejectionOf(patchStatus(name, { status: { phase: "Sleeping" } }));
    expect(badStatus.code).toBe(422);
    expect(badStatus.message).toContain('status.phase: Unsupported value: "Sleeping"');
  });

  it("scales through the scale subresource, within 1 to 9 replicas", async () => {
    const name = "scaled";
    await create(name, { replicas: 3 });
    await patchStatus(name, { status: { replicas: 3, selector: `app.kubernetes.io/instance=${name}` } });

    const scale = (await objects.getNamespacedCustomObjectScale({
      group,
      version,
      namespace,
      plural,
      name,
    })) as ScaleObject;
    expect(scale.spec.replicas).toBe(3);
    expect(scale.status).toEqual({ replicas: 3, selector: `app.kubernetes.io/instance=${name}` });

    const scaled = (await patchScale(name, 5)) as ScaleObject;
    expect(scaled.spec.replicas).toBe(5);
    expect((await read(name)).spec?.replicas).toBe(5);

    const tooMany = await rejectionOf(patchScale(name, 10));
    expect(tooMany.code).toBe(422);
    expect(tooMany.message).toContain("spec.replicas: Invalid value: 10");
    expect(tooMany.message).toContain("should be less than or equal to 9");
    const none = await rejectionOf(patchScale(name, 0));
    expect(none.code).toBe(422);
    expect(none.message).toContain("should be greater than or equal to 1");
    expect((await read(name)).spec?.replicas).toBe(5);

    await kubectl("scale", `paxoscluster/${name}`, "--replicas=7");
    expect((await read(name)).spec?.replicas).toBe(7);
  });

  it("shows the printer columns in kubectl, under the plural, short name and category", async () => {
    const name = "printed";
    await create(name, { replicas: 3 });
    await patchStatus(name, { status: { readyReplicas: 2, leader: `${name}-1`, phase: "Degraded" } });

    const table = await kubectl("get", "paxosclusters", name);
    const [header, row] = table.trim().split("\n");
    expect(header?.split(/\s+/)).toEqual(["NAME", "REPLICAS", "READY", "LEADER", "PHASE", "AGE"]);
    expect(row?.split(/\s+/).slice(0, 5)).toEqual([name, "3", "2", `${name}-1`, "Degraded"]);

    expect(await kubectl("get", "pxc", name, "--output=name")).toBe(`paxoscluster.paxos.dev/${name}\n`);
    expect(await kubectl("get", "paxos", "--output=name")).toContain(`paxoscluster.paxos.dev/${name}\n`);
  });

  it("is refused by the API server when a CEL rule reads a map without a size bound", async () => {
    // A copy under another group, applied as a dry run: only the bound on the map differs.
    const unbounded = structuredClone(crd);
    unbounded.metadata = { name: "paxosclusters.costcheck.paxos.dev" };
    unbounded.spec.group = "costcheck.paxos.dev";
    const pod = unbounded.spec.versions[0]?.schema.openAPIV3Schema.properties?.spec?.properties?.pod;
    const { maxProperties, ...labelsWithoutBound } = pod?.properties?.labels ?? {};
    expect(maxProperties).toBe(32);
    if (pod?.properties !== undefined) pod.properties.labels = labelsWithoutBound;

    const refused = await rejectionOf(
      extensions.patchCustomResourceDefinition(
        { name: unbounded.metadata.name, body: unbounded, fieldManager, force: true, dryRun: "All" },
        serverSideApply,
      ),
    );
    expect(refused.code).toBe(422);
    expect(refused.message).toContain("properties[pod].properties[labels].x-kubernetes-validations");
    expect(refused.message).toContain("estimated rule cost exceeds budget");
  });
});
