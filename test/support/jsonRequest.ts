// One HTTP request to a replica's API as tests make it: a JSON body out, the answer's body
// parsed as JSON when it is JSON (kept as text otherwise), and a timeout.

export interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;
}

export interface JsonRequestOptions {
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly timeoutMs?: number;
}

export async function jsonRequest(
  url: string,
  method: string,
  options: JsonRequestOptions = {},
  defaultTimeoutMs = 10_000,
): Promise<HttpAnswer> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    signal: AbortSignal.timeout(options.timeoutMs ?? defaultTimeoutMs),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body, headers: response.headers };
}
