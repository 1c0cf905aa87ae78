import type { Db } from "../db/knex.js";
import { parseJson } from "../db/rows.js";

/** A sign-in trace: today one per refused SAML sign-in (issue 18 adds successes and checks). */
export interface SsoTrace {
  ref: string;
  tenantId: string;
  createdAt: string;
  outcome: "refused";
  reason: string;
  /** Whether a signature of the tenant's IdP verified before the refusal. */
  verified: boolean;
  message: string;
  details: Record<string, unknown>;
  /** The NameID the response claimed (unverified when `verified` is false). */
  nameId: string | null;
  requestId: string | null;
}

function rowToTrace(r: any): SsoTrace {
  return {
    ref: r.ref,
    tenantId: r.tenant_id,
    createdAt: r.created_at,
    outcome: r.outcome,
    reason: r.reason,
    verified: Boolean(r.verified),
    message: r.message,
    details: parseJson(r.details, {}),
    nameId: r.name_id ?? null,
    requestId: r.request_id ?? null,
  };
}

/** Insert a trace (its strings already bounded). */
export async function insertTrace(db: Db, t: SsoTrace): Promise<void> {
  await db("sso_traces").insert({
    ref: t.ref,
    tenant_id: t.tenantId,
    created_at: t.createdAt,
    outcome: t.outcome,
    reason: t.reason,
    verified: t.verified,
    message: t.message,
    details: JSON.stringify(t.details),
    name_id: t.nameId,
    request_id: t.requestId,
  });
}

/**
 * Keep only the newest `keep` traces of a tenant with this `verified` value: one statement
 * (rows older than the keep-th newest go), a no-op below `keep`.
 */
export async function trimTraces(db: Db, tenantId: string, verified: boolean, keep: number): Promise<number> {
  const cutoff = db("sso_traces")
    .where({ tenant_id: tenantId, verified })
    .orderBy("seq", "desc")
    .offset(keep - 1)
    .limit(1)
    .select("seq");
  return db("sso_traces").where({ tenant_id: tenantId, verified }).where("seq", "<", cutoff).delete();
}

/** A tenant's traces, newest first (optionally only verified or unverified ones). */
export async function listTraces(
  db: Db,
  tenantId: string,
  opts: { verified?: boolean; limit: number },
): Promise<SsoTrace[]> {
  const q = db("sso_traces").where({ tenant_id: tenantId });
  if (opts.verified !== undefined) q.where({ verified: opts.verified });
  return (await q.orderBy("seq", "desc").limit(opts.limit)).map(rowToTrace);
}

/** One trace of a tenant by its reference, or undefined. */
export async function findTrace(db: Db, tenantId: string, ref: string): Promise<SsoTrace | undefined> {
  const row = await db("sso_traces").where({ tenant_id: tenantId, ref }).first();
  return row ? rowToTrace(row) : undefined;
}
