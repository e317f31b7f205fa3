// The operator's admin client against real replicas: the calls the membership and fencing
// planners make, their idempotent answers, and errors that say which call failed and why.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changeMembership, ReplicaAdminError, transferLeadership } from "../../operator/src/replicaAdmin.ts";
import { ReplicaCluster, type ReplicaHandle } from "../support/replicaCluster.ts";
import { waitFor } from "../support/waitFor.ts";

const httpPort = 18180;

describe("replica admin client (3 real replicas)", () => {
  let cluster: ReplicaCluster;
  let baseDir: string;
  let leader: ReplicaHandle;

  const target = (member: ReplicaHandle, token = cluster.adminToken) => ({
    ip: member.host,
    port: httpPort,
    token,
  });
  const keyOf = async (member: ReplicaHandle) =>
    ((await cluster.status(member)) as { member: string }).member;

  beforeAll(async () => {
    baseDir = await mkdtemp(join(tmpdir(), "paxos-admin-client-"));
    cluster = await ReplicaCluster.start({ size: 3, baseDir, httpPort });
    leader = await cluster.waitForLeader();
  });

  afterAll(async () => {
    await cluster?.stop();
    await rm(baseDir, { recursive: true, force: true });
  });

  it("fences and unfences through the leader, and a repeated call reports it was already applied", async () => {
    const follower = cluster.members.find((member) => member !== leader) as ReplicaHandle;
    const key = await keyOf(follower);
    expect(await changeMembership(target(leader), "fence", key)).toMatchObject({ alreadyApplied: false });
    expect(await changeMembership(target(leader), "fence", key)).toMatchObject({ alreadyApplied: true });
    expect(await changeMembership(target(leader), "unfence", key)).toMatchObject({ alreadyApplied: false });
    const status = (await cluster.status(leader)) as { configuration: { fenced: string[] } };
    expect(status.configuration.fenced).toEqual([]);
  });

  it("hands leadership over to the member it names", async () => {
    const next = cluster.members.find((member) => member !== leader) as ReplicaHandle;
    await transferLeadership(target(leader), await keyOf(next));
    leader = await waitFor(
      async () => (((await cluster.status(next)) as { role: string }).role === "leader" ? next : undefined),
      { description: `${next.name} to lead`, timeoutMs: 10_000 },
    );
  });

  it("throws errors that name the call, the HTTP status and the replica's reason", async () => {
    const refused = await changeMembership(target(leader), "promote", "nobody#0000").catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ReplicaAdminError);
    expect(refused).toMatchObject({ status: 400, code: "InvalidChange" });
    expect((refused as Error).message).toMatch(
      /POST http:\/\/.*\/v1\/admin\/members\/nobody%230000\/promote answered HTTP 400 InvalidChange: .*not a learner/,
    );

    const unauthorized = await changeMembership(target(leader, "wrong-token"), "fence", "x#1").catch(
      (error: unknown) => error,
    );
    expect(unauthorized).toMatchObject({ status: 401 });

    const nowhere = await changeMembership(
      { ip: "127.0.0.1", port: 1, token: "t", timeoutMs: 1_000 },
      "fence",
      "x#1",
    ).catch((error: unknown) => error);
    expect(nowhere).toBeInstanceOf(ReplicaAdminError);
    expect((nowhere as Error).message).toContain("http://127.0.0.1:1/v1/admin/members/x%231/fence");
    expect((nowhere as ReplicaAdminError).status).toBeUndefined();
  });
});
