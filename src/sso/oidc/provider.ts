import { decodeProtectedHeader } from "jose";
import * as client from "openid-client";
import { SsoFailure } from "../failure.js";
import type { OidcConnection } from "./connection-store.js";
import { guardedFetch, OutboundRefused } from "./outbound.js";

/** id_token algorithms Roster accepts (issue 17): never `none`, never HMAC (a public key as secret). */
export const ALLOWED_ALGS = ["RS256", "PS256", "ES256"] as const;
/** exp/iat tolerance on the app's clock. */
export const CLOCK_SKEW_S = 120;
/** A stored discovery document older than this is fetched again before a login uses it. */
export const DISCOVERY_MAX_AGE_MS = 3_600_000;

/** The discovery fields Roster keeps (OpenID Connect Discovery 1.0 §3, RFC 9207 §3). */
export interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  id_token_signing_alg_values_supported: string[];
  token_endpoint_auth_methods_supported?: string[];
  authorization_response_iss_parameter_supported?: boolean;
}

/** The SSRF rules and the clock a provider call needs. */
export interface ProviderDeps {
  now: () => Date;
  config: { allowPrivateNetwork: boolean };
}

/** Discovery URL of an issuer (OpenID Connect Discovery §4: the issuer, then the well-known path). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
}

/**
 * Fetch and check an issuer's discovery document: reachable under the SSRF rules, JSON, its
 * `issuer` exactly the configured one (Discovery §4.3: else it may be another provider's), the
 * endpoints present, and at least one allowed signing algorithm. Throws OutboundRefused (words).
 */
export async function discover(deps: ProviderDeps, issuer: string): Promise<Discovery> {
  const res = await guardedFetch({ allowPrivateNetwork: deps.config.allowPrivateNetwork })(
    discoveryUrl(issuer),
    {
      headers: { accept: "application/json" },
    },
  );
  if (res.status !== 200) throw new OutboundRefused(`${discoveryUrl(issuer)} answered HTTP ${res.status}`);
  let doc: Record<string, unknown>;
  try {
    doc = (await res.json()) as Record<string, unknown>;
  } catch {
    throw new OutboundRefused(`${discoveryUrl(issuer)} is not JSON`);
  }
  if (doc.issuer !== issuer)
    throw new OutboundRefused(
      `the discovery document names issuer ${JSON.stringify(String(doc.issuer).slice(0, 256))}, not ${issuer}`,
    );
  for (const k of ["authorization_endpoint", "token_endpoint", "jwks_uri"] as const) {
    if (typeof doc[k] !== "string") throw new OutboundRefused(`the discovery document has no ${k}`);
    // Browsers are sent to the authorization endpoint: https only (http for development), never
    // javascript: or data:. The other two are fetched through the guard, which checks again.
    const scheme = URL.canParse(doc[k]) ? new URL(doc[k]).protocol : "";
    if (scheme !== "https:" && !(deps.config.allowPrivateNetwork && scheme === "http:"))
      throw new OutboundRefused(`the discovery document's ${k} is not an https URL`);
  }
  const offered = Array.isArray(doc.id_token_signing_alg_values_supported)
    ? (doc.id_token_signing_alg_values_supported as unknown[])
    : ["RS256"];
  const algs = ALLOWED_ALGS.filter((a) => offered.includes(a));
  if (algs.length === 0)
    throw new OutboundRefused(
      `the provider signs id_tokens with ${offered.join(", ")}; Roster accepts ${ALLOWED_ALGS.join(", ")}`,
    );
  return {
    issuer,
    authorization_endpoint: String(doc.authorization_endpoint),
    token_endpoint: String(doc.token_endpoint),
    jwks_uri: String(doc.jwks_uri),
    ...(typeof doc.userinfo_endpoint === "string" ? { userinfo_endpoint: doc.userinfo_endpoint } : {}),
    // Only the allowed ones: openid-client then refuses any other `alg` in the header.
    id_token_signing_alg_values_supported: [...algs],
    ...(Array.isArray(doc.token_endpoint_auth_methods_supported)
      ? { token_endpoint_auth_methods_supported: doc.token_endpoint_auth_methods_supported.map(String) }
      : {}),
    authorization_response_iss_parameter_supported:
      doc.authorization_response_iss_parameter_supported === true,
  };
}

