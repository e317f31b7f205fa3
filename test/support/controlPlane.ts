// A real, throwaway Kubernetes control plane for tests and the demo: etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler as local processes on
// free loopback ports, with freshly generated certificates and an admin kubeconfig.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  createSigningKeyPair,
  issueCertificate,
  type PemKeyPair,
} from "./certificates.ts";
import { httpGet, type TlsClientOptions } from "./httpProbe.ts";
import { buildKubeconfig } from "./kubeconfig.ts";
import { freePort } from "./ports.ts";
import { ManagedProcess } from "./processes.ts";
import { toolPath } from "./tools.ts";
import { waitFor } from "./waitFor.ts";

export interface ControlPlaneOptions {
  /** Holds etcd's data, certificates, kubeconfigs and one log file per process. */
  stateDir: string;
  /** A loopback address of its own lets several control planes or fake nodes coexist. */
  host?: string;
  binDir?: string;
  /** Progress lines for people watching (the demo prints them). */
  onProgress?: (message: string) => void;
  /**
   * etcd without fsync: much faster on slow disks, and the control plane is thrown away
   * after the run, so its durability does not matter. The product never does this.
   */
  etcdUnsafeNoFsync?: boolean;
  startTimeoutMs?: number;
}

export interface ControlPlane {
  readonly kubeconfigPath: string;
  readonly apiServerUrl: string;
  readonly stateDir: string;
  readonly host: string;
  /** The admin's TLS material, for direct HTTPS calls. */
  readonly adminTls: Required<TlsClientOptions>;
  readonly processes: readonly ManagedProcess[];
  /** Stops every process, newest first. Safe to call twice. */
  stop(): Promise<void>;
}

/** The range the API server hands out ClusterIPs from; 10.0.0.1 is the `kubernetes` Service. */
export const serviceClusterIpRange = "10.0.0.0/24";
const clusterName = "paxos-test";

interface Pki {
  authority: CertificateAuthority;
  apiServerServing: PemKeyPair;
  controllerManagerServing: PemKeyPair;
  schedulerServing: PemKeyPair;
  admin: PemKeyPair;
  controllerManagerClient: PemKeyPair;
  schedulerClient: PemKeyPair;
  serviceAccount: { privateKeyPem: string; publicKeyPem: string };
  frontProxyAuthority: CertificateAuthority;
  frontProxyClient: PemKeyPair;
}

async function createPki(host: string): Promise<Pki> {
  const authority = await createCertificateAuthority(`${clusterName}-ca`);
  const frontProxyAuthority = await createCertificateAuthority(`${clusterName}-front-proxy-ca`);
  const servingFor = (commonName: string, dnsNames: string[] = []) =>
    issueCertificate(authority, {
      commonName,
      dnsNames: ["localhost", ...dnsNames],
      ipAddresses: [...new Set([host, "127.0.0.1"])],
      usage: "server",
    });
  return {
    authority,
    apiServerServing: await issueCertificate(authority, {
      commonName: "kube-apiserver",
      dnsNames: [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
      ],
      ipAddresses: [...new Set([host, "127.0.0.1", "10.0.0.1"])],
      usage: "server",
    }),
    controllerManagerServing: await servingFor("kube-controller-manager"),
    schedulerServing: await servingFor("kube-scheduler"),
    // Bootstrap RBAC binds these user names and groups to the roles each component needs.
    admin: await issueCertificate(authority, {
      commonName: "admin",
      organizations: ["system:masters"],
      usage: "client",
    }),
    controllerManagerClient: await issueCertificate(authority, {
      commonName: "system:kube-controller-manager",
      usage: "client",
    }),
    schedulerClient: await issueCertificate(authority, {
      commonName: "system:kube-scheduler",
      usage: "client",
    }),
    serviceAccount: await createSigningKeyPair(),
    frontProxyAuthority,
    // The API server presents this to aggregated API servers; configuring it also gives
    // components the request-header CA they look up at start (else they log errors).
    frontProxyClient: await issueCertificate(frontProxyAuthority, {
      commonName: "front-proxy-client",
      usage: "client",
    }),
  };
}

async function writeFiles(dir: string, files: Record<string, string>): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths: Record<string, string> = {};
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    await writeFile(path, content, { mode: 0o600 });
    paths[name] = path;
  }
  return paths;
}

