import type { Db } from "../db/knex.js";
import { toIso } from "../db/rows.js";

/** A domain's verification status: pending → verified, or failed after 7 days without the record. */
export type DomainStatus = "pending" | "verified" | "failed";

/** A tenant's claimed domain as stored. */
export interface DomainRecord {
  id: string;
  tenantId: string;
  /** ASCII (IDNA) form, lower case. */
  domain: string;
  status: DomainStatus;
  /** The random part of the TXT value `roster-verify=<token>` (public: it is published in DNS). */
  token: string;
  createdAt: string;
  verifiedAt: string | null;
  lastCheckedAt: string | null;
  lastResult: string | null;
  nextCheckAt: string | null;
  recordMissingSince: string | null;
}

function rowToDomain(r: any): DomainRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    domain: r.domain,
    status: r.status,
    token: r.token,
    createdAt: toIso(r.created_at)!,
    verifiedAt: toIso(r.verified_at),
    lastCheckedAt: toIso(r.last_checked_at),
    lastResult: r.last_result ?? null,
    nextCheckAt: toIso(r.next_check_at),
    recordMissingSince: toIso(r.record_missing_since),
  };
}

function columns(d: DomainRecord) {
  return {
    status: d.status,
    verified_at: d.verifiedAt,
    last_checked_at: d.lastCheckedAt,
    last_result: d.lastResult,
    next_check_at: d.nextCheckAt,
    record_missing_since: d.recordMissingSince,
  };
}

/** Insert a claimed domain. */
export async function insertDomain(db: Db, d: DomainRecord): Promise<void> {
  await db("domains").insert({
    id: d.id,
    tenant_id: d.tenantId,
    domain: d.domain,
    token: d.token,
    created_at: d.createdAt,
    ...columns(d),
  });
}

/** Write a domain's check outcome and status. */
export async function updateDomain(db: Db, d: DomainRecord): Promise<void> {
  await db("domains").where({ tenant_id: d.tenantId, id: d.id }).update(columns(d));
}

/** The tenant's domains, by name. */
export async function listDomains(db: Db, tenantId: string): Promise<DomainRecord[]> {
  return (await db("domains").where({ tenant_id: tenantId }).orderBy("domain")).map(rowToDomain);
}

/** How many domains the tenant has claimed. */
export async function countDomains(db: Db, tenantId: string): Promise<number> {
  const row = await db("domains").where({ tenant_id: tenantId }).count({ n: "*" }).first();
  return Number(row?.n ?? 0);
}

/** One of the tenant's domains by name, or undefined. */
export async function findDomain(
  db: Db,
  tenantId: string,
  domain: string,
): Promise<DomainRecord | undefined> {
  const row = await db("domains").where({ tenant_id: tenantId, domain }).first();
  return row ? rowToDomain(row) : undefined;
}

/** One of the tenant's domains by id, or undefined. */
export async function findDomainById(
  db: Db,
  tenantId: string,
  id: string,
): Promise<DomainRecord | undefined> {
  const row = await db("domains").where({ tenant_id: tenantId, id }).first();
  return row ? rowToDomain(row) : undefined;
}

/** The tenant that verified this domain, if any (at most one: the partial unique index). */
export async function findVerifiedOwner(db: Db, domain: string): Promise<string | undefined> {
  const row = await db("domains").where({ domain, status: "verified" }).first("tenant_id");
  return row?.tenant_id;
}

/** Delete one of the tenant's domains; returns rows deleted. */
export async function deleteDomain(db: Db, tenantId: string, domain: string): Promise<number> {
  return db("domains").where({ tenant_id: tenantId, domain }).delete();
}

/**
 * Domains whose check is overdue by more than `graceBefore` (their job was lost: a Redis
 * flush, a dead letter), oldest first, for the housekeeping sweep to schedule again.
 */
export async function listOverdueChecks(db: Db, graceBefore: string, limit: number): Promise<DomainRecord[]> {
  return (
    await db("domains")
      .whereIn("status", ["pending", "verified"])
      .where("next_check_at", "<", graceBefore)
      .orderBy("next_check_at")
      .limit(limit)
  ).map(rowToDomain);
}

/** The tenant's verified domains (ASCII), by name. */
export async function listVerifiedDomains(db: Db, tenantId: string): Promise<string[]> {
  return (
    await db("domains").where({ tenant_id: tenantId, status: "verified" }).orderBy("domain").select("domain")
  ).map((r: any) => r.domain);
}

/** Route these of the tenant's domains to a connection, and no others (null: back to the default). */
export async function assignDomains(
  db: Db,
  tenantId: string,
  connectionId: string,
  domains: string[],
): Promise<void> {
  await db("domains")
    .where({ tenant_id: tenantId, connection_id: connectionId })
    .update({ connection_id: null });
  if (domains.length)
    await db("domains")
      .where({ tenant_id: tenantId })
      .whereIn("domain", domains)
      .update({ connection_id: connectionId });
}

/** The tenant's domains routed to a connection (`isDefault`: also those routed to none). */
export async function listRoutedDomains(
  db: Db,
  tenantId: string,
  connectionId: string,
  isDefault: boolean,
  verifiedOnly: boolean,
): Promise<string[]> {
  const q = db("domains")
    .where({ tenant_id: tenantId })
    .where((w) => {
      w.where("connection_id", connectionId);
      if (isDefault) w.orWhereNull("connection_id");
    });
  if (verifiedOnly) q.where("status", "verified");
  return (await q.orderBy("domain").select("domain")).map((r: any) => r.domain);
}
