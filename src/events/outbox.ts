import type { Knex } from "knex";
import { dialectOf } from "../db/knex.js";
import { type CatalogJobSpec, enqueueJobs } from "../jobs/catalog.js";
import {
  insertEventsAndDeliveriesPg,
  insertEventsNotingWebhooks,
  type NewEvent,
  type PlannedDelivery,
  type StoredEvent,
} from "./store.js";
import { insertDeliveries, listActiveWebhooks, type WebhookSubscription } from "./webhooks-store.js";

/** Payload of the deliver-webhook job: one endpoint's stream. */
export interface DeliverPayload {
  webhookId: string;
  stream: string;
}

/**
 * The ordering stream of an event: deliveries of one stream leave in event order, one at a
 * time; different streams go in parallel. Events about a user are ordered per user.
 */
export function streamOf(e: { type?: string; data: Record<string, unknown> }): string {
  if (e.type && URGENT_EVENT_PREFIXES.some((p) => e.type!.startsWith(p))) return URGENT_STREAM;
  if (typeof e.data.userId === "string") return e.data.userId;
  if (typeof e.data.groupId === "string") return `group/${e.data.groupId}`;
  return "tenant";
}

/**
 * Events delivered at high priority (issue 16: break-glass arming, expiry and disarming): their
 * own stream, so they never wait behind a backlog of the tenant's other deliveries, sent by a
 * job on the `urgent` queue, so they never wait behind other tenants' webhooks either.
 */
export const URGENT_EVENT_PREFIXES = ["sso.break_glass_"];
/** The stream of urgent events. */
export const URGENT_STREAM = "urgent";

/** The job that sends one endpoint's stream: the urgent stream's runs on the urgent queue. */
export function streamJob(tenantId: string, payload: DeliverPayload, runAt?: Date): CatalogJobSpec {
  return {
    name: payload.stream === URGENT_STREAM ? "deliver-webhook-urgent" : "deliver-webhook",
    tenantId,
    payload,
    dedupeKey: `deliver-webhook/${payload.webhookId}/${payload.stream}`,
    ...(runAt ? { runAt } : {}),
  };
}

/** Whether an endpoint subscribed to an event type: exact, `*`, or a prefix such as `user.*`. */
export function subscribes(patterns: string[], type: string): boolean {
  return patterns.some(
    (p) => p === "*" || p === type || (p.endsWith(".*") && type.startsWith(p.slice(0, -1))),
  );
}

/** Which endpoints get which events of a batch, and the stream jobs that send them. */
export function planDeliveries(
  hooks: WebhookSubscription[],
  events: NewEvent[],
): { deliveries: PlannedDelivery[]; streams: DeliverPayload[] } {
  const deliveries: PlannedDelivery[] = [];
  const streams = new Map<string, DeliverPayload>();
  for (const hook of hooks) {
    events.forEach((e, index) => {
      if (!subscribes(hook.events, e.type)) return;
      const stream = streamOf(e);
      deliveries.push({ index, webhookId: hook.id, eventType: e.type, stream });
      streams.set(`${hook.id}/${stream}`, { webhookId: hook.id, stream });
    });
  }
  return { deliveries, streams: [...streams.values()] };
}

/**
 * One deliver-webhook job per (endpoint, stream), coalesced with a pending one, which is held
 * until this commit: run before it, it would find this delivery not yet there and stop.
 */
function streamJobs(tenantId: string, streams: DeliverPayload[]): CatalogJobSpec[] {
  return streams.map((payload) => streamJob(tenantId, payload));
}

/**
 * The outbox: record events in the caller's transaction, with one pending delivery per
 * subscribed endpoint and the jobs that send them, so nothing is announced that did not commit
 * and nothing that committed goes unannounced. Call it last in a transaction: from here to the
 * commit the tenant row is locked (it orders the feed).
 *
 * PostgreSQL reads the endpoints and enqueues the jobs (`jobs`, the caller's, with the
 * streams': one call, so their pending rows are locked in key order, before the tenant row; see
 * insertJobs) before taking that lock and then takes it with a single statement (events and
 * deliveries together), which keeps concurrent writers of one tenant from queueing behind
 * round trips. SQLite has one writer at a time anyway and keeps the path that skips the
 * endpoint query for tenants without endpoints.
 */
export async function recordEvents(
  trx: Knex.Transaction,
  tenantId: string,
  events: NewEvent[],
  at: string,
  jobs: CatalogJobSpec[] = [],
): Promise<StoredEvent[]> {
  if (events.length === 0) {
    await enqueueJobs(trx, jobs, new Date(at));
    return [];
  }
  if (dialectOf(trx) === "pg") {
    const plan = planDeliveries(await listActiveWebhooks(trx, tenantId), events);
    await enqueueJobs(trx, [...jobs, ...streamJobs(tenantId, plan.streams)], new Date(at));
    return insertEventsAndDeliveriesPg(trx, tenantId, events, plan.deliveries, at);
  }
  await enqueueJobs(trx, jobs, new Date(at));
  const { stored, hasWebhooks } = await insertEventsNotingWebhooks(trx, tenantId, events, at);
  if (!hasWebhooks) return stored;
  const plan = planDeliveries(await listActiveWebhooks(trx, tenantId), events);
  await insertDeliveries(
    trx,
    plan.deliveries.map((d) => ({ ...d, tenantId, eventSeq: stored[d.index].seq })),
    at,
  );
  await enqueueJobs(trx, streamJobs(tenantId, plan.streams), new Date(at));
  return stored;
}
