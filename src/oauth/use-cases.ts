import { createHash, randomBytes, randomUUID } from "node:crypto";
import { findPolicy } from "../sso/policy-store.js";
import { SignJWT } from "jose";
import { z } from "zod";
import { findSession } from "../access/sessions-store.js";
import { findUserById } from "../directory/users-store.js";
import type { UserRow } from "../directory/users-store.js";
import { notFound } from "../http/errors.js";
import { redirectTargetProblem, redirectTargetUrl } from "../http/redirect-target.js";
import { parseInput } from "../http/validate.js";
import type { SsoDeps } from "../sso/saml/connections.js";
import { groupNamesOfUser } from "../sso/gate-store.js";
import type { OAuthParams } from "../sso/request-store.js";
import { rolesOfUser } from "../sso/roles.js";
import { findTenantById } from "../tenants/store.js";
import type { Tenant } from "../tenants/store.js";
import { requireTenant } from "../tenants/use-cases.js";
import { generateSecret, hashSecret, sameHash } from "../tenants/secrets.js";
import { currentSigningKey, ID_TOKEN_ALG } from "./keys.js";
import * as store from "./store.js";
import type { OAuthClient } from "./store.js";

/** An OAuth protocol error (RFC 6749 §5.2): rendered as `{ error, error_description }`. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
  ) {
    super(description);
    this.name = "OAuthError";
  }
}

const ACCESS_TTL_MS = 3_600_000;
const ACCESS_PREFIX = "rst_at_";
const SECRET_PREFIX = "rst_cs_";

// RFC 6749 §3.1.2: absolute, no fragment; https (or loopback http) only.
const redirectUri = redirectTargetUrl.refine((u) => !u.includes("#"), "must not contain a fragment");

/** Body of POST …/oauth-clients. */
export const createClientInput = z
  .object({ name: z.string().trim().min(1).max(200), redirectUris: z.array(redirectUri).min(1).max(20) })
  .strict();

/** Create a client; the secret is shown once and stored hashed. */
export async function createClient(deps: SsoDeps, slug: string, body: unknown) {
  const input = parseInput(createClientInput, body);
  const tenant = await requireTenant(deps, slug);
  const secret = generateSecret(SECRET_PREFIX);
  const client: OAuthClient = {
    id: `rst_client_${randomBytes(12).toString("hex")}`,
    tenantId: tenant.id,
    name: input.name,
    redirectUris: input.redirectUris,
    createdAt: deps.now().toISOString(),
    revokedAt: null,
  };
  await store.insertClient(deps.db, client, hashSecret(secret));
  const { tenantId: _t, ...view } = client;
  return { ...view, clientId: client.id, clientSecret: secret };
}

/** A tenant's clients (no secrets). */
export async function listClients(deps: SsoDeps, slug: string) {
  const tenant = await requireTenant(deps, slug);
  return (await store.listClients(deps.db, tenant.id)).map(({ tenantId: _t, ...c }) => ({
    ...c,
    clientId: c.id,
  }));
}

/**
 * Revoke a client and, in the same transaction, the access tokens issued to it: userinfo and
 * introspection check the token, not its client, so a token left live would outlive the client.
 */
export async function revokeClient(deps: SsoDeps, slug: string, id: string): Promise<void> {
  const tenant = await requireTenant(deps, slug);
  const at = deps.now().toISOString();
  await deps.db.transaction(async (trx) => {
    if ((await store.revokeClientRow(trx, tenant.id, id, at)) === 0) throw notFound("OAuth client");
    await store.revokeTokensOfClient(trx, tenant.id, id, at);
  });
}

/**
 * Scopes Roster grants (OIDC Core §5.4): `openid` and the claim groups the id_token carries.
 * `roles` (Roster's own) puts the user's `roles` (keys) and `groups` (display names) in the
 * id_token, as at sign-in time, so an application need not call userinfo at every sign-in.
 */
export const SUPPORTED_SCOPES = ["openid", "profile", "email", "roles"] as const;
/** Longest `state` kept through the SAML round trip (it is stored with the request). */
export const MAX_STATE = 2048;
/** Longest `nonce` (it is stored with the code and copied into the id_token). */
export const MAX_NONCE = 512;
// Client ids are generated (createClient); anything else is unknown without a query (a NUL
// byte would make PostgreSQL fail the query instead).
const CLIENT_ID = /^rst_client_[0-9a-f]{24}$/;

/**
 * The scope granted for a requested one: the supported values asked for, in a fixed order, or
 * undefined when `openid` is not among them (OIDC Core §3.1.2.1: required). Unknown values are
 * left out, not granted (RFC 6749 §3.3: the server may grant less; the token response says what
 * was granted). No `scope` at all asks for `openid`.
 */
export function grantedScope(requested: string | undefined): string | undefined {
  const asked = new Set((requested ?? "openid").split(" ").filter(Boolean));
  if (!asked.has("openid")) return undefined;
  return SUPPORTED_SCOPES.filter((s) => asked.has(s)).join(" ");
}

async function findLiveClient(deps: SsoDeps, id: string | undefined) {
  if (!id || !CLIENT_ID.test(id)) return undefined;
  const client = await store.findClient(deps.db, id);
  return client && !client.revokedAt ? client : undefined;
}

