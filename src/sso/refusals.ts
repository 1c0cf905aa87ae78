import { randomBytes } from "node:crypto";
import { ChangeSet, commitChanges } from "../directory/changes.js";
import { z } from "zod";
import { notFound } from "../http/errors.js";
import { parseInput } from "../http/validate.js";
import type { Tenant } from "../tenants/store.js";
import { requireTenant } from "../tenants/use-cases.js";
import type { SsoFailure } from "./failure.js";
import { boundedDetails, truncate, truncateOrNull } from "./bounded.js";
import type { SsoDeps } from "./deps.js";
import type { SamlRequestRow } from "./request-store.js";
import { findTrace, insertTrace, listTraces, type SsoTrace, trimTraces } from "./trace-store.js";

/**
 * What a refused sign-in (SAML or OpenID Connect) leaves behind. Before any signature of the tenant's IdP verified, the
 * response is anyone's text (an anonymous POST to a public URL): it becomes a counter
 * (`roster_sso_refusals_total{verified="false"}`) and a trace among the newest
 * UNVERIFIED_TRACES_KEPT of the tenant, never an event, so it is never signed and sent to the
 * tenant's webhooks. After a signature verified (wrong audience, expired, unknown user…) the
 * refusal is an `sso.login_refused` event as well. Every string from the response is truncated
 * (bounded.ts) wherever it is kept.
 */

/** Unverified refusals kept per tenant (the newest; older ones are deleted as new ones come). */
export const UNVERIFIED_TRACES_KEPT = 100;
/** Verified refusals kept per tenant as traces (each is an event too). */
export const VERIFIED_TRACES_KEPT = 1000;

/** What the ACS (or the OpenID Connect callback) knew when it refused. */
export interface RefusalContext {
  request?: SamlRequestRow | null;
  /** What the unverified response claimed (SAML: the raw facts; OpenID Connect: the id_token's subject). */
  facts?: { assertion?: { nameId: string | null } };
  /** A signature of the tenant's IdP verified before the refusal. */
  verified: boolean;
}

// Crockford's base32 (no I, L, O, U): a reference read out over the phone.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A short random trace reference, e.g. `7QK2M9XD4B`. */
export function newTraceRef(): string {
  return Array.from(randomBytes(10), (b) => ALPHABET[b % 32]).join("");
}

/** Count a refusal that has no tenant to record it under (unknown workspace, no connection). */
export function countRefusal(deps: Pick<SsoDeps, "metrics">, failure: SsoFailure, verified = false): void {
  deps.metrics.ssoRefusals.inc({ reason: failure.code, verified: String(verified) });
}

/** Record a refused sign-in (see above); returns the trace reference for the refusal page. */
export async function recordRefusal(
  deps: SsoDeps,
  tenant: Tenant,
  failure: SsoFailure,
  ctx: RefusalContext,
): Promise<string> {
  countRefusal(deps, failure, ctx.verified);
  const at = deps.now().toISOString();
  const trace: SsoTrace = {
    ref: newTraceRef(),
    tenantId: tenant.id,
    createdAt: at,
    outcome: "refused",
    reason: failure.code,
    verified: ctx.verified,
    message: truncate(failure.message, 1000),
    details: boundedDetails(failure.details),
    nameId: truncateOrNull(ctx.facts?.assertion?.nameId),
    requestId: ctx.request?.id ?? null,
  };
  await deps.db.transaction(async (trx) => {
    await insertTrace(trx, trace);
    const keep = ctx.verified ? VERIFIED_TRACES_KEPT : UNVERIFIED_TRACES_KEPT;
    await trimTraces(trx, tenant.id, ctx.verified, keep);
    if (!ctx.verified) return;
    const changes = new ChangeSet().add("sso.login_refused", {
      reason: trace.reason,
      message: trace.message,
      details: trace.details,
      nameId: trace.nameId,
      requestId: trace.requestId,
      trace: trace.ref,
    });
    await commitChanges(trx, tenant.id, changes, at);
  });
  return trace.ref;
}

function viewTrace({ tenantId: _t, ...t }: SsoTrace) {
  return t;
}

/** Query of GET …/sso-traces. */
export const tracesQuery = z
  .object({
    verified: z.enum(["true", "false"]).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

/** GET …/sso-traces: the newest traces (refusals today), optionally only (un)verified ones. */
export async function getTraces(deps: SsoDeps, slug: string, query: unknown) {
  const q = parseInput(tracesQuery, query, "query");
  const tenant = await requireTenant(deps, slug);
  const verified = q.verified === undefined ? undefined : q.verified === "true";
  return { traces: (await listTraces(deps.db, tenant.id, { verified, limit: q.limit })).map(viewTrace) };
}

/** GET …/sso-traces/{ref}. */
export async function getTrace(deps: SsoDeps, slug: string, ref: string) {
  const tenant = await requireTenant(deps, slug);
  const trace = /^[0-9A-Z]{10}$/.test(ref) ? await findTrace(deps.db, tenant.id, ref) : undefined;
  if (!trace) throw notFound("Sign-in trace");
  return viewTrace(trace);
}
