// paxosctl: the command line for a paxos replica set. Human-readable by default,
// `-o json` for scripts; every failure says what to do.
import { parseArgs } from "node:util";

const usageText = `usage: paxosctl [--endpoint URL[,URL...]] [--token TOKEN] [-o json] COMMAND ...

keys:       get KEY [--serializable] | put KEY VALUE [--if-match REV] | delete KEY [--if-match REV]
            cas KEY VALUE EXPECTED_REVISION | list [PREFIX] [--limit N] | watch [PREFIX] [--from REV]
locks:      lock acquire NAME --owner O [--ttl MS] | lock renew NAME --owner O --token T [--ttl MS]
            lock release NAME --owner O --token T | lock get NAME
cluster:    status | members
admin:      add-learner MEMBER | promote MEMBER | remove MEMBER | fence MEMBER | unfence MEMBER
            evict MEMBER | transfer MEMBER | snapshot          (MEMBER is name#incarnation)

--endpoint  (PAXOSCTL_ENDPOINT, default http://127.0.0.1:8080) replicas to try, in order
--token     (PAXOSCTL_TOKEN) the admin token, for admin commands`;

export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

interface Call {
  readonly method: "GET" | "PUT" | "POST" | "DELETE";
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly admin?: boolean;
}

export interface CliIo {
  readonly out: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

function need(value: string | undefined, what: string): string {
  if (value === undefined || value === "") throw new CliError(`missing ${what}\n${usageText}`, 2);
  return value;
}

function wholeNumber(value: string | undefined, what: string): number {
  const number = Number(need(value, what));
  if (!Number.isSafeInteger(number) || number < 0)
    throw new CliError(`${what} must be a whole number, got ${JSON.stringify(value)}`, 2);
  return number;
}

export async function runPaxosctl(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n${usageText}`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    io.out(usageText);
    return positionals.length === 0 && !values.help ? 2 : 0;
  }
  const endpoints = (values.endpoint ?? io.env.PAXOSCTL_ENDPOINT ?? "http://127.0.0.1:8080")
    .split(",")
    .map((endpoint) => endpoint.trim())
    .filter((endpoint) => endpoint !== "");
  const token = values.token ?? io.env.PAXOSCTL_TOKEN;
  const json = values.output === "json";
  if (values.output !== undefined && values.output !== "json" && values.output !== "text")
    throw new CliError(`-o must be json or text, got ${JSON.stringify(values.output)}`, 2);
  const [command, first, second, third] = positionals;
  const call = buildCall(command ?? "", first, second, third, values);
  if (command === "watch") return watch(endpoints, call, io, json);
  const result = await send(endpoints, call, token);
  io.out(json ? JSON.stringify(result) : render(command ?? "", result));
  return 0;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      endpoint: { type: "string" },
      token: { type: "string" },
      output: { type: "string", short: "o" },
      "if-match": { type: "string" },
      serializable: { type: "boolean" },
      limit: { type: "string" },
      from: { type: "string" },
      owner: { type: "string" },
      ttl: { type: "string" },
      "fencing-token": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

type Flags = ReturnType<typeof parse>["values"];

function buildCall(
  command: string,
  first: string | undefined,
  second: string | undefined,
  third: string | undefined,
  flags: Flags,
): Call {
  const ifMatch =
    flags["if-match"] === undefined
      ? {}
      : { "if-match": String(wholeNumber(flags["if-match"], "--if-match")) };
  const member = () => encodeURIComponent(need(first, "MEMBER (name#incarnation; see `paxosctl members`)"));
  switch (command) {
    case "get":
      return {
        method: "GET",
        path: `/v1/kv/${encodeKey(need(first, "KEY"))}${flags.serializable ? "?consistency=serializable" : ""}`,
      };
    case "put":
      return {
        method: "PUT",
        path: `/v1/kv/${encodeKey(need(first, "KEY"))}`,
        body: { value: need(second, "VALUE") },
        headers: ifMatch,
      };
    case "cas":
      return {
        method: "PUT",
        path: `/v1/kv/${encodeKey(need(first, "KEY"))}`,
        body: { value: need(second, "VALUE") },
        headers: { "if-match": String(wholeNumber(third, "EXPECTED_REVISION")) },
      };
    case "delete":
      return { method: "DELETE", path: `/v1/kv/${encodeKey(need(first, "KEY"))}`, headers: ifMatch };
    case "list": {
      const query = new URLSearchParams({ prefix: first ?? "" });
      if (flags.limit !== undefined) query.set("limit", String(wholeNumber(flags.limit, "--limit")));
      return { method: "GET", path: `/v1/kv?${query}` };
    }
    case "watch": {
      const query = new URLSearchParams({ prefix: first ?? "" });
      if (flags.from !== undefined) query.set("fromRevision", String(wholeNumber(flags.from, "--from")));
      return { method: "GET", path: `/v1/watch?${query}` };
    }
    case "lock": {
      const name = `/v1/locks/${encodeKey(need(second, "lock NAME"))}`;
      const ttlMs = flags.ttl === undefined ? 10_000 : wholeNumber(flags.ttl, "--ttl");
      const owner = () => need(flags.owner, "--owner");
      const token = () => wholeNumber(flags["fencing-token"] ?? third, "the fencing token (third argument)");
      switch (first) {
        case "acquire":
          return { method: "POST", path: name, body: { owner: owner(), ttlMs } };
        case "renew":
          return { method: "PUT", path: name, body: { owner: owner(), token: token(), ttlMs } };
        case "release":
          return { method: "DELETE", path: name, body: { owner: owner(), token: token() } };
        case "get":
          return { method: "GET", path: name };
        default:
          throw new CliError(`lock needs acquire, renew, release or get, got ${JSON.stringify(first)}`, 2);
      }
    }
    case "status":
      return { method: "GET", path: "/v1/status" };
    case "members":
      return { method: "GET", path: "/v1/admin/members", admin: true };
    case "add-learner":
      return {
        method: "POST",
        path: "/v1/admin/members",
        body: { member: need(first, "MEMBER") },
        admin: true,
      };
    case "promote":
    case "fence":
    case "unfence":
    case "evict":
      return { method: "POST", path: `/v1/admin/members/${member()}/${command}`, admin: true };
    case "remove":
      return { method: "DELETE", path: `/v1/admin/members/${member()}`, admin: true };
    case "transfer":
      return {
        method: "POST",
        path: "/v1/admin/leadership",
        body: { target: need(first, "MEMBER") },
        admin: true,
      };
    case "snapshot":
      return { method: "POST", path: "/v1/admin/snapshot", admin: true };
    default:
      throw new CliError(`unknown command ${JSON.stringify(command)}\n${usageText}`, 2);
  }
}

async function send(endpoints: readonly string[], call: Call, token: string | undefined): Promise<unknown> {
  if (call.admin && (token === undefined || token === ""))
    throw new CliError("this is an admin command: pass --token or set PAXOSCTL_TOKEN", 2);
  const unreachable: string[] = [];
  for (const endpoint of endpoints) {
    let response: Response;
    try {
      response = await fetch(new URL(call.path, endpoint), {
        method: call.method,
        headers: {
          ...(call.body === undefined ? {} : { "content-type": "application/json" }),
          ...(call.admin ? { authorization: `Bearer ${token}` } : {}),
          ...call.headers,
        },
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      unreachable.push(`${endpoint} (${cause})`);
      continue;
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    if (response.ok) return body;
    const error = (body as { error?: { code?: string; message?: string } }).error;
    if (response.status === 401)
      throw new CliError("the admin token was rejected: check --token or PAXOSCTL_TOKEN");
    if (response.status === 503 && endpoints.length > 1) {
      unreachable.push(`${endpoint} (${error?.message ?? "unavailable"})`);
      continue;
    }
    throw new CliError(`${error?.code ?? response.status}: ${error?.message ?? text}`);
  }
  throw new CliError(
    `cannot reach the replicas: ${unreachable.join("; ")}; is the cluster running? set --endpoint or PAXOSCTL_ENDPOINT`,
  );
}

async function watch(endpoints: readonly string[], call: Call, io: CliIo, json: boolean): Promise<number> {
  const endpoint = endpoints[0] ?? "http://127.0.0.1:8080";
  let response: Response;
  try {
    response = await fetch(new URL(call.path, endpoint));
  } catch (error) {
    throw new CliError(
      `cannot reach ${endpoint}: ${(error as Error).message}; set --endpoint or PAXOSCTL_ENDPOINT`,
    );
  }
  if (!response.ok || response.body === null)
    throw new CliError(`watch failed: ${response.status} ${await response.text()}`);
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk, { stream: true });
    for (let end = buffered.indexOf("\n\n"); end >= 0; end = buffered.indexOf("\n\n")) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = block.split("\n").find((line) => line.startsWith("data: "));
      if (data === undefined) continue;
      const event = JSON.parse(data.slice("data: ".length)) as {
        revision: number;
        type: string;
        key: string;
        value?: string;
      };
      io.out(
        json
          ? JSON.stringify(event)
          : `${event.revision}\t${event.type}\t${event.key}${event.value === undefined ? "" : `\t${event.value}`}`,
      );
    }
  }
  return 0;
}

function render(command: string, result: unknown): string {
  const value = result as Record<string, unknown>;
  switch (command) {
    case "get": {
      const entry = value.entry as { value: string; modRevision: number } | null;
      return entry === null ? "(not found)" : `${entry.value}\t(revision ${entry.modRevision})`;
    }
    case "put":
    case "cas":
      return `OK revision ${value.revision}`;
    case "delete":
      return value.deleted ? `deleted (revision ${value.revision})` : "(not found)";
    case "list":
      return (value.entries as { key: string; value: string; modRevision: number }[])
        .map((entry) => `${entry.key}\t${entry.value}\t(revision ${entry.modRevision})`)
        .join("\n");
    case "status": {
      const members = value.members as { member: string; committedIndex: number }[];
      return [
        `member:    ${value.member}`,
        `role:      ${value.role}${value.fenced ? " (fenced)" : ""}`,
        `leader:    ${value.leader ?? "(none)"}`,
        `committed: ${value.committedIndex}  applied: ${value.appliedIndex}  snapshot: ${value.snapshotIndex}`,
        `voters:    ${(value.configuration as { voters: string[] }).voters.join(", ")}`,
        ...members.map((member) => `peer:      ${member.member} committed ${member.committedIndex}`),
      ].join("\n");
    }
    default:
      return JSON.stringify(result, null, 2);
  }
}

if (import.meta.main) {
  try {
    process.exitCode = await runPaxosctl(process.argv.slice(2), {
      out: (text) => console.log(text),
      env: process.env,
    });
  } catch (error) {
    const exitCode = error instanceof CliError ? error.exitCode : 1;
    console.error(`paxosctl: ${(error as Error).message}`);
    process.exitCode = exitCode;
  }
}