/** Validate GET /oauth/authorize: the client and its exact redirect URI first (errors there are never redirected). */
export async function validateAuthorize(deps: SsoDeps, q: Record<string, string | undefined>) {
  const client = await findLiveClient(deps, q.client_id);
  if (!client) throw new OAuthError(400, "invalid_client", "Unknown or revoked client_id");
  if (!q.redirect_uri || !client.redirectUris.includes(q.redirect_uri))
    throw new OAuthError(
      400,
      "invalid_request",
      "redirect_uri is not registered for this client (exact match required)",
    );
  // Registered before these rules existed (javascript:, plain http on a public host): never used.
  const unsafe = redirectTargetProblem(q.redirect_uri);
  if (unsafe) throw new OAuthError(400, "invalid_request", `redirect_uri ${unsafe}: re-register the client`);
  const tenant = (await findTenantById(deps.db, client.tenantId))!;
  const scope = grantedScope(q.scope);
  const params: OAuthParams = {
    clientId: client.id,
    redirectUri: q.redirect_uri,
    state: q.state ?? null,
    scope: scope ?? "",
    nonce: q.nonce ?? null,
    codeChallenge: q.code_challenge ?? null,
  };
  return { client, tenant, params, problem: authorizeProblem(q, scope) };
}

/** The first error to send back to the client's redirect_uri (RFC 6749 §4.1.2.1), if any. */
function authorizeProblem(
  q: Record<string, string | undefined>,
  scope: string | undefined,
): [string, string] | undefined {
  if (q.response_type !== "code") return ["unsupported_response_type", "response_type must be code"];
  if (scope === undefined)
    return [
      "invalid_scope",
      `scope must include openid (supported: ${SUPPORTED_SCOPES.join(", ")}; others are not granted)`,
    ];
  if (q.code_challenge && q.code_challenge_method !== "S256")
    return ["invalid_request", "code_challenge_method must be S256 (plain is refused)"];
  if (q.code_challenge && !/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge))
    return ["invalid_request", "code_challenge must be a base64url SHA-256"];
  if ((q.state?.length ?? 0) > MAX_STATE)
    return ["invalid_request", `state must be at most ${MAX_STATE} characters`];
  if ((q.nonce?.length ?? 0) > MAX_NONCE)
    return ["invalid_request", `nonce must be at most ${MAX_NONCE} characters`];
  return undefined;
}

/**
 * HTTP Basic client credentials (RFC 6749 §2.3.1: each part form-urlencoded, then base64), or
 * undefined when the header is not Basic. A part that does not decode (a malformed percent
 * escape) or a missing colon is a failed authentication, not an exception.
 */
function basicCredentials(authorization: string | undefined): { id: string; secret: string } | undefined {
  const basic = authorization && /^Basic\s+(\S+)\s*$/i.exec(authorization);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const i = decoded.indexOf(":");
  const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
  try {
    if (i < 0) throw new URIError("no colon");
    return { id: formDecode(decoded.slice(0, i)), secret: formDecode(decoded.slice(i + 1)) };
  } catch {
    throw new OAuthError(401, "invalid_client", "Client authentication failed");
  }
}

/** Authenticate a client: HTTP Basic (client_secret_basic) or client_id/client_secret in the form. */
export async function authenticateClient(
  deps: SsoDeps,
  authorization: string | undefined,
  form: Record<string, string>,
) {
  const basic = basicCredentials(authorization);
  const id = basic ? basic.id : form.client_id;
  const secret = basic ? basic.secret : form.client_secret;
  const client = await findLiveClient(deps, id);
  const hash = hashSecret(secret ?? "");
  if (!client || !secret || !sameHash(client.secretHash, hash))
    throw new OAuthError(401, "invalid_client", "Client authentication failed");
  return client;
}

const s256 = (verifier: string) => createHash("sha256").update(verifier).digest("base64url");

