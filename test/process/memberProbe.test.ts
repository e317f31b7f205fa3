// The operator's member probe against real replicas: what it reads from /v1/status is
// what the PaxosCluster's status shows (leader, roles, health), including members that
// are down or hang.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeMembers } from "../../operator/src/memberProbe.ts";
import { assessMembers } from "../../operator/src/members.ts";
import { kubernetesTime } from "../../operator/src/status.ts";
import { ReplicaCluster, type ReplicaHandle } from "../support/replicaCluster.ts";

const httpPort = 18080;

describe("member probe (3 real replicas)", () => {
  let cluster: ReplicaCluster;
  let baseDir: string;
  let leader: ReplicaHandle;

  const targets = () => cluster.members.map((member) => ({ pod: member.name, ip: member.host }));
  const now = () => kubernetesTime(new Date());

  beforeAll(async () => {
    baseDir = await mkdtemp(join(tmpdir(), "paxos-probe-"));
    cluster = await ReplicaCluster.start({ size: 3, baseDir, httpPort });
    leader = await cluster.waitForLeader();
  });

  afterAll(async () => {
    await cluster?.stop();
    await rm(baseDir, { recursive: true, force: true });
  });

  it("reads the leader, the voters and their health", async () => {
    const probes = await probeMembers(targets(), { port: httpPort });
    expect(probes.every((probe) => probe.ok)).toBe(true);
    const assessment = assessMembers(probes, [], now());
    expect(assessment).toMatchObject({ leader: leader.name, voters: 3, healthyVoters: 3, formed: true });
    expect(assessment.members.map((member) => [member.name, member.health, member.voter])).toEqual(
      cluster.members.map((member) => [member.name, "healthy", true]),
    );
    expect(assessment.members.find((member) => member.name === leader.name)?.role).toBe("leader");
    for (const member of assessment.members) expect(member.incarnation).toMatch(/^\S+$/);
  });

  it("reports a killed member as unreachable and a frozen one as timing out", async () => {
    const [killed, frozen] = cluster.members.filter((member) => member !== leader) as [
      ReplicaHandle,
      ReplicaHandle,
    ];
    cluster.kill(killed);
    cluster.pause(frozen);
    try {
      const started = performance.now();
      const probes = await probeMembers(targets(), { port: httpPort, timeoutMs: 500 });
      // All at once: one timeout, not one per member.
      expect(performance.now() - started).toBeLessThan(1_500);
      const byPod = new Map(probes.map((probe) => [probe.pod, probe]));
      expect(byPod.get(leader.name)?.ok).toBe(true);
      expect(byPod.get(killed.name)).toMatchObject({
        ok: false,
        error: expect.stringMatching(/ECONN(REFUSED|RESET)/),
      });
      expect(byPod.get(frozen.name)).toMatchObject({
        ok: false,
        error: expect.stringContaining("no answer within 500 ms"),
      });
      const assessment = assessMembers(probes, [], now());
      // The leader alone answers: it still reports the 3 voters, 1 healthy.
      expect(assessment).toMatchObject({ leader: leader.name, voters: 3, healthyVoters: 1 });
      expect(
        assessment.members
          .filter((member) => member.health === "unreachable")
          .map((member) => member.name)
          .sort(),
      ).toEqual([killed.name, frozen.name].sort());
    } finally {
      cluster.resume(frozen);
      cluster.restart(killed);
    }
  });

  it("refuses an answer from a different member than the pod it asked", async () => {
    const [probe] = await probeMembers([{ pod: "someone-else", ip: leader.host }], { port: httpPort });
    expect(probe).toMatchObject({
      ok: false,
      error: expect.stringContaining(`answered as member ${leader.name}, not someone-else`),
    });
  });
});
