// Asks every member for `GET /v1/status`, all at once, each with a timeout: a member that
// hangs costs one timeout, not one per member.
import { httpPort } from "./builders/index.ts";
import { fetchFailureReason } from "./fetchFailure.ts";
import { type MemberProbe, parseMemberReport } from "./members.ts";

export interface ProbeTarget {
  /** The pod's name, which is the member's name. */
  readonly pod: string;
  /** The pod's IP, or undefined while it has none (not scheduled, not started). */
  readonly ip: string | undefined;
}

export interface ProbeOptions {
  readonly timeoutMs?: number;
  readonly port?: number;
}

export const defaultProbeTimeoutMs = 2_000;

export function probeMembers(
  targets: readonly ProbeTarget[],
  options: ProbeOptions = {},
): Promise<MemberProbe[]> {
  return Promise.all(targets.map((target) => probeMember(target, options)));
}

async function probeMember(target: ProbeTarget, options: ProbeOptions): Promise<MemberProbe> {
  const { pod, ip } = target;
  if (ip === undefined) return { pod, ok: false, error: "the pod has no IP yet" };
  const host = ip.includes(":") ? `[${ip}]` : ip;
  const url = `http://${host}:${options.port ?? httpPort}/v1/status`;
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(options.timeoutMs ?? defaultProbeTimeoutMs),
    });
    if (!response.ok) return { pod, ok: false, error: `GET ${url} answered HTTP ${response.status}` };
    const report = parseMemberReport(await response.json());
    if ("error" in report) return { pod, ok: false, error: `GET ${url}: ${report.error}` };
    if (report.name !== pod)
      return { pod, ok: false, error: `GET ${url} answered as member ${report.name}, not ${pod}` };
    return { pod, ok: true, report };
  } catch (error) {
    const reason = fetchFailureReason(error, options.timeoutMs ?? defaultProbeTimeoutMs);
    return { pod, ok: false, error: `GET ${url}: ${reason}` };
  }
}
