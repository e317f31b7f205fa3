// The replica's HTTP API (express): key-value, watches, locks, status, admin, health
// and metrics. Errors are JSON { error: { code, message } } with the status that says
// what to do; a follower forwards client requests to the leader once.
import { randomUUID, timingSafeEqual } from "node:crypto";
import { request as httpRequest } from "node:http";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import { type ConfigChange, parseMemberKey } from "../paxos/configuration.ts";
import type { Query, QueryResult } from "../replicaMachine.ts";
import type { ReplicaMetrics } from "../runtime/metrics.ts";
import { MembershipRefused, type ReplicaNode, ReplicaUnavailable } from "../runtime/replicaNode.ts";
import type { ChangesResult, Command, FailureCode, RequestResult } from "../stateMachine/index.ts";

export interface ApiOptions {
  readonly node: ReplicaNode;
  readonly incarnation: string;
  readonly adminToken: string;
  readonly maxBodyBytes: number;
  /** The address forwarded requests come from (this member's own, when it has one). */
  readonly localAddress: string | undefined;
  /** How long a forwarded request may wait for the leader's answer. */
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  readonly metrics: ReplicaMetrics;
  /** The base URL (http://host:port) of a member's HTTP API, by member key; for forwarding. */
  readonly memberUrl: (member: string) => string | undefined;
}

/** An error answer: HTTP status, stable code, and a message that says what to do. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

const forwardedHeader = "x-paxos-forwarded";
const clientIdHeader = "x-paxos-client-id";
const sequenceHeader = "x-paxos-sequence";

/** Status for each state-machine failure: 4xx when the request is at fault, never 5xx. */
const failureStatus: Record<FailureCode, number> = {
  InvalidCommand: 400,
  InvalidRequest: 400,
  InvalidKey: 400,
  InvalidValue: 400,
  InvalidPrefix: 400,
  InvalidLimit: 400,
  InvalidRevision: 400,
  InvalidNamespace: 400,
  InvalidLockName: 400,
  InvalidOwner: 400,
  InvalidTtl: 400,
  InvalidToken: 400,
  RevisionMismatch: 412,
  Compacted: 410,
  LockHeld: 409,
  LockNotHeld: 409,
  NotLockHolder: 409,
  TokenMismatch: 409,
  StaleSequence: 409,
  TooManyKeys: 507,
  TooManyLocks: 507,
};

function unavailable(error: ReplicaUnavailable): ApiError {
  switch (error.code) {
    case "Overloaded":
      return new ApiError(429, error.code, error.message, { "retry-after": "1" });
    case "TooLarge":
      return new ApiError(413, error.code, error.message);
    default:
      return new ApiError(503, error.code, error.message, { "retry-after": "1" });
  }
}

function keyFromPath(request: Request, prefix: string): string {
  const raw = request.path.slice(prefix.length);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ApiError(
      400,
      "InvalidKey",
      `the key in ${JSON.stringify(request.path)} is not valid percent-encoding`,
    );
  }
}

function integerParameter(value: unknown, name: string, minimum: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (typeof value !== "string" || !Number.isSafeInteger(number) || number < minimum)
    throw new ApiError(
      400,
      "InvalidParameter",
      `${name} must be a whole number >= ${minimum}, got ${JSON.stringify(value)}`,
    );
  return number;
}

function bodyObject(request: Request): Record<string, unknown> {
  const body: unknown = request.body;
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new ApiError(400, "InvalidBody", "the body must be a JSON object (Content-Type: application/json)");
  return body as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== "string")
    throw new ApiError(400, "InvalidBody", `the body needs a string field "${name}"`);
  return value;
}

function numberField(body: Record<string, unknown>, name: string): number {
  const value = body[name];
  if (typeof value !== "number" || !Number.isSafeInteger(value))
    throw new ApiError(400, "InvalidBody", `the body needs a whole-number field "${name}"`);
  return value;
}

