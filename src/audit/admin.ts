import type { Knex } from "knex";
import { z } from "zod";
import { parseInput } from "../http/validate.js";
import { requireTenant } from "../tenants/use-cases.js";
import {
  type AuditEntry,
  type AuditFilter,
  chainEntries,
  hashEntry,
  listAuditEntries,
  listChains,
} from "./store.js";

const CURSOR = /^\d{1,9}$/;
const time = z
  .string()
  .trim()
  .refine((v) => /^\d{4}-\d\d-\d\d/.test(v) && !Number.isNaN(Date.parse(v)), "must be an ISO-8601 time")
  .transform((v) => new Date(v).toISOString());

const baseQuery = {
  action: z.string().trim().min(1).max(64).optional(),
  actor: z.string().trim().min(1).max(64).optional(),
  target: z.string().trim().min(1).max(200).optional(),
  before: z.string().regex(CURSOR, "must be an entry seq (a cursor from a previous page)").optional(),
  after: z.string().regex(CURSOR, "must be an entry seq").optional(),
  since: time.optional(),
  until: time.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  format: z.enum(["json", "jsonl"]).default("json"),
};
const tenantQuery = z.object(baseQuery).strict();
const operatorQuery = z
  .object({ ...baseQuery, tenant: z.string().trim().min(1).max(64).optional() })
  .strict();

/** An entry as the API shows it. */
export function viewEntry(e: AuditEntry) {
  return {
    seq: String(e.seq),
    at: e.at,
    tenant: e.tenantId ? { id: e.tenantId, slug: e.tenantSlug } : null,
    actor: e.actor,
    action: e.action,
    target: e.targetType ? { type: e.targetType, id: e.targetId } : null,
    changes: e.changes,
    sourceIp: e.sourceIp,
    requestId: e.requestId,
    chain: e.chain,
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

/** A parsed audit query: the store's filter, the page size, and whether to export JSON lines. */
export interface AuditQuery {
  filter: AuditFilter;
  limit: number;
  format: "json" | "jsonl";
}

function toQuery(q: z.output<typeof tenantQuery>, tenantId?: string): AuditQuery {
  return {
    filter: {
      tenantId,
      action: q.action,
      actorId: q.actor,
      targetId: q.target,
      beforeSeq: q.before ? Number(q.before) : undefined,
      afterSeq: q.after ? Number(q.after) : undefined,
      since: q.since,
      until: q.until,
    },
    limit: q.limit,
    format: q.format,
  };
}

/** GET /admin/v1/tenants/{slug}/audit-log's query. */
export async function tenantAuditQuery(
  deps: { db: Knex },
  slug: string,
  query: unknown,
): Promise<AuditQuery> {
  const q = parseInput(tenantQuery, query, "query");
  const tenant = await requireTenant(deps, slug);
  return toQuery(q, tenant.id);
}

/** GET /admin/v1/audit-log's query (every tenant, and the operator's own actions). */
export async function operatorAuditQuery(deps: { db: Knex }, query: unknown): Promise<AuditQuery> {
  const q = parseInput(operatorQuery, query, "query");
  const tenantId = q.tenant ? (await requireTenant(deps, q.tenant)).id : undefined;
  return toQuery(q, tenantId);
}

/** A page of entries, newest first; `next` is the cursor for older ones (`before`). */
export async function auditPage(deps: { db: Knex }, q: AuditQuery) {
  const rows = await listAuditEntries(deps.db, q.filter, q.limit);
  return { entries: rows.map(viewEntry), next: rows.length === q.limit ? String(rows.at(-1)!.seq) : null };
}

/** Every matching entry, newest first, page by page (the JSON-lines export). */
export async function* auditExport(
  deps: { db: Knex },
  q: AuditQuery,
): AsyncGenerator<ReturnType<typeof viewEntry>> {
  let filter = q.filter;
  for (;;) {
    const rows = await listAuditEntries(deps.db, filter, 500);
    for (const r of rows) yield viewEntry(r);
    if (rows.length < 500) return;
    filter = { ...filter, beforeSeq: rows.at(-1)!.seq };
  }
}

/** The first broken link verify found. */
export interface BrokenLink {
  chain: string;
  seq: number | null;
  reason: "entry_altered" | "link_broken" | "head_mismatch";
  message: string;
}

/**
 * GET /admin/v1/audit-log/verify: recompute every chain from its oldest kept entry (whose
 * prev_hash must be the one retention recorded) to its head. Reports the first broken link:
 * an entry whose hash no longer matches its fields (altered), an entry that does not point to
 * the one before it (one removed or inserted), or a head that is not the last entry (the newest
 * removed).
 */
export async function verifyAuditLog(deps: { db: Knex }) {
  let entries = 0;
  const chains = await listChains(deps.db);
  for (const c of chains) {
    let expected = c.prunedHash;
    let after = 0;
    for (;;) {
      const page = await chainEntries(deps.db, c.chain, after, 1000);
      for (const e of page) {
        entries++;
        if (e.prevHash !== expected)
          return broken(entries, chains.length, {
            chain: c.chain,
            seq: e.seq,
            reason: "link_broken",
            message: `entry ${e.seq} does not point to the entry before it: an entry was removed or inserted`,
          });
        if (hashEntry(e.prevHash, c.chain, e) !== e.hash)
          return broken(entries, chains.length, {
            chain: c.chain,
            seq: e.seq,
            reason: "entry_altered",
            message: `entry ${e.seq} no longer matches its hash: it was changed after it was written`,
          });
        expected = e.hash;
        after = e.seq;
      }
      if (page.length < 1000) break;
    }
    if (expected !== c.headHash)
      return broken(entries, chains.length, {
        chain: c.chain,
        seq: c.headSeq,
        reason: "head_mismatch",
        message: `the chain's newest entry ${c.headSeq ?? ""} is missing: entries were removed from its end`,
      });
  }
  return { ok: true, chains: chains.length, entries, brokenAt: null };
}

function broken(entries: number, chains: number, at: BrokenLink) {
  return { ok: false, chains, entries, brokenAt: at };
}
