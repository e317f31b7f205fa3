import { describe, expect, it } from "vitest";
import { parseReplicaConfig, peerHost, usage } from "./config.ts";

const secret = "0123456789abcdef0123";
const base = {
  env: { PAXOS_CLUSTER_SECRET: secret, PAXOS_ADMIN_TOKEN: "admin-token-0123456789" },
  readFile: (path: string) => {
    if (path === "/secrets/peer") return `${secret}\n`;
    throw new Error("ENOENT: no such file");
  },
};

describe("parseReplicaConfig", () => {
  it("reads flags, falls back to PAXOS_* variables and defaults", () => {
    const result = parseReplicaConfig({
      ...base,
      argv: [
        "--name",
        "m0",
        "--data-dir",
        "/data",
        "--peers",
        "m1=127.0.0.2,m2=127.0.0.3",
        "--initial-members",
        "m0,m1,m2",
      ],
      env: { ...base.env, PAXOS_HTTP_PORT: "9090", PAXOS_NAME: "ignored-because-flag-wins" },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      name: "m0",
      dataDir: "/data",
      httpPort: 9090,
      peerPort: 7000,
      tickMs: 50,
    });
    expect(result.config.initialMembers).toEqual(["m0", "m1", "m2"]);
    expect(peerHost(result.config, "m2")).toBe("127.0.0.3");
    expect(peerHost(result.config, "m9")).toBeUndefined();
  });

  it("reads the secret from a file and fills a host template", () => {
    const result = parseReplicaConfig({
      ...base,
      env: { PAXOS_ADMIN_TOKEN: "admin-token-0123456789" },
      argv: [
        "--name=m0",
        "--data-dir=/d",
        "--cluster-secret-file=/secrets/peer",
        "--peer-host-template={name}.peers",
      ],
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(new TextDecoder().decode(result.config.clusterSecret)).toBe(secret);
    expect(peerHost(result.config, "m3")).toBe("m3.peers");
  });

  it("lists every problem, each naming the flag, the variable and the fix", () => {
    const result = parseReplicaConfig({
      env: {},
      readFile: base.readFile,
      argv: [
        "--name",
        "Bad_Name",
        "--http-port",
        "70000",
        "--peers",
        "m1",
        "--initial-members",
        "a,b",
        "--log-level",
        "loud",
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      `--name (PAXOS_NAME) must be a DNS label (lowercase letters, digits, '-', '.'), got "Bad_Name"`,
      "--data-dir (PAXOS_DATA_DIR) is required: directory for the log, snapshots and incarnation",
      `--peers (PAXOS_PEERS): "m1" is not name=host`,
      "--initial-members (PAXOS_INITIAL_MEMBERS) must include this member (Bad_Name) when set",
      "the cluster secret is missing: set --cluster-secret-file (PAXOS_CLUSTER_SECRET_FILE) or --cluster-secret (PAXOS_CLUSTER_SECRET)",
      "the admin token is missing: set --admin-token-file (PAXOS_ADMIN_TOKEN_FILE) or --admin-token (PAXOS_ADMIN_TOKEN)",
      '--log-level (PAXOS_LOG_LEVEL) must be one of fatal, error, warn, info, debug, trace, got "loud"',
      '--http-port (PAXOS_HTTP_PORT) must be a whole number from 0 to 65535, got "70000"',
    ]);
  });

  it("rejects unknown flags, short secrets and an unreadable secret file", () => {
    const unknown = parseReplicaConfig({ ...base, argv: ["--nmae", "m0"] });
    expect(unknown).toMatchObject({ ok: false });
    if (!unknown.ok) expect(unknown.problems[0]).toMatch(/nmae.*see --help/);
    const short = parseReplicaConfig({
      ...base,
      argv: ["--name=m0", "--data-dir=/d", "--cluster-secret=short"],
    });
    expect(short).toMatchObject({ ok: false, problems: ["the cluster secret must be at least 16 bytes"] });
    const missingFile = parseReplicaConfig({
      ...base,
      argv: ["--name=m0", "--data-dir=/d", "--cluster-secret-file=/nope"],
    });
    expect(missingFile).toMatchObject({ ok: false });
    if (!missingFile.ok) expect(missingFile.problems[0]).toMatch(/cannot read \/nope/);
  });

  it("documents every flag in the usage text", () => {
    expect(usage()).toMatch(/--initial-members VALUE\s+PAXOS_INITIAL_MEMBERS/);
    expect(usage()).toMatch(/--unsafe-no-fsync\s+PAXOS_UNSAFE_NO_FSYNC/);
  });
});
