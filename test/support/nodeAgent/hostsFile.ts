// The per-pod /etc/hosts that stands in for cluster DNS: every pod with spec.hostname and
// spec.subdomain (StatefulSet pods) and an IP gets the names a headless Service's DNS
// record would give it, ready or not (publishNotReadyAddresses).

export interface HostsEntryPod {
  namespace: string;
  name: string;
  hostname?: string | undefined;
  subdomain?: string | undefined;
  ip?: string | undefined;
}

export const clusterDomain = "cluster.local";

/** The names under which a pod is reachable from a pod in `fromNamespace`. */
export function podDnsNames(pod: HostsEntryPod, fromNamespace: string): string[] {
  if (pod.hostname === undefined || pod.subdomain === undefined) return [];
  const base = `${pod.hostname}.${pod.subdomain}.${pod.namespace}`;
  const names = [`${base}.svc.${clusterDomain}`, `${base}.svc`, base];
  // A pod's search path starts with its own namespace, so `<host>.<subdomain>` resolves there.
  if (pod.namespace === fromNamespace) names.push(`${pod.hostname}.${pod.subdomain}`);
  return names;
}

export function renderHostsFile(self: HostsEntryPod, pods: readonly HostsEntryPod[]): string {
  const lines = [
    "# Kubernetes-managed hosts file (paxos node agent): rewritten in place as pods change.",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "fe00::0\tip6-mcastprefix",
    "fe00::1\tip6-allnodes",
    "fe00::2\tip6-allrouters",
  ];
  const selfName = self.hostname ?? self.name;
  if (self.ip !== undefined) {
    const own = podDnsNames(self, self.namespace);
    lines.push(`${self.ip}\t${[...own.slice(0, 1), selfName, ...own.slice(1)].join(" ")}`);
  }
  const others = pods
    .filter((pod) => !(pod.namespace === self.namespace && pod.name === self.name))
    .filter((pod) => pod.ip !== undefined && pod.hostname !== undefined && pod.subdomain !== undefined)
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  for (const pod of others) lines.push(`${pod.ip}\t${podDnsNames(pod, self.namespace).join(" ")}`);
  return `${lines.join("\n")}\n`;
}

/** Lookups fail fast: nothing answers on the pod's own loopback, so no DNS timeouts. */
export function renderResolvConf(namespace: string): string {
  return [
    "# paxos node agent: names come from /etc/hosts; nothing listens here.",
    "nameserver 127.0.0.1",
    `search ${namespace}.svc.${clusterDomain} svc.${clusterDomain} ${clusterDomain}`,
    "options ndots:5 timeout:1 attempts:1",
    "",
  ].join("\n");
}
