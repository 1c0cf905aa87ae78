import { randomUUID } from "node:crypto";
import { MAX_SERIAL_ID, serialId } from "../db/rows.js";
import type { Knex } from "knex";
import { z } from "zod";
import { AppError } from "../http/errors.js";
import { parseInput } from "../http/validate.js";
import { enqueueJobs } from "../jobs/catalog.js";
import { generateSecret, SECRET_PREFIX } from "../tenants/secrets.js";
import { requireTenant } from "../tenants/use-cases.js";
import { assertWebhookUrl } from "./url-guard.js";
import * as store from "./webhooks-store.js";
import type { Delivery, Webhook } from "./webhooks-store.js";

/** What the webhook use cases need. */
export interface WebhookDeps {
  db: Knex;
  now: () => Date;
  config: { allowPrivateNetwork: boolean };
}

// Event types are at most 64 characters (events.type); a longer pattern could never match.
const eventPattern = z
  .string()
  .max(64)
  .regex(
    /^(\*|[a-z][a-z_]*(\.[a-z_]+)*(\.\*)?)$/,
    "must be an event type, a prefix such as 'user.*', or '*'",
  );

/** Body of POST …/webhooks. */
export const createWebhookInput = z
  .object({
    url: z.string().min(1).max(2048),
    events: z.array(eventPattern).min(1).max(100),
    active: z.boolean().default(true),
  })
  .strict();

/** Body of PATCH …/webhooks/{id}. */
export const updateWebhookInput = z
  .object({
    url: z.string().min(1).max(2048).optional(),
    events: z.array(eventPattern).min(1).max(100).optional(),
    active: z.boolean().optional(),
  })
  .strict();

/** Body of POST …/webhooks/{id}/rotate-secret. */
export const rotateSecretInput = z
  .object({
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .default(24 * 3600),
  })
  .strict();

const webhookNotFound = (id: string) => new AppError(404, "WEBHOOK_NOT_FOUND", `Webhook ${id} not found`);

/** An endpoint as listed: never its secrets. */
export function publicWebhook(w: Webhook) {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    active: w.active,
    previousSecretExpiresAt: w.previousExpiresAt,
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
  };
}

/** Create an endpoint; the signing secret is in this answer only. */
export async function createWebhook(deps: WebhookDeps, slug: string, body: unknown) {
  const input = parseInput(createWebhookInput, body);
  const tenant = await requireTenant(deps, slug);
  const url = await assertWebhookUrl(input.url, deps.config.allowPrivateNetwork);
  const at = deps.now().toISOString();
  const hook: Webhook = {
    id: randomUUID(),
    tenantId: tenant.id,
    url: url.toString(),
    events: [...new Set(input.events)],
    active: input.active,
    secret: generateSecret(SECRET_PREFIX.webhook),
    previousSecret: null,
    previousExpiresAt: null,
    createdAt: at,
    updatedAt: at,
  };
  await store.insertWebhook(deps.db, hook);
  return { ...publicWebhook(hook), secret: hook.secret };
}

/** An endpoint of the tenant, or 404 WEBHOOK_NOT_FOUND. */
export async function requireWebhook(deps: WebhookDeps, slug: string, id: string): Promise<Webhook> {
  const tenant = await requireTenant(deps, slug);
  const hook = await store.findWebhook(deps.db, tenant.id, id);
  if (!hook) throw webhookNotFound(id);
  return hook;
}

/** Change an endpoint's url, events or active flag. */
export async function updateWebhook(deps: WebhookDeps, slug: string, id: string, body: unknown) {
  const input = parseInput(updateWebhookInput, body);
  const hook = await requireWebhook(deps, slug, id);
  const url = input.url
    ? (await assertWebhookUrl(input.url, deps.config.allowPrivateNetwork)).toString()
    : hook.url;
  const next: Webhook = {
    ...hook,
    url,
    events: input.events ? [...new Set(input.events)] : hook.events,
    active: input.active ?? hook.active,
    updatedAt: deps.now().toISOString(),
  };
  await store.updateWebhookRow(deps.db, next);
  return publicWebhook(next);
}

