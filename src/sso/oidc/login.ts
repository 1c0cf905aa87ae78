import { createHmac, randomBytes } from "node:crypto";
import * as client from "openid-client";
import { hashSecret } from "../../tenants/secrets.js";
import type { Tenant } from "../../tenants/store.js";
import type { SsoDeps } from "../deps.js";
import { SsoFailure } from "../failure.js";
import { reservePendingSlot } from "../pending.js";
import { insertRequest, type OAuthParams, type RequestPurpose } from "../request-store.js";
import { absoluteReturnUrl, isAllowedReturnUrl } from "../return-url.js";
import { REQUEST_TTL_MS } from "../saml/sp.js";
import {
  findOidcTest,
  findTenantOidcBySlug,
  type OidcConnection,
  saveDiscovery,
} from "./connection-store.js";
import { oidcUrls } from "./connections.js";
import { OutboundRefused } from "./outbound.js";
import { configurationFor, DISCOVERY_MAX_AGE_MS, type Discovery, discover } from "./provider.js";

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A started OpenID Connect login's id (the `state`): a prefix and 256 random bits. */
export const STATE = /^oidc_[A-Za-z0-9_-]{43}$/;

/** The tenant and its OpenID Connect connection for a public endpoint, or a failure page. */
export async function loadTenantOidc(
  deps: Pick<SsoDeps, "db">,
  slug: string,
): Promise<{ tenant: Tenant; conn: OidcConnection }> {
  const found = SLUG.test(slug) ? await findTenantOidcBySlug(deps.db, slug) : undefined;
  if (!found) throw new SsoFailure("UNKNOWN_TENANT", "This workspace does not exist.", {}, 404);
  if (!found.conn)
    throw new SsoFailure(
      "NOT_CONFIGURED",
      `OpenID Connect sign-in is not set up for ${found.tenant.name}.`,
      {},
      404,
    );
  return { tenant: found.tenant, conn: found.conn };
}

/** Whether the tenant's OpenID Connect connection is enabled (the OAuth hand-off then starts here). */
export async function oidcEnabled(deps: Pick<SsoDeps, "db">, slug: string): Promise<boolean> {
  if (!SLUG.test(slug)) return false;
  return (await findTenantOidcBySlug(deps.db, slug))?.conn?.state === "enabled";
}

/**
 * The `nonce` and PKCE `code_verifier` of a started login, derived from the browser's binding
 * cookie and the state: neither is stored, so only the browser that started the login can finish
 * it (a stolen code or callback URL is useless elsewhere), and a database reader learns neither.
 */
export function derivedSecrets(browserNonce: string, state: string) {
  const mac = (label: string) =>
    createHmac("sha256", browserNonce).update(`${label}|${state}`).digest("base64url");
  return { nonce: mac("oidc-nonce"), codeVerifier: mac("oidc-pkce") };
}

/** The connection's discovery document: the stored one while fresh, else fetched again (the stored one if that fails). */
export async function currentDiscovery(deps: SsoDeps, conn: OidcConnection): Promise<Discovery> {
  const stored = conn.discovery as Discovery | null;
  const age = conn.discoveredAt
    ? deps.now().getTime() - new Date(conn.discoveredAt).getTime()
    : Number.POSITIVE_INFINITY;
  if (stored && age < DISCOVERY_MAX_AGE_MS) return stored;
  try {
    const fresh = await discover(deps, conn.issuer);
    await saveDiscovery(deps.db, conn.tenantId, conn.id, { ...fresh }, deps.now().toISOString());
    return fresh;
  } catch (err) {
    if (!(err instanceof OutboundRefused)) throw err;
    if (stored) return stored;
    throw new SsoFailure(
      "DISCOVERY_FAILED",
      "Roster could not reach the identity provider: try again later.",
      { problem: err.message },
      502,
    );
  }
}

/** What starts a login. */
export interface OidcLoginStart {
  returnTo?: string;
  testId?: string;
  oauth?: OAuthParams;
  /** The browser's binding nonce (cookie value); the request row stores only its hash. */
  browserNonce: string;
}

/**
 * Start an authorization code flow with PKCE (S256): a request row (shared with SAML: the same
 * pending bound, browser binding and purge) whose id is the `state`, then the provider's
 * authorization URL. Only when the connection is enabled (or for a pending test).
 */
export async function startOidcLogin(deps: SsoDeps, slug: string, start: OidcLoginStart): Promise<string> {
  const { tenant, conn } = await loadTenantOidc(deps, slug);
  const purpose: RequestPurpose = start.testId ? "test" : start.oauth ? "oauth" : "login";
  if (purpose === "test") {
    const test = /^[0-9a-f-]{36}$/.test(start.testId!)
      ? await findOidcTest(deps.db, tenant.id, start.testId!)
      : undefined;
    if (test?.status !== "pending")
      throw new SsoFailure(
        "UNKNOWN_TEST",
        "This test link is unknown or was already used: start a new test.",
        {},
        404,
      );
  } else if (conn.state !== "enabled") {
    throw new SsoFailure("SSO_NOT_ENABLED", `Single sign-on is not enabled for ${tenant.name}.`, {}, 403);
  }
  let returnTo: string | null = null;
  if (start.returnTo !== undefined && purpose === "login") {
    if (!isAllowedReturnUrl(start.returnTo, deps.config.publicUrl, conn.settings.returnUrls))
      throw new SsoFailure(
        "RETURN_URL_NOT_ALLOWED",
        "The return address is not on this workspace's list of allowed URLs.",
        {},
        400,
      );
    returnTo = absoluteReturnUrl(start.returnTo, deps.config.publicUrl);
  }
  const now = deps.now();
  const browserHash = hashSecret(start.browserNonce);
  await reservePendingSlot(deps, tenant, browserHash, now);
  const discovery = await currentDiscovery(deps, conn);
  const state = `oidc_${randomBytes(32).toString("base64url")}`;
  const { nonce, codeVerifier } = derivedSecrets(start.browserNonce, state);
  await insertRequest(deps.db, {
    id: state,
    tenantId: tenant.id,
    browserHash,
    purpose,
    issueInstant: now.toISOString(),
    returnTo,
    // The OIDC connection is the tenant's one (saml_requests.connection_id names SAML connections).
    connectionId: null,
    testId: start.testId ?? null,
    oauth: start.oauth ?? null,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + REQUEST_TTL_MS).toISOString(),
    consumedAt: null,
  });
  const url = client.buildAuthorizationUrl(configurationFor(deps, conn, discovery), {
    redirect_uri: oidcUrls(deps.config.publicUrl, tenant.slug).redirectUri,
    response_type: "code",
    scope: conn.scopes.join(" "),
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
  });
  return url.href;
}
