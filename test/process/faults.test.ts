// Real faults against real replica processes: SIGKILL, SIGSTOP, iptables partitions,
// a wiped data directory. Every test that puts load on the cluster checks its history
// with the linearizability checker, and no acknowledged write may be lost.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkHistory, type HistoryOperation } from "../support/lincheck.ts";
import { runLoad } from "../support/load.ts";
import { ReplicaCluster, type ReplicaHandle } from "../support/replicaCluster.ts";
import { waitFor } from "../support/waitFor.ts";

const keys = ["a", "b", "c"];
let cluster: ReplicaCluster | undefined;
let baseDir = "";

async function startCluster(size: number, electionTimeoutTicks?: number): Promise<ReplicaCluster> {
  baseDir = await mkdtemp(join(tmpdir(), "paxos-faults-"));
  cluster = await ReplicaCluster.start({
    size,
    baseDir,
    ...(electionTimeoutTicks === undefined ? {} : { electionTimeoutTicks }),
  });
  return cluster;
}

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
  await rm(baseDir, { recursive: true, force: true });
});

const now = () => Number(process.hrtime.bigint() / 1000n);

/** Reads every key once from a healthy member and appends the reads to the history. */
async function finalReads(
  target: ReplicaCluster,
  member: ReplicaHandle,
  history: HistoryOperation[],
): Promise<void> {
  for (const key of keys) {
    const call = now();
    const answer = await target.request(member, "GET", `/v1/kv/${key}`);
    expect(answer.status).toBe(200);
    const entry = (answer.body as { entry: { value: string; modRevision: number } | null }).entry;
    history.push({
      clientId: 1000,
      input: { op: "get", key },
      output:
        entry === null ? { found: false } : { found: true, value: entry.value, revision: entry.modRevision },
      call,
      return: now(),
    });
  }
}

async function expectLinearizable(history: HistoryOperation[], name: string): Promise<void> {
  const result = await checkHistory({ model: "kv", operations: history }, { timeoutSeconds: 60, name });
  expect(result.verdict, result.report).toBe("linearizable");
}

async function writeOk(
  target: ReplicaCluster,
  member: ReplicaHandle,
  key: string,
  value: string,
): Promise<number> {
  return waitFor(
    async () => {
      const answer = await target
        .request(member, "PUT", `/v1/kv/${key}`, { body: { value } })
        .catch(() => undefined);
      return answer?.status === 200 ? (answer.body as { revision: number }).revision : undefined;
    },
    { description: `a write of ${key} to succeed`, timeoutMs: 20_000, intervalMs: 20 },
  );
}

