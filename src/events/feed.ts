import type { Knex } from "knex";
import { z } from "zod";
import { parseInput } from "../http/validate.js";
import { requireTenant } from "../tenants/use-cases.js";
import { AppError } from "../http/errors.js";
import { envelope, latestSeq, listEventsAfter, prunedThrough } from "./store.js";

const feedQuery = z
  .object({
    after: z
      .string()
      .regex(/^\d{1,18}$/, "must be an event id (a cursor from a previous page), or 0")
      .default("0"),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

/**
 * A page of the tenant's event feed after a cursor, in order. `next` is the cursor to pass as
 * `after` for the following page (the same cursor when nothing new arrived, so a consumer can
 * poll with it).
 */
export async function readFeed(deps: { db: Knex }, slug: string, query: unknown) {
  const q = parseInput(feedQuery, query, "query");
  const tenant = await requireTenant(deps, slug);
  await assertCursorKept(deps.db, tenant.id, Number(q.after));
  const events = await listEventsAfter(deps.db, tenant.id, Number(q.after), q.limit);
  return {
    events: events.map((e) => envelope(e, tenant.slug)),
    next: events.length ? String(events.at(-1)!.seq) : q.after,
  };
}

/**
 * Retention deleted events up to some sequence number: a cursor before it would silently skip
 * what was deleted, so it is refused with 410 CURSOR_EXPIRED (the consumer must reconcile from
 * the state API, then follow the feed from `latest`; see the README's "Event retention").
 */
async function assertCursorKept(db: Knex, tenantId: string, after: number): Promise<void> {
  const through = await prunedThrough(db, tenantId);
  if (after >= through) return;
  const latest = await latestSeq(db, tenantId);
  throw new AppError(
    410,
    "CURSOR_EXPIRED",
    `Events up to ${through} were deleted by retention (ROSTER_RETENTION_EVENTS_DAYS): the feed cannot continue from ${after}. Reconcile from the state API (SCIM GET /Users and /Groups, the admin API's roles and sessions), then read the feed from after=${latest}`,
    { oldestKept: String(through), latest: String(latest) },
  );
}
