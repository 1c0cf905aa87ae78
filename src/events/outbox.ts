import type { Knex } from "knex";
import { enqueueJobs } from "../jobs/catalog.js";
import type { StoredEvent } from "./store.js";
import { insertDeliveries, listActiveWebhooks, type Webhook } from "./webhooks-store.js";

/** Payload of the deliver-webhook job: one endpoint's stream. */
export interface DeliverPayload {
  webhookId: string;
  stream: string;
}

/**
 * The ordering stream of an event: deliveries of one stream leave in event order, one at a
 * time; different streams go in parallel. Events about a user are ordered per user.
 */
export function streamOf(e: { data: Record<string, unknown> }): string {
  if (typeof e.data.userId === "string") return e.data.userId;
  if (typeof e.data.groupId === "string") return `group/${e.data.groupId}`;
  return "tenant";
}

/** Whether an endpoint subscribed to an event type: exact, `*`, or a prefix such as `user.*`. */
export function subscribes(patterns: string[], type: string): boolean {
  return patterns.some(
    (p) => p === "*" || p === type || (p.endsWith(".*") && type.startsWith(p.slice(0, -1))),
  );
}

/**
 * Inside the transaction that recorded the events: one delivery row per subscribed endpoint
 * and one deliver-webhook job per (endpoint, stream), coalesced while pending.
 */
export async function dispatchToWebhooks(
  trx: Knex.Transaction,
  tenantId: string,
  events: StoredEvent[],
  at: string,
  endpoints?: Webhook[],
): Promise<void> {
  if (events.length === 0) return;
  const hooks = endpoints ?? (await listActiveWebhooks(trx, tenantId));
  if (hooks.length === 0) return;
  const deliveries = [];
  const streams = new Map<string, DeliverPayload>();
  for (const hook of hooks) {
    for (const e of events) {
      if (!subscribes(hook.events, e.type)) continue;
      const stream = streamOf(e);
      deliveries.push({ tenantId, webhookId: hook.id, eventSeq: e.seq, eventType: e.type, stream });
      streams.set(`${hook.id}/${stream}`, { webhookId: hook.id, stream });
    }
  }
  await insertDeliveries(trx, deliveries, at);
  await enqueueJobs(
    trx,
    [...streams.entries()].map(([key, payload]) => ({
      name: "deliver-webhook" as const,
      tenantId,
      payload,
      dedupeKey: `deliver-webhook/${key}`,
    })),
    new Date(at),
  );
}
