/** A Roster on a real port (createApp behind node:http) for the client's suites. */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestContext } from "../helpers/context.js";

export async function listenOn(
  handler: Parameters<typeof createServer>[1],
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export async function serve(ctx: TestContext): Promise<{ server: Server; url: string }> {
  return listenOn(ctx.app);
}

export function close(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * A reverse proxy in front of Roster that first answers what `fault` returns (a status and an
 * error body), then forwards: the failures a feed consumer must ride out, over real HTTP.
 */
export async function faultyProxy(
  target: string,
  fault: (
    req: IncomingMessage,
  ) => { status: number; body: unknown; headers?: Record<string, string> } | undefined,
) {
  const seen: string[] = [];
  const { server, url } = await listenOn(async (req, res) => {
    seen.push(req.url ?? "");
    const f = fault(req);
    if (f) {
      res.writeHead(f.status, { "content-type": "application/json", ...f.headers });
      res.end(JSON.stringify(f.body));
      return;
    }
    const body = await readBody(req);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k]) => !["host", "connection", "content-length"].includes(k)),
    ) as Record<string, string>;
    const up = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers,
      body: body.length ? new Uint8Array(body) : undefined,
    });
    res.writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "application/json" });
    res.end(Buffer.from(await up.arrayBuffer()));
  });
  return { server, url, seen };
}
