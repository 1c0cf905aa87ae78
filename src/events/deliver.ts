import http from "node:http";
import https from "node:https";
import type { Knex } from "knex";
import { describeNetworkError, OutboundError } from "../http/network-errors.js";
import { ALLOW_PRIVATE_HINT, ipLiteralHost, isPrivateAddress, publicOnlyLookup } from "../http/network.js";
import { enqueueJobs } from "../jobs/catalog.js";
import type { JobContext } from "../jobs/types.js";
import { type DeliverPayload, streamJob } from "./outbox.js";
import { signatureHeader } from "./signature.js";
import { envelope } from "./store.js";
import * as store from "./webhooks-store.js";
import type { PendingDelivery, Webhook } from "./webhooks-store.js";

/** Delivery options (the operator's). */
export interface DeliverOptions {
  /** false: refuse internal addresses as each delivery connects; true: allow them (development). */
  allowPrivateNetwork?: boolean;
  timeoutMs?: number;
}

/** Retries continue until this long after the event (and at least MIN_ATTEMPTS), then the delivery fails. */
export const RETRY_WINDOW_MS = 24 * 3600_000;
const MIN_ATTEMPTS = 8;
/** Deliveries sent per job run before it yields to other streams. */
const PER_RUN = 50;
/** Deliveries read per query. */
const BATCH = 10;
const LEASE_MS = 2 * 60_000;
/** When another run holds the stream: look again this soon. */
const BUSY_RETRY_MS = 250;

/** Delay before retry `attempt` (1-based): 10 s · 2^(n-1), capped at 1 h, scaled by a random 50–100%. */
export function deliveryBackoffMs(attempt: number): number {
  const exp = Math.min(3600_000, 10_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.5 + Math.random() * 0.5));
}

// Keep-alive pools for deliveries: a busy endpoint reuses its connections.
const agents = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: 32 }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: 32 }),
};

/**
 * POST the event; resolves with the HTTP status, or rejects on a network error or timeout.
 * Unless private networks are allowed, the address is checked as it is connected to (a host
 * re-resolving to an internal address since the URL was saved is refused, DNS rebinding
 * included), and redirects are never followed (they could point anywhere).
 */
