import type { Db } from "../db/knex.js";
import type { OAuthParams } from "../sso/request-store.js";
import { generateSecret, hashSecret } from "../tenants/secrets.js";
import { insertCode } from "./store.js";

/** Codes live 60 seconds and are single use. */
export const CODE_TTL_MS = 60_000;
/** Prefix of authorization codes. */
export const CODE_PREFIX = "rst_code_";

/** Issue a one-time authorization code in the caller's transaction; returns the redirect URL. */
export async function issueCode(
  trx: Db,
  input: { tenantId: string; userId: string; sessionId: string; oauth: OAuthParams; now: Date },
): Promise<string> {
  const code = generateSecret(CODE_PREFIX);
  await insertCode(trx, {
    codeHash: hashSecret(code),
    tenantId: input.tenantId,
    clientId: input.oauth.clientId,
    userId: input.userId,
    sessionId: input.sessionId,
    redirectUri: input.oauth.redirectUri,
    scope: input.oauth.scope,
    nonce: input.oauth.nonce,
    codeChallenge: input.oauth.codeChallenge,
    createdAt: input.now.toISOString(),
    expiresAt: new Date(input.now.getTime() + CODE_TTL_MS).toISOString(),
    usedAt: null,
  });
  return redirectWith(input.oauth.redirectUri, { code, state: input.oauth.state });
}

/** The redirect URI with query parameters added (RFC 6749 §4.1.2: keep its own query). */
export function redirectWith(redirectUri: string, params: Record<string, string | null>): string {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== null) u.searchParams.set(k, v);
  return u.toString();
}
