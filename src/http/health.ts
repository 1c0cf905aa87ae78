import { Router } from "express";
import type { Deps } from "../deps.js";
import { pingDb } from "../db/knex.js";
import { countJobs } from "../jobs/store.js";

/** /healthz (process up), /readyz (database and queue answer), /metrics (Prometheus). */
export function healthRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  r.get("/readyz", async (_req, res) => {
    const [database, queue] = await Promise.all([pingDb(deps.db), deps.driver.ready()]);
    const checks = {
      database: database ? "ok" : "down",
      ...(deps.config.redisUrl ? { redis: queue ? "ok" : "down" } : {}),
    };
    res
      .status(database && queue ? 200 : 503)
      .json({ status: database && queue ? "ok" : "unavailable", checks });
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
