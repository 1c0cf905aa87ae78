import { keepHeapCompact, loadConfigOrExit } from "./boot.js";
import { migrateLatest } from "./db/knex.js";
import { scheduleHousekeeping } from "./jobs/housekeeping.js";
import { createDeps } from "./deps.js";

async function main(): Promise<void> {
  keepHeapCompact();
  const config = loadConfigOrExit();
  const deps = createDeps(config, { role: "worker" });
  await migrateLatest(deps.db);
  await scheduleHousekeeping(deps.jobs, deps.db, deps.now());
  await deps.driver.start();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal }, "worker draining: finishing running jobs");
    await deps.driver.stop(config.shutdownTimeoutMs);
    await deps.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  // Announced only once SIGTERM drains: a supervisor that stops it right after this line must
  // not kill it mid-job (before the handler exists, SIGTERM's default action ends the process).
  deps.logger.info({ driver: deps.driver.kind, database: config.database.client }, "roster worker started");
}

main().catch((err) => {
  process.stderr.write(`roster worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
