// A tiny HTTP server the node agent's tests run as a "container": it answers the probes
// and reports what the pod sees (environment, name lookups, files), on 0.0.0.0:8080.
import { lookup } from "node:dns/promises";
import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { hostname } from "node:os";

let ready = true;
const port = Number(process.env.PORT ?? 8080);

const server = createServer((request, response) => {
  const url = new URL(request.url ?? "/", "http://localhost");
  const param = (name: string) => url.searchParams.get(name) ?? "";
  const reply = (status: number, body: unknown) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  };
  void (async () => {
    try {
      switch (url.pathname) {
        case "/livez":
          return reply(200, { ok: true });
        case "/readyz":
          return reply(ready ? 200 : 503, { ready });
        case "/ready":
          ready = param("value") === "true";
          return reply(200, { ready });
        case "/env":
          return reply(200, { value: process.env[param("name")] ?? null });
        case "/hostname":
          return reply(200, { hostname: hostname(), argv: process.argv.slice(2), cwd: process.cwd() });
        case "/lookup":
          return reply(200, await lookup(param("host"), { family: 4 }));
        case "/file":
          if (request.method === "POST") {
            await writeFile(param("path"), param("content"));
            return reply(200, { written: true });
          }
          return reply(200, { content: await readFile(param("path"), "utf8") });
        default:
          return reply(404, { error: "not found" });
      }
    } catch (error) {
      return reply(500, { error: error instanceof Error ? error.message : String(error) });
    }
  })();
});

server.listen(port, "0.0.0.0", () => console.log(`listening on 0.0.0.0:${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
