import type { Knex } from "knex";
import { exec, insertSql } from "../db/exec.js";

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
 * Insert events inside the caller's transaction, taking the per-tenant sequence from the tenant
 * row (its lock is held to commit), so sequence order is commit order within a tenant and a
 * feed reader never skips an event that commits late. Also answers whether the tenant has an
 * active webhook endpoint: the statement that takes the sequence tells, so a tenant without
 * endpoints (the common case, and every bulk sync) pays no separate webhook query per change.
 * Callers go through the outbox's recordEvents, which calls this last in the transaction.
 */
export async function insertEventsNotingWebhooks(
  trx: Knex.Transaction,
  tenantId: string,
  events: NewEvent[],
  at: string,
): Promise<{ stored: StoredEvent[]; hasWebhooks: boolean }> {
  if (events.length === 0) return { stored: [], hasWebhooks: false };
  const [row] = await exec<{ event_seq: number | string; hooked: unknown }>(
    trx,
    `update tenants set event_seq = event_seq + ? where id = ?
     returning event_seq, exists (select 1 from webhooks w where w.tenant_id = tenants.id and w.active) as hooked`,
    [events.length, tenantId],
  );
  const stored = storedEvents(tenantId, Number(row.event_seq) - events.length, events, at);
  for (let i = 0; i < stored.length; i += 500) {
    const { sql, bindings } = insertSql(
      "events",
      ["tenant_id", "seq", "type", "data", "created_at"],
      stored.slice(i, i + 500).map((e) => [tenantId, e.seq, e.type, JSON.stringify(e.data), at]),
    );
    await exec(trx, sql, bindings);
  }
  // SQLite answers 1/0, PostgreSQL true/false.
  return { stored, hasWebhooks: Boolean(Number(row.hooked)) };
}

/** A delivery to insert with its event: `index` is the event's place in the batch. */
export interface PlannedDelivery {
  index: number;
  webhookId: string;
  eventType: string;
  stream: string;
}

/**
 * PostgreSQL: take the sequence, insert the events and their pending deliveries in one
 * statement, so the tenant row lock (which orders the feed) is held for that statement and the
 * commit only, not for a round trip per table. Many writers of one tenant queue on that lock;
 * the shorter the hold, the more commits a second.
 */
export async function insertEventsAndDeliveriesPg(
  trx: Knex.Transaction,
  tenantId: string,
  events: NewEvent[],
  deliveries: PlannedDelivery[],
  at: string,
): Promise<StoredEvent[]> {
  if (events.length === 0) return [];
  const ev = events.map((e, i) => ({ i, type: e.type, data: JSON.stringify(e.data) }));
  const dl = deliveries.map((d) => ({ i: d.index, w: d.webhookId, t: d.eventType, s: d.stream }));
  const result = await trx.raw(
    `with s as (
       update tenants set event_seq = event_seq + ? where id = ? returning event_seq - ? as base
     ), e as (
       insert into events (tenant_id, seq, type, data, created_at)
       select ?, s.base + v.i + 1, v.type, v.data, ?
       from s, jsonb_to_recordset(?::jsonb) as v(i int, type text, data text)
     ), d as (
       insert into webhook_deliveries
         (tenant_id, webhook_id, event_seq, event_type, stream, state, next_attempt_at, created_at)
       select ?, v.w, s.base + v.i + 1, v.t, v.s, 'pending', ?, ?
       from s, jsonb_to_recordset(?::jsonb) as v(i int, w text, t text, s text)
       on conflict (webhook_id, event_seq) do nothing
     )
     select base from s`,
    [
      events.length,
      tenantId,
      events.length,
      tenantId,
      at,
      JSON.stringify(ev),
      tenantId,
      at,
      at,
      JSON.stringify(dl),
    ],
  );
  const [row] = result.rows as Array<{ base: number | string }>;
  if (!row) throw new Error(`tenant ${tenantId} not found while recording events`);
  return storedEvents(tenantId, Number(row.base), events, at);
}

function storedEvents(tenantId: string, base: number, events: NewEvent[], at: string): StoredEvent[] {
  return events.map((e, i) => ({ tenantId, seq: base + 1 + i, type: e.type, data: e.data, createdAt: at }));
}

/** Map an events row to a StoredEvent. */
export function rowToEvent(r: any): StoredEvent {
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

/**
 * Retention: delete up to `batch` events created before `before`, and remember per tenant the
 * newest sequence number deleted, so the feed can tell a cursor into the deleted past
 * (410 CURSOR_EXPIRED) from one that is merely quiet. Returns how many went.
 */
export async function deleteEventsBefore(db: Knex, before: string, batch: number): Promise<number> {
  const old = (await db("events")
    .where("created_at", "<", before)
    .orderBy("created_at")
    .limit(batch)
    .select("tenant_id", "seq")) as Array<{ tenant_id: string; seq: number | string }>;
  const byTenant = new Map<string, number[]>();
  for (const r of old) {
    const list = byTenant.get(r.tenant_id) ?? [];
    list.push(Number(r.seq));
    byTenant.set(r.tenant_id, list);
  }
  let deleted = 0;
  for (const [tenantId, seqs] of byTenant) {
    await db.transaction(async (trx) => {
      deleted += await trx("events").where({ tenant_id: tenantId }).whereIn("seq", seqs).delete();
      const through = Math.max(...seqs);
      const row = await trx("event_retention").where({ tenant_id: tenantId }).first("pruned_through");
      if (!row) await trx("event_retention").insert({ tenant_id: tenantId, pruned_through: through });
      else if (Number(row.pruned_through) < through)
        await trx("event_retention").where({ tenant_id: tenantId }).update({ pruned_through: through });
    });
  }
  return deleted;
}

/** The newest sequence number retention deleted for a tenant (0: none deleted). */
export async function prunedThrough(db: Knex | Knex.Transaction, tenantId: string): Promise<number> {
  const row = await db("event_retention").where({ tenant_id: tenantId }).first("pruned_through");
  return row ? Number(row.pruned_through) : 0;
}

/** A tenant's newest event sequence number (0 without events). */
export async function latestSeq(db: Knex | Knex.Transaction, tenantId: string): Promise<number> {
  const row = await db("events").where({ tenant_id: tenantId }).max({ m: "seq" }).first();
  return Number(row?.m ?? 0);
}