function post(hook: Webhook, body: string, now: Date, opts: DeliverOptions): Promise<number> {
  const url = new URL(hook.url);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const t = Math.floor(now.getTime() / 1000);
  const secrets = [hook.secret];
  if (hook.previousSecret && hook.previousExpiresAt && new Date(hook.previousExpiresAt) > now)
    secrets.push(hook.previousSecret);
  const literal = ipLiteralHost(url);
  const guarded = opts.allowPrivateNetwork === false;
  if (guarded && literal !== undefined && isPrivateAddress(literal))
    return Promise.reject(
      new OutboundError(
        `${url.hostname} is a loopback, private or link-local address: ${ALLOW_PRIVATE_HINT}`,
      ),
    );
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: "POST",
        agent: agents[url.protocol as keyof typeof agents],
        ...(guarded ? { lookup: publicOnlyLookup as never } : {}),
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "user-agent": "Roster-Webhooks/1",
          "roster-signature": signatureHeader(secrets, t, body),
        },
      },
      (res) => {
        res.resume(); // the answer's body is not read, only its status
        res.on("end", () => {
          clearTimeout(timer);
          resolve(res.statusCode ?? 0);
        });
        res.on("error", reject);
      },
    );
    const timer = setTimeout(
      () => req.destroy(new OutboundError(`timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

/**
 * Send one delivery once and record the outcome. Returns when to look at the stream again:
 * undefined when the receiver took it (2xx) or it gave up, else the retry time.
 */
async function attempt(
  db: Knex,
  hook: Webhook,
  d: PendingDelivery,
  slug: string,
  ctx: JobContext,
  opts: DeliverOptions,
): Promise<Date | undefined> {
  const now = ctx.now();
  const body = JSON.stringify(
    d.event
      ? envelope({ tenantId: d.tenantId, ...d.event }, slug)
      : { id: String(d.eventSeq), type: d.eventType },
  );
  const started = performance.now();
  let status: number | null = null;
  let error: string | null = null;
  try {
    status = await post(hook, body, now, opts);
    if (status < 200 || status >= 300) error = `HTTP ${status}`;
  } catch (err) {
    // In words (never OpenSSL's internals): the admin reads it in the delivery log.
    error = describeNetworkError(err, new URL(hook.url).host);
  }
  const ok = error === null;
  const attempts = d.attempts + 1;
  const giveUp =
    !ok && attempts >= MIN_ATTEMPTS && now.getTime() - new Date(d.createdAt).getTime() >= RETRY_WINDOW_MS;
  const next = new Date(now.getTime() + (ok || giveUp ? 0 : deliveryBackoffMs(attempts)));
  await store.recordAttempt(
    db,
    {
      id: d.id,
      state: ok ? "delivered" : giveUp ? "failed" : "pending",
      attempts,
      nextAttemptAt: next.toISOString(),
      lastStatus: status,
      lastError: error,
      deliveredAt: ok ? now.toISOString() : null,
    },
    {
      deliveryId: d.id,
      at: now.toISOString(),
      status,
      error,
      durationMs: Math.round(performance.now() - started),
    },
  );
  if (!ok)
    ctx.logger.info({ deliveryId: d.id, attempts, status, err: error, giveUp }, "webhook delivery failed");
  return ok || giveUp ? undefined : next;
}

/** Run this stream's job again at `at` (coalesced with a pending one). */
async function scheduleStream(db: Knex, tenantId: string, p: DeliverPayload, at: Date, now: Date) {
  await db.transaction((trx) => enqueueJobs(trx, [streamJob(tenantId, p, at)], now));
}

/**
 * The deliver-webhook handler: holding the (endpoint, stream) lease, send the stream's pending
 * deliveries oldest event first, reading them (with their events) a batch at a time and reading
 * again until none is left, so deliveries that commit meanwhile leave in this run. A failure
 * stops the stream (later events of that user wait, so order holds) and schedules a retry with
 * backoff, for at least 24 hours.
 */
export function deliverHandler(opts: DeliverOptions) {
  return async (p: DeliverPayload, ctx: JobContext): Promise<void> => {
    const { db } = ctx;
    const tenantId = ctx.tenantId;
    if (!tenantId) return;
    const found = await store.findWebhookForDelivery(db, tenantId, p.webhookId);
    if (!found?.hook.active) return;
    const { hook, slug } = found;
    const lease = () => new Date(ctx.now().getTime() + LEASE_MS).toISOString();
    if (!(await store.takeStreamLease(db, hook.id, p.stream, ctx.now().toISOString(), lease()))) {
      // Another run sends this stream now and reads it again before letting go; look shortly
      // after in case a delivery committed just as it finished.
      await scheduleStream(db, tenantId, p, new Date(ctx.now().getTime() + BUSY_RETRY_MS), ctx.now());
      return;
    }
    let extended = Date.now();
    try {
      for (let sent = 0; ; ) {
        const batch = await store.pendingDeliveries(db, hook.id, p.stream, Math.min(BATCH, PER_RUN - sent));
        if (batch.length === 0) return;
        for (const d of batch) {
          const due = new Date(d.nextAttemptAt);
          if (due > ctx.now()) {
            await scheduleStream(db, tenantId, p, due, ctx.now());
            return;
          }
          const retryAt = await attempt(db, hook, d, slug, ctx, opts);
          if (retryAt) {
            await scheduleStream(db, tenantId, p, retryAt, ctx.now());
            return;
          }
          if (++sent >= PER_RUN) {
            await scheduleStream(db, tenantId, p, ctx.now(), ctx.now());
            return;
          }
          if (Date.now() - extended > LEASE_MS / 4) {
            await store.extendStreamLease(db, hook.id, p.stream, lease());
            extended = Date.now();
          }
        }
      }
    } finally {
      await store.releaseStreamLease(db, hook.id, p.stream);
    }
  };
}
