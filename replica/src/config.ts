// The replica's configuration: command-line flags, each with a PAXOS_* environment
// variable (flags win). Parsing is pure: it returns the configuration or every
// problem found, each naming the flag, the variable and what to do.
import { parseArgs } from "node:util";

export interface ReplicaConfig {
  /** This member's name (the pod name under Kubernetes). */
  readonly name: string;
  readonly dataDir: string;
  /** The address this member listens on for clients (HTTP) and peers. */
  readonly listenHost: string;
  readonly httpPort: number;
  readonly peerPort: number;
  /** Peers by name → host; they listen on the same ports as this member. */
  readonly peerHosts: ReadonlyMap<string, string>;
  /** A host for any name not in peerHosts, e.g. "{name}.orders-peers.default.svc". */
  readonly peerHostTemplate: string | undefined;
  /** Names of the members of a new cluster; empty when this member joins an existing one. */
  readonly initialMembers: readonly string[];
  /** The shared secret for peer authentication (from a file or the environment). */
  readonly clusterSecret: Uint8Array;
  /** Bearer token for /v1/admin routes. */
  readonly adminToken: string;
  readonly tickMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatTicks: number;
  readonly requestTimeoutMs: number;
  readonly maxBodyBytes: number;
  readonly compactAfterEntries: number;
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace";
  /** Unsafe: no fsync. For benchmarks that measure everything but the disk. */
  readonly unsafeNoFsync: boolean;
}

interface OptionSpec {
  readonly flag: string;
  readonly env: string;
  readonly help: string;
  readonly default?: string;
  readonly boolean?: boolean;
}

export const optionSpecs = {
  name: { flag: "name", env: "PAXOS_NAME", help: "this member's name (the pod name)" },
  dataDir: {
    flag: "data-dir",
    env: "PAXOS_DATA_DIR",
    help: "directory for the log, snapshots and incarnation",
  },
  listenHost: {
    flag: "listen-host",
    env: "PAXOS_LISTEN_HOST",
    help: "address to listen on",
    default: "0.0.0.0",
  },
  httpPort: {
    flag: "http-port",
    env: "PAXOS_HTTP_PORT",
    help: "client and admin HTTP port",
    default: "8080",
  },
  peerPort: { flag: "peer-port", env: "PAXOS_PEER_PORT", help: "peer protocol port", default: "7000" },
  peers: { flag: "peers", env: "PAXOS_PEERS", help: "peer hosts, name=host,name=host", default: "" },
  peerHostTemplate: {
    flag: "peer-host-template",
    env: "PAXOS_PEER_HOST_TEMPLATE",
    help: 'host of a peer not in --peers, with {name}, e.g. "{name}.orders-peers"',
  },
  initialMembers: {
    flag: "initial-members",
    env: "PAXOS_INITIAL_MEMBERS",
    help: "names of a new cluster's members, a,b,c (omit to join an existing cluster)",
    default: "",
  },
  clusterSecretFile: {
    flag: "cluster-secret-file",
    env: "PAXOS_CLUSTER_SECRET_FILE",
    help: "file holding the peer secret",
  },
  clusterSecret: { flag: "cluster-secret", env: "PAXOS_CLUSTER_SECRET", help: "the peer secret itself" },
  adminTokenFile: {
    flag: "admin-token-file",
    env: "PAXOS_ADMIN_TOKEN_FILE",
    help: "file holding the admin token",
  },
  adminToken: { flag: "admin-token", env: "PAXOS_ADMIN_TOKEN", help: "bearer token for /v1/admin" },
  tickMs: { flag: "tick-ms", env: "PAXOS_TICK_MS", help: "protocol clock tick", default: "50" },
  electionTimeoutTicks: {
    flag: "election-timeout-ticks",
    env: "PAXOS_ELECTION_TIMEOUT_TICKS",
    help: "ticks without a leader before campaigning",
    default: "20",
  },
  heartbeatTicks: {
    flag: "heartbeat-ticks",
    env: "PAXOS_HEARTBEAT_TICKS",
    help: "ticks between heartbeats",
    default: "2",
  },
  requestTimeoutMs: {
    flag: "request-timeout-ms",
    env: "PAXOS_REQUEST_TIMEOUT_MS",
    help: "how long a client request may wait for a quorum before 503",
    default: "3000",
  },
  maxBodyBytes: {
    flag: "max-body-bytes",
    env: "PAXOS_MAX_BODY_BYTES",
    help: "largest HTTP body",
    default: "1200000",
  },
  compactAfterEntries: {
    flag: "compact-after-entries",
    env: "PAXOS_COMPACT_AFTER_ENTRIES",
    help: "log entries between snapshots",
    default: "10000",
  },
  logLevel: {
    flag: "log-level",
    env: "PAXOS_LOG_LEVEL",
    help: "fatal, error, warn, info, debug or trace",
    default: "info",
  },
  unsafeNoFsync: {
    flag: "unsafe-no-fsync",
    env: "PAXOS_UNSAFE_NO_FSYNC",
    help: "never fsync (loses acknowledged writes on power loss; benchmarks only)",
    boolean: true,
  },
} as const satisfies Record<string, OptionSpec>;

