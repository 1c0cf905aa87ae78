import type { Db } from "../db/knex.js";
import { parseJson, toBool, toIso } from "../db/rows.js";

/** A tenant's "Require SSO" policy as stored (no row: not required, nobody named). */
export interface SsoPolicy {
  tenantId: string;
  requireSso: boolean;
  /** Lower-cased e-mails that may be armed to sign in without SSO. */
  breakGlass: string[];
  updatedAt: string | null;
}

/** One arming of a break-glass account. */
export interface BreakGlassWindow {
  id: string;
  tenantId: string;
  email: string;
  reason: string;
  armedAt: string;
  expiresAt: string;
  closedAt: string | null;
  closedBy: "expired" | "disarmed" | null;
}

/** The tenant's policy (the default when it never set one). */
export async function findPolicy(db: Db, tenantId: string): Promise<SsoPolicy> {
  const r = await db("sso_policies").where({ tenant_id: tenantId }).first();
  return r
    ? {
        tenantId,
        requireSso: toBool(r.require_sso),
        breakGlass: parseJson(r.break_glass, []),
        updatedAt: toIso(r.updated_at),
      }
    : { tenantId, requireSso: false, breakGlass: [], updatedAt: null };
}

/** Store the tenant's policy (insert or replace). */
export async function savePolicy(db: Db, p: SsoPolicy, at: string): Promise<void> {
  await db("sso_policies")
    .insert({
      tenant_id: p.tenantId,
      require_sso: p.requireSso,
      break_glass: JSON.stringify(p.breakGlass),
      updated_at: at,
    })
    .onConflict("tenant_id")
    .merge(["require_sso", "break_glass", "updated_at"]);
}

function rowToWindow(r: any): BreakGlassWindow {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    email: r.email,
    reason: r.reason,
    armedAt: toIso(r.armed_at)!,
    expiresAt: toIso(r.expires_at)!,
    closedAt: toIso(r.closed_at),
    closedBy: r.closed_by ?? null,
  };
}

/** Insert an armed window. */
export async function insertWindow(db: Db, w: BreakGlassWindow): Promise<void> {
  await db("break_glass_windows").insert({
    id: w.id,
    tenant_id: w.tenantId,
    email: w.email,
    reason: w.reason,
    armed_at: w.armedAt,
    expires_at: w.expiresAt,
    closed_at: null,
    closed_by: null,
  });
}

/** The e-mail's window open at `at` (armed, not closed, not past its expiry), if any. */
export async function findOpenWindow(
  db: Db,
  tenantId: string,
  email: string,
  at: string,
): Promise<BreakGlassWindow | undefined> {
  const r = await db("break_glass_windows")
    .where({ tenant_id: tenantId, email })
    .whereNull("closed_at")
    .where("expires_at", ">", at)
    .orderBy("expires_at", "desc")
    .first();
  return r ? rowToWindow(r) : undefined;
}

/** One window of a tenant by id. */
export async function findWindow(
  db: Db,
  tenantId: string,
  id: string,
): Promise<BreakGlassWindow | undefined> {
  const r = await db("break_glass_windows").where({ tenant_id: tenantId, id }).first();
  return r ? rowToWindow(r) : undefined;
}

/** The tenant's windows, newest first (at most `limit`). */
export async function listWindows(db: Db, tenantId: string, limit: number): Promise<BreakGlassWindow[]> {
  return (
    await db("break_glass_windows").where({ tenant_id: tenantId }).orderBy("armed_at", "desc").limit(limit)
  ).map(rowToWindow);
}

/** Close a window that is still open; returns rows changed (0: it was closed already). */
export async function closeWindow(
  db: Db,
  tenantId: string,
  id: string,
  by: "expired" | "disarmed",
  at: string,
): Promise<number> {
  return db("break_glass_windows")
    .where({ tenant_id: tenantId, id })
    .whereNull("closed_at")
    .update({ closed_at: at, closed_by: by });
}

