// The operator as it runs for real: a ServiceAccount bound to exactly its ClusterRole
// (config/rbac/role.yaml), a token for it, and the operator process using that token.
// The RBAC test, the e2e suite and `make demo` all run it this way, so a permission the
// role lacks shows up everywhere, not only in one test.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CoreV1Api,
  type KubeConfig,
  RbacAuthorizationV1Api,
  type V1ClusterRole,
} from "@kubernetes/client-node";
import { parse, stringify } from "yaml";
import { ManagedProcess } from "./processes.ts";
import { repositoryRoot } from "./tools.ts";

export const operatorRolePath = join(repositoryRoot, "config/rbac/role.yaml");

export async function readOperatorRole(): Promise<V1ClusterRole> {
  return parse(await readFile(operatorRolePath, "utf8")) as V1ClusterRole;
}

export interface OperatorIdentity {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly clusterRole: string;
  /** A kubeconfig that authenticates as the ServiceAccount (mode 0600). */
  readonly kubeconfigPath: string;
  /** Deletes the ClusterRole and its binding (the namespace is the caller's). */
  remove(): Promise<void>;
}

/**
 * Creates the namespace if needed, the ServiceAccount, the ClusterRole (under
 * `clusterRoleName`, so that several runs on one control plane do not collide) bound to
 * it, and a token valid for `tokenSeconds`.
 */
export async function createOperatorIdentity(
  admin: KubeConfig,
  options: { namespace: string; clusterRoleName: string; kubeconfigPath: string; tokenSeconds?: number },
): Promise<OperatorIdentity> {
  const { namespace, clusterRoleName, kubeconfigPath } = options;
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const serviceAccount = "paxos-operator";
  const ignoreConflict = (error: unknown) => {
    if ((error as { code?: number }).code !== 409) throw error;
  };
  await core.createNamespace({ body: { metadata: { name: namespace } } }).catch(ignoreConflict);
  await core
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name: serviceAccount } } })
    .catch(ignoreConflict);
  const role = await readOperatorRole();
  await rbac.createClusterRole({ body: { ...role, metadata: { ...role.metadata, name: clusterRoleName } } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: clusterRoleName },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRoleName },
      subjects: [{ kind: "ServiceAccount", name: serviceAccount, namespace }],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { expirationSeconds: options.tokenSeconds ?? 24 * 3600 } },
  });
  const cluster = admin.getCurrentCluster();
  if (cluster === null) throw new Error("the admin kubeconfig names no cluster");
  await writeFile(
    kubeconfigPath,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        { name: "local", cluster: { server: cluster.server, "certificate-authority-data": cluster.caData } },
      ],
      users: [{ name: serviceAccount, user: { token: token.status?.token } }],
      contexts: [{ name: "operator", context: { cluster: "local", user: serviceAccount, namespace } }],
      "current-context": "operator",
    }),
    { mode: 0o600 },
  );
  return {
    namespace,
    serviceAccount,
    clusterRole: clusterRoleName,
    kubeconfigPath,
    async remove() {
      await rbac.deleteClusterRoleBinding({ name: clusterRoleName }).catch(() => undefined);
      await rbac.deleteClusterRole({ name: clusterRoleName }).catch(() => undefined);
    },
  };
}

/** Starts `node operator/src/main.ts` with the identity's kubeconfig. */
export function startOperatorProcess(options: {
  identity: OperatorIdentity;
  logPath: string;
  metricsPort?: number;
  /** Watch only this namespace; all namespaces when unset. */
  watchNamespace?: string;
  /**
   * POD_NAME, the operator's leader-election identity. A process started again under the
   * same name takes the Lease back at once, as a container the kubelet restarts in the same
   * pod does; unset, each process has an identity of its own (host, pid and a random part)
   * and waits for the Lease of a predecessor that was killed to expire.
   */
  podName?: string;
  extraArgs?: readonly string[];
}): ManagedProcess {
  return ManagedProcess.start({
    name: "operator",
    command: process.execPath,
    args: [
      join(repositoryRoot, "operator/src/main.ts"),
      `--metrics-port=${options.metricsPort ?? 0}`,
      ...(options.watchNamespace === undefined ? [] : [`--namespace=${options.watchNamespace}`]),
      `--leader-election-namespace=${options.identity.namespace}`,
      ...(options.extraArgs ?? []),
    ],
    logPath: options.logPath,
    env: {
      ...process.env,
      KUBECONFIG: options.identity.kubeconfigPath,
      ...(options.podName === undefined ? {} : { POD_NAME: options.podName }),
    },
  });
}
