import type { Db } from "../db/knex.js";
import { parseJson, toBool, toIso } from "../db/rows.js";
import { openNullable, openValue, sealNullable, sealValue } from "../secrets/sealed.js";

/** A webhook endpoint (secrets kept, encrypted at rest: HMAC needs them). */
export interface Webhook {
  id: string;
  tenantId: string;
  url: string;
  events: string[];
  active: boolean;
  secret: string;
  previousSecret: string | null;
  previousExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A delivery of one event to one endpoint. */
export interface Delivery {
  id: number;
  tenantId: string;
  webhookId: string;
  eventSeq: number;
  eventType: string;
  stream: string;
  state: "pending" | "delivered" | "failed";
  attempts: number;
  nextAttemptAt: string;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

/** One HTTP attempt of a delivery. */
export interface DeliveryAttempt {
  deliveryId: number;
  at: string;
  status: number | null;
  error: string | null;
  durationMs: number;
}

/** Which endpoints subscribe to what (all that planning deliveries needs: nothing is decrypted). */
export type WebhookSubscription = Pick<Webhook, "id" | "events">;

function rowToWebhook(db: Db, r: any): Webhook {
  const row = [r.tenant_id, r.id];
  return {
    id: r.id,
    tenantId: r.tenant_id,
    url: openValue(db, "webhooks.url", row, r.url),
    events: parseJson(r.events, []),
    active: toBool(r.active),
    secret: openValue(db, "webhooks.secret", row, r.secret),
    previousSecret: openNullable(db, "webhooks.previous_secret", row, r.previous_secret),
    previousExpiresAt: toIso(r.previous_expires_at),
    createdAt: toIso(r.created_at)!,
    updatedAt: toIso(r.updated_at)!,
  };
}

/** The url and secrets as stored: encrypted for this row. */
function sealedColumns(db: Db, w: Webhook) {
  const row = [w.tenantId, w.id];
  return {
    url: sealValue(db, "webhooks.url", row, w.url),
    secret: sealValue(db, "webhooks.secret", row, w.secret),
    previous_secret: sealNullable(db, "webhooks.previous_secret", row, w.previousSecret),
  };
}

const rowToDelivery = (r: any): Delivery => ({
  id: Number(r.id),
  tenantId: r.tenant_id,
  webhookId: r.webhook_id,
  eventSeq: Number(r.event_seq),
  eventType: r.event_type,
  stream: r.stream,
  state: r.state,
  attempts: Number(r.attempts),
  nextAttemptAt: toIso(r.next_attempt_at)!,
  lastStatus: r.last_status === null || r.last_status === undefined ? null : Number(r.last_status),
  lastError: r.last_error ?? null,
  createdAt: toIso(r.created_at)!,
  deliveredAt: toIso(r.delivered_at),
});

/** Insert an endpoint. */
export async function insertWebhook(db: Db, w: Webhook): Promise<void> {
  await db("webhooks").insert({
    id: w.id,
    tenant_id: w.tenantId,
    ...sealedColumns(db, w),
    events: JSON.stringify(w.events),
    active: w.active,
    created_at: w.createdAt,
    updated_at: w.updatedAt,
  });
}

/** Write an endpoint's url, events, active flag and secrets. */
export async function updateWebhookRow(db: Db, w: Webhook): Promise<void> {
  await db("webhooks")
    .where({ tenant_id: w.tenantId, id: w.id })
    .update({
      ...sealedColumns(db, w),
      events: JSON.stringify(w.events),
      active: w.active,
      previous_expires_at: w.previousExpiresAt,
      updated_at: w.updatedAt,
    });
}

/** A tenant's endpoints, oldest first. */
export async function listWebhooks(db: Db, tenantId: string): Promise<Webhook[]> {
  return (await db("webhooks").where({ tenant_id: tenantId }).orderBy(["created_at", "id"])).map((r) =>
    rowToWebhook(db, r),
  );
}

/** Active endpoints of a tenant and their event patterns (read on every commit that records events). */
export async function listActiveWebhooks(db: Db, tenantId: string): Promise<WebhookSubscription[]> {
  return (await db("webhooks").where({ tenant_id: tenantId, active: true }).select("id", "events")).map(
    (r: any) => ({ id: r.id, events: parseJson(r.events, []) }),
  );
}

/** One endpoint, or undefined. */
export async function findWebhook(db: Db, tenantId: string, id: string): Promise<Webhook | undefined> {
  const row = await db("webhooks").where({ tenant_id: tenantId, id }).first();
  return row ? rowToWebhook(db, row) : undefined;
}

/** An endpoint with its tenant's slug (what a delivery needs), or undefined. */
export async function findWebhookForDelivery(
  db: Db,
  tenantId: string,
  id: string,
): Promise<{ hook: Webhook; slug: string } | undefined> {
  const row = await db("webhooks as w")
    .join("tenants as t", "t.id", "w.tenant_id")
    .select("w.*", "t.slug as tenant_slug")
    .where({ "w.tenant_id": tenantId, "w.id": id })
    .first();
  return row ? { hook: rowToWebhook(db, row), slug: row.tenant_slug } : undefined;
}

/** Delete an endpoint (its deliveries cascade); returns rows deleted. */
export async function deleteWebhookRow(db: Db, tenantId: string, id: string): Promise<number> {
  return db("webhooks").where({ tenant_id: tenantId, id }).delete();
}

/** Insert pending deliveries (one per event and endpoint; a repeat is ignored). */
export async function insertDeliveries(
  db: Db,
  rows: Array<Pick<Delivery, "tenantId" | "webhookId" | "eventSeq" | "eventType" | "stream">>,
  at: string,
): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    await db("webhook_deliveries")
      .insert(
        rows.slice(i, i + 200).map((d) => ({
          tenant_id: d.tenantId,
          webhook_id: d.webhookId,
          event_seq: d.eventSeq,
          event_type: d.eventType,
          stream: d.stream,
          state: "pending",
          next_attempt_at: at,
          created_at: at,
        })),
      )
      .onConflict(["webhook_id", "event_seq"])
      .ignore();
  }
}