describe("replica processes under faults", () => {
  it.each([3, 5])("SIGKILL the leader of %i: a new leader is elected and writes resume", async (size) => {
    const replicas = await startCluster(size);
    const leader = await replicas.waitForLeader();
    const survivor = replicas.members.find((member) => member !== leader) as ReplicaHandle;
    await writeOk(replicas, survivor, "a", "before");
    const killedAt = Date.now();
    replicas.kill(leader);
    await writeOk(replicas, survivor, "a", "after");
    const gapMs = Date.now() - killedAt;
    console.log(`leader failover (${size} replicas): writes resumed ${gapMs} ms after SIGKILL of the leader`);
    const newLeader = await replicas.waitForLeader(replicas.members.filter((member) => member !== leader));
    expect(newLeader).not.toBe(leader);
    expect(gapMs).toBeLessThan(10_000);
  });

  it("SIGKILL every replica during a write load, restart them: every acknowledged write is there", async () => {
    const replicas = await startCluster(3);
    const loadDone = runLoad(replicas, {
      clients: 6,
      durationMs: 2_500,
      keys,
      readFraction: 0.2,
      timeoutMs: 1_500,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    for (const member of replicas.members) replicas.kill(member);
    const load = await loadDone;
    expect(load.stats.ok).toBeGreaterThan(10);
    for (const member of replicas.members) await member.process?.exited;
    for (const member of replicas.members) replicas.restart(member);
    const leader = await replicas.waitForLeader();
    await finalReads(replicas, leader, load.history);
    // Every acknowledged write is still the key's value or was overwritten by a later one.
    for (const write of load.acknowledged) {
      const answer = await replicas.request(leader, "GET", `/v1/kv/${write.key}`);
      const entry = (answer.body as { entry: { modRevision: number } | null }).entry;
      expect(entry?.modRevision ?? 0).toBeGreaterThanOrEqual(write.revision);
    }
    await expectLinearizable(load.history, "kill-all");
  });

  it("a follower whose leader just died says the write was refused, not that its outcome is unknown", async () => {
    // A 2 s election timeout (100 ticks of 20 ms): the follower keeps its dead leader that long.
    const replicas = await startCluster(3, 100);
    const leader = await replicas.waitForLeader();
    const follower = replicas.members.find((member) => member !== leader) as ReplicaHandle;
    replicas.kill(leader);
    await leader.process?.exited;
    const answer = await replicas.request(follower, "PUT", "/v1/kv/refused", { body: { value: "x" } });
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({
      error: { code: "LeaderRefused", message: expect.stringContaining("the request was not applied") },
    });
    // Whatever the follower said, the write is not there once a new leader serves.
    await replicas.waitForLeader();
    const read = await replicas.request(follower, "GET", "/v1/kv/refused");
    expect((read.body as { entry: unknown }).entry).toBeNull();
  });

  it("a minority cut off by iptables answers 503 quickly; the majority serves; all converge after healing", async () => {
    const replicas = await startCluster(3);
    const leader = await replicas.waitForLeader();
    const isolated = replicas.members.find((member) => member !== leader) as ReplicaHandle;
    const majority = replicas.members.filter((member) => member !== isolated);
    await replicas.partition([isolated], majority);
    const started = Date.now();
    const write = await replicas.request(isolated, "PUT", "/v1/kv/a", { body: { value: "minority" } });
    const read = await replicas.request(isolated, "GET", "/v1/kv/a");
    expect(write.status).toBe(503);
    expect(read.status).toBe(503);
    expect(write.headers.get("retry-after")).toBe("1");
    expect(Date.now() - started).toBeLessThan(6_000);
    const revision = await writeOk(replicas, leader, "a", "majority");
    await replicas.heal();
    await waitFor(
      async () => {
        const answer = await replicas.request(isolated, "GET", "/v1/kv/a?consistency=serializable");
        const entry = (answer.body as { entry: { modRevision: number } | null }).entry;
        return entry !== null && entry.modRevision >= revision ? true : undefined;
      },
      { description: "the healed member to catch up", timeoutMs: 20_000 },
    );
  });

  it("5 replicas: two cut off answer 503, the three others keep serving and writing", async () => {
    const replicas = await startCluster(5);
    const leader = await replicas.waitForLeader();
    const others = replicas.members.filter((member) => member !== leader);
    const minority = others.slice(0, 2);
    const majority = replicas.members.filter((member) => !minority.includes(member));
    await replicas.partition(minority, majority);
    const loadDone = runLoad(replicas, {
      clients: 4,
      durationMs: 2_000,
      keys,
      timeoutMs: 1_500,
      targets: () => majority,
    });
    for (const member of minority) {
      const answer = await replicas.request(member, "PUT", "/v1/kv/a", { body: { value: "cut-off" } });
      expect(answer.status).toBe(503);
    }
    const load = await loadDone;
    expect(load.stats.ok).toBeGreaterThan(20);
    await replicas.heal();
    await finalReads(replicas, leader, load.history);
    await expectLinearizable(load.history, "five-minority");
  });

  it("isolating the leader: the rest elect a new one, the old one stops serving", async () => {
    const replicas = await startCluster(3);
    const leader = await replicas.waitForLeader();
    const rest = replicas.members.filter((member) => member !== leader);
    await replicas.partition([leader], rest);
    const newLeader = await replicas.waitForLeader(rest);
    await writeOk(replicas, newLeader, "b", "new-leader");
    const stale = await replicas.request(leader, "GET", "/v1/kv/b");
    expect(stale.status).toBe(503);
    await replicas.heal();
    await waitFor(
      async () => {
        const answer = await replicas.request(leader, "GET", "/v1/kv/b").catch(() => undefined);
        return answer?.status === 200 ? answer.body : undefined;
      },
      { description: "the old leader to follow and serve again", timeoutMs: 20_000 },
    );
  });

  it("SIGSTOP the leader past the election timeout, then SIGCONT: no stale read", async () => {
    const replicas = await startCluster(3);
    const leader = await replicas.waitForLeader();
    const others = replicas.members.filter((member) => member !== leader);
    let paused = false;
    const loadDone = runLoad(replicas, {
      clients: 4,
      durationMs: 3_000,
      keys,
      timeoutMs: 1_500,
      targets: () => (paused ? others : replicas.members),
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    replicas.pause(leader);
    paused = true;
    await replicas.waitForLeader(others);
    await new Promise((resolve) => setTimeout(resolve, 800));
    replicas.resume(leader);
    paused = false;
    const load = await loadDone;
    // Reads from the old leader right after it wakes up must not be stale either.
    await finalReads(replicas, leader, load.history);
    await expectLinearizable(load.history, "sigstop");
  });

  it("a wiped member comes back as a new incarnation and rejoins as learner, then voter; no write is lost", async () => {
    const replicas = await startCluster(3);
    const leader = await replicas.waitForLeader();
    const victim = replicas.members.find((member) => member !== leader) as ReplicaHandle;
    const oldKey = ((await replicas.status(victim)) as { member: string }).member;
    const revision = await writeOk(replicas, leader, "c", "kept");
    await replicas.wipe(victim);
    replicas.restart(victim);
    const fresh = await waitFor(
      async () =>
        (await replicas.status(victim)) as
          | { member: string; configuration: { voters: string[] } }
          | undefined,
      {
        description: "the wiped member to start",
        timeoutMs: 20_000,
      },
    );
    expect(fresh.member).not.toBe(oldKey);
    expect(fresh.member.split("#")[0]).toBe(victim.name);
    // It is not its old self: not in the configuration, not ready.
    expect(fresh.configuration.voters).toEqual([]);
    expect((await replicas.request(victim, "GET", "/readyz")).status).toBe(503);
    const admin = (method: string, path: string, body?: unknown) =>
      replicas.request(leader, method, path, { admin: true, ...(body === undefined ? {} : { body }) });
    expect((await admin("POST", `/v1/admin/members/${encodeURIComponent(oldKey)}/evict`)).status).toBe(200);
    expect((await admin("POST", "/v1/admin/members", { member: fresh.member })).status).toBe(200);
    await waitFor(
      async () =>
        (await admin("POST", `/v1/admin/members/${encodeURIComponent(fresh.member)}/promote`)).status === 200
          ? true
          : undefined,
      { description: "the new incarnation to catch up and be promoted", timeoutMs: 20_000, intervalMs: 200 },
    );
    const members = (await admin("GET", "/v1/admin/members")).body as { voters: string[]; evicted: string[] };
    expect(members.voters).toContain(fresh.member);
    expect(members.evicted).toContain(oldKey);
    await replicas.waitUntilReady([victim]);
    const read = await replicas.request(victim, "GET", "/v1/kv/c");
    expect(read.body).toMatchObject({ entry: { value: "kept", modRevision: revision } });
  });

  it("lock fencing tokens keep increasing across leader changes", async () => {
    const replicas = await startCluster(3);
    const tokens: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      const leader = await replicas.waitForLeader();
      const acquired = await waitFor(
        async () => {
          const answer = await replicas
            .request(leader, "POST", "/v1/locks/leader-job", {
              body: { owner: `owner-${round}`, ttlMs: 60_000 },
            })
            .catch(() => undefined);
          return answer?.status === 200 ? (answer.body as { token: number }) : undefined;
        },
        { description: "the lock", timeoutMs: 20_000, intervalMs: 50 },
      );
      tokens.push(acquired.token);
      const released = await replicas.request(leader, "DELETE", "/v1/locks/leader-job", {
        body: { owner: `owner-${round}`, token: acquired.token },
      });
      expect(released.status).toBe(200);
      // Move leadership: kill the leader and bring it back as a follower.
      replicas.kill(leader);
      await leader.process?.exited;
      replicas.restart(leader);
    }
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
    expect(new Set(tokens).size).toBe(tokens.length);
  });
});