/** Delete an endpoint and its deliveries. */
export async function deleteWebhook(deps: WebhookDeps, slug: string, id: string): Promise<void> {
  const hook = await requireWebhook(deps, slug, id);
  await store.deleteWebhookRow(deps.db, hook.tenantId, id);
}

/**
 * Rotate the signing secret: the new one is in this answer only; the old one keeps signing
 * (a second v1 in the header) for `graceSeconds`, so receivers can switch without a gap.
 */
export async function rotateWebhookSecret(deps: WebhookDeps, slug: string, id: string, body: unknown) {
  const input = parseInput(rotateSecretInput, body);
  const hook = await requireWebhook(deps, slug, id);
  const now = deps.now();
  const next: Webhook = {
    ...hook,
    secret: generateSecret(SECRET_PREFIX.webhook),
    previousSecret: input.graceSeconds > 0 ? hook.secret : null,
    previousExpiresAt:
      input.graceSeconds > 0 ? new Date(now.getTime() + input.graceSeconds * 1000).toISOString() : null,
    updatedAt: now.toISOString(),
  };
  await store.updateWebhookRow(deps.db, next);
  return { ...publicWebhook(next), secret: next.secret };
}

const listQuery = z
  .object({
    state: z.enum(["pending", "delivered", "failed"]).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.coerce.number().int().min(1).max(MAX_SERIAL_ID).optional(),
  })
  .strict();

/** A delivery as the API shows it, with its attempts. */
function publicDelivery(d: Delivery, attempts: store.DeliveryAttempt[]) {
  return {
    id: String(d.id),
    eventId: String(d.eventSeq),
    eventType: d.eventType,
    state: d.state,
    attempts: d.attempts,
    nextAttemptAt: d.state === "pending" ? d.nextAttemptAt : null,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: d.createdAt,
    deliveredAt: d.deliveredAt,
    attemptLog: attempts.map(({ deliveryId: _d, ...a }) => a),
  };
}

/** An endpoint's deliveries, newest first; `next` pages on. */
export async function listDeliveries(deps: WebhookDeps, slug: string, id: string, query: unknown) {
  const q = parseInput(listQuery, query, "query");
  const hook = await requireWebhook(deps, slug, id);
  const list = await store.listDeliveries(deps.db, hook.tenantId, id, { ...q, beforeId: q.before });
  const attempts = await store.listAttempts(
    deps.db,
    list.map((d) => d.id),
  );
  return {
    deliveries: list.map((d) => publicDelivery(d, attempts.get(d.id) ?? [])),
    next: list.length === q.limit ? String(list.at(-1)!.id) : null,
  };
}

/** Send a delivery again (whatever its state); the receiver deduplicates by event id. */
export async function redeliver(deps: WebhookDeps, slug: string, id: string, deliveryId: string) {
  const hook = await requireWebhook(deps, slug, id);
  const n = serialId(deliveryId);
  const d = n ? await store.findDelivery(deps.db, hook.tenantId, id, n) : undefined;
  if (!d) throw new AppError(404, "DELIVERY_NOT_FOUND", `Delivery ${deliveryId} not found`);
  const now = deps.now();
  await deps.db.transaction(async (trx) => {
    await store.resetDelivery(trx, d.id, now.toISOString());
    const payload = { webhookId: id, stream: d.stream };
    const dedupeKey = `deliver-webhook/${id}/${d.stream}`;
    await enqueueJobs(trx, [{ name: "deliver-webhook", tenantId: hook.tenantId, payload, dedupeKey }], now);
  });
  const fresh = (await store.findDelivery(deps.db, hook.tenantId, id, d.id))!;
  return publicDelivery(fresh, (await store.listAttempts(deps.db, [d.id])).get(d.id) ?? []);
}
