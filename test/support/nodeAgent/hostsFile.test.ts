import { describe, expect, it } from "vitest";
import { podDnsNames, renderHostsFile } from "./hostsFile.ts";

describe("hosts file", () => {
  const pod = (name: string, ip?: string, namespace = "ns") => ({
    namespace,
    name,
    hostname: name,
    subdomain: "demo-peers",
    ...(ip === undefined ? {} : { ip }),
  });

  it("names a pod like a headless Service's DNS records", () => {
    expect(podDnsNames(pod("demo-1"), "ns")).toEqual([
      "demo-1.demo-peers.ns.svc.cluster.local",
      "demo-1.demo-peers.ns.svc",
      "demo-1.demo-peers.ns",
      "demo-1.demo-peers",
    ]);
    expect(podDnsNames(pod("demo-1"), "other")).toHaveLength(3);
    expect(podDnsNames({ namespace: "ns", name: "plain" }, "ns")).toEqual([]);
  });

  it("lists the pod itself and every other pod with an IP, hostname and subdomain", () => {
    const text = renderHostsFile(pod("demo-0", "10.244.1.2"), [
      pod("demo-0", "10.244.1.2"),
      pod("demo-2", "10.244.1.4"),
      pod("demo-1", "10.244.1.3"),
      pod("demo-3"),
      { namespace: "ns", name: "loose", ip: "10.244.1.9" },
      pod("x-0", "10.244.1.7", "other"),
    ]);
    const lines = text.trimEnd().split("\n");
    expect(lines).toContain("127.0.0.1\tlocalhost");
    expect(lines).toContain(
      "10.244.1.2\tdemo-0.demo-peers.ns.svc.cluster.local demo-0 demo-0.demo-peers.ns.svc demo-0.demo-peers.ns demo-0.demo-peers",
    );
    const after = lines.slice(lines.findIndex((line) => line.startsWith("10.244.1.2")) + 1);
    expect(after).toEqual([
      "10.244.1.3\tdemo-1.demo-peers.ns.svc.cluster.local demo-1.demo-peers.ns.svc demo-1.demo-peers.ns demo-1.demo-peers",
      "10.244.1.4\tdemo-2.demo-peers.ns.svc.cluster.local demo-2.demo-peers.ns.svc demo-2.demo-peers.ns demo-2.demo-peers",
      "10.244.1.7\tx-0.demo-peers.other.svc.cluster.local x-0.demo-peers.other.svc x-0.demo-peers.other",
    ]);
    expect(text).not.toContain("demo-3");
    expect(text).not.toContain("loose");
  });
});
