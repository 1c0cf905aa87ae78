import express, { type Express, type Request, type RequestHandler, Router } from "express";
import { isIP } from "node:net";
import type { Deps } from "../deps.js";
import { pingDb } from "../db/knex.js";
import { countJobs } from "../jobs/store.js";
import { bearerToken, hashSecret, sameHash } from "../tenants/secrets.js";
import { addressKey } from "./client-address.js";
import { AppError } from "./errors.js";
import { errorHandler, notFoundHandler } from "./error-handler.js";
import { requestContext } from "./request-context.js";

/**
 * /healthz (the process is up) and /readyz (it can serve). An API process is ready when its
 * database answers: writes go to the jobs table (the outbox) while Redis is down, so taking every
 * API process out of the load balancer for a Redis outage would turn a delay of background work
 * into a full outage. Redis is reported in the body (`checks.redis`, status `degraded`). A worker
 * does nothing without Redis, so its readiness needs both.
 */
export function healthRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  r.get("/readyz", async (_req, res) => {
    const [database, redis] = await Promise.all([pingDb(deps.db), redisReady(deps)]);
    const needsRedis = deps.role === "worker";
    const ready = database && (redis !== false || !needsRedis);
    const checks = {
      database: database ? "ok" : "down",
      ...(redis === undefined ? {} : { redis: redis ? "ok" : "down" }),
    };
    const status = !ready ? "unavailable" : redis === false ? "degraded" : "ok";
    res.status(ready ? 200 : 503).json({ status, checks });
  });
  return r;
}

/** Whether Redis answers (undefined without REDIS_URL); no ping while an outage is known. */
async function redisReady(deps: Deps): Promise<boolean | undefined> {
  if (!deps.config.redisUrl) return undefined;
  if (deps.redis?.state === "down") return false;
  return deps.driver.ready();
}

/** Whether a request comes straight from this host: loopback, and not relayed by a proxy on it. */
function fromLoopback(req: Request): boolean {
  // A reverse proxy on the same host makes every request arrive from 127.0.0.1: a request that
  // carries forwarding headers came from somewhere else.
  if (req.headers["x-forwarded-for"] || req.headers.forwarded || req.headers["x-real-ip"]) return false;
  const ip = (req.ip ?? "").replace(/^::ffff:/i, "");
  if (isIP(ip) === 4) return ip.startsWith("127.");
  return ip === "::1";
}

/**
 * Who may read /metrics (route names, job counts and process figures: reconnaissance for an
 * attacker): the bearer METRICS_TOKEN, or a loopback client when `loopback` is allowed. Failed
 * tokens count against the address like failed admin tokens (the same limiter).
 */
function metricsGuard(deps: Deps, opts: { open: boolean }): RequestHandler {
  // Only its hash is kept, compared in constant time.
  const tokenHash = deps.config.metricsToken ? hashSecret(deps.config.metricsToken) : undefined;
  const failures = deps.rateLimits.adminFailures;
  return async (req, res, next) => {
    const key = addressKey(req);
    const secret = bearerToken(req.headers.authorization);
    if (tokenHash && secret) {
      const blocked = await failures.exhausted(key);
      if (blocked.limited) {
        res.set("Retry-After", String(blocked.retryAfterSeconds));
        throw new AppError(429, "RATE_LIMITED", "Too many failed authentications from this address");
      }
      if (sameHash(tokenHash, hashSecret(secret))) return next();
      await failures.consume(key);
    } else if ((opts.open && !tokenHash) || fromLoopback(req)) {
      return next();
    }
    res.set("WWW-Authenticate", 'Bearer realm="metrics"');
    throw new AppError(
      401,
      "UNAUTHORIZED",
      tokenHash
        ? "/metrics needs Authorization: Bearer <METRICS_TOKEN>"
        : "/metrics answers loopback clients only: set METRICS_TOKEN or METRICS_PORT to read it from elsewhere",
    );
  };
}

/** /metrics (Prometheus): this process's registry and the jobs table's counts. */
export function metricsRoute(deps: Deps, opts: { open: boolean }): Router {
  const r = Router();
  r.get("/metrics", metricsGuard(deps, opts), async (_req, res) => {
    const registry = deps.metrics.registry;
    let jobLines = "";
    try {
      const counts = await countJobs(deps.db);
      jobLines =
        "# HELP roster_jobs Jobs in the jobs table by queue and state\n# TYPE roster_jobs gauge\n" +
        counts.map((c) => `roster_jobs{queue="${c.queue}",state="${c.state}"} ${c.n}`).join("\n") +
        "\n";
    } catch {
      // The database being down must not take /metrics with it.
    }
    res.type(registry.contentType).send((await registry.metrics()) + jobLines);
  });
  return r;
}

/**
 * The METRICS_PORT listener's app: /metrics, /healthz and /readyz, nothing else. Anyone who
 * reaches the port may read /metrics unless METRICS_TOKEN is set: keep the port private.
 */
export function createMonitoringApp(deps: Deps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("trust proxy", deps.config.trustProxy);
  app.use(requestContext(deps.logger, deps.metrics, deps.now));
  app.use(healthRoutes(deps));
  app.use(metricsRoute(deps, { open: true }));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
