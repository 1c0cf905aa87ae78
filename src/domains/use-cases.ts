import { randomBytes, randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { z } from "zod";
import { isUniqueViolation } from "../db/errors.js";
import { recordEvents } from "../events/outbox.js";
import { AppError, conflict } from "../http/errors.js";
import { parseInput } from "../http/validate.js";
import type { JobRegistry } from "../jobs/registry.js";
import { requireTenant } from "../tenants/use-cases.js";
import { type CheckResult, challengeName, checkChallenge } from "./dns-check.js";
import { displayDomain, normaliseDomain, requireClaimableDomain } from "./names.js";
import { applyCheck, SCHEDULE } from "./schedule.js";
import * as store from "./store.js";
import type { DomainRecord } from "./store.js";

/** What the domain use cases need. */
export interface DomainDeps {
  db: Knex;
  now: () => Date;
  jobs: JobRegistry;
  config: { dnsServers?: readonly string[] };
}

/** Domains one tenant may claim: what an admin can make Roster store (and re-check) is bounded. */
export const MAX_DOMAINS_PER_TENANT = 100;

/** The job that re-checks one domain at its `next_check_at`. */
export const DOMAIN_CHECK_JOB = "domain-check";

/** Payload of a domain-check job. */
export interface DomainCheckPayload {
  domainId: string;
}

/** Body of POST …/domains. */
export const addDomainInput = z.object({ domain: z.string().max(1024) }).strict();

/** The TXT value for a token (the name is `_roster-challenge.<domain>`). */
export const challengeValue = (token: string) => `roster-verify=${token}`;

/** A domain as the admin API shows it. */
export function viewDomain(d: DomainRecord) {
  const unicode = displayDomain(d.domain);
  return {
    domain: d.domain,
    ...(unicode !== d.domain ? { unicode } : {}),
    status: d.status,
    verification: { type: "dns-txt", name: challengeName(d.domain), value: challengeValue(d.token) },
    createdAt: d.createdAt,
    verifiedAt: d.verifiedAt,
    lastCheckedAt: d.lastCheckedAt,
    lastResult: d.lastResult,
    nextCheckAt: d.nextCheckAt,
    recordMissingSince: d.recordMissingSince,
  };
}

/** The check job of a domain at its next check time (coalesced with a pending one). */
function scheduleCheck(deps: Pick<DomainDeps, "jobs">, trx: Knex, d: DomainRecord, now: Date) {
  if (!d.nextCheckAt) return Promise.resolve();
  return deps.jobs.enqueue(
    trx,
    [
      {
        name: DOMAIN_CHECK_JOB,
        tenantId: d.tenantId,
        payload: { domainId: d.id } satisfies DomainCheckPayload,
        dedupeKey: `${DOMAIN_CHECK_JOB}/${d.id}`,
        runAt: new Date(d.nextCheckAt),
      },
    ],
    now,
  );
}

const taken = (domain: string) =>
  conflict("DOMAIN_TAKEN", `${domain} is verified by another tenant; it must delete it there first`);

/** POST …/domains: claim a domain (pending) and get the TXT record to publish. */
export async function addDomain(deps: DomainDeps, slug: string, body: unknown) {
  const input = parseInput(addDomainInput, body);
  const domain = requireClaimableDomain(input.domain);
  const tenant = await requireTenant(deps, slug);
  const now = deps.now();
  const d: DomainRecord = {
    id: randomUUID(),
    tenantId: tenant.id,
    domain,
    status: "pending",
    token: randomBytes(24).toString("base64url"),
    createdAt: now.toISOString(),
    verifiedAt: null,
    lastCheckedAt: null,
    lastResult: null,
    nextCheckAt: new Date(now.getTime() + SCHEDULE.earlyEveryMs).toISOString(),
    recordMissingSince: null,
  };
  await deps.db.transaction(async (trx) => {
    const owner = await store.findVerifiedOwner(trx, domain);
    if (owner && owner !== tenant.id) throw taken(domain);
    if ((await store.countDomains(trx, tenant.id)) >= MAX_DOMAINS_PER_TENANT)
      throw conflict("DOMAIN_LIMIT", `A tenant may claim at most ${MAX_DOMAINS_PER_TENANT} domains`);
    try {
      await store.insertDomain(trx, d);
    } catch (err) {
      if (isUniqueViolation(err))
        throw conflict("DOMAIN_EXISTS", `${domain} is already claimed by this tenant`);
      throw err;
    }
    await scheduleCheck(deps, trx, d, now);
  });
  return viewDomain(d);
}

/** GET …/domains. */
export async function listDomains(deps: Pick<DomainDeps, "db">, slug: string) {
  const tenant = await requireTenant(deps, slug);
  return (await store.listDomains(deps.db, tenant.id)).map(viewDomain);
}

/** A path's domain (ASCII or Unicode) as stored, or 404: a name that cannot be valid names nothing. */
async function requireDomain(deps: Pick<DomainDeps, "db">, slug: string, raw: string) {
  const tenant = await requireTenant(deps, slug);
  const domain = normaliseDomain(raw);
  const d = domain ? await store.findDomain(deps.db, tenant.id, domain) : undefined;
  if (!d)
    throw new AppError(404, "DOMAIN_NOT_FOUND", `Tenant '${slug}' has no domain '${raw.slice(0, 300)}'`);
  return d;
}

/** GET …/domains/{domain}. */
export async function getDomain(deps: Pick<DomainDeps, "db">, slug: string, raw: string) {
  return viewDomain(await requireDomain(deps, slug, raw));
}

/** DELETE …/domains/{domain}: the domain stops routing at once; its pending check finds nothing. */
export async function deleteDomain(deps: Pick<DomainDeps, "db">, slug: string, raw: string): Promise<void> {
  const d = await requireDomain(deps, slug, raw);
  await store.deleteDomain(deps.db, d.tenantId, d.domain);
}

/**
 * Check one domain now and store the outcome, its events and its next check in one
 * transaction. The look-up runs before the transaction (no lock held across the network).
 */
export async function runCheck(deps: DomainDeps, d: DomainRecord): Promise<DomainRecord> {
  const dns: CheckResult = await checkChallenge(d.domain, challengeValue(d.token), deps.config.dnsServers);
  const now = deps.now();
  return deps.db.transaction(async (trx) => {
    const current = await store.findDomainById(trx, d.tenantId, d.id);
    if (!current) return d;
    let result: CheckResult | "taken" = dns;
    if (dns === "found" && current.status !== "verified") {
      const owner = await store.findVerifiedOwner(trx, current.domain);
      if (owner && owner !== current.tenantId) result = "taken";
    }
    const { next, events } = applyCheck(current, result, now);
    try {
      await store.updateDomain(trx, next);
    } catch (err) {
      // Another tenant's verification committed between the owner check and this write.
      if (isUniqueViolation(err)) throw taken(current.domain);
      throw err;
    }
    await scheduleCheck(deps, trx, next, now);
    await recordEvents(trx, current.tenantId, events, now.toISOString());
    return next;
  });
}

/** POST …/domains/{domain}/verify: look the record up now; 409 DOMAIN_TAKEN if another tenant owns it. */
export async function verifyDomain(deps: DomainDeps, slug: string, raw: string) {
  const d = await requireDomain(deps, slug, raw);
  const next = await runCheck(deps, d);
  if (next.lastResult === "taken") throw taken(d.domain);
  return viewDomain(next);
}
