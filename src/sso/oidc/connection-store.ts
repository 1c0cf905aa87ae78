import type { Db } from "../../db/knex.js";
import { parseJson, toIso } from "../../db/rows.js";
import { openValue, sealValue } from "../../secrets/sealed.js";
import { rowToTenant, type Tenant } from "../../tenants/store.js";
import type { ConnectionState } from "../saml/connection-store.js";

/** Which claim of the id_token carries each profile field. */
export interface ClaimMapping {
  /** The login name matched against the directory's userName. */
  userName?: string;
  email?: string;
  givenName?: string;
  familyName?: string;
  displayName?: string;
  groups?: string;
  /** An immutable user id (Entra's `oid`), matched against externalId (or Roster's id). */
  id?: string;
}

/** Per-connection settings. */
export interface OidcSettings {
  provisioning: "jit" | "manual";
  returnUrls: string[];
  defaultReturnUrl: string | null;
  attributeMapping: ClaimMapping;
  matching: { userName: boolean; email: boolean; idField: "externalId" | "id" };
  /** Refuse id_tokens whose `email_verified` is not true (always on for Google). */
  requireEmailVerified: boolean;
  /** Entra ID: the directory (tenant) id every id_token's `tid` must equal. */
  entraTenantId: string | null;
  sessionHours: number;
}

/** A tenant's OpenID Connect connection as stored (the client secret decrypted). */
export interface OidcConnection {
  id: string;
  tenantId: string;
  name: string;
  domains: string[];
  state: ConnectionState;
  preset: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  settings: OidcSettings;
  discovery: Record<string, unknown> | null;
  discoveredAt: string | null;
  configVersion: number;
  testedVersion: number | null;
  testedAt: string | null;
  enabledAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const SECRET = "oidc_connections.client_secret";

function rowToConnection(db: Db, r: any): OidcConnection {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    domains: parseJson(r.domains, []),
    state: r.state,
    preset: r.preset,
    issuer: r.issuer,
    clientId: r.client_id,
    clientSecret: openValue(db, SECRET, [r.tenant_id, r.id], r.client_secret),
    scopes: parseJson(r.scopes, []),
    settings: parseJson(r.settings, {} as OidcSettings),
    discovery: parseJson(r.discovery, null),
    discoveredAt: toIso(r.discovered_at),
    configVersion: Number(r.config_version),
    testedVersion:
      r.tested_version === null || r.tested_version === undefined ? null : Number(r.tested_version),
    testedAt: toIso(r.tested_at),
    enabledAt: toIso(r.enabled_at),
    createdAt: toIso(r.created_at)!,
    updatedAt: toIso(r.updated_at)!,
  };
}

function columns(db: Db, c: OidcConnection) {
  return {
    name: c.name,
    domains: JSON.stringify(c.domains),
    state: c.state,
    preset: c.preset,
    issuer: c.issuer,
    client_id: c.clientId,
    client_secret: sealValue(db, SECRET, [c.tenantId, c.id], c.clientSecret),
    scopes: JSON.stringify(c.scopes),
    settings: JSON.stringify(c.settings),
    discovery: c.discovery ? JSON.stringify(c.discovery) : null,
    discovered_at: c.discoveredAt,
    config_version: c.configVersion,
    tested_version: c.testedVersion,
    tested_at: c.testedAt,
    enabled_at: c.enabledAt,
    updated_at: c.updatedAt,
  };
}

/** The tenant's OpenID Connect connection, or undefined. */
export async function findOidcConnection(db: Db, tenantId: string): Promise<OidcConnection | undefined> {
  const row = await db("oidc_connections").where({ tenant_id: tenantId }).first();
  return row ? rowToConnection(db, row) : undefined;
}

const TENANT_COLUMNS = ["id", "slug", "name", "settings", "created_at", "updated_at"];

/** A tenant by slug with its OpenID Connect connection (undefined when none), in one query. */
export async function findTenantOidcBySlug(
  db: Db,
  slug: string,
): Promise<{ tenant: Tenant; conn: OidcConnection | undefined } | undefined> {
  const row = await db("tenants as t")
    .leftJoin("oidc_connections as c", "c.tenant_id", "t.id")
    .where("t.slug", slug)
    .first(["c.*", ...TENANT_COLUMNS.map((c) => `t.${c} as t_${c}`)]);
  if (!row) return undefined;
  const tenant = rowToTenant(Object.fromEntries(TENANT_COLUMNS.map((c) => [c, row[`t_${c}`]])));
  return { tenant, conn: row.id ? rowToConnection(db, row) : undefined };
}

/** Insert a connection. */
export async function insertOidcConnection(db: Db, c: OidcConnection): Promise<void> {
  await db("oidc_connections").insert({
    id: c.id,
    tenant_id: c.tenantId,
    created_at: c.createdAt,
    ...columns(db, c),
  });
}

/** Write a connection's new state. */
export async function updateOidcConnection(db: Db, c: OidcConnection): Promise<void> {
  await db("oidc_connections").where({ tenant_id: c.tenantId, id: c.id }).update(columns(db, c));
}

/** Remember a fresh discovery document (not a configuration change). */
export async function saveDiscovery(
  db: Db,
  tenantId: string,
  id: string,
  discovery: Record<string, unknown>,
  at: string,
): Promise<void> {
  await db("oidc_connections")
    .where({ tenant_id: tenantId, id })
    .update({ discovery: JSON.stringify(discovery), discovered_at: at });
}

/** Delete the tenant's connection; returns rows deleted. */
export async function deleteOidcConnection(db: Db, tenantId: string): Promise<number> {
  return db("oidc_connections").where({ tenant_id: tenantId }).delete();
}

/** A configuration test as stored. */
export interface OidcTest {
  id: string;
  tenantId: string;
  configVersion: number;
  status: "pending" | "succeeded" | "failed";
  report: Record<string, unknown> | null;
  createdAt: string;
  completedAt: string | null;
}

/** Insert a pending test. */
export async function insertOidcTest(db: Db, t: OidcTest): Promise<void> {
  await db("oidc_tests").insert({
    id: t.id,
    tenant_id: t.tenantId,
    config_version: t.configVersion,
    status: t.status,
    report: null,
    created_at: t.createdAt,
  });
}

/** One test of a tenant, or undefined. */
export async function findOidcTest(db: Db, tenantId: string, id: string): Promise<OidcTest | undefined> {
  const r = await db("oidc_tests").where({ tenant_id: tenantId, id }).first();
  if (!r) return undefined;
  return {
    id: r.id,
    tenantId: r.tenant_id,
    configVersion: Number(r.config_version),
    status: r.status,
    report: parseJson(r.report, null),
    createdAt: toIso(r.created_at)!,
    completedAt: toIso(r.completed_at),
  };
}

/** Record a pending test's outcome (a completed test is never rewritten); 1 when recorded. */
export async function completeOidcTest(
  db: Db,
  tenantId: string,
  id: string,
  status: "succeeded" | "failed",
  report: Record<string, unknown>,
  at: string,
): Promise<number> {
  return db("oidc_tests")
    .where({ tenant_id: tenantId, id, status: "pending" })
    .update({ status, report: JSON.stringify(report), completed_at: at });
}

/** A successful test marks the connection tested, if no change happened since the test started. */
export async function markOidcTested(
  db: Db,
  tenantId: string,
  configVersion: number,
  at: string,
): Promise<void> {
  await db("oidc_connections")
    .where({ tenant_id: tenantId, config_version: configVersion })
    .update({
      tested_version: configVersion,
      tested_at: at,
      state: db.raw("case when state = 'draft' then 'tested' else state end"),
    });
}
