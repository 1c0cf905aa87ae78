import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type { Db } from "../db/knex.js";
import { findUserById } from "../directory/users-store.js";
import type { UserRow } from "../directory/users-store.js";
import { generateSecret, hashSecret, SECRET_PREFIX, sameHash } from "../tenants/secrets.js";
import * as store from "./sessions-store.js";
import type { RevokedCounts, SessionRow } from "./sessions-store.js";

/** The browser cookie that carries the session token. */
export const SESSION_COOKIE = "roster_session";

/** A new session: the row and the token (shown to the browser once, stored hashed). */
export interface CreatedSession {
  session: SessionRow;
  token: string;
}

/** Create a session in the caller's transaction. */
export async function createSession(
  trx: Db,
  input: {
    tenantId: string;
    userId: string;
    nameId: string | null;
    sessionIndex: string | null;
    ttlMs: number;
    now: Date;
  },
): Promise<CreatedSession> {
  const token = generateSecret(SECRET_PREFIX.session);
  const session: SessionRow = {
    id: randomUUID(),
    tenantId: input.tenantId,
    userId: input.userId,
    nameId: input.nameId,
    sessionIndex: input.sessionIndex,
    createdAt: input.now.toISOString(),
    expiresAt: new Date(input.now.getTime() + input.ttlMs).toISOString(),
    revokedAt: null,
    revokedReason: null,
  };
  await store.insertSession(trx, session, hashSecret(token));
  return { session, token };
}

/**
 * The live session a token names, with its user: not revoked, not expired, the user still
 * active. Revocation is a row update, so it ends the session on the very next request.
 */
export async function authenticateSession(
  db: Db,
  token: string | undefined,
  now: Date,
): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  if (!token?.startsWith(SECRET_PREFIX.session)) return undefined;
  const hash = hashSecret(token);
  const row = await store.findSessionByHash(db, hash);
  if (!row || !sameHash(row.tokenHash, hash)) return undefined;
  if (row.revokedAt || new Date(row.expiresAt) <= now) return undefined;
  const user = await findUserById(db, row.tenantId, row.userId);
  if (!user?.active) return undefined;
  const { tokenHash: _h, ...session } = row;
  return { session, user };
}

/** End one session (logout). */
export async function revokeSession(db: Db, tenantId: string, sessionId: string, reason: string, at: string) {
  return store.revokeSessionRow(db, tenantId, sessionId, reason, at);
}

/**
 * Revoke every session and OAuth access token of a user at once, in the caller's transaction
 * (the deprovisioning transaction calls this), so the very next request with either is refused.
 */
export async function revokeUserSessions(
  trx: Knex.Transaction | Db,
  tenantId: string,
  userId: string,
  reason: string,
  at: string = new Date().toISOString(),
): Promise<RevokedCounts> {
  return store.revokeUserSessionRows(trx, tenantId, userId, reason, at);
}
