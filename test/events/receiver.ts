import http from "node:http";
import type { AddressInfo } from "node:net";

/** A request the receiver got, and what it answered. */
export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  event: { id: string; type: string; tenant: string; createdAt: string; data: Record<string, any> };
  status: number;
}

/** A local webhook receiver on 127.0.0.1 and a random port; `status` is what it answers now. */
export async function startReceiver() {
  const received: Received[] = [];
  const state = { status: 200 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      received.push({
        path: req.url ?? "",
        headers: req.headers,
        body,
        event: JSON.parse(body),
        status: state.status,
      });
      res.writeHead(state.status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    state,
    /** Events the receiver accepted (2xx), in arrival order. */
    accepted: () => received.filter((r) => r.status >= 200 && r.status < 300),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
