import type { CheckResult } from "./dns-check.js";
import type { DomainRecord } from "./store.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How often and how long a pending domain is re-checked (issue 16), on the app's clock. */
export const SCHEDULE = {
  /** Every 10 minutes during the first day after the claim … */
  earlyEveryMs: 10 * MINUTE,
  earlyForMs: DAY,
  /** … then hourly, until 7 days after the claim, then `failed`. */
  lateEveryMs: HOUR,
  giveUpAfterMs: 7 * DAY,
  /** Verified domains: daily. */
  verifiedEveryMs: DAY,
  /** A resolver that did not answer is asked again sooner (verified domains). */
  retryAfterDnsErrorMs: HOUR,
} as const;

/** An event a check implies. */
export interface DomainEvent {
  type: "domain.verified" | "domain.verification_failed" | "domain.record_missing";
  data: Record<string, unknown>;
}

const at = (t: number) => new Date(t).toISOString();

/**
 * The domain after a check at `now` found `result` (`taken`: the record is there but another
 * tenant verified the name first), and the events to record. Pure: the caller stores both in
 * one transaction. A verified domain whose record vanished stays verified (a DNS migration
 * loses records for a while; unverifying at once would drop a whole company out of SSO) and
 * `domain.record_missing` tells the admin, once per absence.
 */
export function applyCheck(
  d: DomainRecord,
  result: CheckResult | "taken",
  now: Date,
): { next: DomainRecord; events: DomainEvent[] } {
  const t = now.getTime();
  const base = { domainId: d.id, domain: d.domain };
  const next: DomainRecord = { ...d, lastCheckedAt: at(t), lastResult: result };
  if (d.status === "verified") {
    if (result === "found")
      return { next: { ...next, recordMissingSince: null, nextCheckAt: at(t + DAY) }, events: [] };
    if (result === "dns_error")
      return { next: { ...next, nextCheckAt: at(t + SCHEDULE.retryAfterDnsErrorMs) }, events: [] };
    const events: DomainEvent[] = d.recordMissingSince
      ? []
      : [{ type: "domain.record_missing", data: { ...base, result, verifiedAt: d.verifiedAt } }];
    return {
      next: { ...next, recordMissingSince: d.recordMissingSince ?? at(t), nextCheckAt: at(t + DAY) },
      events,
    };
  }
  if (result === "found")
    return {
      next: {
        ...next,
        status: "verified",
        verifiedAt: at(t),
        recordMissingSince: null,
        nextCheckAt: at(t + DAY),
      },
      events: [{ type: "domain.verified", data: base }],
    };
  // A failed domain is only checked when an admin asks; it stays failed until the record is there.
  if (d.status === "failed") return { next, events: [] };
  const age = t - new Date(d.createdAt).getTime();
  if (age >= SCHEDULE.giveUpAfterMs)
    return {
      next: { ...next, status: "failed", nextCheckAt: null },
      events: [{ type: "domain.verification_failed", data: { ...base, result } }],
    };
  const every = age < SCHEDULE.earlyForMs ? SCHEDULE.earlyEveryMs : SCHEDULE.lateEveryMs;
  const giveUpAt = new Date(d.createdAt).getTime() + SCHEDULE.giveUpAfterMs;
  return { next: { ...next, nextCheckAt: at(Math.min(t + every, giveUpAt)) }, events: [] };
}
