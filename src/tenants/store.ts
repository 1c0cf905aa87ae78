import type { Knex } from "knex";
import { exec } from "../db/exec.js";
import { type Db, dialectOf } from "../db/knex.js";
import { parseJson, toIso } from "../db/rows.js";
import { readSettings, type TenantSettings } from "./settings.js";

/** A tenant (workspace). */
export interface Tenant {
  id: string;
  slug: string;
  name: string;
  settings: TenantSettings;
  createdAt: string;
  updatedAt: string;
}

/** A SCIM token as listed (never with its secret). */
export interface ScimToken {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** A tenants row (snake_case columns) as a Tenant. */
export function rowToTenant(r: any): Tenant {
  return {
    id: r.id,
    slug: r.slug,
    name: r.name,
    settings: readSettings(parseJson(r.settings, {})),
    createdAt: toIso(r.created_at)!,
    updatedAt: toIso(r.updated_at)!,
  };
}

function rowToToken(r: any): ScimToken {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    prefix: r.prefix,
    createdAt: toIso(r.created_at)!,
    expiresAt: toIso(r.expires_at),
    revokedAt: toIso(r.revoked_at),
    lastUsedAt: toIso(r.last_used_at),
  };
}

/** Insert a tenant row. */
export async function insertTenant(db: Db, t: Tenant): Promise<void> {
  await db("tenants").insert({
    id: t.id,
    slug: t.slug,
    name: t.name,
    settings: JSON.stringify(t.settings),
    created_at: t.createdAt,
    updated_at: t.updatedAt,
  });
}

/** The tenant with this slug, or undefined. */
export async function findTenantBySlug(db: Db, slug: string): Promise<Tenant | undefined> {
  const row = await db("tenants").where({ slug }).first();
  return row ? rowToTenant(row) : undefined;
}

/** The tenant with this id, or undefined. */
export async function findTenantById(db: Db, id: string): Promise<Tenant | undefined> {
  const row = await db("tenants").where({ id }).first();
  return row ? rowToTenant(row) : undefined;
}

/** All tenants by slug. */
export async function listTenants(db: Db): Promise<Tenant[]> {
  const rows = await db("tenants").orderBy("slug");
  return rows.map(rowToTenant);
}

/**
 * The tenant with this id, its row locked to the end of the transaction (PostgreSQL). FOR NO KEY
 * UPDATE, the lock the event-sequence UPDATE takes too: it serialises writers of the row but not
 * inserts that reference it (a job's or event's foreign key takes FOR KEY SHARE). FOR UPDATE
 * waited for every open transaction that had enqueued a job of the tenant, and two settings
 * changes that had each enqueued theirs (before the lock, as insertJobs's lock order says)
 * deadlocked.
 */
export async function lockTenant(trx: Knex.Transaction, id: string): Promise<Tenant | undefined> {
  const q = trx("tenants").where({ id }).first();
  if (dialectOf(trx) === "pg") q.forNoKeyUpdate();
  const row = await q;
  return row ? rowToTenant(row) : undefined;
}

/** Write a tenant's name and settings. */
export async function updateTenantRow(db: Db, t: Tenant): Promise<void> {
  await db("tenants")
    .where({ id: t.id })
    .update({ name: t.name, settings: JSON.stringify(t.settings), updated_at: t.updatedAt });
}

/** Delete a tenant; its data goes with it (foreign keys cascade). */
export async function deleteTenantRow(db: Db, id: string): Promise<number> {
  return db("tenants").where({ id }).delete();
}

/** Insert a SCIM token row (hash only). */
export async function insertScimToken(db: Db, t: ScimToken, tokenHash: string): Promise<void> {
  await db("scim_tokens").insert({
    id: t.id,
    tenant_id: t.tenantId,
    name: t.name,
    prefix: t.prefix,
    token_hash: tokenHash,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
  });
}

/** A tenant's SCIM tokens, newest first. */
export async function listScimTokens(db: Db, tenantId: string): Promise<ScimToken[]> {
  const rows = await db("scim_tokens").where({ tenant_id: tenantId }).orderBy("created_at", "desc");
  return rows.map(rowToToken);
}

/** Mark a token revoked; returns the number of rows changed (0 when unknown or already revoked). */
export async function revokeScimTokenRow(db: Db, tenantId: string, id: string, at: string): Promise<number> {
  return db("scim_tokens")
    .where({ tenant_id: tenantId, id })
    .whereNull("revoked_at")
    .update({ revoked_at: at });
}

/** One token of a tenant, or undefined. */
export async function findScimToken(db: Db, tenantId: string, id: string): Promise<ScimToken | undefined> {
  const row = await db("scim_tokens").where({ tenant_id: tenantId, id }).first();
  return row ? rowToToken(row) : undefined;
}

/** The token row for a hash, with its stored hash, or undefined. */
export async function findScimTokenByHash(
  db: Db,
  tokenHash: string,
): Promise<(ScimToken & { tokenHash: string }) | undefined> {
  // Every SCIM request asks this: a prepared statement, not a knex build.
  const [row] = await exec(
    db,
    `select "id", "tenant_id", "name", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at",
       "token_hash" from "scim_tokens" where "token_hash" = ? limit 1`,
    [tokenHash],
  );
  return row ? { ...rowToToken(row), tokenHash: row.token_hash } : undefined;
}

/** Record when a token was last used. */
export async function touchScimToken(db: Db, id: string, at: string): Promise<void> {
  await db("scim_tokens").where({ id }).update({ last_used_at: at });
}
