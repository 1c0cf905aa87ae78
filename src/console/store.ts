import type { Db } from "../db/knex.js";

/** Console scopes: the tenant areas a session may use (operators have all and the operator pages). */
export const SCOPES = ["sso", "scim", "members", "roles", "events"] as const;
export type Scope = (typeof SCOPES)[number];

/** A single-use sign-in link as stored (no secret). */
export interface ConsoleLink {
  id: string;
  kind: "operator" | "setup";
  tenantId: string | null;
  scopes: Scope[];
  returnUrl: string | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  revokedAt: string | null;
}

/** Who a console session is. */
export type SessionKind = "operator" | "setup_link" | "directory_user";

/** A console session as stored (no secret). */
export interface ConsoleSessionRow {
  id: string;
  kind: SessionKind;
  actorId: string;
  tenantId: string | null;
  scopes: Scope[];
  linkId: string | null;
  appSessionId: string | null;
  /** An admin-token operator session: the fingerprint of the token it was made with. */
  credentialFingerprint: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

function rowToLink(r: any): ConsoleLink {
  return {
    id: r.id,
    kind: r.kind,
    tenantId: r.tenant_id ?? null,
    scopes: JSON.parse(r.scopes),
    returnUrl: r.return_url ?? null,
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    usedAt: r.used_at ?? null,
    revokedAt: r.revoked_at ?? null,
  };
}

function rowToSession(r: any): ConsoleSessionRow & { tokenHash: string } {
  return {
    id: r.id,
    tokenHash: r.token_hash,
    kind: r.kind,
    actorId: r.actor_id,
    tenantId: r.tenant_id ?? null,
    scopes: JSON.parse(r.scopes),
    linkId: r.link_id ?? null,
    appSessionId: r.app_session_id ?? null,
    credentialFingerprint: r.credential_fingerprint ?? null,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at ?? null,
  };
}

/** Insert a link with its secret's hash. */
export async function insertLink(db: Db, l: ConsoleLink, tokenHash: string): Promise<void> {
  await db("console_links").insert({
    id: l.id,
    kind: l.kind,
    tenant_id: l.tenantId,
    token_hash: tokenHash,
    scopes: JSON.stringify(l.scopes),
    return_url: l.returnUrl,
    created_by: l.createdBy,
    created_at: l.createdAt,
    expires_at: l.expiresAt,
  });
}

/** The link a secret hash names (any state), with its hash. */
export async function findLinkByHash(
  db: Db,
  hash: string,
): Promise<(ConsoleLink & { tokenHash: string }) | undefined> {
  const r = await db("console_links").where({ token_hash: hash }).first();
  return r ? { ...rowToLink(r), tokenHash: r.token_hash } : undefined;
}

/**
 * Spend a link: mark it used if it is still unused, unrevoked and unexpired. One UPDATE, so two
 * concurrent exchanges of one link cannot both win. True when this call spent it.
 */
export async function spendLink(db: Db, id: string, at: string): Promise<boolean> {
  const n = await db("console_links")
    .where({ id })
    .whereNull("used_at")
    .whereNull("revoked_at")
    .where("expires_at", ">", at)
    .update({ used_at: at });
  return n > 0;
}

/** A tenant's setup links, newest first. */
export async function listSetupLinks(db: Db, tenantId: string, limit = 200): Promise<ConsoleLink[]> {
  const rows = await db("console_links")
    .where({ tenant_id: tenantId, kind: "setup" })
    .orderBy("created_at", "desc")
    .limit(limit);
  return rows.map(rowToLink);
}

/** One of a tenant's setup links. */
export async function findSetupLink(db: Db, tenantId: string, id: string): Promise<ConsoleLink | undefined> {
  const r = await db("console_links").where({ tenant_id: tenantId, kind: "setup", id }).first();
  return r ? rowToLink(r) : undefined;
}

/** Revoke a link (idempotent). */
export async function revokeLinkRow(db: Db, tenantId: string, id: string, at: string): Promise<void> {
  await db("console_links")
    .where({ tenant_id: tenantId, id })
    .whereNull("revoked_at")
    .update({ revoked_at: at });
}

/** Insert a session with its token's hash. */
export async function insertSession(db: Db, s: ConsoleSessionRow, tokenHash: string): Promise<void> {
  await db("console_sessions").insert({
    id: s.id,
    token_hash: tokenHash,
    kind: s.kind,
    actor_id: s.actorId,
    tenant_id: s.tenantId,
    scopes: JSON.stringify(s.scopes),
    link_id: s.linkId,
    app_session_id: s.appSessionId,
    credential_fingerprint: s.credentialFingerprint,
    created_at: s.createdAt,
    last_seen_at: s.lastSeenAt,
    expires_at: s.expiresAt,
  });
}

/** The session a token hash names (any state). */
export async function findSessionByHash(
  db: Db,
  hash: string,
): Promise<(ConsoleSessionRow & { tokenHash: string }) | undefined> {
  const r = await db("console_sessions").where({ token_hash: hash }).first();
  return r ? rowToSession(r) : undefined;
}

/** Note activity (the idle timeout counts from here). */
export async function touchSession(db: Db, id: string, at: string): Promise<void> {
  await db("console_sessions").where({ id }).update({ last_seen_at: at });
}

/** Revoke one session. */
export async function revokeSessionRow(db: Db, id: string, reason: string, at: string): Promise<void> {
  await db("console_sessions")
    .where({ id })
    .whereNull("revoked_at")
    .update({ revoked_at: at, revoked_reason: reason });
}

/** Revoke every live session made from a link. */
export async function revokeSessionsOfLink(db: Db, tenantId: string, linkId: string, at: string) {
  return db("console_sessions")
    .where({ tenant_id: tenantId, link_id: linkId })
    .whereNull("revoked_at")
    .update({ revoked_at: at, revoked_reason: "setup_link_revoked" });
}

/** An operator action that touches no tenant's event log. */
export async function insertAudit(
  db: Db,
  a: {
    at: string;
    actorKind: string;
    actorId: string;
    action: string;
    tenantId: string | null;
    target: string | null;
    requestId: string | null;
  },
): Promise<void> {
  await db("console_audit").insert({
    at: a.at,
    actor_kind: a.actorKind,
    actor_id: a.actorId,
    action: a.action,
    tenant_id: a.tenantId,
    target: a.target,
    request_id: a.requestId,
  });
}

/** A link by id (its return URL for the layout). */
export async function findLinkById(db: Db, id: string): Promise<ConsoleLink | undefined> {
  const r = await db("console_links").where({ id }).first();
  return r ? rowToLink(r) : undefined;
}

/** Whether an admin key exists and is not revoked (an operator session made with it lives as long). */
export async function adminKeyActive(db: Db, id: string): Promise<boolean> {
  const r = await db("admin_keys").where({ id }).whereNull("revoked_at").first("id");
  return Boolean(r);
}

/** An admin key's name, revoked or not (the audit log names the key an operator signed in with). */
export async function adminKeyName(db: Db, id: string): Promise<string | undefined> {
  const r = await db("admin_keys").where({ id }).first("name");
  return r ? String(r.name) : undefined;
}