/** A pending delivery with the event it carries (undefined when the event row is gone). */
export type PendingDelivery = Delivery & {
  event?: { seq: number; type: string; data: Record<string, unknown>; createdAt: string };
};

/**
 * Up to `limit` pending deliveries of a stream, oldest event first (per-endpoint, per-user
 * order), each with its event: one query for what used to be two per delivery.
 */
export async function pendingDeliveries(
  db: Db,
  webhookId: string,
  stream: string,
  limit: number,
): Promise<PendingDelivery[]> {
  const rows = await db("webhook_deliveries as d")
    .leftJoin("events as e", (j) =>
      j.on("e.tenant_id", "=", "d.tenant_id").andOn("e.seq", "=", "d.event_seq"),
    )
    .select("d.*", "e.type as e_type", "e.data as e_data", "e.created_at as e_created_at")
    .where({ "d.webhook_id": webhookId, "d.stream": stream, "d.state": "pending" })
    .orderBy("d.event_seq")
    .limit(limit);
  return rows.map((r: any) => ({
    ...rowToDelivery(r),
    event:
      r.e_type === null || r.e_type === undefined
        ? undefined
        : {
            seq: Number(r.event_seq),
            type: r.e_type,
            data: parseJson(r.e_data, {}),
            createdAt: toIso(r.e_created_at)!,
          },
  }));
}

/** Record an attempt and the delivery's new state, in one transaction (one commit). */
export async function recordAttempt(
  db: Db,
  d: Pick<
    Delivery,
    "id" | "state" | "attempts" | "nextAttemptAt" | "lastStatus" | "lastError" | "deliveredAt"
  >,
  attempt: DeliveryAttempt,
): Promise<void> {
  await db.transaction(async (trx) => {
    await trx("webhook_deliveries")
      .where({ id: d.id })
      .update({
        state: d.state,
        attempts: d.attempts,
        next_attempt_at: d.nextAttemptAt,
        last_status: d.lastStatus,
        last_error: d.lastError?.slice(0, 2000) ?? null,
        delivered_at: d.deliveredAt,
      });
    await trx("webhook_attempts").insert({
      delivery_id: attempt.deliveryId,
      at: attempt.at,
      status: attempt.status,
      error: attempt.error?.slice(0, 2000) ?? null,
      duration_ms: attempt.durationMs,
    });
  });
}

/**
 * Delete up to `limit` attempt records older than `before` of deliveries that are over
 * (delivered or given up); returns how many. The delivery row keeps its outcome, attempt count
 * and delivery time, so receipts and the deliveries list still tell what happened.
 */
