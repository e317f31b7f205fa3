// A real 3-replica cluster on loopback: the HTTP API as clients meet it, including
// every kind of bad input, and paxosctl.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PeerTransport } from "../../replica/src/transport/index.ts";
import { ReplicaCluster, type ReplicaHandle } from "../support/replicaCluster.ts";
import { repositoryRoot } from "../support/tools.ts";
import { waitFor } from "../support/waitFor.ts";

const run = promisify(execFile);

describe("replica HTTP API (3 replicas)", () => {
  let cluster: ReplicaCluster;
  let baseDir: string;
  let leader: ReplicaHandle;
  let follower: ReplicaHandle;

  beforeAll(async () => {
    baseDir = await mkdtemp(join(tmpdir(), "paxos-api-"));
    cluster = await ReplicaCluster.start({ size: 3, baseDir });
    leader = await cluster.waitForLeader();
    follower = cluster.members.find((member) => member !== leader) as ReplicaHandle;
  });

  afterAll(async () => {
    await cluster?.stop();
    await rm(baseDir, { recursive: true, force: true });
  });

  it("writes through a follower (forwarded to the leader) and reads back linearizably everywhere", async () => {
    const put = await cluster.request(follower, "PUT", "/v1/kv/config/app", { body: { value: "v1" } });
    expect(put.status).toBe(200);
    const revision = (put.body as { revision: number }).revision;
    for (const member of cluster.members) {
      const get = await cluster.request(member, "GET", "/v1/kv/config/app");
      expect(get.status).toBe(200);
      expect(get.body).toMatchObject({ entry: { key: "config/app", value: "v1", modRevision: revision } });
    }
    const list = await cluster.request(leader, "GET", "/v1/kv?prefix=config/");
    expect((list.body as { entries: { key: string }[] }).entries.map((entry) => entry.key)).toEqual([
      "config/app",
    ]);
  });

  it("compare-and-set: If-Match wins once, a stale revision gets 412 and changes nothing", async () => {
    const first = await cluster.request(leader, "PUT", "/v1/kv/cas", { body: { value: "a" } });
    const revision = (first.body as { revision: number }).revision;
    const swap = await cluster.request(follower, "PUT", "/v1/kv/cas", {
      body: { value: "b" },
      headers: { "if-match": String(revision) },
    });
    expect(swap.status).toBe(200);
    const stale = await cluster.request(follower, "PUT", "/v1/kv/cas", {
      body: { value: "c" },
      headers: { "if-match": String(revision) },
    });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ error: { code: "RevisionMismatch" } });
    const get = await cluster.request(leader, "GET", "/v1/kv/cas");
    expect(get.body).toMatchObject({ entry: { value: "b" } });
  });

  it("applies a retried request once and returns the original answer", async () => {
    const headers = { "x-paxos-client-id": "retrying-client", "x-paxos-sequence": "7" };
    const first = await cluster.request(leader, "PUT", "/v1/kv/once", { body: { value: "x" }, headers });
    const retry = await cluster.request(follower, "PUT", "/v1/kv/once", { body: { value: "x" }, headers });
    expect(retry.body).toEqual(first.body);
    const get = await cluster.request(leader, "GET", "/v1/kv/once");
    expect(get.body).toMatchObject({ entry: { version: 1 } });
  });

  it("grants locks with increasing fencing tokens and refuses a second holder", async () => {
    const acquire = await cluster.request(follower, "POST", "/v1/locks/jobs", {
      body: { owner: "alice", ttlMs: 60_000 },
    });
    expect(acquire.status).toBe(200);
    const token = (acquire.body as { token: number }).token;
    const held = await cluster.request(leader, "POST", "/v1/locks/jobs", {
      body: { owner: "bob", ttlMs: 60_000 },
    });
    expect(held.status).toBe(409);
    expect(held.body).toMatchObject({ error: { code: "LockHeld" } });
    const release = await cluster.request(leader, "DELETE", "/v1/locks/jobs", {
      body: { owner: "alice", token },
    });
    expect(release.status).toBe(200);
    const next = await cluster.request(leader, "POST", "/v1/locks/jobs", {
      body: { owner: "bob", ttlMs: 60_000 },
    });
    expect((next.body as { token: number }).token).toBeGreaterThan(token);
  });

  it("answers bad input with a 4xx and a JSON reason, and changes nothing", async () => {
    const before = (await cluster.request(leader, "GET", "/v1/status")).body as { revision: number };
    const raw = async (path: string, init: RequestInit) => {
      const response = await fetch(`${leader.url}${path}`, init);
      return {
        status: response.status,
        body: (await response.json()) as { error: { code: string; message: string } },
      };
    };
    const cases = [
      [
        await raw("/v1/kv/k", {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: "{not json",
        }),
        400,
        "MalformedJson",
      ],
      [
        await raw("/v1/kv/k", {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ value: "x".repeat(1_300_000) }),
        }),
        413,
        "BodyTooLarge",
      ],
      [
        await raw("/v1/kv/k", {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ wrong: 1 }),
        }),
        400,
        "InvalidBody",
      ],
      [await raw("/v1/kv/%E0%A4%A", { method: "GET" }), 400, "InvalidKey"],
      [
        await raw("/v1/kv/k", {
          method: "PUT",
          headers: { "content-type": "application/json", "if-match": "abc" },
          body: JSON.stringify({ value: "x" }),
        }),
        400,
        "InvalidParameter",
      ],
      [await raw("/v1/nowhere", { method: "GET" }), 404, "NotFound"],
      [await raw("/v1/admin/members", { method: "GET" }), 401, "Unauthorized"],
      [
        await raw("/v1/admin/members", {
          method: "GET",
          headers: { authorization: "Bearer wrong-token-0123456789abcdef" },
        }),
        401,
        "Unauthorized",
      ],
      [
        await raw("/v1/locks/l", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ owner: "a", ttlMs: 5 }),
        }),
        400,
        "InvalidTtl",
      ],
    ] as const;
    for (const [answer, status, code] of cases) {
      expect(answer.status, code).toBe(status);
      expect(answer.body.error.code).toBe(code);
      expect(answer.body.error.message.length).toBeGreaterThan(0);
    }
    const after = (await cluster.request(leader, "GET", "/v1/status")).body as { revision: number };
    expect(after.revision).toBe(before.revision);
  });

  it("closes peer connections that send garbage or the wrong secret, counts them, and keeps serving", async () => {
    const metric = async (reason: string) => {
      const text = await (await fetch(`${leader.url}/metrics`)).text();
      let total = 0;
      for (const match of text.matchAll(
        /^paxos_peer_connections_rejected_total\{[^}]*reason="(\w+)"[^}]*\} (\d+)$/gm,
      ))
        if (reason === "any" || match[1] === reason) total += Number(match[2]);
      return total;
    };
    const garbageBefore = await metric("any");
    const badAuthBefore = await metric("badAuth");
    expect(garbageBefore).toBe(0);
    // Garbage: an HTTP request sent to the peer port. The replica closes the connection
    // (a frame header it cannot accept, or at the latest the handshake timeout) and counts it.
    const socket = connect({ host: leader.host, port: 17000 }, () =>
      socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    socket.on("error", () => undefined);
    await waitFor(async () => ((await metric("any")) > garbageBefore ? true : undefined), {
      description: "the replica to reject the garbage connection",
      timeoutMs: 15_000,
    });
    socket.destroy();
    // The wrong secret: a real transport that does not know the cluster's secret.
    const intruder = new PeerTransport({
      self: "intruder#0000",
      host: "127.0.0.1",
      port: 0,
      secret: new Uint8Array(32).fill(7),
      resolve: () => ({ host: leader.host, port: 17000 }),
      onMessage: () => undefined,
    });
    await intruder.start();
    const status = (await cluster.status(leader)) as { member: string };
    for (let attempt = 0; attempt < 20 && (await metric("badAuth")) === badAuthBefore; attempt += 1) {
      intruder.send({
        from: "intruder#0000",
        to: status.member,
        message: {
          type: "prepare",
          ballot: { round: 999, proposer: "intruder#0000" },
          fromSlot: 1,
          transfer: true,
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await intruder.close();
    expect(await metric("badAuth")).toBeGreaterThan(badAuthBefore);
    const after = (await cluster.status(leader)) as { role: string; ballot: { round: number } };
    expect(after.role).toBe("leader");
    expect(after.ballot.round).toBeLessThan(999);
    expect(
      (await cluster.request(follower, "PUT", "/v1/kv/still-serving", { body: { value: "yes" } })).status,
    ).toBe(200);
  });

  it("streams changes from a revision as server-sent events", async () => {
    const first = await cluster.request(leader, "PUT", "/v1/kv/watched/one", { body: { value: "1" } });
    const fromRevision = (first.body as { revision: number }).revision;
    const controller = new AbortController();
    const response = await fetch(`${follower.url}/v1/watch?prefix=watched/&fromRevision=${fromRevision}`, {
      signal: controller.signal,
    });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    await cluster.request(leader, "PUT", "/v1/kv/watched/two", { body: { value: "2" } });
    await cluster.request(leader, "PUT", "/v1/kv/elsewhere", { body: { value: "x" } });
    await cluster.request(leader, "DELETE", "/v1/kv/watched/one");
    const events: { type: string; key: string; revision: number }[] = [];
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      for (const line of buffered.split("\n"))
        if (line.startsWith("data: ")) events.push(JSON.parse(line.slice(6)));
      buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
      if (events.length >= 3) break;
    }
    controller.abort();
    expect(events.map((event) => `${event.type} ${event.key}`)).toEqual([
      "put watched/one",
      "put watched/two",
      "delete watched/one",
    ]);
    expect(events[0]?.revision).toBe(fromRevision);
  });

  it("refuses bad replica flags with every problem and exit code 2", async () => {
    const failure = await run(
      process.execPath,
      [join(repositoryRoot, "replica/src/main.ts"), "--name=Bad_Name", "--http-port=99999"],
      {
        env: { PATH: process.env.PATH ?? "" },
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 2 });
    const stderr = (failure as { stderr: string }).stderr;
    expect(stderr).toMatch(/paxos-replica: --data-dir \(PAXOS_DATA_DIR\) is required/);
    expect(stderr).toMatch(
      /paxos-replica: --http-port \(PAXOS_HTTP_PORT\) must be a whole number from 0 to 65535/,
    );
    expect(stderr).toMatch(/run with --help/);
    expect(stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it("reports status, readiness and metrics", async () => {
    const status = (await cluster.request(follower, "GET", "/v1/status")).body as Record<string, unknown>;
    expect(status).toMatchObject({ role: "follower", fenced: false });
    expect(status.leader).toMatch(new RegExp(`^${leader.name}#`));
    expect((await cluster.request(follower, "GET", "/readyz")).status).toBe(200);
    const metrics = await (await fetch(`${leader.url}/metrics`)).text();
    expect(metrics).toMatch(/^paxos_is_leader\{member="[^"]+"\} 1$/m);
    expect(metrics).toMatch(/^paxos_http_requests_total\{/m);
    expect(metrics).toMatch(/^paxos_commit_latency_seconds_bucket\{/m);
    expect(metrics).toMatch(/^paxos_storage_bytes\{[^}]*kind="log"[^}]*\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^paxos_batch_requests_count\{[^}]*\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^paxos_peer_last_contact_seconds\{/m);
  });

  it("paxosctl puts, gets and shows status, and says what to do when the endpoint is down", async () => {
    const paxosctl = (...args: string[]) =>
      run(
        process.execPath,
        [join(repositoryRoot, "replica/src/cli/paxosctl.ts"), `--endpoint=${follower.url}`, ...args],
        {
          env: { ...process.env, PAXOSCTL_TOKEN: cluster.adminToken },
        },
      );
    expect((await paxosctl("put", "cli-key", "cli-value")).stdout).toMatch(/^OK revision \d+/);
    expect((await paxosctl("get", "cli-key")).stdout).toMatch(/^cli-value\t\(revision \d+\)/);
    expect(JSON.parse((await paxosctl("-o", "json", "get", "cli-key")).stdout)).toMatchObject({
      entry: { value: "cli-value" },
    });
    expect((await paxosctl("status")).stdout).toMatch(/role:\s+follower/);
    expect(JSON.parse((await paxosctl("-o", "json", "members")).stdout).voters).toHaveLength(3);
    const down = await run(process.execPath, [
      join(repositoryRoot, "replica/src/cli/paxosctl.ts"),
      "--endpoint=http://127.0.0.1:1",
      "get",
      "k",
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(down).toMatchObject({ code: 1 });
    expect((down as { stderr: string }).stderr).toMatch(
      /cannot reach the replicas: .*set --endpoint or PAXOSCTL_ENDPOINT/,
    );
    const noToken = await run(
      process.execPath,
      [join(repositoryRoot, "replica/src/cli/paxosctl.ts"), `--endpoint=${follower.url}`, "members"],
      {
        env: { ...process.env, PAXOSCTL_TOKEN: "" },
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect((noToken as { stderr: string }).stderr).toMatch(/pass --token or set PAXOSCTL_TOKEN/);
  });
});

describe("membership admin calls are idempotent (3 replicas)", () => {
  let cluster: ReplicaCluster;
  let baseDir: string;

  beforeAll(async () => {
    baseDir = await mkdtemp(join(tmpdir(), "paxos-admin-"));
    cluster = await ReplicaCluster.start({ size: 3, baseDir });
  });

  afterAll(async () => {
    await cluster?.stop();
    await rm(baseDir, { recursive: true, force: true });
  });

  it("a repeated add, promote, fence, unfence, remove or evict answers 200 alreadyApplied and changes nothing; another incarnation of a present name is still refused", async () => {
    const leader = await cluster.waitForLeader();
    const [member, other] = cluster.members.filter((candidate) => candidate !== leader) as [
      ReplicaHandle,
      ReplicaHandle,
    ];
    const key = ((await cluster.status(member)) as { member: string }).member;
    const otherIncarnation = `${member.name}#${"0".repeat(16)}`;
    expect(otherIncarnation).not.toBe(key);
    // Every change goes to a follower, which forwards it: only the leader decides.
    const admin = (method: string, path: string, body?: unknown) =>
      cluster.request(other, method, path, { admin: true, ...(body === undefined ? {} : { body }) });
    // The leader's committed configuration (a member answers GET with its own).
    const members = async () =>
      (await cluster.request(leader, "GET", "/v1/admin/members", { admin: true })).body as {
        voters: string[];
        learners: string[];
      };
    const committedIndex = async () =>
      ((await cluster.status(leader)) as { committedIndex: number }).committedIndex;
    const call = {
      remove: () => admin("DELETE", `/v1/admin/members/${encodeURIComponent(key)}`),
      addLearner: () => admin("POST", "/v1/admin/members", { member: key }),
      promote: () => admin("POST", `/v1/admin/members/${encodeURIComponent(key)}/promote`),
      fence: () => admin("POST", `/v1/admin/members/${encodeURIComponent(key)}/fence`),
      unfence: () => admin("POST", `/v1/admin/members/${encodeURIComponent(key)}/unfence`),
      evict: () => admin("POST", `/v1/admin/members/${encodeURIComponent(key)}/evict`),
    };
    /** The change is made once (retried while the leader says to come back later), then once more. */
    const twice = async (name: keyof typeof call) => {
      const first = await waitFor(
        async () => {
          const answer = await call[name]();
          if (answer.status === 409) return undefined;
          return answer;
        },
        { description: `${name} ${key} to be accepted`, timeoutMs: 20_000, intervalMs: 200 },
      );
      expect(first, `first ${name}`).toMatchObject({ status: 200, body: { alreadyApplied: false } });
      const configuration = await members();
      const again = await call[name]();
      expect(again, `second ${name}`).toMatchObject({ status: 200, body: { alreadyApplied: true } });
      const slot = (again.body as { slot: number }).slot;
      expect(slot).toBeGreaterThanOrEqual((first.body as { slot: number }).slot);
      expect(slot).toBeLessThanOrEqual(await committedIndex());
      expect(await members(), `configuration after the second ${name}`).toEqual(configuration);
      return configuration;
    };
    const refused = async (answer: Promise<Awaited<ReturnType<typeof admin>>>) => {
      const before = await members();
      expect(await answer).toMatchObject({ status: 400, body: { error: { code: "InvalidChange" } } });
      expect(await members()).toEqual(before);
    };

    expect((await twice("remove")).voters).not.toContain(key);
    expect((await twice("addLearner")).learners).toEqual([key]);
    await refused(admin("POST", "/v1/admin/members", { member: otherIncarnation }));
    expect((await twice("promote")).voters).toContain(key);
    await refused(admin("POST", "/v1/admin/members", { member: otherIncarnation }));
    expect(await twice("fence")).toMatchObject({ fenced: [key] });
    // Fenced: the member serves no client, neither locally nor by forwarding to the leader,
    // and says so in its readiness; its admin routes still work (they unfence it).
    const fenced = await waitFor(
      async () => {
        const answer = await cluster.request(member, "PUT", "/v1/kv/fenced-write", { body: { value: "x" } });
        return answer.status === 503 ? answer : undefined;
      },
      { description: `${member.name} to learn it is fenced`, timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(fenced.body).toMatchObject({ error: { code: "Fenced" } });
    for (const path of [
      "/v1/kv/fenced-write",
      "/v1/kv/fenced-write?consistency=serializable",
      "/v1/watch?prefix=fenced",
      "/v1/locks/fenced",
    ])
      expect(await cluster.request(member, "GET", path)).toMatchObject({
        status: 503,
        body: { error: { code: "Fenced" } },
      });
    expect((await cluster.request(member, "GET", "/readyz")).status).toBe(503);
    expect((await cluster.request(member, "GET", "/v1/admin/members", { admin: true })).status).toBe(200);
    expect(await twice("unfence")).toMatchObject({ fenced: [] });
    expect(await twice("evict")).toMatchObject({ evicted: [key] });
    // An evicted key counts as removed, but never as promoted.
    expect(await call.remove()).toMatchObject({ status: 200, body: { alreadyApplied: true } });
    await refused(call.promote());
  });
});