// JWKS per connection and issuer, kept by this process across logins (openid-client reuses a
// JWKS for 5 minutes and fetches it again on an unknown `kid` at most once a minute).
const jwksCaches = new Map<string, client.ExportedJWKSCache>();

/** An openid-client Configuration for one exchange, on the app's clock, fetching through the guard. */
export function configurationFor(
  deps: ProviderDeps,
  conn: OidcConnection,
  discovery: Discovery,
): client.Configuration {
  const skew = Math.round((deps.now().getTime() - Date.now()) / 1000);
  const basic = discovery.token_endpoint_auth_methods_supported?.includes("client_secret_basic") ?? true;
  const config = new client.Configuration(
    discovery as unknown as client.ServerMetadata,
    conn.clientId,
    { client_secret: conn.clientSecret, [client.clockSkew]: skew, [client.clockTolerance]: CLOCK_SKEW_S },
    basic ? client.ClientSecretBasic(conn.clientSecret) : client.ClientSecretPost(conn.clientSecret),
  );
  config[client.customFetch] = guardedFetch({ allowPrivateNetwork: deps.config.allowPrivateNetwork });
  if (deps.config.allowPrivateNetwork) client.allowInsecureRequests(config);
  // Without this openid-client trusts TLS for id_tokens from the token endpoint and never checks
  // their signature (OIDC Core §3.1.3.7 allows it; the issue does not).
  client.enableNonRepudiationChecks(config);
  const cached = jwksCaches.get(`${conn.id}|${discovery.jwks_uri}`);
  if (cached) client.setJwksCache(config, cached);
  return config;
}

/** What a successful exchange yields: the verified id_token claims. */
export interface Exchanged {
  claims: Record<string, unknown>;
  alg: string;
}

/**
 * The token exchange and the id_token checks (openid-client): RFC 9207 `iss` when the provider
 * advertises it, `state`, PKCE, then the id_token's signature (allowed algorithms, the provider's
 * JWKS), `iss`, `aud`/`azp`, `exp` (±2 min on the app's clock) and `nonce`; then `iat` not in the
 * future (openid-client does not check it). Every refusal is an SsoFailure with its reason code.
 */
export async function exchangeCode(
  deps: ProviderDeps,
  conn: OidcConnection,
  discovery: Discovery,
  callbackUrl: URL,
  expected: { state: string; nonce: string; codeVerifier: string; redirectUri: string },
): Promise<Exchanged> {
  const config = configurationFor(deps, conn, discovery);
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(
      config,
      callbackUrl,
      {
        pkceCodeVerifier: expected.codeVerifier,
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        idTokenExpected: true,
      },
      { redirect_uri: expected.redirectUri },
    );
  } catch (err) {
    throw failureOf(err, discovery);
  } finally {
    const cache = client.getJwksCache(config);
    if (cache) jwksCaches.set(`${conn.id}|${discovery.jwks_uri}`, cache);
  }
  const claims = tokens.claims() as Record<string, unknown> | undefined;
  const alg = tokens.id_token ? decodeProtectedHeader(tokens.id_token).alg : undefined;
  if (!claims || !alg) throw new SsoFailure("ID_TOKEN_INVALID", "The identity provider sent no id_token.");
  // openid-client checked this already (the discovery list is filtered); kept as the allow-list itself.
  if (!(ALLOWED_ALGS as readonly string[]).includes(alg))
    throw new SsoFailure(
      "ID_TOKEN_ALG_NOT_ALLOWED",
      "The identity provider signed the sign-in with an algorithm Roster refuses.",
      { alg },
    );
  const now = Math.floor(deps.now().getTime() / 1000);
  if (typeof claims.iat === "number" && claims.iat > now + CLOCK_SKEW_S)
    throw new SsoFailure(
      "NOT_YET_VALID",
      "The sign-in token is dated in the future: the clocks differ by more than 2 minutes.",
      {
        iat: claims.iat,
        serverTime: now,
      },
    );
  return { claims, alg };
}

