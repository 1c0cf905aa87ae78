import type { Db } from "../db/knex.js";
import { parseJson } from "../db/rows.js";
import type { TraceCheck } from "./traces.js";

/**
 * A sign-in trace: one per SAML sign-in, refused or succeeded (issue 18). The fields are the
 * protocol's neutral ones (src/sso/traces.ts), so OpenID Connect records through the same store.
 */
export interface SsoTrace {
  ref: string;
  tenantId: string;
  createdAt: string;
  outcome: "refused" | "succeeded";
  protocol: string;
  connectionId: string | null;
  /** What to do about a refusal, in words ("" for a success). */
  fix: string;
  checks: TraceCheck[];
  /** The decoded response, secrets elided and cut (saml/trace-checks.ts), when one was parsed. */
  response: string | null;
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
    protocol: r.protocol ?? "saml",
    connectionId: r.connection_id ?? null,
    fix: r.fix ?? "",
    checks: parseJson(r.checks, []),
    response: r.response ?? null,
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
    protocol: t.protocol,
    connection_id: t.connectionId,
    fix: t.fix,
    checks: JSON.stringify(t.checks),
    response: t.response,
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

/** Filters of a tenant's trace list (all optional, combined with AND). */
export interface TraceFilter {
  verified?: boolean;
  outcome?: string;
  reason?: string;
  /** A NameID prefix, or a trace reference. */
  q?: string;
  /** Traces older than this one (its reference: the cursor). */
  beforeSeq?: number;
  limit: number;
}

/** A tenant's traces, newest first, without the decoded response. */
export async function listTraces(db: Db, tenantId: string, opts: TraceFilter): Promise<SsoTrace[]> {
  const q = db("sso_traces").where({ tenant_id: tenantId });
  if (opts.verified !== undefined) q.where({ verified: opts.verified });
  if (opts.outcome) q.where({ outcome: opts.outcome });
  if (opts.reason) q.where({ reason: opts.reason });
  if (opts.q) {
    const term = opts.q;
    q.where((w) =>
      w
        .where("ref", term)
        .orWhere((n) => n.where("name_id", ">=", term).where("name_id", "<", `${term}\uffff`)),
    );
  }
  if (opts.beforeSeq !== undefined) q.where("seq", "<", opts.beforeSeq);
  const rows = await q.orderBy("seq", "desc").limit(opts.limit);
  return rows.map((r: any) => ({ ...rowToTrace(r), response: null }));
}

/** The sequence number of a tenant's trace by reference (the list's cursor). */
export async function traceSeq(db: Db, tenantId: string, ref: string): Promise<number | undefined> {
  const row = await db("sso_traces").where({ tenant_id: tenantId, ref }).first("seq");
  return row ? Number(row.seq) : undefined;
}

/** Retention: delete up to `batch` traces created before `before`; how many went. */
export async function deleteTracesBefore(db: Db, before: string, batch: number): Promise<number> {
  const seqs = await db("sso_traces")
    .where("created_at", "<", before)
    .orderBy("seq")
    .limit(batch)
    .pluck("seq");
  if (seqs.length === 0) return 0;
  return db("sso_traces").whereIn("seq", seqs).delete();
}

/** One trace of a tenant by its reference, or undefined. */
export async function findTrace(db: Db, tenantId: string, ref: string): Promise<SsoTrace | undefined> {
  const row = await db("sso_traces").where({ tenant_id: tenantId, ref }).first();
  return row ? rowToTrace(row) : undefined;
}
