import type { Server } from "node:http";
import { createApp } from "./app.js";
import { loadConfigOrExit } from "./boot.js";
import { migrateLatest } from "./db/knex.js";
import { createDeps, type Deps } from "./deps.js";
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

function shutdown(deps: Deps, server: Server): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal }, "draining: no new connections, finishing in-flight requests and jobs");
    const timeout = deps.config.shutdownTimeoutMs;
    const force = setTimeout(() => server.closeAllConnections(), timeout);
    force.unref();
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

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const deps = createDeps(config, { role: "api" });
  const applied = await migrateLatest(deps.db);
  if (applied.length) deps.logger.info({ migrations: applied }, "migrations applied");
  const token = await bootstrapAdminKey(deps.db, !!config.adminToken, deps.now());
  if (token) printBootstrapToken(token);
  const app = createApp(deps);
  const server = app.listen(config.port, () => {
    deps.logger.info(
      {
        port: config.port,
        database: config.database.client,
        jobs: deps.driver.kind,
        publicUrl: config.publicUrl,
      },
      "roster listening",
    );
  });
  server.on("error", (err) => {
    deps.logger.fatal({ err }, "server failed");
    process.exit(1);
  });
  await deps.driver.start();
  shutdown(deps, server);
}

main().catch((err) => {
  process.stderr.write(`roster failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
