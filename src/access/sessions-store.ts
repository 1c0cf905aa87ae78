import type { Db } from "../db/knex.js";
import { toIso } from "../db/rows.js";

/** A server-side session (the browser holds only the token; the database only its hash). */
export interface SessionRow {
  id: string;
  tenantId: string;
  userId: string;
  nameId: string | null;
  sessionIndex: string | null;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedReason: string | null;
}

function rowToSession(r: any): SessionRow {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    userId: r.user_id,
    nameId: r.name_id ?? null,
    sessionIndex: r.session_index ?? null,
    createdAt: toIso(r.created_at)!,
    expiresAt: toIso(r.expires_at)!,
    revokedAt: toIso(r.revoked_at),
    revokedReason: r.revoked_reason ?? null,
  };
}

/** Insert a session row with its token hash. */
export async function insertSession(db: Db, s: SessionRow, tokenHash: string): Promise<void> {
  await db("sessions").insert({
    id: s.id,
    tenant_id: s.tenantId,
    user_id: s.userId,
    token_hash: tokenHash,
    name_id: s.nameId,
    session_index: s.sessionIndex,
    created_at: s.createdAt,
    expires_at: s.expiresAt,
  });
}

/** The session for a token hash, with its stored hash, or undefined. */
export async function findSessionByHash(
  db: Db,
  tokenHash: string,
): Promise<(SessionRow & { tokenHash: string }) | undefined> {
  const row = await db("sessions").where({ token_hash: tokenHash }).first();
  return row ? { ...rowToSession(row), tokenHash: row.token_hash } : undefined;
}

/** One session of a tenant, or undefined. */
export async function findSession(db: Db, tenantId: string, id: string): Promise<SessionRow | undefined> {
  const row = await db("sessions").where({ tenant_id: tenantId, id }).first();
  return row ? rowToSession(row) : undefined;
}

/** Mark one session revoked, and the OAuth tokens issued under it. */
export async function revokeSessionRow(
  db: Db,
  tenantId: string,
  id: string,
  reason: string,
  at: string,
): Promise<RevokedCounts> {
  const sessions = await db("sessions")
    .where({ tenant_id: tenantId, id })
    .whereNull("revoked_at")
    .update({ revoked_at: at, revoked_reason: reason });
  const tokens = await db("oauth_tokens")
    .where({ tenant_id: tenantId, session_id: id })
    .whereNull("revoked_at")
    .update({ revoked_at: at, revoked_reason: reason });
  return { sessions, tokens };
}

/** What a revocation ended. */
export interface RevokedCounts {
  sessions: number;
  tokens: number;
}

/** Revoke every live session and OAuth access token of a user. */
export async function revokeUserSessionRows(
  db: Db,
  tenantId: string,
  userId: string,
  reason: string,
  at: string,
): Promise<RevokedCounts> {
  const sessions = await db("sessions")
    .where({ tenant_id: tenantId, user_id: userId })
    .whereNull("revoked_at")
    .update({ revoked_at: at, revoked_reason: reason });
  const tokens = await db("oauth_tokens")
    .where({ tenant_id: tenantId, user_id: userId })
    .whereNull("revoked_at")
    .update({ revoked_at: at, revoked_reason: reason });
  return { sessions, tokens };
}

/** A page of a tenant's sessions, newest first; `live` keeps those neither revoked nor expired. */
export async function listSessions(
  db: Db,
  tenantId: string,
  opts: { userId?: string; live?: { at: string }; limit: number; before?: { createdAt: string; id: string } },
): Promise<SessionRow[]> {
  const q = db("sessions").where({ tenant_id: tenantId });
  if (opts.userId) q.andWhere({ user_id: opts.userId });
  if (opts.live) q.whereNull("revoked_at").andWhere("expires_at", ">", opts.live.at);
  if (opts.before) {
    const { createdAt, id } = opts.before;
    q.andWhere((w) =>
      w
        .where("created_at", "<", createdAt)
        .orWhere((x) => x.where("created_at", createdAt).andWhere("id", "<", id)),
    );
  }
  const rows = await q
    .orderBy([
      { column: "created_at", order: "desc" },
      { column: "id", order: "desc" },
    ])
    .limit(opts.limit);
  return rows.map(rowToSession);
}