/** Every message and code along an error's cause chain (openid-client wraps oauth4webapi's). */
function chain(err: unknown): {
  text: string;
  codes: string[];
  claim?: string;
  details: Record<string, unknown>;
} {
  const messages: string[] = [];
  const codes: string[] = [];
  let claim: string | undefined;
  let e: any = err;
  for (let i = 0; e && i < 6; i++, e = e.cause) {
    if (typeof e.message === "string") messages.push(e.message);
    if (typeof e.code === "string") codes.push(e.code);
    if (typeof e.claim === "string" && !claim) claim = e.claim;
    if (e.cause && typeof e.cause === "object" && typeof e.cause.claim === "string" && !claim)
      claim = e.cause.claim;
  }
  return {
    text: messages.join(" | "),
    codes,
    claim,
    details: { problem: messages.slice(0, 3).join(": ").slice(0, 512) },
  };
}

/** The reason code for an openid-client failure (see README "Troubleshooting"). */
export function failureOf(err: unknown, discovery: Discovery): SsoFailure {
  if (err instanceof SsoFailure) return err;
  if (err instanceof client.AuthorizationResponseError)
    return new SsoFailure("IDP_ERROR", `The identity provider refused the sign-in: ${err.error}.`, {
      error: err.error,
      description: err.error_description ?? null,
    });
  if (err instanceof client.ResponseBodyError)
    return new SsoFailure(
      "TOKEN_EXCHANGE_FAILED",
      "The identity provider refused to exchange the sign-in code: start again.",
      {
        error: err.error,
        description: err.error_description ?? null,
        status: err.status,
      },
    );
  const c = chain(err);
  const f = (code: string, message: string) =>
    new SsoFailure(code, message, { ...c.details, ...(c.claim ? { claim: c.claim } : {}) });
  // A request the SSRF guard refused or that failed (openid-client wraps it in a ClientError).
  if (err instanceof OutboundRefused || (err as { cause?: unknown })?.cause instanceof OutboundRefused)
    return f("PROVIDER_UNREACHABLE", "Roster could not reach the identity provider: try again later.");
  if (c.codes.includes("OAUTH_RESPONSE_IS_NOT_CONFORM") || c.codes.includes("OAUTH_RESPONSE_IS_NOT_JSON"))
    return f("TOKEN_EXCHANGE_FAILED", "The identity provider's token endpoint failed: try again later.");
  if (/"state"/.test(c.text))
    return f(
      "STATE_MISMATCH",
      "This sign-in response does not answer the sign-in started in this browser: start again.",
    );
  if (/"iss" \(issuer\) response parameter|response parameter "iss"/.test(c.text))
    return f(
      "ISSUER_PARAMETER_MISMATCH",
      `The sign-in response does not come from ${discovery.issuer} (RFC 9207 mix-up check): start again.`,
    );
  if (/"alg"/.test(c.text))
    return f(
      "ID_TOKEN_ALG_NOT_ALLOWED",
      "The identity provider signed the sign-in with an algorithm Roster refuses.",
    );
  if (
    c.codes.includes("OAUTH_KEY_SELECTION_FAILED") ||
    /signature verification failed|no applicable keys/i.test(c.text)
  )
    return f(
      "ID_TOKEN_SIGNATURE_INVALID",
      "The sign-in token's signature does not verify with the identity provider's keys.",
    );
  if (c.codes.includes("OAUTH_JWT_TIMESTAMP_CHECK_FAILED"))
    return f(
      "EXPIRED",
      "The sign-in token has expired (or the clocks differ by more than 2 minutes): start again.",
    );
  if (c.claim === "nonce" || /"nonce"/.test(c.text))
    return f("NONCE_MISMATCH", "The sign-in token was not issued for this sign-in (nonce): start again.");
  if (c.claim === "iss" || /"iss" \(issuer\) claim/.test(c.text))
    return f("ISSUER_MISMATCH", `The sign-in token was not issued by ${discovery.issuer}.`);
  if (c.claim === "aud" || c.claim === "azp" || /"aud"|"azp"/.test(c.text))
    return f("AUDIENCE_MISMATCH", "The sign-in token was issued to another application (audience).");
  return f("ID_TOKEN_INVALID", "The identity provider's answer is not a valid sign-in: start again.");
}
