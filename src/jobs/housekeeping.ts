import type { Knex } from "knex";
import { deleteClosedRevocations } from "../access/revocation-store.js";
import { chainsWithEntriesBefore, pruneChain } from "../audit/store.js";
import type { Db } from "../db/knex.js";
import type { Retention } from "../config.js";
import { deleteEventsBefore } from "../events/store.js";
import { deleteFinishedAttempts, deleteFinishedDeliveries } from "../events/webhooks-store.js";
import { deleteScimRequestsBefore } from "../scim/request-log/store.js";
import { deleteTracesBefore } from "../sso/trace-store.js";
import type { JobRegistry } from "./registry.js";
import { deleteDoneJobs } from "./store.js";

/** The daily clean-up job: one pending at a time, rescheduled by each run. */
export const HOUSEKEEPING_JOB = "housekeeping";
const DAY_MS = 86_400_000;
/** Rows deleted per statement: short transactions, so writers never wait long behind one. */
const BATCH = 5000;

/** What a housekeeping run deleted (only the kinds it was given a retention for). */
export interface HousekeepingResult {
  jobs: number;
  webhookAttempts: number;
  events?: number;
  scimRequests?: number;
  traces?: number;
  audit?: number;
  deliveries?: number;
  receipts?: number;
}

/**
 * Delete what is past its retention (issue 18), oldest first, in batches of BATCH rows, each
 * its own short statement or transaction, measured on the app's clock (`now`): finished jobs and
 * the attempt log of finished deliveries (ROSTER_RETENTION_DAYS), events, the SCIM request log,
 * sign-in traces, audit entries (a chain is cut only at its start, and the hash the oldest kept
 * entry points back to is recorded so verify starts there), finished delivery rows and closed
 * revocation receipts. Pending deliveries, open revocations and dead-letter jobs are kept.
 * A plain number is ROSTER_RETENTION_DAYS alone (finished jobs and attempts).
 */
export async function runHousekeeping(
  db: Knex,
  now: Date,
  retention: number | Retention,
): Promise<HousekeepingResult> {
  const r: Retention = typeof retention === "number" ? { jobsDays: retention } : retention;
  const cutoff = (d: number) => new Date(now.getTime() - d * DAY_MS).toISOString();
  const drain = async (step: () => Promise<number>) => {
    let total = 0;
    for (let n = BATCH; n === BATCH; total += n) n = await step();
    return total;
  };
  const result: HousekeepingResult = {
    jobs: await drain(() => deleteDoneJobs(db, cutoff(r.jobsDays), BATCH)),
    webhookAttempts: await drain(() => deleteFinishedAttempts(db, cutoff(r.jobsDays), BATCH)),
  };
  if (r.eventsDays) result.events = await drain(() => deleteEventsBefore(db, cutoff(r.eventsDays!), BATCH));
  if (r.scimLogDays)
    result.scimRequests = await drain(() => deleteScimRequestsBefore(db, cutoff(r.scimLogDays!), BATCH));
  if (r.tracesDays) result.traces = await drain(() => deleteTracesBefore(db, cutoff(r.tracesDays!), BATCH));
  if (r.auditDays) {
    const before = cutoff(r.auditDays);
    let total = 0;
    for (const chain of await chainsWithEntriesBefore(db, before))
      total += await drain(() => db.transaction((trx) => pruneChain(trx, chain, before, BATCH)));
    result.audit = total;
  }
  if (r.deliveriesDays)
    result.deliveries = await drain(() => deleteFinishedDeliveries(db, cutoff(r.deliveriesDays!), BATCH));
  if (r.receiptsDays)
    result.receipts = await drain(() => deleteClosedRevocations(db, cutoff(r.receiptsDays!), BATCH));
  return result;
}

/** The next housekeeping run (coalesced with a pending one): at start-up, and after each run. */
export function scheduleHousekeeping(jobs: JobRegistry, db: Knex, now: Date, runAt = now): Promise<void> {
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
  retention: number | Retention,
  steps: Record<string, HousekeepingStep> = {},
): void {
  jobs.define({
    name: HOUSEKEEPING_JOB,
    queue: "default",
    maxAttempts: 5,
    handler: async (_payload, ctx) => {
      const deleted = await runHousekeeping(ctx.db, ctx.now(), retention);
      const done: Record<string, number> = {};
      for (const [name, step] of Object.entries(steps)) done[name] = await step(ctx);
      ctx.logger.info({ deleted, ...done, retention }, "housekeeping done");
      await scheduleHousekeeping(jobs, ctx.db, ctx.now(), new Date(ctx.now().getTime() + DAY_MS));
    },
  });
}
