import type { Knex } from "knex";
import { z } from "zod";
import { parseInput } from "../http/validate.js";
import { requireTenant } from "../tenants/use-cases.js";
import { envelope, listEventsAfter } from "./store.js";

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
  const events = await listEventsAfter(deps.db, tenant.id, Number(q.after), q.limit);
  return {
    events: events.map((e) => envelope(e, tenant.slug)),
    next: events.length ? String(events.at(-1)!.seq) : q.after,
  };
}
