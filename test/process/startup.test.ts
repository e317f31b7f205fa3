// A replica before its cluster exists: while the initial members find each other it
// answers /livez and /v1/status, and /readyz says it is starting (503), so a kubelet's
// readiness probe and the operator read "starting", not "wrong path".
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { jsonRequest } from "../support/jsonRequest.ts";
import { freePort } from "../support/ports.ts";
import { ManagedProcess } from "../support/processes.ts";
import { repositoryRoot } from "../support/tools.ts";
import { waitFor } from "../support/waitFor.ts";

describe("a replica waiting for the other initial members", () => {
  let dir = "";
  let replica: ManagedProcess | undefined;
  afterAll(async () => {
    await replica?.stop();
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  it("is alive, reports its incarnation, and is not ready", async () => {
    dir = await mkdtemp(join(tmpdir(), "paxos-startup-"));
    const [httpPort, peerPort] = [await freePort(), await freePort()];
    replica = ManagedProcess.start({
      name: "lonely",
      command: process.execPath,
      args: [
        join(repositoryRoot, "replica/src/main.ts"),
        "--name=m0",
        `--data-dir=${join(dir, "m0")}`,
        "--listen-host=127.0.0.1",
        `--http-port=${httpPort}`,
        `--peer-port=${peerPort}`,
        // m1 never starts: m0 stays in its bootstrap phase.
        "--peers=m0=127.0.0.1,m1=127.0.0.1",
        "--initial-members=m0,m1",
      ],
      logPath: join(dir, "m0.log"),
      env: {
        ...process.env,
        PAXOS_CLUSTER_SECRET: "startup-test-secret",
        PAXOS_ADMIN_TOKEN: "startup-test-token",
      },
    });
    const base = `http://127.0.0.1:${httpPort}`;
    const started = replica;
    const status = await waitFor(
      async () => {
        const answer = await jsonRequest(`${base}/v1/status`, "GET").catch(() => undefined);
        return answer?.status === 200
          ? (answer.body as { member: string; configuration: { voters: string[] } })
          : undefined;
      },
      {
        description: "the replica to answer /v1/status",
        timeoutMs: 20_000,
        abortIf: () => started.describeExit(),
      },
    );
    expect(status.member).toMatch(/^m0#\S+$/);
    expect(status.configuration.voters).toEqual([]);
    expect((await jsonRequest(`${base}/livez`, "GET")).status).toBe(200);
    const readiness = await jsonRequest(`${base}/readyz`, "GET");
    expect(readiness.status).toBe(503);
    expect(readiness.body).toEqual({
      ready: false,
      reason: "starting: the initial members are forming the cluster",
    });
  });
});
