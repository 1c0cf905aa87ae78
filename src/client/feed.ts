import { RosterApiError } from "./errors.js";
import { call, type HttpOptions, seg } from "./http.js";
import type { EventPage, RosterEvent } from "./types.js";

export interface EventsOptions {
  /** The cursor you stored: the `id` of the last event you finished processing ("0": from the start). */
  after?: string;
  /** Page size, 1–1000 (default 100). */
  limit?: number;
  /** Wait between polls once caught up, ms (default 5,000). */
  pollIntervalMs?: number;
  /** Stop (return) once caught up instead of polling on: for batch jobs and tests. */
  stopWhenIdle?: boolean;
  /** Back-off after a failed read: first wait and ceiling, ms (defaults 1,000 and 60,000; doubled, with jitter). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Called on each failure that will be retried (network error, timeout, 5xx, 429), before waiting. */
  onError?: (error: unknown, retryInMs: number) => void;
  /** Ends the iteration (the loop returns; a wait in progress is cut short). */
  signal?: AbortSignal;
}

/** Errors worth a retry: the network, a timeout, 429 and 5xx. The rest (401, 404, 410…) are the caller's to handle. */
function retryable(err: unknown): boolean {
  if (err instanceof RosterApiError) return err.status === 429 || err.status >= 500;
  return true;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * The tenant's event feed as an endless async iterable, in order, from `after`.
 *
 * At least once: an event is yielded again after a crash before you stored its id, or after a
 * reconcile. Process each idempotently (deduplicate on `event.id`), then store `event.id` as
 * your cursor. Transient failures are retried with exponential back-off; 410
 * `CURSOR_EXPIRED` throws `CursorExpiredError` (reconcile, see its `advice`); other API
 * errors (bad token, unknown tenant) throw `RosterApiError`.
 */
export async function* readEvents(
  http: HttpOptions,
  tenant: string,
  options: EventsOptions = {},
): AsyncGenerator<RosterEvent, void, undefined> {
  let cursor = options.after ?? "0";
  const initial = options.backoff?.initialMs ?? 1_000;
  const max = options.backoff?.maxMs ?? 60_000;
  let failures = 0;
  while (!options.signal?.aborted) {
    let page: EventPage;
    try {
      page = await call<EventPage>(http, "GET", `/tenants/${seg(tenant)}/events`, {
        query: { after: cursor, limit: options.limit },
      });
      failures = 0;
    } catch (err) {
      if (options.signal?.aborted) return;
      if (!retryable(err)) throw err;
      const base = Math.min(max, initial * 2 ** failures++);
      const retryAfter =
        err instanceof RosterApiError && err.retryAfterSeconds ? err.retryAfterSeconds * 1000 : 0;
      // Full jitter on the upper half, so many consumers of one Roster do not retry in step.
      const wait = Math.max(retryAfter, Math.round(base / 2 + (Math.random() * base) / 2));
      options.onError?.(err, wait);
      await sleep(wait, options.signal);
      continue;
    }
    for (const event of page.events) {
      yield event;
      cursor = event.id;
    }
    cursor = page.next;
    const full = page.events.length >= (options.limit ?? 100);
    if (full) continue;
    if (options.stopWhenIdle) return;
    await sleep(options.pollIntervalMs ?? 5_000, options.signal);
  }
}
