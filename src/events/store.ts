import type { Knex } from "knex";

/** An event as stored: the audit log and the outbox feed in one. */
export interface StoredEvent {
  tenantId: string;
  seq: number;
  type: string;
  data: Record<string, unknown>;
  createdAt: string;
}

/** An event to record. */
export interface NewEvent {
  type: string;
  data: Record<string, unknown>;
}

/**
 * Record events inside the caller's transaction. The per-tenant sequence is taken from the
 * tenant row (its lock is held to commit), so sequence order is commit order within a tenant
 * and a feed reader never skips an event that commits late. Call it last in a transaction.
 */
export async function recordEvents(
  trx: Knex.Transaction,
  tenantId: string,
  events: NewEvent[],
  at: string,
): Promise<StoredEvent[]> {
  return (await recordEventsNotingWebhooks(trx, tenantId, events, at)).stored;
}

/**
 * recordEvents, also telling whether the tenant has an active webhook endpoint: the same
 * statement that takes the sequence answers it, so a tenant without endpoints (the common case,
 * and every bulk sync) pays no separate webhook query per change.
 */
export async function recordEventsNotingWebhooks(
  trx: Knex.Transaction,
  tenantId: string,
  events: NewEvent[],
  at: string,
): Promise<{ stored: StoredEvent[]; hasWebhooks: boolean }> {
  if (events.length === 0) return { stored: [], hasWebhooks: false };
  const result = await trx.raw(
    `update tenants set event_seq = event_seq + ? where id = ?
     returning event_seq, exists (select 1 from webhooks w where w.tenant_id = tenants.id and w.active) as hooked`,
    [events.length, tenantId],
  );
  const [row] = (Array.isArray(result) ? result : result.rows) as Array<{
    event_seq: number | string;
    hooked: unknown;
  }>;
  const last = Number(row.event_seq);
  const stored = events.map((e, i) => ({
    tenantId,
    seq: last - events.length + 1 + i,
    type: e.type,
    data: e.data,
    createdAt: at,
  }));
  const rows = stored.map((e) => ({
    tenant_id: tenantId,
    seq: e.seq,
    type: e.type,
    data: JSON.stringify(e.data),
    created_at: at,
  }));
  for (let i = 0; i < rows.length; i += 500) await trx("events").insert(rows.slice(i, i + 500));
  // SQLite answers 1/0, PostgreSQL true/false.
  return { stored, hasWebhooks: Boolean(Number(row.hooked)) };
}

function rowToEvent(r: any): StoredEvent {
  return {
    tenantId: r.tenant_id,
    seq: Number(r.seq),
    type: r.type,
    data: typeof r.data === "string" ? JSON.parse(r.data) : r.data,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

/** A tenant's events after a sequence number, in order. */
export async function listEventsAfter(
  db: Knex | Knex.Transaction,
  tenantId: string,
  after: number,
  limit: number,
): Promise<StoredEvent[]> {
  const rows = await db("events")
    .where({ tenant_id: tenantId })
    .andWhere("seq", ">", after)
    .orderBy("seq")
    .limit(limit);
  return rows.map(rowToEvent);
}

/** One event by its sequence number, or undefined. */
export async function findEvent(
  db: Knex | Knex.Transaction,
  tenantId: string,
  seq: number,
): Promise<StoredEvent | undefined> {
  const row = await db("events").where({ tenant_id: tenantId, seq }).first();
  return row ? rowToEvent(row) : undefined;
}

/** The public envelope of an event: `{id, type, tenant, createdAt, data}`; id is the per-tenant sequence. */
export function envelope(e: StoredEvent, tenantSlug: string) {
  return { id: String(e.seq), type: e.type, tenant: tenantSlug, createdAt: e.createdAt, data: e.data };
}
