import type { Knex } from "knex";
import type { Logger } from "pino";
import type { Metrics } from "../metrics.js";
import type { JobRegistry } from "./registry.js";
import type { JobRow } from "./store.js";

/** What running a job needs. */
export interface RunJobDeps {
  db: Knex;
  logger: Logger;
  now: () => Date;
  registry: JobRegistry;
  metrics: Metrics;
}

/** Run one job's handler; throws what the handler throws. Shared by both drivers. */
export async function runJob(deps: RunJobDeps, job: JobRow, attempt: number): Promise<void> {
  const def = deps.registry.get(job.name);
  if (!def) throw new Error(`no handler for job '${job.name}'`);
  const logger = deps.logger.child({ job: job.name, jobId: job.id, attempt, tenantId: job.tenantId });
  await def.handler(job.payload, {
    db: deps.db,
    logger,
    now: deps.now,
    jobId: job.id,
    attempt,
    tenantId: job.tenantId,
  });
}

/** Short, log-safe text of an error. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
