// Pod networking: one Linux bridge per agent with the subnet 10.244.<slot>.0/24 (the
// Service range 10.0.0.0/24 stays clear), the bridge at .1, the nodes' InternalIPs at
// .241-.250 on the bridge too, and pods at .2-.240, each in its own network namespace
// with a veth into the bridge and a default route through it. Processes in the root
// namespace reach pods through the bridge's connected route; pods reach each other
// through the bridge (layer 2), so IP forwarding is not needed and left as it is.
import { access, readFile } from "node:fs/promises";
import { run, runQuietly } from "./exec.ts";
import { type AgentRecord, names, saveRecord } from "./registry.ts";

export interface PodSandbox {
  netns: string;
  netnsPath: string;
  ip: string;
  veth: string;
}

export const maxNodes = 10;

export class PodNetwork {
  readonly bridge: string;
  readonly gateway: string;
  private readonly record: AgentRecord;
  private readonly usedHosts = new Set<number>();
  private nextIndex = 1;

  constructor(record: AgentRecord) {
    this.record = record;
    this.bridge = names.bridge(record.id);
    this.gateway = `10.244.${record.slot}.1`;
  }

  nodeIP(index: number): string {
    return `10.244.${this.record.slot}.${241 + index}`;
  }

  async setUp(nodeCount: number): Promise<void> {
    if (nodeCount > maxNodes) throw new Error(`node agent: at most ${maxNodes} nodes`);
    await run("ip", ["link", "add", this.bridge, "type", "bridge"]);
    await run("ip", ["addr", "add", `${this.gateway}/24`, "dev", this.bridge]);
    for (let index = 0; index < nodeCount; index += 1)
      await run("ip", ["addr", "add", `${this.nodeIP(index)}/24`, "dev", this.bridge]);
    await run("ip", ["link", "set", this.bridge, "up"]);
    await this.allowBridgedTraffic();
  }

  /**
   * With br_netfilter loaded and bridge-nf-call-iptables=1, bridged frames go through the
   * FORWARD chain: if its policy drops, accept what stays on our bridge (appended, so rules
   * a test inserts to cut pods off still come first). Removed on stop.
   */
  private async allowBridgedTraffic(): Promise<void> {
    const bridged = (
      await readFile("/proc/sys/net/bridge/bridge-nf-call-iptables", "utf8").catch(() => "0")
    ).trim();
    if (bridged !== "1") return;
    const policy = /-P FORWARD (\w+)/.exec(await run("iptables", ["-S", "FORWARD"]).catch(() => ""))?.[1];
    if (policy === "ACCEPT") return;
    const rule = [
      "FORWARD",
      "-i",
      this.bridge,
      "-o",
      this.bridge,
      "-m",
      "comment",
      "--comment",
      names.iptablesComment(this.record.id),
      "-j",
      "ACCEPT",
    ];
    await run("iptables", ["-A", ...rule]);
    this.record.iptablesRules.push(rule);
    await saveRecord(this.record);
  }

  private lastHost = 1;

  /**
   * Round robin over .2-.240: a recreated pod gets a fresh IP rather than the one its
   * predecessor just gave up, which peers and the host may still have in their ARP caches
   * with the old veth's MAC address (packets to it would vanish for up to ~30 s).
   */
  private allocateHost(): number {
    for (let step = 1; step <= 239; step += 1) {
      const host = ((this.lastHost - 2 + step) % 239) + 2;
      if (!this.usedHosts.has(host)) {
        this.usedHosts.add(host);
        this.lastHost = host;
        return host;
      }
    }
    throw new Error("node agent: no free pod IP");
  }

  async createSandbox(): Promise<PodSandbox> {
    const index = this.nextIndex++;
    const host = this.allocateHost();
    const netns = names.netns(this.record.id, index);
    const veth = names.veth(this.record.id, index);
    const peer = names.vethPeer(this.record.id, index);
    const ip = `10.244.${this.record.slot}.${host}`;
    try {
      await run("ip", ["netns", "add", netns]);
      await run("ip", ["link", "add", veth, "type", "veth", "peer", "name", peer, "netns", netns]);
      await run("ip", ["link", "set", veth, "master", this.bridge, "up"]);
      const inPod = (...args: string[]) => run("ip", ["-n", netns, ...args]);
      await inPod("link", "set", "lo", "up");
      await inPod("link", "set", peer, "name", "eth0");
      await inPod("addr", "add", `${ip}/24`, "dev", "eth0");
      await inPod("link", "set", "eth0", "up");
      await inPod("route", "add", "default", "via", this.gateway);
    } catch (error) {
      await this.removeSandbox({ netns, netnsPath: `/run/netns/${netns}`, ip, veth });
      throw error;
    }
    return { netns, netnsPath: `/run/netns/${netns}`, ip, veth };
  }

  async removeSandbox(sandbox: PodSandbox): Promise<void> {
    // Deleting the namespace destroys the veth pair once no process holds the namespace.
    await runQuietly("ip", ["netns", "delete", sandbox.netns]);
    if (
      await access(`/sys/class/net/${sandbox.veth}`).then(
        () => true,
        () => false,
      )
    )
      await runQuietly("ip", ["link", "delete", sandbox.veth]);
    await runQuietly("ip", ["neigh", "del", sandbox.ip, "dev", this.bridge]);
    const host = Number(sandbox.ip.split(".")[3]);
    this.usedHosts.delete(host);
  }

  async tearDown(): Promise<void> {
    await runQuietly("ip", ["link", "delete", this.bridge]);
    for (const rule of this.record.iptablesRules) await runQuietly("iptables", ["-D", ...rule]);
    this.record.iptablesRules = [];
  }
}
