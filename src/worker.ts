import type { Server } from "node:http";
import { exitCannotStart, keepHeapCompact, loadConfigOrExit, withDatabaseOrExit } from "./boot.js";
import { migrateLatest } from "./db/knex.js";
import { scheduleHousekeeping } from "./jobs/housekeeping.js";
import { createDeps } from "./deps.js";
import { prepareStoredSecrets } from "./secrets/reseal.js";
import { createMonitoringApp } from "./http/health.js";
import { ListenError, listen } from "./http/listen.js";

async function main(): Promise<void> {
  keepHeapCompact();
  const config = loadConfigOrExit();
  const deps = await withDatabaseOrExit(config, async () => {
    const d = createDeps(config, { role: "worker" });
    await migrateLatest(d.db);
    await prepareStoredSecrets(d);
    await scheduleHousekeeping(d.jobs, d.db, d.now());
    return d;
  });
  // A worker serves no API; with METRICS_PORT it answers /metrics, /healthz and /readyz there
  // (ready: the database and, with REDIS_URL, Redis answer).
  let monitoring: Server | undefined;
  if (config.metricsPort) {
    try {
      monitoring = await listen(createMonitoringApp(deps), config.metricsPort, config.http, "METRICS_PORT");
    } catch (err) {
      if (!(err instanceof ListenError)) throw err;
      exitCannotStart(err.message);
    }
  }
  await deps.driver.start();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal }, "worker draining: finishing running jobs");
    monitoring?.closeAllConnections();
    monitoring?.close();
    await deps.driver.stop(config.shutdownTimeoutMs);
    await deps.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  // Announced only once SIGTERM drains: a supervisor that stops it right after this line must
  // not kill it mid-job (before the handler exists, SIGTERM's default action ends the process).
  deps.logger.info(
    {
      driver: deps.driver.kind,
      database: config.database.client,
      ...(config.metricsPort ? { metricsPort: config.metricsPort } : {}),
    },
    "roster worker started",
  );
}

main().catch((err) => {
  process.stderr.write(`roster worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
