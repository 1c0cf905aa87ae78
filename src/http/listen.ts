import { createServer, type RequestListener, type Server } from "node:http";

/** The HTTP server's timeouts (HTTP_*_TIMEOUT_MS). */
export interface ServerTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** Listening failed; the message says, in one line, what happened and what to do. */
export class ListenError extends Error {
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = "ListenError";
  }
}

function describe(err: NodeJS.ErrnoException, port: number, variable: string): string {
  if (err.code === "EADDRINUSE")
    return `port ${port} (${variable}) is already in use: another Roster or another program listens on it. Stop it, or set ${variable} to a free port`;
  if (err.code === "EACCES")
    return `not allowed to listen on port ${port} (${variable}): ports below 1024 need privileges. Set ${variable} to 1024 or above and let a proxy or load balancer take 80/443`;
  return `cannot listen on port ${port} (${variable}): ${err.message}`;
}

/**
 * Create an HTTP server with explicit timeouts and listen on `port`. Resolves once listening;
 * rejects with a ListenError. (Express 5's app.listen calls its callback on errors too, so a
 * taken port logged "listening" before failing.)
 *
 * Timeouts: a client gets headersTimeout to send its headers and requestTimeout for the whole
 * request (slow-header and slow-body attacks hold a socket for as long as they are allowed);
 * keepAliveTimeout closes idle connections. Node checks the first two every
 * connectionsCheckingInterval (30 s by default), so it is tied to the shortest of them.
 */
export function listen(
  handler: RequestListener,
  port: number,
  timeouts: ServerTimeouts,
  variable = "PORT",
): Promise<Server> {
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.max(250, Math.min(30_000, Math.floor(timeouts.headersTimeoutMs / 4))),
    },
    handler,
  );
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) =>
      reject(new ListenError(describe(err, port, variable), err));
    server.once("error", failed);
    server.listen(port, () => {
      server.off("error", failed);
      resolve(server);
    });
  });
}