/** POST /oauth/token (authorization_code): one-time code → opaque access token + id_token. */
export async function exchangeCode(deps: SsoDeps, client: OAuthClient, form: Record<string, string>) {
  if (form.grant_type !== "authorization_code")
    throw new OAuthError(400, "unsupported_grant_type", "Only authorization_code is supported");
  const now = deps.now();
  const at = now.toISOString();
  const codeHash = hashSecret(form.code ?? "");
  const code = await store.findCode(deps.db, codeHash);
  if (!code || code.clientId !== client.id)
    throw new OAuthError(400, "invalid_grant", "Unknown authorization code");
  if ((await store.useCode(deps.db, codeHash, at)) === 0) {
    // RFC 6749 §4.1.2: a code used twice revokes what it produced.
    await store.revokeTokensOfCode(deps.db, codeHash, at);
    throw new OAuthError(400, "invalid_grant", "Authorization code already used");
  }
  if (new Date(code.expiresAt) <= now)
    throw new OAuthError(400, "invalid_grant", "Authorization code expired");
  if (form.redirect_uri !== code.redirectUri)
    throw new OAuthError(400, "invalid_grant", "redirect_uri does not match the authorization request");
  if (code.codeChallenge && (!form.code_verifier || s256(form.code_verifier) !== code.codeChallenge))
    throw new OAuthError(400, "invalid_grant", "PKCE code_verifier does not match the code_challenge");
  const session = await findSession(deps.db, code.tenantId, code.sessionId);
  const user = await findUserById(deps.db, code.tenantId, code.userId);
  if (!session || session.revokedAt || !user?.active)
    throw new OAuthError(400, "invalid_grant", "The session behind this code has ended");
  const token = generateSecret(ACCESS_PREFIX);
  const expiresAt = new Date(now.getTime() + ACCESS_TTL_MS);
  await store.insertToken(
    deps.db,
    {
      id: randomUUID(),
      tenantId: code.tenantId,
      clientId: client.id,
      userId: user.id,
      sessionId: session.id,
      codeHash,
      scope: code.scope,
      createdAt: at,
      expiresAt: expiresAt.toISOString(),
      revokedAt: null,
    },
    hashSecret(token),
  );
  const tenant = (await findTenantById(deps.db, code.tenantId))!;
  const key = await currentSigningKey(deps.db, now);
  const withRoles = code.scope.split(" ").includes("roles");
  const idToken = await new SignJWT({
    ...profileClaims(tenant, user),
    ...(withRoles
      ? {
          roles: await rolesOfUser(deps.db, tenant.id, user.id),
          groups: await groupNamesOfUser(deps.db, tenant.id, user.id),
        }
      : {}),
    nonce: code.nonce ?? undefined,
    sid: session.id,
    auth_time: Math.floor(new Date(session.createdAt).getTime() / 1000),
    ...(await enforcementClaims(deps, tenant.id)),
  })
    .setProtectedHeader({ alg: ID_TOKEN_ALG, kid: key.kid, typ: "JWT" })
    .setIssuer(deps.config.publicUrl)
    .setSubject(user.id)
    .setAudience(client.id)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(key.key);
  return {
    access_token: token,
    token_type: "Bearer",
    expires_in: ACCESS_TTL_MS / 1000,
    id_token: idToken,
    scope: code.scope,
  };
}

function profileClaims(tenant: Tenant, user: UserRow) {
  return {
    tenant: tenant.slug,
    tenant_id: tenant.id,
    preferred_username: user.userName,
    email: user.primaryEmail ?? undefined,
    name: user.displayName ?? undefined,
    given_name: user.givenName ?? undefined,
    family_name: user.familyName ?? undefined,
  };
}

/** The live token a bearer value names, with its user; undefined when unknown, revoked, expired or the user inactive. */
async function liveToken(deps: SsoDeps, token: string | undefined) {
  if (!token) return undefined;
  const hash = hashSecret(token);
  const row = await store.findTokenByHash(deps.db, hash);
  if (!row || !sameHash(row.tokenHash, hash) || row.revokedAt || new Date(row.expiresAt) <= deps.now())
    return undefined;
  const user = await findUserById(deps.db, row.tenantId, row.userId);
  if (!user?.active) return undefined;
  return { row, user };
}

/** GET /oauth/userinfo: the user with tenant, roles and groups; undefined → 401. */
export async function userinfo(deps: SsoDeps, token: string | undefined) {
  const live = await liveToken(deps, token);
  if (!live) return undefined;
  const tenant = (await findTenantById(deps.db, live.row.tenantId))!;
  return {
    sub: live.user.id,
    ...profileClaims(tenant, live.user),
    tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
    roles: await rolesOfUser(deps.db, tenant.id, live.user.id),
    groups: await groupNamesOfUser(deps.db, tenant.id, live.user.id),
    ...(await enforcementClaims(deps, tenant.id)),
  };
}

/**
 * What the application needs to enforce SSO (issue 16): `sso_required`, the tenant's "Require
 * SSO" policy (a user who came through the hand-off is in its directory, which the policy
 * covers), and `amr` (RFC 8176 §2), how the user signed in: always at the tenant's IdP through
 * Roster, `fed` (federated), the value Microsoft Entra ID uses for a federated sign-in.
 */
async function enforcementClaims(deps: SsoDeps, tenantId: string) {
  const policy = await findPolicy(deps.db, tenantId);
  return { sso_required: policy.requireSso, amr: ["fed"] };
}

/** POST /oauth/introspect (RFC 7662): active:false for unknown, revoked, expired or another tenant's tokens. */
export async function introspect(deps: SsoDeps, client: OAuthClient, token: string | undefined) {
  const live = await liveToken(deps, token);
  if (!live || live.row.tenantId !== client.tenantId) return { active: false };
  const tenant = (await findTenantById(deps.db, live.row.tenantId))!;
  return {
    active: true,
    scope: live.row.scope,
    client_id: live.row.clientId,
    username: live.user.userName,
    token_type: "Bearer",
    exp: Math.floor(new Date(live.row.expiresAt).getTime() / 1000),
    iat: Math.floor(new Date(live.row.createdAt).getTime() / 1000),
    sub: live.user.id,
    aud: live.row.clientId,
    iss: deps.config.publicUrl,
    tenant: tenant.slug,
  };
}
