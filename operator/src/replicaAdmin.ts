// The replica's admin API (`/v1/admin`, bearer token) as the operator calls it: membership
// changes and leadership transfer, sent to the leader's pod. Every call is idempotent on
// the replica's side (a change already in effect answers 200), so a step that is retried
// after an operator crash is harmless.
import { httpPort } from "./builders/index.ts";
import { fetchFailureReason } from "./fetchFailure.ts";

export type MembershipChangeKind = "addLearner" | "promote" | "remove" | "evict" | "fence" | "unfence";

export interface AdminTarget {
  /** The leader pod's IP. */
  readonly ip: string;
  readonly token: string;
  readonly port?: number;
  readonly timeoutMs?: number;
}

/** The replica answered with an error (or not at all); the message says which call and why. */
export class ReplicaAdminError extends Error {
  readonly status: number | undefined;
  readonly code: string | undefined;
  constructor(message: string, status?: number, code?: string) {
    super(message);
    this.name = "ReplicaAdminError";
    this.status = status;
    this.code = code;
  }
}

/** Long enough for a change to commit through a slow quorum (the replica waits for it). */
const defaultTimeoutMs = 15_000;

export async function changeMembership(
  target: AdminTarget,
  kind: MembershipChangeKind,
  member: string,
): Promise<{ readonly slot: number; readonly alreadyApplied: boolean }> {
  const path = `/v1/admin/members/${encodeURIComponent(member)}`;
  const call: Record<MembershipChangeKind, { method: string; path: string; body?: unknown }> = {
    addLearner: { method: "POST", path: "/v1/admin/members", body: { member } },
    promote: { method: "POST", path: `${path}/promote` },
    remove: { method: "DELETE", path },
    evict: { method: "POST", path: `${path}/evict` },
    fence: { method: "POST", path: `${path}/fence` },
    unfence: { method: "POST", path: `${path}/unfence` },
  };
  const answer = (await request(target, call[kind])) as { slot?: unknown; alreadyApplied?: unknown };
  return {
    slot: typeof answer.slot === "number" ? answer.slot : 0,
    alreadyApplied: answer.alreadyApplied === true,
  };
}

export async function transferLeadership(target: AdminTarget, to: string): Promise<void> {
  await request(target, { method: "POST", path: "/v1/admin/leadership", body: { target: to } });
}

async function request(
  target: AdminTarget,
  call: { method: string; path: string; body?: unknown },
): Promise<unknown> {
  const host = target.ip.includes(":") ? `[${target.ip}]` : target.ip;
  const url = `http://${host}:${target.port ?? httpPort}${call.path}`;
  const what = `${call.method} ${url}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: call.method,
      headers: {
        authorization: `Bearer ${target.token}`,
        ...(call.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      signal: AbortSignal.timeout(target.timeoutMs ?? defaultTimeoutMs),
    });
  } catch (error) {
    throw new ReplicaAdminError(
      `${what}: ${fetchFailureReason(error, target.timeoutMs ?? defaultTimeoutMs)}`,
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === "" ? {} : JSON.parse(text);
  } catch {
    body = { raw: text.slice(0, 200) };
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: unknown; message?: unknown } }).error;
    const code = typeof error?.code === "string" ? error.code : undefined;
    const message = typeof error?.message === "string" ? error.message : text.slice(0, 200);
    throw new ReplicaAdminError(
      `${what} answered HTTP ${response.status}${code === undefined ? "" : ` ${code}`}: ${message}`,
      response.status,
      code,
    );
  }
  return body;
}
