// The node agent against a real API server, scheduler and controller manager: Nodes stay
// Ready, a StatefulSet's pods run as local processes in their own network namespaces with
// their own IPs, names, Secret files, env and a provisioned volume that outlives the pod;
// probes drive readiness; a killed process restarts; deletions clean up; a frozen node stops
// renewing its Lease; and stopping the agent leaves nothing behind on the host.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  StorageV1Api,
  type V1Pod,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { addedNames, linkNames, networkNamespaceNames } from "../support/hostNetwork.ts";
import { type NodeAgent, startNodeAgent } from "../support/nodeAgent/index.ts";
import { isProcessRunning } from "../support/processes.ts";
import { repositoryRoot } from "../support/tools.ts";
import { waitFor } from "../support/waitFor.ts";

const image = "example.com/probe-server:1";
const serverScript = join(repositoryRoot, "test", "support", "nodeAgent", "testdata", "probeServer.ts");
const authDir = "/etc/paxos-node-agent-test/auth";

const hostNames = () => ({ netns: networkNamespaceNames(), links: linkNames() });

describe("the node agent", () => {
  const kubeconfigPath = inject("kubeconfigPath");
  const namespace = `node-agent-${Date.now().toString(36)}`;
  let config: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let agent: NodeAgent | undefined;
  let stateDir: string;
  const before = hostNames();
  const progress: string[] = [];

  const pod = (name: string) => core.readNamespacedPod({ namespace, name });
  const condition = (p: V1Pod, type: string) => p.status?.conditions?.find((c) => c.type === type)?.status;
  const waitReady = (name: string, timeoutMs = 60_000) =>
    waitFor(
      async () => {
        const current = await pod(name);
        return condition(current, "Ready") === "True" ? current : undefined;
      },
      { description: `pod ${name} to be Ready`, timeoutMs, intervalMs: 200 },
    );
  const ask = async (ip: string, path: string, method = "GET") => {
    const response = await fetch(`http://${ip}:8080${path}`, { method, signal: AbortSignal.timeout(5000) });
    return (await response.json()) as Record<string, unknown>;
  };
  const inPod = (name: string, command: string[]) => {
    const process = agent?.podProcess(namespace, name);
    if (process === undefined) throw new Error(`no process for ${name}`);
    return execFileSync("nsenter", [
      `--target=${process.pid}`,
      "--net",
      "--mount",
      "--",
      ...command,
    ]).toString();
  };

  beforeAll(async () => {
    config = new KubeConfig();
    config.loadFromFile(kubeconfigPath);
    core = config.makeApiClient(CoreV1Api);
    apps = config.makeApiClient(AppsV1Api);
    stateDir = await mkdtemp(join(tmpdir(), "paxos-node-agent-test-"));
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: "web-auth" }, stringData: { token: "s3cret-token" } },
    });
    await core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: "web-peers" },
        spec: {
          clusterIP: "None",
          publishNotReadyAddresses: true,
          selector: { app: "web" },
          ports: [{ name: "http", port: 8080 }],
        },
      },
    });
    agent = await startNodeAgent({
      kubeconfigPath,
      stateDir,
      images: { "example.com/probe-server": { command: [process.execPath, serverScript] } },
      // Other suites' leftover pods get scheduled to these nodes too; only ours run.
      namespaces: [namespace],
      restartBackoff: { initialMs: 500, maxMs: 5000 },
      onProgress: (message) => {
        progress.push(message);
        if (process.env.NODE_AGENT_DEBUG) console.log(`${new Date().toISOString()} ${message}`);
      },
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  });

  it("registers Ready nodes with zones, a Lease each, and a default StorageClass", async () => {
    expect(agent?.nodes).toEqual(["node-1", "node-2", "node-3"]);
    const coordination = config.makeApiClient(CoordinationV1Api);
    for (const [index, name] of ["node-1", "node-2", "node-3"].entries()) {
      const node = await waitFor(
        async () => {
          const current = await core.readNode({ name });
          const ready = current.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
          const tainted = (current.spec?.taints ?? []).some((t) => t.key.startsWith("node.kubernetes.io/"));
          return ready && !tainted ? current : undefined;
        },
        { description: `node ${name} Ready and untainted`, timeoutMs: 30_000 },
      );
      expect(node.metadata?.labels).toMatchObject({
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "topology.kubernetes.io/zone": ["zone-a", "zone-b", "zone-c"][index],
      });
      expect(node.status?.addresses?.find((a) => a.type === "InternalIP")?.address).toMatch(
        /^10\.244\.\d+\.\d+$/,
      );
      const lease = await coordination.readNamespacedLease({ namespace: "kube-node-lease", name });
      expect(lease.spec?.holderIdentity).toBe(name);
    }
    const storageClass = await config.makeApiClient(StorageV1Api).readStorageClass({ name: "paxos-local" });
    expect(storageClass.metadata?.annotations?.["storageclass.kubernetes.io/is-default-class"]).toBe("true");
  });

  const ips: Record<string, string> = {};
  it("runs a StatefulSet's pods Ready, each with its own IP", async () => {
    const started = Date.now();
    await apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 2,
          serviceName: "web-peers",
          podManagementPolicy: "Parallel",
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: {
              automountServiceAccountToken: false,
              terminationGracePeriodSeconds: 3,
              containers: [
                {
                  name: "app",
                  image,
                  args: ["--name=$(POD_NAME)", "$$(POD_NAME)"],
                  ports: [{ name: "http", containerPort: 8080 }],
                  env: [
                    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                    { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
                    { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                    { name: "TOKEN", valueFrom: { secretKeyRef: { name: "web-auth", key: "token" } } },
                    { name: "GREETING", value: "hello $(POD_NAME)" },
                  ],
                  volumeMounts: [
                    { name: "data", mountPath: "/data" },
                    { name: "auth", mountPath: authDir, readOnly: true },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                  startupProbe: {
                    httpGet: { path: "/livez", port: "http" },
                    periodSeconds: 1,
                    failureThreshold: 30,
                  },
                  readinessProbe: {
                    httpGet: { path: "/readyz", port: "http" },
                    periodSeconds: 1,
                    failureThreshold: 1,
                  },
                  livenessProbe: {
                    httpGet: { path: "/livez", port: "http" },
                    periodSeconds: 2,
                    failureThreshold: 3,
                  },
                },
              ],
              volumes: [
                { name: "auth", secret: { secretName: "web-auth", defaultMode: 0o440 } },
                { name: "tmp", emptyDir: {} },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data" },
              spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Mi" } } },
            },
          ],
        },
      },
    });
    const pods = [await waitReady("web-0"), await waitReady("web-1")];
    console.log(
      `node agent: 2 StatefulSet pods Ready ${Date.now() - started} ms after the StatefulSet was created`,
    );
    for (const p of pods) {
      expect(p.status?.phase).toBe("Running");
      expect(p.status?.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
      expect(p.status?.containerStatuses?.[0]).toMatchObject({ ready: true, started: true, restartCount: 0 });
      expect(p.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
      expect(p.status?.hostIP).toBeDefined();
      ips[p.metadata?.name ?? ""] = p.status?.podIP ?? "";
      expect(agent?.podIP(namespace, p.metadata?.name ?? "")).toBe(p.status?.podIP);
    }
    expect(ips["web-0"]).not.toBe(ips["web-1"]);
    const pvcs = await core.listNamespacedPersistentVolumeClaim({ namespace });
    expect(pvcs.items.map((c) => c.status?.phase)).toEqual(["Bound", "Bound"]);
  });

  it("gives each pod its names, env, Secret files and expanded args", async () => {
    const web0 = ips["web-0"] ?? "";
    const peer = `web-1.web-peers.${namespace}.svc`;
    expect(await ask(web0, `/lookup?host=${peer}`)).toMatchObject({ address: ips["web-1"] });
    expect(await ask(web0, `/lookup?host=${peer}.cluster.local`)).toMatchObject({ address: ips["web-1"] });
    expect(inPod("web-0", ["getent", "hosts", peer])).toContain(ips["web-1"]);
    expect(await ask(web0, "/hostname")).toMatchObject({
      hostname: "web-0",
      argv: ["--name=web-0", "$(POD_NAME)"],
    });
    const env = async (name: string) => (await ask(web0, `/env?name=${name}`)).value;
    expect(await env("TOKEN")).toBe("s3cret-token");
    expect(await env("GREETING")).toBe("hello web-0");
    expect(await env("POD_IP")).toBe(web0);
    expect(await env("NODE")).toBe((await pod("web-0")).spec?.nodeName);
    expect(await ask(web0, `/file?path=${authDir}/token`)).toEqual({ content: "s3cret-token" });
    expect(inPod("web-0", ["stat", "-c", "%a", `${authDir}/token`]).trim()).toBe("440");
    // Read-only, and invisible from the host: the mounts live in the pod's mount namespace.
    expect((await ask(web0, `/file?path=${authDir}/x&content=1`, "POST")).error).toMatch(/read-only/);
    expect((await readFile("/proc/self/mounts", "utf8")).includes(authDir)).toBe(false);
    // The pod reaches its peer directly.
    expect(await ask(web0, `/lookup?host=web-0.web-peers`)).toMatchObject({ address: web0 });
  });

  it("keeps the volume's data when the pod is deleted and recreated", async () => {
    const before = await pod("web-0");
    await ask(ips["web-0"] ?? "", "/file?path=/data/marker&content=survives", "POST");
    await core.deleteNamespacedPod({ namespace, name: "web-0" });
    const after = await waitFor(
      async () => {
        const current = await pod("web-0").catch(() => undefined);
        return current?.metadata?.uid !== before.metadata?.uid && condition(current ?? {}, "Ready") === "True"
          ? current
          : undefined;
      },
      { description: "a new web-0 to be Ready", timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(after?.spec?.nodeName).toBe(before.spec?.nodeName);
    ips["web-0"] = after?.status?.podIP ?? "";
    expect(await ask(ips["web-0"] ?? "", "/file?path=/data/marker")).toEqual({ content: "survives" });
    // web-1's hosts file follows the new IP of web-0.
    await waitFor(
      async () =>
        (await ask(ips["web-1"] ?? "", `/lookup?host=web-0.web-peers.${namespace}.svc`)).address ===
        ips["web-0"]
          ? true
          : undefined,
      { description: "web-1 to resolve the new web-0", timeoutMs: 5000 },
    );
  });

  it("follows the readiness probe", async () => {
    const web1 = ips["web-1"] ?? "";
    await ask(web1, "/ready?value=false", "POST");
    await waitFor(async () => (condition(await pod("web-1"), "Ready") === "False" ? true : undefined), {
      description: "web-1 to become not Ready",
      timeoutMs: 10_000,
    });
    const notReady = await pod("web-1");
    expect(notReady.status?.containerStatuses?.[0]?.ready).toBe(false);
    expect(notReady.status?.phase).toBe("Running");
    await ask(web1, "/ready?value=true", "POST");
    await waitReady("web-1", 10_000);
  });

  it("restarts a container whose process was killed", async () => {
    const process = agent?.podProcess(namespace, "web-1");
    expect(process).toBeDefined();
    globalThis.process.kill(process?.pid ?? 0, "SIGKILL");
    const restarted = await waitFor(
      async () => {
        const current = await pod("web-1");
        const status = current.status?.containerStatuses?.[0];
        return status?.restartCount === 1 && status.ready ? current : undefined;
      },
      { description: "web-1 to restart and be ready", timeoutMs: 30_000 },
    );
    const status = restarted.status?.containerStatuses?.[0];
    expect(status?.lastState?.terminated).toMatchObject({ exitCode: 137, reason: "Error" });
    expect(agent?.podProcess(namespace, "web-1")?.pid).not.toBe(process?.pid);
  });

  it("stops renewing a frozen node's Lease and resumes after startNode", async () => {
    const coordination = config.makeApiClient(CoordinationV1Api);
    const name = (await pod("web-0")).spec?.nodeName ?? "";
    const web0 = agent?.podProcess(namespace, "web-0");
    const renewTime = async () =>
      new Date(
        (await coordination.readNamespacedLease({ namespace: "kube-node-lease", name })).spec?.renewTime ?? 0,
      ).getTime();
    await agent?.stopNode(name, "freeze");
    const frozenAt = await renewTime();
    const processState = () =>
      (execFileSync("cat", [`/proc/${web0?.pid}/stat`])
        .toString()
        .split(") ")[1] ?? "")[0];
    expect(processState()).toBe("T");
    await sleep(12_000);
    expect(await renewTime()).toBe(frozenAt);
    await agent?.startNode(name);
    expect(await renewTime()).toBeGreaterThan(frozenAt);
    expect(processState()).not.toBe("T");
    expect((await ask(ips["web-0"] ?? "", "/livez")).ok).toBe(true);
  });

  it("ends the processes of a deleted StatefulSet and deletes released volumes", async () => {
    const pids = ["web-0", "web-1"].map((name) => agent?.podProcess(namespace, name)?.pid ?? 0);
    const volumes = (await core.listNamespacedPersistentVolumeClaim({ namespace })).items.map(
      (c) => c.spec?.volumeName ?? "",
    );
    await apps.deleteNamespacedStatefulSet({ namespace, name: "web", propagationPolicy: "Foreground" });
    await waitFor(
      async () => ((await core.listNamespacedPod({ namespace })).items.length === 0 ? true : undefined),
      { description: "the pods to be gone", timeoutMs: 30_000 },
    );
    for (const pid of pids) expect(isProcessRunning(pid)).toBe(false);
    // None of this agent's pod namespaces is left (another agent may run pods meanwhile).
    const agentId = /node agent ([0-9a-f]+) running/.exec(progress.join("\n"))?.[1];
    expect(agentId).toBeDefined();
    expect(networkNamespaceNames().filter((name) => name.startsWith(`pxa${agentId}`))).toEqual([]);
    await core.deleteCollectionNamespacedPersistentVolumeClaim({ namespace });
    await waitFor(
      async () => {
        const left = (await core.listPersistentVolume()).items.filter((v) =>
          volumes.includes(v.metadata?.name ?? ""),
        );
        return left.length === 0 ? true : undefined;
      },
      { description: "the released volumes to be deleted", timeoutMs: 30_000 },
    );
    for (const volume of volumes)
      await expect(stat(join(stateDir, "volumes", volume))).rejects.toThrow(/ENOENT/);
  });

  it("leaves nothing behind when stopped", async () => {
    await agent?.stop();
    agent = undefined;
    const after = hostNames();
    // Nothing of this agent's is left (other agents may come and go meanwhile).
    expect(addedNames(after.netns, before.netns)).toEqual([]);
    expect(addedNames(after.links, before.links)).toEqual([]);
    const mounts = await readFile("/proc/mounts", "utf8");
    expect(mounts.includes(stateDir)).toBe(false);
    await expect(stat("/etc/paxos-node-agent-test")).rejects.toThrow(/ENOENT/);
    expect(progress.some((line) => line.includes("registered"))).toBe(true);
    expect(progress.some((line) => /pod .*web-0 ready/.test(line))).toBe(true);
  });
});
