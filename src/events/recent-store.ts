import type { Db } from "../db/knex.js";
import { rowToEvent, type StoredEvent } from "./store.js";

/**
 * A tenant's events newest first, before a sequence number, optionally of one type or of a type
 * prefix (`user.` for `user.*`): (tenant_id, type) and the (tenant_id, seq) key serve both.
 */
export async function listEventsBefore(
  db: Db,
  tenantId: string,
  opts: { before?: number; type?: string; prefix?: string; limit: number },
): Promise<StoredEvent[]> {
  const q = db("events").where({ tenant_id: tenantId });
  if (opts.before !== undefined) q.andWhere("seq", "<", opts.before);
  if (opts.type !== undefined) q.andWhere({ type: opts.type });
  // Event types are lower-case letters, dots and underscores (the pattern below), so the range
  // [prefix, prefix + "~") holds exactly the types that start with it, on both databases.
  if (opts.prefix !== undefined)
    q.andWhere("type", ">=", opts.prefix).andWhere("type", "<", `${opts.prefix}~`);
  const rows = await q.orderBy("seq", "desc").limit(opts.limit);
  return rows.map(rowToEvent);
}
