import { createServer } from "node:net";

/**
 * A TCP port that is free on `host` right now. The kernel picks it; another process
 * could take it before we bind, which on a test machine's loopback is rare enough.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error(`freePort: no TCP address on ${host}`);
  return address.port;
}