export function createApi(options: ApiOptions): express.Express {
  const { node, metrics, logger } = options;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  app.use((request, response, next) => {
    const stop = metrics.httpDuration.startTimer();
    response.on("finish", () => {
      const route = routeLabel(request);
      metrics.httpRequests.inc({ route, method: request.method, code: String(response.statusCode) });
      stop({ route, method: request.method });
    });
    next();
  });
  app.use(express.json({ limit: options.maxBodyBytes, strict: true, type: "application/json" }));

  const adminOnly = (request: Request, _response: Response, next: NextFunction) => {
    const header = request.get("authorization") ?? "";
    const presented = Buffer.from(header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "");
    const expected = Buffer.from(options.adminToken);
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      next(
        new ApiError(401, "Unauthorized", "admin routes need the header Authorization: Bearer <admin token>"),
      );
      return;
    }
    next();
  };

  /** Runs `work` here; when this member is not the leader, forwards the request there once. */
  const serve =
    (work: (request: Request) => Promise<{ status?: number; body: unknown }>) =>
    async (request: Request, response: Response, next: NextFunction) => {
      try {
        const result = await work(request);
        response.status(result.status ?? 200).json(result.body);
      } catch (error) {
        if (
          error instanceof ReplicaUnavailable &&
          error.code === "NotLeader" &&
          request.get(forwardedHeader) === undefined
        ) {
          const target = error.leader === undefined ? undefined : options.memberUrl(error.leader);
          if (target !== undefined) {
            await forward(request, response, target, options.requestTimeoutMs, options.localAddress).catch(
              next,
            );
            return;
          }
        }
        next(error);
      }
    };

  const requestIdentity = (request: Request): { clientId: string; sequence: number } => {
    const clientId = request.get(clientIdHeader);
    const sequenceText = request.get(sequenceHeader);
    if (clientId === undefined && sequenceText === undefined)
      return { clientId: `anonymous-${randomUUID()}`, sequence: 1 };
    if (clientId === undefined || sequenceText === undefined)
      throw new ApiError(
        400,
        "InvalidRequest",
        `send both ${clientIdHeader} and ${sequenceHeader}, or neither`,
      );
    const sequence = integerParameter(sequenceText, sequenceHeader, 1);
    return { clientId, sequence: sequence ?? 1 };
  };

  const write = async (request: Request, command: Command): Promise<{ status?: number; body: unknown }> => {
    const result = await node.submit({ ...requestIdentity(request), command });
    return { body: resultBody(result) };
  };

  const read = async (request: Request, query: Query): Promise<{ body: unknown }> => {
    const consistency = request.query.consistency ?? "linearizable";
    if (consistency !== "linearizable" && consistency !== "serializable")
      throw new ApiError(
        400,
        "InvalidParameter",
        `consistency must be linearizable or serializable, got ${JSON.stringify(consistency)}`,
      );
    const result: QueryResult =
      consistency === "serializable" ? node.readLocal(query) : await node.read(query);
    return { body: resultBody(result) };
  };

  // ----------------------------------------------------------- health

  // A fenced member serves no client: no key-value, watch or lock request, local or
  // forwarded. Status, health and admin routes stay (the admin routes are how it is unfenced).
  app.use(["/v1/kv", "/v1/watch", "/v1/locks"], (_request, _response, next) => {
    next(
      node.status().fenced
        ? new ReplicaUnavailable(
            "Fenced",
            "this member is fenced and serves no clients; send the request to another member",
          )
        : undefined,
    );
  });

  app.get("/livez", (_request, response) => {
    response.json({ status: "alive" });
  });
  app.get("/readyz", (_request, response) => {
    const readiness = node.readiness();
    response.status(readiness.ready ? 200 : 503).json({ ready: readiness.ready, reason: readiness.reason });
  });
  app.get("/metrics", async (_request, response) => {
    response.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  // ------------------------------------------------------------- keys

  app.get(
    "/v1/kv",
    serve(async (request) => {
      const prefix = typeof request.query.prefix === "string" ? request.query.prefix : "";
      const limit = integerParameter(request.query.limit, "limit", 1);
      const startAfter = typeof request.query.startAfter === "string" ? request.query.startAfter : undefined;
      return read(request, {
        op: "list",
        prefix,
        ...(limit === undefined ? {} : { limit }),
        ...(startAfter === undefined ? {} : { startAfter }),
      });
    }),
  );
  app.get(
    /^\/v1\/kv\/.+/,
    serve(async (request) => read(request, { op: "get", key: keyFromPath(request, "/v1/kv/") })),
  );
  app.put(
    /^\/v1\/kv\/.+/,
    serve(async (request) => {
      const key = keyFromPath(request, "/v1/kv/");
      const value = stringField(bodyObject(request), "value");
      const ifMatch = request.get("if-match");
      const expectedModRevision = integerParameter(ifMatch?.replaceAll('"', ""), "If-Match", 0);
      return write(request, {
        op: "put",
        key,
        value,
        ...(expectedModRevision === undefined ? {} : { expectedModRevision }),
      });
    }),
  );
  app.delete(
    /^\/v1\/kv\/.+/,
    serve(async (request) => {
      const key = keyFromPath(request, "/v1/kv/");
      const expectedModRevision = integerParameter(
        request.get("if-match")?.replaceAll('"', ""),
        "If-Match",
        0,
      );
      return write(request, {
        op: "delete",
        key,
        ...(expectedModRevision === undefined ? {} : { expectedModRevision }),
      });
    }),
  );

  // ----------------------------------------------------------- watches

  app.get("/v1/watch", (request, response, next) => {
    let fromRevision: number;
    try {
      fromRevision =
        integerParameter(request.query.fromRevision, "fromRevision", 1) ?? node.machine.revision + 1;
    } catch (error) {
      next(error);
      return;
    }
    const prefix = typeof request.query.prefix === "string" ? request.query.prefix : "";
    const first = node.changesSince({ fromRevision, prefix });
    if (!first.ok) {
      next(resultError(first));
      return;
    }
    response.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    response.write(": watching\n\n");
    let next_ = fromRevision;
    const push = (result: ChangesResult) => {
      if (!result.ok) {
        response.write(
          `event: error\ndata: ${JSON.stringify({ error: { code: result.code, message: result.message } })}\n\n`,
        );
        response.end();
        return;
      }
      for (const event of result.events)
        response.write(`id: ${event.revision}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      next_ = result.nextRevision;
    };
    push(first);
    const unsubscribe = node.onApply(() => push(node.changesSince({ fromRevision: next_, prefix })));
    const keepAlive = setInterval(() => response.write(": keep-alive\n\n"), 15_000);
    request.on("close", () => {
      unsubscribe();
      clearInterval(keepAlive);
    });
  });

  // ------------------------------------------------------------- locks

  const lockName = (request: Request) => keyFromPath(request, "/v1/locks/");
  app.get(/^\/v1\/locks\/.+/, (request, response, next) => {
    try {
      const result = node.machine.getLock(lockName(request));
      response.json(resultBody(result));
    } catch (error) {
      next(error);
    }
  });
  app.post(
    /^\/v1\/locks\/.+/,
    serve(async (request) => {
      const body = bodyObject(request);
      return write(request, {
        op: "acquire",
        name: lockName(request),
        owner: stringField(body, "owner"),
        ttlMs: numberField(body, "ttlMs"),
      });
    }),
  );
  app.put(
    /^\/v1\/locks\/.+/,
    serve(async (request) => {
      const body = bodyObject(request);
      return write(request, {
        op: "renew",
        name: lockName(request),
        owner: stringField(body, "owner"),
        token: numberField(body, "token"),
        ttlMs: numberField(body, "ttlMs"),
      });
    }),
  );
  app.delete(
    /^\/v1\/locks\/.+/,
    serve(async (request) => {
      const body = bodyObject(request);
      return write(request, {
        op: "release",
        name: lockName(request),
        owner: stringField(body, "owner"),
        token: numberField(body, "token"),
      });
    }),
  );

  // ------------------------------------------------------------ status

  app.get("/v1/status", (_request, response) => {
    const status = node.status();
    response.json({
      member: node.self,
      name: parseMemberKey(node.self).name,
      incarnation: options.incarnation,
      role: status.role,
      leader: status.leader ?? null,
      fenced: status.fenced,
      evicted: status.evicted,
      ballot: status.promised,
      committedIndex: status.committedThrough,
      appliedIndex: node.machine.applied,
      snapshotIndex: status.snapshotIndex,
      revision: node.machine.revision,
      configuration: status.configuration,
      members: status.peers.map((peer) => ({
        member: peer.member,
        committedIndex: peer.committedThrough,
        idleTicks: peer.idleTicks,
      })),
      ready: node.readiness(),
    });
  });

  // ------------------------------------------------------------- admin

  const admin = express.Router();
  admin.use(adminOnly);
  const memberParameter = (request: Request): string => validMemberKey(String(request.params.member ?? ""));
  const change = (build: (request: Request) => ConfigChange) =>
    serve(async (request) => ({ body: await node.changeMembership(build(request)) }));
  admin.get("/members", (_request, response) => {
    response.json(node.status().configuration);
  });
  admin.post(
    "/members",
    change((request) => {
      return { type: "addLearner", member: validMemberKey(stringField(bodyObject(request), "member")) };
    }),
  );
  admin.post(
    "/members/:member/promote",
    change((request) => ({ type: "promote", member: memberParameter(request) })),
  );
  admin.delete(
    "/members/:member",
    change((request) => ({ type: "remove", member: memberParameter(request) })),
  );
  admin.post(
    "/members/:member/fence",
    change((request) => ({ type: "fence", member: memberParameter(request) })),
  );
  admin.post(
    "/members/:member/unfence",
    change((request) => ({ type: "unfence", member: memberParameter(request) })),
  );
  admin.post(
    "/members/:member/evict",
    change((request) => ({ type: "evict", member: memberParameter(request) })),
  );
  admin.post(
    "/leadership",
    serve(async (request) => {
      const target = stringField(bodyObject(request), "target");
      node.transferLeadership(target);
      return { status: 202, body: { transferringTo: target } };
    }),
  );
  admin.post("/snapshot", (_request, response) => {
    response.json(node.snapshotNow());
  });
  app.use("/v1/admin", admin);

  app.use((request, _response, next) => {
    next(
      new ApiError(
        404,
        "NotFound",
        `no route ${request.method} ${request.path}; see the API table in the README`,
      ),
    );
  });

  app.use((error: unknown, request: Request, response: Response, _next: NextFunction) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500 && !(error instanceof ReplicaUnavailable))
      logger.error({ err: error, path: request.path }, "request failed");
    response
      .status(apiError.status)
      .set(apiError.headers)
      .json({ error: { code: apiError.code, message: apiError.message } });
  });

  return app;
}

function validMemberKey(member: string): string {
  try {
    parseMemberKey(member);
  } catch {
    throw new ApiError(
      400,
      "InvalidMember",
      `${JSON.stringify(member)} is not a member key; use name#incarnation (see /v1/status)`,
    );
  }
  return member;
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ReplicaUnavailable) return unavailable(error);
  if (error instanceof MembershipRefused)
    return new ApiError(error.code === "InvalidChange" ? 400 : 409, error.code, error.message);
  const expressError = error as { type?: string; status?: number; message?: string };
  if (expressError.type === "entity.parse.failed")
    return new ApiError(400, "MalformedJson", "the body is not valid JSON");
  if (expressError.type === "entity.too.large")
    return new ApiError(413, "BodyTooLarge", "the body is larger than the limit");
  if (typeof expressError.status === "number" && expressError.status >= 400 && expressError.status < 500)
    return new ApiError(expressError.status, "BadRequest", expressError.message ?? "bad request");
  return new ApiError(500, "Internal", "internal error; see the replica's log");
}

function resultError(result: Extract<RequestResult | ChangesResult | QueryResult, { ok: false }>): ApiError {
  const status = failureStatus[result.code as FailureCode] ?? 400;
  return new ApiError(status, result.code, result.message);
}

function resultBody(
  result: RequestResult | QueryResult | ReturnType<ReplicaNode["machine"]["getLock"]>,
): unknown {
  if (!result.ok) throw resultError(result);
  return result;
}

function routeLabel(request: Request): string {
  const path = request.path;
  for (const prefix of ["/v1/kv/", "/v1/locks/", "/v1/admin/members/"])
    if (path.startsWith(prefix)) return `${prefix}:name`;
  return [
    "/livez",
    "/readyz",
    "/metrics",
    "/v1/kv",
    "/v1/watch",
    "/v1/status",
    "/v1/admin/members",
    "/v1/admin/leadership",
    "/v1/admin/snapshot",
  ].includes(path)
    ? path
    : "other";
}

/** Connect errors: the request never left this member. */
const neverConnected = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH"]);

async function forward(
  request: Request,
  response: Response,
  baseUrl: string,
  timeoutMs: number,
  localAddress: string | undefined,
): Promise<void> {
  const headers: Record<string, string> = { [forwardedHeader]: "1" };
  for (const name of ["content-type", "if-match", "authorization", clientIdHeader, sequenceHeader]) {
    const value = request.get(name);
    if (value !== undefined) headers[name] = value;
  }
  const hasBody = request.method !== "GET" && request.method !== "HEAD" && request.body !== undefined;
  const body = hasBody ? Buffer.from(JSON.stringify(request.body)) : undefined;
  if (body !== undefined) headers["content-length"] = String(body.byteLength);
  const unreachable = () =>
    new ApiError(
      503,
      "LeaderUnreachable",
      `the leader at ${baseUrl} did not answer within ${timeoutMs} ms; the outcome of a write is unknown, retry with the same client id and sequence`,
      { "retry-after": "1" },
    );
  // No connection was made, so the leader never saw the request: a write certainly did not
  // happen, which lets a client retry at once instead of treating it as unknown.
  const refused = (code: string) =>
    new ApiError(
      503,
      "LeaderRefused",
      `the leader at ${baseUrl} refused the connection (${code}); the request was not applied, retry`,
      { "retry-after": "1" },
    );
  // node:http rather than fetch: it can send from this member's own address.
  const answer = await new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
  }>((resolve, reject) => {
    const outgoing = httpRequest(
      new URL(request.originalUrl, baseUrl),
      {
        method: request.method,
        headers,
        timeout: timeoutMs,
        ...(localAddress === undefined ? {} : { localAddress }),
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("end", () =>
          resolve({
            status: incoming.statusCode ?? 502,
            headers: incoming.headers,
            body: Buffer.concat(chunks),
          }),
        );
        incoming.on("error", () => reject(unreachable()));
      },
    );
    outgoing.on("timeout", () => outgoing.destroy());
    outgoing.on("error", (error: NodeJS.ErrnoException) =>
      reject(neverConnected.has(error.code ?? "") ? refused(error.code ?? "") : unreachable()),
    );
    outgoing.end(body);
  });
  response.status(answer.status);
  for (const name of ["content-type", "retry-after"]) {
    const value = answer.headers[name];
    if (typeof value === "string") response.set(name, value);
  }
  response.send(answer.body);
}
