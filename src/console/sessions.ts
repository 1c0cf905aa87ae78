import { createHash, randomUUID } from "node:crypto";
import { findSession as findAppSession } from "../access/sessions-store.js";
import type { Db } from "../db/knex.js";
import { findUserById } from "../directory/users-store.js";
import { rolesOfUser } from "../sso/roles.js";
import { findTenantById } from "../tenants/store.js";
import { generateSecret, hashSecret, sameHash } from "../tenants/secrets.js";
import { readSettings } from "../tenants/settings.js";
import * as store from "./store.js";
import type { ConsoleSessionRow, Scope, SessionKind } from "./store.js";

/** The console session cookie (HttpOnly, SameSite=Strict, Path=/console; Secure on https). */
export const CONSOLE_COOKIE = "roster_console";
/** Console session tokens are recognisable at a glance (secret scanners, logs). */
export const CONSOLE_TOKEN_PREFIX = "rst_console_";
/** A session ends after this long without a request (OWASP ASVS 3.3.2: idle timeout)... */
export const IDLE_TIMEOUT_MS = 30 * 60_000;
/** ...and after this long in any case (absolute lifetime). */
export const ABSOLUTE_LIFETIME_MS = 12 * 3_600_000;
/** last_seen_at is written at most this often (a page view is not a write each time). */
const TOUCH_EVERY_MS = 60_000;

/** A live console session, as the pages see it. */
export interface ConsoleSession extends ConsoleSessionRow {
  /** The CSRF token of this session (derived from its secret; never stored). */
  csrf: string;
}

/** Who did something in the console: kind and id (an admin key id, a link id, a user id), never a secret. */
export interface Actor {
  kind: SessionKind;
  id: string;
}

/**
 * The CSRF token for a session secret: SHA-256 over a label and the secret. Only whoever holds
 * the cookie can compute it, and the cookie is HttpOnly and SameSite=Strict (OWASP CSRF cheat
 * sheet: synchroniser token, here without server state).
 */
export function csrfFor(token: string): string {
  return createHash("sha256").update(`roster-console-csrf:${token}`).digest("base64url");
}

/** Create a console session; returns the row and the token for the cookie. */
export async function createConsoleSession(
  db: Db,
  input: {
    kind: SessionKind;
    actorId: string;
    tenantId: string | null;
    scopes: Scope[];
    linkId?: string | null;
    appSessionId?: string | null;
    /** Signed in with ROSTER_ADMIN_TOKEN: the configured token's hash (deps.adminTokenHash). */
    adminTokenHash?: string;
    now: Date;
    /** Cap the lifetime below the absolute one (a directory user's SSO session ends sooner). */
    notAfter?: Date;
  },
): Promise<{ session: ConsoleSession; token: string }> {
  const token = generateSecret(CONSOLE_TOKEN_PREFIX);
  const at = input.now.toISOString();
  const absolute = input.now.getTime() + ABSOLUTE_LIFETIME_MS;
  const expires = Math.min(absolute, input.notAfter?.getTime() ?? absolute);
  const row: ConsoleSessionRow = {
    id: randomUUID(),
    kind: input.kind,
    actorId: input.actorId,
    tenantId: input.tenantId,
    scopes: input.scopes,
    linkId: input.linkId ?? null,
    appSessionId: input.appSessionId ?? null,
    credentialFingerprint: input.adminTokenHash ? adminTokenFingerprint(input.adminTokenHash) : null,
    createdAt: at,
    lastSeenAt: at,
    expiresAt: new Date(expires).toISOString(),
    revokedAt: null,
  };
  await store.insertSession(db, row, hashSecret(token));
  return { session: { ...row, csrf: csrfFor(token) }, token };
}

/**
 * The live session a cookie names: not revoked, not past its absolute lifetime nor idle too
 * long; a setup-link session while its link is not revoked (revoking the link revokes its
 * sessions); a directory user's while their SSO session lives, they are active and still hold a
 * console role, so offboarding or a role removal ends it on the next request.
 */
