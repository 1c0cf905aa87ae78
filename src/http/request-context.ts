import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import type { Metrics } from "../metrics.js";

const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/;

declare module "express-serve-static-core" {
  interface Request {
    /** Request id: the incoming X-Request-Id when sane, otherwise a new UUID. */
    id: string;
    /** Logger whose every line carries the request id. */
    log: Logger;
    /** When the request reached Roster (the app's clock): revocation receipts start here. */
    arrivedAt: Date;
  }
}

/**
 * Request id, a per-request child logger (created only when something logs) and one
 * completion line per request: error for 5xx, info for 4xx, debug otherwise. The path is
 * logged without its query string, and headers are never logged, so no credential can leak.
 * Request counts and latency by route pattern go to Prometheus from the same listener.
 */
export function requestContext(
  logger: Logger,
  metrics: Metrics,
  now: () => Date = () => new Date(),
): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    req.arrivedAt = now();
    const incoming = req.headers["x-request-id"];
    const id = typeof incoming === "string" && SAFE_ID.test(incoming) ? incoming : randomUUID();
    req.id = id;
    res.setHeader("X-Request-Id", id);
    let child: Logger | undefined;
    Object.defineProperty(req, "log", {
      get: () => (child ??= logger.child({ reqId: id })),
      configurable: true,
    });
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      // Route pattern, not raw path: ids in paths would explode metric cardinality.
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : req.baseUrl || "unmatched";
      const labels = { method: req.method, route, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
      const level = res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "info" : "debug";
      if (logger.isLevelEnabled(level)) {
        req.log[level](
          {
            req: { method: req.method, path: req.path },
            res: { statusCode: res.statusCode },
            responseTimeMs: Math.round(seconds * 1e4) / 10,
          },
          "request completed",
        );
      }
    });
    next();
  };
}