/** What discover needs about the tenant a verified domain routes to. */
export interface DomainRoute {
  tenantId: string;
  slug: string;
  connectionId: string;
  /** The connection's protocol: SAML at /sso/{slug}[/{id}]/login, OIDC at /sso/{slug}/oidc/login. */
  type: "saml" | "oidc";
  /** Whether it is the tenant's default SAML connection (served at /sso/{slug}/…). */
  isDefault: boolean;
  requireSso: boolean;
}

/** The connection a tenant's route resolves to, when it is enabled. */
export interface RoutedConnection {
  id: string;
  type: "saml" | "oidc";
  isDefault: boolean;
}

/**
 * The enabled connection `connectionId` names (domains.connection_id carries no type: the id is
 * looked up among the tenant's SAML connections, then its OpenID Connect one; ids are UUIDs, so
 * they cannot collide). No id: the default SAML connection when enabled, else the tenant's
 * enabled OpenID Connect connection (the order the OAuth hand-off follows).
 */
export async function resolveConnection(
  db: Db,
  tenantId: string,
  connectionId: string | null,
): Promise<RoutedConnection | undefined> {
  const saml = await db("saml_connections")
    .where({ tenant_id: tenantId, state: "enabled" })
    .where((w) => (connectionId ? w.where("id", connectionId) : w.where("is_default", true)))
    .first("id", "is_default");
  if (saml) return { id: saml.id, type: "saml", isDefault: toBool(saml.is_default) };
  const oidc = await db("oidc_connections")
    .where({ tenant_id: tenantId, state: "enabled" })
    .where((w) => (connectionId ? w.where("id", connectionId) : w))
    .first("id");
  return oidc ? { id: oidc.id, type: "oidc", isDefault: false } : undefined;
}

/**
 * The route for a verified domain: its tenant and policy (domains_verified_once, then primary
 * keys), then the tenant's enabled connection the domain names (primary keys). Pending, failed
 * or another state of connection: no route, the same answer as a domain nobody claimed.
 */
export async function findDomainRoute(db: Db, domain: string): Promise<DomainRoute | undefined> {
  const r = await db("domains as d")
    .join("tenants as t", "t.id", "d.tenant_id")
    .leftJoin("sso_policies as p", "p.tenant_id", "d.tenant_id")
    .where({ "d.domain": domain, "d.status": "verified" })
    .first("t.id as tenant_id", "t.slug", "d.connection_id", "p.require_sso");
  if (!r) return undefined;
  const c = await resolveConnection(db, r.tenant_id, r.connection_id ?? null);
  return c
    ? {
        tenantId: r.tenant_id,
        slug: r.slug,
        connectionId: c.id,
        type: c.type,
        isDefault: c.isDefault,
        requireSso: toBool(r.require_sso),
      }
    : undefined;
}

/** Tenants without an enabled connection read past when routing a directory user. */
const DIRECTORY_SCAN = 50;

/**
 * Tenants requiring SSO whose directory has this e-mail on an active user (contractors on
 * other domains), with their default connection (SAML's when enabled, else OIDC's); by slug,
 * at most `limit`.
 */
export async function findDirectoryRoutes(db: Db, email: string, limit: number): Promise<DomainRoute[]> {
  const rows = await db("user_emails as e")
    .join("users as u", (j) => j.on("u.id", "e.user_id").andOn("u.tenant_id", "e.tenant_id"))
    .join("sso_policies as p", "p.tenant_id", "e.tenant_id")
    .join("tenants as t", "t.id", "e.tenant_id")
    .where({ "e.value_norm": email, "p.require_sso": true, "u.active": true })
    .distinct("t.id as tenant_id", "t.slug")
    .orderBy("t.slug")
    // Tenants without an enabled connection are skipped below: read past them, boundedly.
    .limit(limit + DIRECTORY_SCAN);
  const out: DomainRoute[] = [];
  for (const r of rows as any[]) {
    if (out.length >= limit) break;
    const c = await resolveConnection(db, r.tenant_id, null);
    if (c)
      out.push({
        tenantId: r.tenant_id,
        slug: r.slug,
        connectionId: c.id,
        type: c.type,
        isDefault: c.isDefault,
        requireSso: true,
      });
  }
  return out;
}
