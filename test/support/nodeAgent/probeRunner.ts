// Runs one probe attempt: httpGet (2xx/3xx passes), tcpSocket (a connection), exec (exit 0,
// run inside the container's namespaces). gRPC probes are not supported and fail.
import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { V1Container, V1Probe } from "@kubernetes/client-node";

export interface ProbeTarget {
  podIP: string;
  container: V1Container;
  /** The container's process, for exec probes. */
  pid: number | undefined;
  env: Readonly<Record<string, string>>;
}

export function resolvePort(port: number | string, container: V1Container): number | undefined {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

function httpProbe(
  probe: NonNullable<V1Probe["httpGet"]>,
  target: ProbeTarget,
  timeoutMs: number,
): Promise<boolean> {
  const port = resolvePort(probe.port as number | string, target.container);
  if (port === undefined) return Promise.resolve(false);
  const request = probe.scheme === "HTTPS" ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const headers: Record<string, string> = { "User-Agent": "kube-probe/1.33" };
    for (const header of probe.httpHeaders ?? []) headers[header.name] = header.value;
    const req = request(
      {
        host: probe.host ?? target.podIP,
        port,
        path: probe.path ?? "/",
        method: "GET",
        headers,
        timeout: timeoutMs,
        rejectUnauthorized: false,
        agent: false,
      },
      (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        resolve(status >= 200 && status < 400);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(false));
    req.end();
  });
}

function tcpProbe(
  probe: NonNullable<V1Probe["tcpSocket"]>,
  target: ProbeTarget,
  timeoutMs: number,
): Promise<boolean> {
  const port = resolvePort(probe.port as number | string, target.container);
  if (port === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host: probe.host ?? target.podIP, port, timeout: timeoutMs });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

function execProbe(command: string[], target: ProbeTarget, timeoutMs: number): Promise<boolean> {
  if (target.pid === undefined || command.length === 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const child = spawn(
      "nsenter",
      [`--target=${target.pid}`, "--net", "--mount", "--uts", "--", ...command],
      { env: { ...target.env }, stdio: "ignore", timeout: timeoutMs, killSignal: "SIGKILL" },
    );
    child.once("exit", (code) => resolve(code === 0));
    child.once("error", () => resolve(false));
  });
}

export function runProbe(probe: V1Probe, target: ProbeTarget, timeoutMs: number): Promise<boolean> {
  if (probe.httpGet !== undefined) return httpProbe(probe.httpGet, target, timeoutMs);
  if (probe.tcpSocket !== undefined) return tcpProbe(probe.tcpSocket, target, timeoutMs);
  if (probe.exec !== undefined) return execProbe(probe.exec.command ?? [], target, timeoutMs);
  return Promise.resolve(false);
}
