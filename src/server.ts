import cluster from "node:cluster";
import type { Server } from "node:http";
import { createApp } from "./app.js";
import { keepHeapCompact, loadConfigOrExit } from "./boot.js";
import type { Config } from "./config.js";
import { migrateLatest } from "./db/knex.js";
import { scheduleHousekeeping } from "./jobs/housekeeping.js";
import { createDeps, type Deps } from "./deps.js";
import { createLogger } from "./logger.js";
import { bootstrapAdminKey } from "./tenants/admin-keys.js";

function printBootstrapToken(token: string): void {
  // Printed once, outside the JSON log, because the operator must copy it; only its hash is stored.
  process.stderr.write(
    [
      "",
      "============================================================================",
      " Roster generated an admin token (shown only now; only its hash is stored):",
      "",
      `   ${token}`,
      "",
      " Use it as 'Authorization: Bearer <token>' on /admin/v1, or set it as",
      " ROSTER_ADMIN_TOKEN in the environment (then this stored key can be revoked",
      " with `npm run cli -- admin-key:revoke <id>`).",
      "============================================================================",
      "",
    ].join("\n"),
  );
}

/** Migrate and bootstrap once, before any process serves. */
async function prepare(config: Config): Promise<void> {
  const deps = createDeps(config, { role: "cli" });
  try {
    const applied = await migrateLatest(deps.db);
    if (applied.length) deps.logger.info({ migrations: applied }, "migrations applied");
    const token = await bootstrapAdminKey(deps.db, !!config.adminToken, deps.now());
    if (token) printBootstrapToken(token);
  } finally {
    await deps.close();
  }
}

/** One API process: listen, run jobs, drain on SIGTERM. */
async function serve(config: Config): Promise<void> {
  const deps = createDeps(config, { role: "api" });
  const server = createApp(deps).listen(config.port, () => {
    deps.logger.info(
      {
        port: config.port,
        database: config.database.client,
        jobs: deps.driver.kind,
        publicUrl: config.publicUrl,
        pid: process.pid,
      },
      "roster listening",
    );
  });
  server.on("error", (err) => {
    deps.logger.fatal({ err }, "server failed");
    process.exit(1);
  });
  // Before "roster listening" can be printed: a SIGTERM right after it must drain, not kill.
  drainOnSignal(deps, server);
  await scheduleHousekeeping(deps.jobs, deps.db, deps.now());
  await deps.driver.start();
}

function drainOnSignal(deps: Deps, server: Server): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal }, "draining: no new connections, finishing in-flight requests and jobs");
    const timeout = deps.config.shutdownTimeoutMs;
    setTimeout(() => server.closeAllConnections(), timeout).unref();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await deps.driver.stop(timeout);
    await deps.close();
    deps.logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

/**
 * The primary of a cluster: forks one API process per worker slot on the same port (so
 * request work, e.g. SAML signature checks, spreads over every core), restarts a process that
 * dies, and on SIGTERM lets every process drain before exiting 0.
 */
function supervise(config: Config): void {
  const logger = createLogger(config.logLevel);
  let stopping = false;
  const fork = () => cluster.fork();
  for (let i = 0; i < config.workers; i++) fork();
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, "API process died; starting another");
    setTimeout(fork, 500);
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping API processes");
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

async function main(): Promise<void> {
  keepHeapCompact();
  const config = loadConfigOrExit();
  if (cluster.isWorker) return serve(config);
  await prepare(config);
  if (config.workers === 1) return serve(config);
  supervise(config);
}

main().catch((err) => {
  process.stderr.write(`roster failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
