import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface TlsClientOptions {
  ca?: string;
  cert?: string;
  key?: string;
}

export interface ProbeResponse {
  status: number;
  body: string;
}

/** One GET with a short timeout; resolves with any status, rejects on connection errors. */
export function httpGet(url: string, tls: TlsClientOptions = {}, timeoutMs = 2_000): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const options = { method: "GET", timeout: timeoutMs, ...(target.protocol === "https:" ? tls : {}) };
    const request = (target.protocol === "https:" ? httpsRequest : httpRequest)(
      target,
      options,
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    request.on("error", reject);
    request.end();
  });
}
