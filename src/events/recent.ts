import type { Knex } from "knex";
import { z } from "zod";
import { parseInput } from "../http/validate.js";
import { requireTenant } from "../tenants/use-cases.js";
import { listEventsBefore } from "./recent-store.js";
import { envelope } from "./store.js";

const recentQuery = z
  .object({
    type: z
      .string()
      .max(64)
      .regex(/^[a-z][a-z_]*(\.[a-z_]+)*(\.\*)?$/, "must be an event type or a prefix such as 'user.*'")
      .optional(),
    before: z
      .string()
      .regex(/^\d{1,18}$/, "must be an event id (the `next` of a previous page)")
      .optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

/**
 * GET …/events/recent: the tenant's events newest first (an audit view; the feed `…/events` is
 * the oldest-first stream for consumers), optionally of one type or a prefix (`user.*`); `next`
 * is the `before` of the following (older) page, null on the last.
 */
export async function readRecentEvents(deps: { db: Knex }, slug: string, query: unknown) {
  const q = parseInput(recentQuery, query, "query");
  const tenant = await requireTenant(deps, slug);
  const prefix = q.type?.endsWith(".*") ? q.type.slice(0, -1) : undefined;
  const events = await listEventsBefore(deps.db, tenant.id, {
    before: q.before === undefined ? undefined : Number(q.before),
    type: prefix ? undefined : q.type,
    prefix,
    limit: q.limit,
  });
  return {
    events: events.map((e) => envelope(e, tenant.slug)),
    next: events.length === q.limit ? String(events.at(-1)!.seq) : null,
  };
}
