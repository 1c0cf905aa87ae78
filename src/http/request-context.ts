import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import { pinoHttp } from "pino-http";
import type { Metrics } from "../metrics.js";

const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Request id (honouring a sane incoming X-Request-Id) and a child logger carrying it on every line. */
export function requestLogging(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (req, res) => {
      const incoming = req.headers["x-request-id"];
      const id = typeof incoming === "string" && SAFE_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader("X-Request-Id", id);
      return id;
    },
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "info" : "debug",
    // Log the path without the query string: it may carry return URLs and filters, never needed to debug.
    serializers: {
      req: (req: any) => ({ id: req.id, method: req.method, url: String(req.url).split("?")[0] }),
      res: (res: any) => ({ statusCode: res.statusCode }),
    },
    quietReqLogger: true,
  });
}

/** Request counts and latency by route pattern (not raw path: ids would explode cardinality). */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : req.baseUrl || "unmatched";
      const labels = { method: req.method, route, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}
