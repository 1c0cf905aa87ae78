import type { Db } from "../db/knex.js";
import { parseJson, toIso } from "../db/rows.js";
import { openValue, sealValue } from "../secrets/sealed.js";

/** An OAuth client (an application behind Roster) of one tenant. */
export interface OAuthClient {
  id: string;
  tenantId: string;
  name: string;
  redirectUris: string[];
  createdAt: string;
  revokedAt: string | null;
}

function rowToClient(r: any): OAuthClient {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    redirectUris: parseJson(r.redirect_uris, []),
    createdAt: toIso(r.created_at)!,
    revokedAt: toIso(r.revoked_at),
  };
}

/** Insert a client with its secret hash. */
export async function insertClient(db: Db, c: OAuthClient, secretHash: string): Promise<void> {
  await db("oauth_clients").insert({
    id: c.id,
    tenant_id: c.tenantId,
    name: c.name,
    secret_hash: secretHash,
    redirect_uris: JSON.stringify(c.redirectUris),
    created_at: c.createdAt,
  });
}

/** A client by id, with its secret hash, or undefined. */
export async function findClient(
  db: Db,
  id: string,
): Promise<(OAuthClient & { secretHash: string }) | undefined> {
  const row = await db("oauth_clients").where({ id }).first();
  return row ? { ...rowToClient(row), secretHash: row.secret_hash } : undefined;
}

/** A tenant's clients. */
export async function listClients(db: Db, tenantId: string): Promise<OAuthClient[]> {
  return (await db("oauth_clients").where({ tenant_id: tenantId }).orderBy("created_at")).map(rowToClient);
}

/** Revoke a client; returns rows changed. */
export async function revokeClientRow(db: Db, tenantId: string, id: string, at: string): Promise<number> {
  return db("oauth_clients")
    .where({ tenant_id: tenantId, id })
    .whereNull("revoked_at")
    .update({ revoked_at: at });
}

/** An authorization code (stored by hash). */
export interface CodeRow {
  codeHash: string;
  tenantId: string;
  clientId: string;
  userId: string;
  sessionId: string;
  redirectUri: string;
  scope: string;
  nonce: string | null;
  codeChallenge: string | null;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

/** Insert a code. */
export async function insertCode(db: Db, c: CodeRow): Promise<void> {
  await db("oauth_codes").insert({
    code_hash: c.codeHash,
    tenant_id: c.tenantId,
    client_id: c.clientId,
    user_id: c.userId,
    session_id: c.sessionId,
    redirect_uri: c.redirectUri,
    scope: c.scope,
    nonce: c.nonce,
    code_challenge: c.codeChallenge,
    created_at: c.createdAt,
    expires_at: c.expiresAt,
  });
}

/** A code by hash, or undefined. */
export async function findCode(db: Db, codeHash: string): Promise<CodeRow | undefined> {
  const r = await db("oauth_codes").where({ code_hash: codeHash }).first();
  if (!r) return undefined;
  return {
    codeHash: r.code_hash,
    tenantId: r.tenant_id,
    clientId: r.client_id,
    userId: r.user_id,
    sessionId: r.session_id,
    redirectUri: r.redirect_uri,
    scope: r.scope,
    nonce: r.nonce ?? null,
    codeChallenge: r.code_challenge ?? null,
    createdAt: toIso(r.created_at)!,
    expiresAt: toIso(r.expires_at)!,
    usedAt: toIso(r.used_at),
  };
}

/** Use a code up: 1 when this call used it, 0 when it was already used (single use, atomic). */
export async function useCode(db: Db, codeHash: string, at: string): Promise<number> {
  return db("oauth_codes").where({ code_hash: codeHash }).whereNull("used_at").update({ used_at: at });
}

/** An access token (opaque; stored by hash). */
export interface TokenRow {
  id: string;
  tenantId: string;
  clientId: string;
  userId: string;
  sessionId: string;
  codeHash: string | null;
  scope: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

/** Insert an access token with its hash. */
export async function insertToken(db: Db, t: TokenRow, tokenHash: string): Promise<void> {
  await db("oauth_tokens").insert({
    id: t.id,
    token_hash: tokenHash,
    tenant_id: t.tenantId,
    client_id: t.clientId,
    user_id: t.userId,
    session_id: t.sessionId,
    code_hash: t.codeHash,
    scope: t.scope,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
  });
}

/** A token by hash, with its stored hash, or undefined. */
export async function findTokenByHash(
  db: Db,
  tokenHash: string,
): Promise<(TokenRow & { tokenHash: string }) | undefined> {
  const r = await db("oauth_tokens").where({ token_hash: tokenHash }).first();
  if (!r) return undefined;
  return {
    id: r.id,
    tenantId: r.tenant_id,
    clientId: r.client_id,
    userId: r.user_id,
    sessionId: r.session_id,
    codeHash: r.code_hash ?? null,
    scope: r.scope,
    createdAt: toIso(r.created_at)!,
    expiresAt: toIso(r.expires_at)!,
    revokedAt: toIso(r.revoked_at),
    tokenHash: r.token_hash,
  };
}

/** Revoke the tokens issued from a code (RFC 6749 §4.1.2: a code used twice). */
export async function revokeTokensOfCode(db: Db, codeHash: string, at: string): Promise<void> {
  await db("oauth_tokens")
    .where({ code_hash: codeHash })
    .whereNull("revoked_at")
    .update({ revoked_at: at, revoked_reason: "code_reused" });
}

/** Revoke every live token issued to a client (the client is being deleted). */
export async function revokeTokensOfClient(
  db: Db,
  tenantId: string,
  clientId: string,
  at: string,
): Promise<void> {
  await db("oauth_tokens")
    .where({ tenant_id: tenantId, client_id: clientId })
    .whereNull("revoked_at")
    .update({ revoked_at: at, revoked_reason: "client_revoked" });
}

/** A signing key row (the private JWK is encrypted at rest). */
export interface SigningKeyRow {
  kid: string;
  alg: string;
  privateJwk: string;
  publicJwk: string;
  createdAt: string;
}

/** Live signing keys, newest first. */
export async function listSigningKeys(db: Db): Promise<SigningKeyRow[]> {
  const rows = await db("signing_keys").whereNull("retired_at").orderBy("created_at", "desc");
  return rows.map((r: any) => ({
    kid: r.kid,
    alg: r.alg,
    privateJwk: openValue(db, "signing_keys.private_jwk", [r.kid], r.private_jwk),
    publicJwk: r.public_jwk,
    createdAt: toIso(r.created_at)!,
  }));
}

/** Insert a signing key. */
export async function insertSigningKey(db: Db, k: SigningKeyRow): Promise<void> {
  await db("signing_keys").insert({
    kid: k.kid,
    alg: k.alg,
    private_jwk: sealValue(db, "signing_keys.private_jwk", [k.kid], k.privateJwk),
    public_jwk: k.publicJwk,
    created_at: k.createdAt,
  });
}