export async function authenticateConsole(
  db: Db,
  token: string | undefined,
  now: Date,
  adminTokenHash?: string,
): Promise<ConsoleSession | undefined> {
  if (!token?.startsWith(CONSOLE_TOKEN_PREFIX) || token.length > 100) return undefined;
  const hash = hashSecret(token);
  const row = await store.findSessionByHash(db, hash);
  if (!row || !sameHash(row.tokenHash, hash) || row.revokedAt) return undefined;
  const t = now.getTime();
  if (new Date(row.expiresAt).getTime() <= t) return undefined;
  if (new Date(row.lastSeenAt).getTime() + IDLE_TIMEOUT_MS <= t) {
    await store.revokeSessionRow(db, row.id, "idle_timeout", now.toISOString());
    return undefined;
  }
  // An operator session made with an admin key ends when the key is revoked.
  if (
    row.kind === "operator" &&
    !row.linkId &&
    row.actorId !== "admin_token" &&
    !(await store.adminKeyActive(db, row.actorId))
  ) {
    await store.revokeSessionRow(db, row.id, "admin_key_revoked", now.toISOString());
    return undefined;
  }
  // ...and one made with ROSTER_ADMIN_TOKEN when the configured token is no longer that one
  // (rotated or removed): a leaked-then-rotated token must not live on in a session.
  if (
    row.kind === "operator" &&
    !row.linkId &&
    row.actorId === "admin_token" &&
    !(
      adminTokenHash &&
      row.credentialFingerprint &&
      sameHash(row.credentialFingerprint, adminTokenFingerprint(adminTokenHash))
    )
  ) {
    await store.revokeSessionRow(db, row.id, "admin_token_changed", now.toISOString());
    return undefined;
  }
  if (row.kind === "directory_user" && !(await directoryUserStillAdmin(db, row, now))) {
    await store.revokeSessionRow(db, row.id, "sso_session_ended", now.toISOString());
    return undefined;
  }
  if (t - new Date(row.lastSeenAt).getTime() >= TOUCH_EVERY_MS)
    await store.touchSession(db, row.id, now.toISOString());
  const { tokenHash: _h, ...session } = row;
  return { ...session, csrf: csrfFor(token) };
}

async function directoryUserStillAdmin(db: Db, row: ConsoleSessionRow, now: Date): Promise<boolean> {
  if (!row.tenantId || !row.appSessionId) return false;
  const app = await findAppSession(db, row.tenantId, row.appSessionId);
  if (!app || app.revokedAt || new Date(app.expiresAt) <= now || app.userId !== row.actorId) return false;
  const user = await findUserById(db, row.tenantId, row.actorId);
  if (!user?.active) return false;
  const tenant = await findTenantById(db, row.tenantId);
  if (!tenant) return false;
  return holdsConsoleRole(
    await rolesOfUser(db, row.tenantId, row.actorId),
    readSettings(tenant.settings).consoleRoles,
  );
}

/**
 * What an admin-token session keeps of the token: SHA-256 over a label and the token's hash (not
 * the hash itself, so the table holds nothing an admin request could be checked against).
 */
export function adminTokenFingerprint(adminTokenHash: string): string {
  return createHash("sha256").update(`roster-console-admin-token:${adminTokenHash}`).digest("hex");
}

/** Whether any of a user's roles is one of the tenant's console roles. */
export function holdsConsoleRole(roles: string[], consoleRoles: string[]): boolean {
  return roles.some((r) => consoleRoles.includes(r));
}

/** Sign out: revoke the session a cookie names. */
export async function endConsoleSession(db: Db, token: string | undefined, at: string): Promise<void> {
  if (!token?.startsWith(CONSOLE_TOKEN_PREFIX) || token.length > 100) return;
  const row = await store.findSessionByHash(db, hashSecret(token));
  if (row) await store.revokeSessionRow(db, row.id, "sign_out", at);
}