type OptionName = keyof typeof optionSpecs;

export type ConfigResult =
  | { readonly ok: true; readonly config: ReplicaConfig }
  | { readonly ok: false; readonly problems: readonly string[] };

export interface ConfigSources {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
}

const namePattern = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;
const logLevels = ["fatal", "error", "warn", "info", "debug", "trace"] as const;

export function usage(): string {
  const lines = Object.values(optionSpecs).map((spec: OptionSpec) => {
    const flag = `--${spec.flag}${spec.boolean ? "" : " VALUE"}`;
    const fallback = spec.default !== undefined && spec.default !== "" ? ` (default ${spec.default})` : "";
    return `  ${flag.padEnd(32)} ${spec.env.padEnd(30)} ${spec.help}${fallback}`;
  });
  return `usage: paxos-replica [flags]   (every flag also reads its PAXOS_* variable)\n${lines.join("\n")}`;
}

export function parseReplicaConfig(sources: ConfigSources): ConfigResult {
  const problems: string[] = [];
  let flags: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(
      Object.values(optionSpecs).map((spec: OptionSpec) => [
        spec.flag,
        { type: spec.boolean ? ("boolean" as const) : ("string" as const) },
      ]),
    );
    flags = parseArgs({ args: [...sources.argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return { ok: false, problems: [`${(error as Error).message}; see --help`] };
  }
  const raw = (name: OptionName): string | undefined => {
    const spec: OptionSpec = optionSpecs[name];
    const fromFlag = flags[spec.flag];
    if (typeof fromFlag === "string") return fromFlag;
    if (fromFlag === true) return "true";
    return sources.env[spec.env] ?? spec.default;
  };
  const describe = (name: OptionName) => `--${optionSpecs[name].flag} (${optionSpecs[name].env})`;
  const required = (name: OptionName): string => {
    const value = raw(name);
    if (value === undefined || value === "") {
      problems.push(`${describe(name)} is required: ${optionSpecs[name].help}`);
      return "";
    }
    return value;
  };
  const integer = (name: OptionName, minimum: number, maximum: number): number => {
    const text = raw(name) ?? "";
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
      problems.push(
        `${describe(name)} must be a whole number from ${minimum} to ${maximum}, got ${JSON.stringify(text)}`,
      );
      return minimum;
    }
    return value;
  };
  const secret = (valueName: OptionName, fileName: OptionName, what: string): string | undefined => {
    const path = raw(fileName);
    if (path !== undefined && path !== "") {
      try {
        return sources.readFile(path).trim();
      } catch (error) {
        problems.push(`${describe(fileName)}: cannot read ${path}: ${(error as Error).message}`);
        return undefined;
      }
    }
    const value = raw(valueName);
    if (value === undefined || value === "")
      problems.push(`${what} is missing: set ${describe(fileName)} or ${describe(valueName)}`);
    return value;
  };

  const name = required("name");
  if (name !== "" && !namePattern.test(name))
    problems.push(
      `${describe("name")} must be a DNS label (lowercase letters, digits, '-', '.'), got ${JSON.stringify(name)}`,
    );
  const dataDir = required("dataDir");
  const peerHosts = new Map<string, string>();
  for (const item of (raw("peers") ?? "").split(",").filter((part) => part.trim() !== "")) {
    const [peerName, host, ...rest] = item.trim().split("=");
    if (
      peerName === undefined ||
      host === undefined ||
      rest.length > 0 ||
      !namePattern.test(peerName) ||
      host === ""
    )
      problems.push(`${describe("peers")}: ${JSON.stringify(item)} is not name=host`);
    else peerHosts.set(peerName, host);
  }
  const peerHostTemplate = raw("peerHostTemplate");
  if (peerHostTemplate !== undefined && !peerHostTemplate.includes("{name}"))
    problems.push(
      `${describe("peerHostTemplate")} must contain {name}, got ${JSON.stringify(peerHostTemplate)}`,
    );
  const initialMembers = (raw("initialMembers") ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  for (const member of initialMembers)
    if (!namePattern.test(member))
      problems.push(`${describe("initialMembers")}: ${JSON.stringify(member)} is not a name`);
  if (initialMembers.length > 0 && name !== "" && !initialMembers.includes(name))
    problems.push(`${describe("initialMembers")} must include this member (${name}) when set`);
  if (new Set(initialMembers).size !== initialMembers.length)
    problems.push(`${describe("initialMembers")} lists a member twice`);
  const clusterSecret = secret("clusterSecret", "clusterSecretFile", "the cluster secret");
  if (clusterSecret !== undefined && Buffer.byteLength(clusterSecret) < 16)
    problems.push("the cluster secret must be at least 16 bytes");
  const adminToken = secret("adminToken", "adminTokenFile", "the admin token");
  if (adminToken !== undefined && adminToken.length < 16)
    problems.push("the admin token must be at least 16 characters");
  const logLevel = raw("logLevel") ?? "info";
  if (!(logLevels as readonly string[]).includes(logLevel))
    problems.push(
      `${describe("logLevel")} must be one of ${logLevels.join(", ")}, got ${JSON.stringify(logLevel)}`,
    );
  const electionTimeoutTicks = integer("electionTimeoutTicks", 3, 10_000);
  const heartbeatTicks = integer("heartbeatTicks", 1, 1_000);
  if (heartbeatTicks >= electionTimeoutTicks)
    problems.push(`${describe("heartbeatTicks")} must be below ${describe("electionTimeoutTicks")}`);
  const config: ReplicaConfig = {
    name,
    dataDir,
    listenHost: raw("listenHost") ?? "0.0.0.0",
    httpPort: integer("httpPort", 0, 65_535),
    peerPort: integer("peerPort", 0, 65_535),
    peerHosts,
    peerHostTemplate,
    initialMembers,
    clusterSecret: new TextEncoder().encode(clusterSecret ?? ""),
    adminToken: adminToken ?? "",
    tickMs: integer("tickMs", 1, 10_000),
    electionTimeoutTicks,
    heartbeatTicks,
    requestTimeoutMs: integer("requestTimeoutMs", 10, 600_000),
    maxBodyBytes: integer("maxBodyBytes", 1_024, 64 * 1024 * 1024),
    compactAfterEntries: integer("compactAfterEntries", 10, 10_000_000),
    logLevel: logLevel as ReplicaConfig["logLevel"],
    unsafeNoFsync: raw("unsafeNoFsync") === "true",
  };
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}

/** Where a peer listens, by name; undefined when neither --peers nor the template knows it. */
export function peerHost(config: ReplicaConfig, peerName: string): string | undefined {
  return config.peerHosts.get(peerName) ?? config.peerHostTemplate?.replaceAll("{name}", peerName);
}
