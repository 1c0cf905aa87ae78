import { createHash } from "node:crypto";
import type { Knex } from "knex";
import { dialectOf, type Db } from "../db/knex.js";
import { parseJson } from "../db/rows.js";

/** Who did it: an admin credential, the CLI, or (console) a setup link or a signed-in user. */
export interface AuditActor {
  kind: "admin_token" | "admin_key" | "cli" | "setup_link" | "console_user";
  id?: string | null;
  name?: string | null;
}

/** One field an action changed: its old and new value (secrets never appear; see changes.ts). */
export interface AuditChange {
  field: string;
  old?: unknown;
  new?: unknown;
}

/** An audit entry before it is chained. */
export interface NewAuditEntry {
  tenantId: string | null;
  tenantSlug: string | null;
  at: string;
  actor: AuditActor;
  action: string;
  targetType: string | null;
  targetId: string | null;
  changes: AuditChange[];
  sourceIp: string | null;
  requestId: string | null;
}

/** A stored entry: its place in its chain and the hashes linking it. */
export interface AuditEntry extends NewAuditEntry {
  seq: number;
  chain: string;
  prevHash: string;
  hash: string;
}

/** The chain an entry joins: its tenant's, or the operator's for actions outside any tenant. */
export function chainOf(tenantId: string | null): string {
  return tenantId ? `tenant:${tenantId}` : "operator";
}

/**
 * SHA-256 over the previous entry's hash and every field of this one, in a fixed order: a row
 * changed after the fact no longer matches its hash, and a row removed breaks the next one's link.
 */
export function hashEntry(prevHash: string, chain: string, e: NewAuditEntry): string {
  const fields = [
    prevHash,
    chain,
    e.tenantId,
    e.tenantSlug,
    e.at,
    e.actor.kind,
    e.actor.id ?? null,
    e.actor.name ?? null,
    e.action,
    e.targetType,
    e.targetId,
    JSON.stringify(e.changes),
    e.sourceIp,
    e.requestId,
  ];
  return createHash("sha256").update(JSON.stringify(fields)).digest("hex");
}

/**
 * Append an entry to its chain inside the caller's transaction. The chain's head row is locked
 * first (PostgreSQL: SELECT … FOR UPDATE; several API processes append to one chain one at a
 * time, each reading the head the previous one wrote; SQLite: the database's single writer
 * already serialises). Different tenants' chains never wait for each other.
 */
export async function appendAuditEntry(trx: Knex.Transaction, e: NewAuditEntry): Promise<AuditEntry> {
  const chain = chainOf(e.tenantId);
  await trx("audit_chains")
    .insert({ chain, head_seq: null, head_hash: "", pruned_hash: "" })
    .onConflict("chain")
    .ignore();
  const q = trx("audit_chains").where({ chain }).first("head_hash");
  const head = await (dialectOf(trx) === "pg" ? q.forUpdate() : q);
  const prevHash = head.head_hash as string;
  const hash = hashEntry(prevHash, chain, e);
  const [row] = await trx("audit_log").insert({ ...rowOf(e), chain, prev_hash: prevHash, hash }, ["seq"]);
  const seq = Number(typeof row === "object" ? row.seq : row);
  await trx("audit_chains").where({ chain }).update({ head_seq: seq, head_hash: hash });
  return { ...e, seq, chain, prevHash, hash };
}

function rowOf(e: NewAuditEntry) {
  return {
    tenant_id: e.tenantId,
    tenant_slug: e.tenantSlug,
    at: e.at,
    actor_kind: e.actor.kind,
    actor_id: e.actor.id ?? null,
    actor_name: e.actor.name ?? null,
    action: e.action,
    target_type: e.targetType,
    target_id: e.targetId,
    changes: JSON.stringify(e.changes),
    source_ip: e.sourceIp,
    request_id: e.requestId,
  };
}

function entryOf(r: any): AuditEntry {
  return {
    seq: Number(r.seq),
    chain: r.chain,
    tenantId: r.tenant_id,
    tenantSlug: r.tenant_slug,
    at: r.at,
    actor: { kind: r.actor_kind, id: r.actor_id, name: r.actor_name },
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    changes: parseJson(r.changes, []),
    sourceIp: r.source_ip,
    requestId: r.request_id,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** Filters of the audit views (all optional, combined with AND). */
export interface AuditFilter {
  tenantId?: string;
  action?: string;
  actorId?: string;
  targetId?: string;
  beforeSeq?: number;
  afterSeq?: number;
  since?: string;
  until?: string;
}

/** Entries matching the filter, newest first. */
export async function listAuditEntries(db: Db, f: AuditFilter, limit: number): Promise<AuditEntry[]> {
  const q = db("audit_log");
  if (f.tenantId) q.where("tenant_id", f.tenantId);
  if (f.action) q.where("action", f.action);
  if (f.actorId) q.where("actor_id", f.actorId);
  if (f.targetId) q.where("target_id", f.targetId);
  if (f.beforeSeq !== undefined) q.where("seq", "<", f.beforeSeq);
  if (f.afterSeq !== undefined) q.where("seq", ">", f.afterSeq);
  if (f.since) q.where("at", ">=", f.since);
  if (f.until) q.where("at", "<", f.until);
  return (await q.orderBy("seq", "desc").limit(limit)).map(entryOf);
}

/** Every chain's head and retention mark. */
export async function listChains(
  db: Db,
): Promise<Array<{ chain: string; headSeq: number | null; headHash: string; prunedHash: string }>> {
  const rows = await db("audit_chains").orderBy("chain");
  return rows.map((r: any) => ({
    chain: r.chain,
    headSeq: r.head_seq === null ? null : Number(r.head_seq),
    headHash: r.head_hash,
    prunedHash: r.pruned_hash,
  }));
}

/** A chain's entries in order, from after `afterSeq`, at most `limit`. */
export async function chainEntries(
  db: Db,
  chain: string,
  afterSeq: number,
  limit: number,
): Promise<AuditEntry[]> {
  const rows = await db("audit_log").where({ chain }).where("seq", ">", afterSeq).orderBy("seq").limit(limit);
  return rows.map(entryOf);
}

/**
 * Retention: delete up to `batch` of a chain's oldest entries recorded before `before`, and
 * record the hash the oldest entry kept points back to, so verify starts from it. Returns how
 * many went.
 */
export async function pruneChain(
  trx: Knex.Transaction,
  chain: string,
  before: string,
  batch: number,
): Promise<number> {
  const q = trx("audit_chains").where({ chain }).first("chain");
  await (dialectOf(trx) === "pg" ? q.forUpdate() : q);
  // The chain's oldest entries, up to the first one still inside the window: a chain is cut only
  // at its start, so what is kept stays one unbroken run.
  const oldest = await trx("audit_log")
    .where({ chain })
    .orderBy("seq")
    .limit(batch)
    .select("seq", "hash", "at");
  const cut = oldest.findIndex((r: { at: string }) => r.at >= before);
  const old = cut < 0 ? oldest : oldest.slice(0, cut);
  if (old.length === 0) return 0;
  const last = old.at(-1)!;
  await trx("audit_log").where({ chain }).where("seq", "<=", last.seq).delete();
  await trx("audit_chains").where({ chain }).update({ pruned_hash: last.hash });
  return old.length;
}

/** The chains that have entries recorded before `before` (retention's work list). */
export async function chainsWithEntriesBefore(db: Db, before: string): Promise<string[]> {
  return (await db("audit_log").where("at", "<", before).distinct("chain").pluck("chain")) as string[];
}
