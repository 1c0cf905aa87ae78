import type { Db } from "../db/knex.js";
import { deleteFinishedAttempts } from "../events/webhooks-store.js";
import type { JobRegistry } from "./registry.js";
import { deleteDoneJobs } from "./store.js";

/** The daily clean-up job: one pending at a time, rescheduled by each run. */
export const HOUSEKEEPING_JOB = "housekeeping";
const DAY_MS = 86_400_000;
/** Rows deleted per statement: short transactions, so writers never wait long behind one. */
const BATCH = 5000;

/** What a housekeeping run deleted. */
export interface HousekeepingResult {
  jobs: number;
  webhookAttempts: number;
}

/**
 * Delete what nobody reads once it is old: finished jobs, and the attempt log of webhook
 * deliveries that are over, older than `retentionDays`. Events (the feed and audit log),
 * delivery rows, revocation receipts and dead-letter jobs are kept.
 */
export async function runHousekeeping(db: Db, now: Date, retentionDays: number): Promise<HousekeepingResult> {
  const before = new Date(now.getTime() - retentionDays * DAY_MS).toISOString();
  const drain = async (step: () => Promise<number>) => {
    let total = 0;
    for (let n = BATCH; n === BATCH; total += n) n = await step();
    return total;
  };
  return {
    jobs: await drain(() => deleteDoneJobs(db, before, BATCH)),
    webhookAttempts: await drain(() => deleteFinishedAttempts(db, before, BATCH)),
  };
}

/** The next housekeeping run (coalesced with a pending one): at start-up, and after each run. */
export function scheduleHousekeeping(jobs: JobRegistry, db: Db, now: Date, runAt = now): Promise<void> {
  return jobs.enqueue(
    db,
    [{ name: HOUSEKEEPING_JOB, tenantId: null, payload: {}, dedupeKey: HOUSEKEEPING_JOB, runAt }],
    now,
  );
}

/** A further step of the daily run, named for the log (e.g. re-scheduling lost domain checks). */
export type HousekeepingStep = (ctx: { db: Db; now: () => Date }) => Promise<number>;

/** Register the daily housekeeping job, with the capabilities' own steps. */
export function registerHousekeeping(
  jobs: JobRegistry,
  retentionDays: number,
  steps: Record<string, HousekeepingStep> = {},
): void {
  jobs.define({
    name: HOUSEKEEPING_JOB,
    queue: "default",
    maxAttempts: 5,
    handler: async (_payload, ctx) => {
      const deleted = await runHousekeeping(ctx.db, ctx.now(), retentionDays);
      const done: Record<string, number> = {};
      for (const [name, step] of Object.entries(steps)) done[name] = await step(ctx);
      ctx.logger.info({ deleted, ...done, retentionDays }, "housekeeping done");
      await scheduleHousekeeping(jobs, ctx.db, ctx.now(), new Date(ctx.now().getTime() + DAY_MS));
    },
  });
}