export async function deleteFinishedAttempts(db: Db, before: string, limit: number): Promise<number> {
  return db("webhook_attempts")
    .whereIn(
      "id",
      db("webhook_attempts as a")
        .join("webhook_deliveries as d", "d.id", "a.delivery_id")
        .select("a.id")
        .whereNot("d.state", "pending")
        .andWhere("a.at", "<", before)
        .limit(limit),
    )
    .delete();
}

/** An endpoint's deliveries, newest first, paged by id. */
export async function listDeliveries(
  db: Db,
  tenantId: string,
  webhookId: string,
  opts: { state?: Delivery["state"]; limit: number; beforeId?: number },
): Promise<Delivery[]> {
  const q = db("webhook_deliveries")
    .where({ tenant_id: tenantId, webhook_id: webhookId })
    .orderBy("id", "desc")
    .limit(opts.limit);
  if (opts.state) q.andWhere({ state: opts.state });
  if (opts.beforeId) q.andWhere("id", "<", opts.beforeId);
  return (await q).map(rowToDelivery);
}

/** One delivery of an endpoint, or undefined. */
export async function findDelivery(
  db: Db,
  tenantId: string,
  webhookId: string,
  id: number,
): Promise<Delivery | undefined> {
  const row = await db("webhook_deliveries")
    .where({ tenant_id: tenantId, webhook_id: webhookId, id })
    .first();
  return row ? rowToDelivery(row) : undefined;
}

/** Attempts of these deliveries, oldest first. */
export async function listAttempts(db: Db, deliveryIds: number[]): Promise<Map<number, DeliveryAttempt[]>> {
  const out = new Map<number, DeliveryAttempt[]>(deliveryIds.map((id) => [id, []]));
  for (let i = 0; i < deliveryIds.length; i += 500) {
    const rows = await db("webhook_attempts")
      .whereIn("delivery_id", deliveryIds.slice(i, i + 500))
      .orderBy("id");
    for (const r of rows)
      out.get(Number(r.delivery_id))!.push({
        deliveryId: Number(r.delivery_id),
        at: toIso(r.at)!,
        status: r.status === null ? null : Number(r.status),
        error: r.error ?? null,
        durationMs: Number(r.duration_ms),
      });
  }
  return out;
}

/** Make a delivery pending again, due now (admin redelivery). */
export async function resetDelivery(db: Db, id: number, at: string): Promise<void> {
  await db("webhook_deliveries").where({ id }).update({ state: "pending", next_attempt_at: at });
}

/**
 * Take the lease of an (endpoint, stream): one sender at a time keeps per-user order. Free when
 * absent or expired (a sender that died loses it after `leaseUntil`).
 */
export async function takeStreamLease(
  db: Db,
  webhookId: string,
  stream: string,
  now: string,
  leaseUntil: string,
): Promise<boolean> {
  const take = () =>
    db("webhook_streams")
      .where({ webhook_id: webhookId, stream })
      .andWhere((q) => q.whereNull("locked_until").orWhere("locked_until", "<", now))
      .update({ locked_until: leaseUntil });
  if ((await take()) > 0) return true;
  // The stream's first delivery creates its row (one write per delivery otherwise).
  await db("webhook_streams")
    .insert({ webhook_id: webhookId, stream, locked_until: null })
    .onConflict(["webhook_id", "stream"])
    .ignore();
  return (await take()) > 0;
}

/** Extend a held lease. */
export async function extendStreamLease(
  db: Db,
  webhookId: string,
  stream: string,
  leaseUntil: string,
): Promise<void> {
  await db("webhook_streams").where({ webhook_id: webhookId, stream }).update({ locked_until: leaseUntil });
}

/** Release a lease. */
export async function releaseStreamLease(db: Db, webhookId: string, stream: string): Promise<void> {
  await db("webhook_streams").where({ webhook_id: webhookId, stream }).update({ locked_until: null });
}

/** Retention: delete up to `limit` finished (delivered or failed) deliveries created before `before`, with their attempts. */
export async function deleteFinishedDeliveries(db: Db, before: string, limit: number): Promise<number> {
  const ids = (await db("webhook_deliveries")
    .whereNot("state", "pending")
    .andWhere("created_at", "<", before)
    .orderBy("id")
    .limit(limit)
    .pluck("id")) as number[];
  if (ids.length === 0) return 0;
  await db("webhook_attempts").whereIn("delivery_id", ids).delete();
  return db("webhook_deliveries").whereIn("id", ids).delete();
}
