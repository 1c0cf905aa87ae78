import type { Tenant } from "../tenants/store.js";
import type { SsoDeps } from "./deps.js";
import { SsoFailure } from "./failure.js";
import { countRefusal } from "./refusals.js";
import { countPendingRequests, deleteExpiredPending, evictOldestPending } from "./request-store.js";

/** Pending requests one browser (one roster_sso_req cookie) keeps; starting another ends its oldest. */
export const PENDING_PER_BROWSER = 10;

/**
 * Bound what anonymous GETs of the login (and OAuth authorize) endpoint can make Roster store:
 * at most `ssoMaxPendingLogins` unconsumed requests per tenant (expired ones are purged when the
 * bound is reached; if live ones still fill it, 503 TOO_MANY_PENDING_LOGINS) and at most
 * PENDING_PER_BROWSER per browser cookie (the oldest gives way: several tabs work, a loop
 * reusing one cookie cannot grow). Concurrent starts can pass the check together, so the bound
 * holds up to the number of requests in flight.
 */
export async function reservePendingSlot(deps: SsoDeps, tenant: Tenant, browserHash: string, now: Date) {
  const cap = deps.config.ssoMaxPendingLogins;
  const at = now.toISOString();
  let pending = await countPendingRequests(deps.db, tenant.id, browserHash, at, cap);
  if (pending.total >= cap) {
    await deleteExpiredPending(deps.db, tenant.id, at);
    pending = await countPendingRequests(deps.db, tenant.id, browserHash, at, cap);
    if (pending.total >= cap) {
      const failure = new SsoFailure(
        "TOO_MANY_PENDING_LOGINS",
        `Too many sign-ins to ${tenant.name} are in progress right now: try again in a few minutes.`,
        { limit: cap },
        503,
      );
      countRefusal(deps, failure);
      throw failure;
    }
  }
  if (pending.browser >= PENDING_PER_BROWSER)
    await evictOldestPending(deps.db, tenant.id, browserHash, PENDING_PER_BROWSER - 1);
}
