import type { JobRegistry } from "../jobs/registry.js";
import type { JobContext } from "../jobs/types.js";
import * as store from "./store.js";
import { DOMAIN_CHECK_JOB, type DomainCheckPayload, type DomainDeps, runCheck } from "./use-cases.js";

const HOUR = 3_600_000;
/** Overdue checks the daily sweep schedules again per run (the rest wait for the next day). */
const SWEEP_LIMIT = 5000;

/**
 * Register the domain re-check job. Each run checks one domain if it is due (on the app's
 * clock: `next_check_at`), stores the outcome and schedules the next run; a job that comes
 * early (coalesced with an older pending one) only schedules the due one. Deleted and failed
 * domains end their chain.
 */
export function registerDomainJobs(jobs: JobRegistry, config: DomainDeps["config"]): void {
  jobs.define<DomainCheckPayload>({
    name: DOMAIN_CHECK_JOB,
    queue: "default",
    maxAttempts: 5,
    handler: async (payload, ctx) => {
      if (!ctx.tenantId) return;
      const d = await store.findDomainById(ctx.db, ctx.tenantId, payload.domainId);
      if (!d || d.status === "failed" || !d.nextCheckAt) return;
      const deps: DomainDeps = { db: ctx.db, now: ctx.now, jobs, config };
      if (new Date(d.nextCheckAt) > ctx.now()) {
        await rescheduleCheck(jobs, ctx, d);
        return;
      }
      const next = await runCheck(deps, d);
      ctx.logger.info(
        { domainId: d.id, status: next.status, result: next.lastResult },
        "domain verification checked",
      );
    },
  });
}

function rescheduleCheck(jobs: JobRegistry, ctx: Pick<JobContext, "db" | "now">, d: store.DomainRecord) {
  return jobs.enqueue(
    ctx.db,
    [
      {
        name: DOMAIN_CHECK_JOB,
        tenantId: d.tenantId,
        payload: { domainId: d.id } satisfies DomainCheckPayload,
        dedupeKey: `${DOMAIN_CHECK_JOB}/${d.id}`,
        runAt: new Date(d.nextCheckAt!),
      },
    ],
    ctx.now(),
  );
}

/**
 * Part of the daily housekeeping: domains whose check is more than an hour overdue lost their
 * job (a Redis flush, a dead letter after five failed attempts); schedule them again now.
 */
export function domainCheckSweep(jobs: JobRegistry) {
  return async (ctx: Pick<JobContext, "db" | "now">): Promise<number> => {
    const now = ctx.now();
    const overdue = await store.listOverdueChecks(
      ctx.db,
      new Date(now.getTime() - HOUR).toISOString(),
      SWEEP_LIMIT,
    );
    for (const d of overdue) await rescheduleCheck(jobs, ctx, { ...d, nextCheckAt: now.toISOString() });
    return overdue.length;
  };
}