async function logTail(path: string, lines = 15): Promise<string> {
  try {
    const text = await readFile(path, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const host = options.host ?? "127.0.0.1";
  const progress = options.onProgress ?? (() => undefined);
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const stateDir = options.stateDir;
  const bin = (name: Parameters<typeof toolPath>[0]) => toolPath(name, options.binDir);
  const binaries = {
    etcd: bin("etcd"),
    apiServer: bin("kube-apiserver"),
    controllerManager: bin("kube-controller-manager"),
    scheduler: bin("kube-scheduler"),
  };
  await mkdir(join(stateDir, "logs"), { recursive: true });

  progress("generating certificates");
  const pki = await createPki(host);
  const pkiDir = join(stateDir, "pki");
  const pkiFiles = await writeFiles(pkiDir, {
    "ca.crt": pki.authority.certificatePem,
    "ca.key": pki.authority.privateKeyPem,
    "apiserver.crt": pki.apiServerServing.certificatePem,
    "apiserver.key": pki.apiServerServing.privateKeyPem,
    "controller-manager.crt": pki.controllerManagerServing.certificatePem,
    "controller-manager.key": pki.controllerManagerServing.privateKeyPem,
    "scheduler.crt": pki.schedulerServing.certificatePem,
    "scheduler.key": pki.schedulerServing.privateKeyPem,
    "sa.key": pki.serviceAccount.privateKeyPem,
    "sa.pub": pki.serviceAccount.publicKeyPem,
    "front-proxy-ca.crt": pki.frontProxyAuthority.certificatePem,
    "front-proxy-client.crt": pki.frontProxyClient.certificatePem,
    "front-proxy-client.key": pki.frontProxyClient.privateKeyPem,
  });
  const pkiPath = (name: string): string => {
    const path = pkiFiles[name];
    if (path === undefined) throw new Error(`control plane: no PKI file ${name}`);
    return path;
  };

  const etcdClientPort = await freePort(host);
  const etcdPeerPort = await freePort(host);
  const apiServerPort = await freePort(host);
  const controllerManagerPort = await freePort(host);
  const schedulerPort = await freePort(host);
  const apiServerUrl = `https://${host}:${apiServerPort}`;
  const kubeconfigFor = (user: { name: string } & PemKeyPair) =>
    buildKubeconfig({
      clusterName,
      serverUrl: apiServerUrl,
      certificateAuthorityPem: pki.authority.certificatePem,
      user: { name: user.name, certificatePem: user.certificatePem, privateKeyPem: user.privateKeyPem },
    });
  const kubeconfigs = await writeFiles(stateDir, {
    kubeconfig: kubeconfigFor({ name: "admin", ...pki.admin }),
    "controller-manager.kubeconfig": kubeconfigFor({
      name: "kube-controller-manager",
      ...pki.controllerManagerClient,
    }),
    "scheduler.kubeconfig": kubeconfigFor({ name: "kube-scheduler", ...pki.schedulerClient }),
  });
  const kubeconfigPath = kubeconfigs.kubeconfig ?? join(stateDir, "kubeconfig");
  const adminTls = {
    ca: pki.authority.certificatePem,
    cert: pki.admin.certificatePem,
    key: pki.admin.privateKeyPem,
  };
  const caOnly = { ca: pki.authority.certificatePem };

  const started: ManagedProcess[] = [];
  const stop = async () => {
    for (const child of [...started].reverse()) await child.stop();
  };
  const launch = async (
    name: string,
    command: string,
    args: string[],
    ready: () => Promise<boolean>,
  ): Promise<ManagedProcess> => {
    progress(`starting ${name}`);
    const child = ManagedProcess.start({
      name,
      command,
      args,
      logPath: join(stateDir, "logs", `${name}.log`),
    });
    started.push(child);
    try {
      await waitFor(async () => ((await ready()) ? true : undefined), {
        description: `${name} to be ready`,
        timeoutMs,
        intervalMs: 250,
        abortIf: () => child.describeExit(),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`${reason}\n--- last lines of ${child.logPath} ---\n${await logTail(child.logPath)}`);
    }
    return child;
  };

  try {
    await launch(
      "etcd",
      binaries.etcd,
      [
        "--name=control-plane",
        `--data-dir=${join(stateDir, "etcd")}`,
        `--listen-client-urls=http://${host}:${etcdClientPort}`,
        `--advertise-client-urls=http://${host}:${etcdClientPort}`,
        `--listen-peer-urls=http://${host}:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://${host}:${etcdPeerPort}`,
        `--initial-cluster=control-plane=http://${host}:${etcdPeerPort}`,
        "--log-level=warn",
        ...(options.etcdUnsafeNoFsync ? ["--unsafe-no-fsync"] : []),
      ],
      async () => {
        const response = await httpGet(`http://${host}:${etcdClientPort}/health`);
        return response.status === 200 && JSON.parse(response.body).health === "true";
      },
    );

    await launch(
      "kube-apiserver",
      binaries.apiServer,
      [
        `--etcd-servers=http://${host}:${etcdClientPort}`,
        `--bind-address=${host}`,
        `--advertise-address=${host}`,
        `--secure-port=${apiServerPort}`,
        `--cert-dir=${pkiDir}`,
        `--tls-cert-file=${pkiPath("apiserver.crt")}`,
        `--tls-private-key-file=${pkiPath("apiserver.key")}`,
        `--client-ca-file=${pkiPath("ca.crt")}`,
        `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
        `--service-account-key-file=${pkiPath("sa.pub")}`,
        `--service-account-signing-key-file=${pkiPath("sa.key")}`,
        `--service-cluster-ip-range=${serviceClusterIpRange}`,
        "--authorization-mode=Node,RBAC",
        "--allow-privileged=true",
        `--requestheader-client-ca-file=${pkiPath("front-proxy-ca.crt")}`,
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        `--proxy-client-cert-file=${pkiPath("front-proxy-client.crt")}`,
        `--proxy-client-key-file=${pkiPath("front-proxy-client.key")}`,
        // The `kubernetes` Service may not point at a loopback address, and ours is one;
        // processes on this machine reach the API server through their kubeconfig instead.
        "--endpoint-reconciler-type=none",
        "--profiling=false",
      ],
      async () => (await httpGet(`${apiServerUrl}/readyz`, adminTls)).status === 200,
    );

    const componentArgs = (kubeconfig: string, port: number, servingName: string) => [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      `--bind-address=${host}`,
      `--secure-port=${port}`,
      `--tls-cert-file=${pkiPath(`${servingName}.crt`)}`,
      `--tls-private-key-file=${pkiPath(`${servingName}.key`)}`,
      // One instance of each: electing a leader would only add seconds to every start.
      "--leader-elect=false",
    ];
    await launch(
      "kube-controller-manager",
      binaries.controllerManager,
      [
        ...componentArgs(
          kubeconfigs["controller-manager.kubeconfig"] ?? "",
          controllerManagerPort,
          "controller-manager",
        ),
        `--service-account-private-key-file=${pkiPath("sa.key")}`,
        `--root-ca-file=${pkiPath("ca.crt")}`,
        `--cluster-signing-cert-file=${pkiPath("ca.crt")}`,
        `--cluster-signing-key-file=${pkiPath("ca.key")}`,
        "--use-service-account-credentials=true",
        `--cluster-name=${clusterName}`,
        // A Node whose Lease is not renewed for 10 s is NotReady (the default waits 50 s);
        // the node agent renews every 2 s. Lost-node tests then take seconds, not minutes.
        "--node-monitor-grace-period=10s",
        "--node-monitor-period=2s",
      ],
      async () => (await httpGet(`https://${host}:${controllerManagerPort}/healthz`, caOnly)).status === 200,
    );

    await launch(
      "kube-scheduler",
      binaries.scheduler,
      componentArgs(kubeconfigs["scheduler.kubeconfig"] ?? "", schedulerPort, "scheduler"),
      async () => (await httpGet(`https://${host}:${schedulerPort}/healthz`, caOnly)).status === 200,
    );

    // Pods are admitted only once their namespace has its default ServiceAccount, which
    // the controller manager creates: waiting for it means the control plane can run work.
    progress("waiting for the default ServiceAccount");
    await waitFor(
      async () =>
        (await httpGet(`${apiServerUrl}/api/v1/namespaces/default/serviceaccounts/default`, adminTls))
          .status === 200
          ? true
          : undefined,
      { description: "the default ServiceAccount in namespace default", timeoutMs, intervalMs: 250 },
    );
  } catch (error) {
    await stop();
    throw error;
  }

  progress(`control plane ready at ${apiServerUrl}`);
  return { kubeconfigPath, apiServerUrl, stateDir, host, adminTls, processes: started, stop };
}
