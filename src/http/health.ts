import { Router } from "express";
import type { Deps } from "../deps.js";
import { pingDb } from "../db/knex.js";
import { countJobs } from "../jobs/store.js";

/**
 * /healthz (the process is up), /readyz (it can serve) and /metrics (Prometheus). An API process is ready when its
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
  r.get("/metrics", async (_req, res) => {
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

/** Whether Redis answers (undefined without REDIS_URL); no ping while an outage is known. */
async function redisReady(deps: Deps): Promise<boolean | undefined> {
  if (!deps.config.redisUrl) return undefined;
  if (deps.redis?.state === "down") return false;
  return deps.driver.ready();
}
