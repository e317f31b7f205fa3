import { stringify } from "yaml";

export interface KubeconfigUser {
  name: string;
  certificatePem: string;
  privateKeyPem: string;
}

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/**
 * A self-contained kubeconfig (certificates embedded) with one cluster, one user and
 * one context, so it can be copied or handed to `kubectl --kubeconfig` as it is.
 */
export function buildKubeconfig(options: {
  clusterName: string;
  serverUrl: string;
  certificateAuthorityPem: string;
  user: KubeconfigUser;
}): string {
  const contextName = `${options.user.name}@${options.clusterName}`;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: options.clusterName,
        cluster: {
          server: options.serverUrl,
          "certificate-authority-data": base64(options.certificateAuthorityPem),
        },
      },
    ],
    users: [
      {
        name: options.user.name,
        user: {
          "client-certificate-data": base64(options.user.certificatePem),
          "client-key-data": base64(options.user.privateKeyPem),
        },
      },
    ],
    contexts: [{ name: contextName, context: { cluster: options.clusterName, user: options.user.name } }],
    "current-context": contextName,
  });
}
