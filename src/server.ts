import cluster from "node:cluster";
import type { Server } from "node:http";
import { createApp } from "./app.js";
import {
  CANNOT_START,
  exitCannotStart,
  keepHeapCompact,
  loadConfigOrExit,
  withDatabaseOrExit,
} from "./boot.js";
import type { Config } from "./config.js";
import { migrateLatest } from "./db/knex.js";
import { scheduleHousekeeping } from "./jobs/housekeeping.js";
import { createDeps, type Deps } from "./deps.js";
import { createMonitoringApp } from "./http/health.js";
import { ListenError, listen } from "./http/listen.js";
import { createLogger } from "./logger.js";
import { prepareStoredSecrets } from "./secrets/reseal.js";
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
  await withDatabaseOrExit(config, async () => {
    const deps = createDeps(config, { role: "cli" });
    try {
      const applied = await migrateLatest(deps.db);
      if (applied.length) deps.logger.info({ migrations: applied }, "migrations applied");
      await prepareStoredSecrets(deps);
      const token = await bootstrapAdminKey(deps.db, !!config.adminToken, deps.now());
      if (token) printBootstrapToken(token);
    } finally {
      await deps.close();
    }
  });
}

/** Listen on a port, or end the process with one line naming the port and what to do. */
async function listenOrExit(...args: Parameters<typeof listen>): Promise<Server> {
  try {
    return await listen(...args);
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    exitCannotStart(err.message, cluster.isWorker ? CANNOT_START : 1);
  }
}

/** One API process: listen, run jobs, drain on SIGTERM. */
async function serve(config: Config): Promise<void> {
  const exitCode = cluster.isWorker ? CANNOT_START : 1;
  const deps = await withDatabaseOrExit(
    config,
    async () => {
      const d = createDeps(config, { role: "api" });
      await scheduleHousekeeping(d.jobs, d.db, d.now());
      return d;
    },
    exitCode,
  );
  const server = await listenOrExit(createApp(deps), config.port, config.http);
  const monitoring = config.metricsPort
    ? await listenOrExit(createMonitoringApp(deps), config.metricsPort, config.http, "METRICS_PORT")
    : undefined;
  for (const s of [server, monitoring]) s?.on("error", (err) => deps.logger.error({ err }, "server error"));
  // Before "roster listening" can be printed: a SIGTERM right after it must drain, not kill.
  drainOnSignal(deps, server, monitoring);
  deps.logger.info(
    {
      port: config.port,
      ...(config.metricsPort ? { metricsPort: config.metricsPort } : {}),
      database: config.database.client,
      jobs: deps.driver.kind,
      publicUrl: config.publicUrl,
      pid: process.pid,
    },
    "roster listening",
  );
  await deps.driver.start();
}

function drainOnSignal(deps: Deps, server: Server, monitoring?: Server): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal }, "draining: no new connections, finishing in-flight requests and jobs");
    const timeout = deps.config.shutdownTimeoutMs;
    setTimeout(() => server.closeAllConnections(), timeout).unref();
    monitoring?.closeAllConnections();
    monitoring?.close();
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
  let exitCode = 0;
  const fork = () => cluster.fork();
  for (let i = 0; i < config.workers; i++) fork();
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
      return;
    }
    if (code === CANNOT_START) {
      // It said why (port taken, database unusable); a restart would fail the same way.
      exitCode = 1;
      stop();
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, "API process died; starting another");
    setTimeout(fork, 500);
  });
  const stop = (signal?: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (signal) logger.info({ signal }, "stopping API processes");
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
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
