import { createHash, randomBytes } from "node:crypto";
import { RosterOAuthError } from "./errors.js";

/**
 * Sign-in through Roster's OAuth 2.0 / OpenID Connect hand-off (authorization code + PKCE S256,
 * a confidential client). Own small helpers rather than a general OIDC library so the client
 * keeps its promise of no dependency beyond `fetch` and `node:crypto`; Roster's endpoints and
 * rules are fixed (README "Public endpoints"). The id_token comes straight from the token
 * endpoint over the TLS connection this client opened, with client authentication, so its
 * claims are checked (iss, aud, exp, nonce) but its signature is not (OIDC Core §3.1.3.7
 * allows TLS server validation in place of the signature check for this flow). An application
 * that passes id_tokens on to others, or wants discovery and JWKS handling, should use a
 * certified client such as openid-client (recipe in the README).
 */
export interface LoginOptions {
  /** Where this application reaches Roster for the token and userinfo calls. */
  baseUrl: string;
  /**
   * Roster's `PUBLIC_URL` (the id_token's issuer; browsers are sent there), when it differs
   * from `baseUrl` (an application calling Roster on an internal address). Default: `baseUrl`.
   */
  publicUrl?: string;
  clientId: string;
  clientSecret: string;
  /** Exactly as registered on the OAuth client. */
  redirectUri: string;
  fetch?: typeof fetch;
}

/** What to keep (in the user's session, server side) between `start` and `finish`. */
export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface TokenSet {
  access_token: string;
  token_type: string;
  expires_in: number;
  id_token: string;
  scope: string;
}

/** The id_token's claims (with the `roles` scope: `roles` and `groups` too). */
export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  nonce?: string;
  sid?: string;
  tenant: string;
  tenant_id: string;
  preferred_username: string;
  email?: string;
  name?: string;
  given_name?: string;
  family_name?: string;
  roles?: string[];
  groups?: string[];
}

export interface UserInfo {
  sub: string;
  tenant: { id: string; slug: string; name: string };
  preferred_username: string;
  email?: string;
  name?: string;
  given_name?: string;
  family_name?: string;
  roles: string[];
  groups: string[];
}

const random = () => randomBytes(32).toString("base64url");

export class RosterLogin {
  private readonly base: string;
  private readonly issuer: string;
  constructor(private readonly opts: LoginOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, "");
    this.issuer = (opts.publicUrl ?? opts.baseUrl).replace(/\/+$/, "");
  }

  /**
   * The URL to send the browser to, and what to keep until the callback. `scope` defaults to
   * `openid profile email roles` (roles and groups in the id_token).
   */
  start(options: { scope?: string } = {}): { url: string; pending: PendingLogin } {
    const pending: PendingLogin = { state: random(), nonce: random(), codeVerifier: random() };
    const url = new URL(`${this.issuer}/oauth/authorize`);
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: this.opts.clientId,
      redirect_uri: this.opts.redirectUri,
      scope: options.scope ?? "openid profile email roles",
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: createHash("sha256").update(pending.codeVerifier).digest("base64url"),
      code_challenge_method: "S256",
    }).toString();
    return { url: url.toString(), pending };
  }

  /**
   * The callback: check `state`, exchange the code (with the PKCE verifier), check the
   * id_token's claims. `callback` is the full callback URL or its query parameters.
   */
  async finish(
    callback: string | URL | URLSearchParams | Record<string, unknown>,
    pending: PendingLogin,
  ): Promise<{ tokens: TokenSet; claims: IdTokenClaims }> {
    const params = toParams(callback);
    if (params.get("error"))
      throw new RosterOAuthError(params.get("error")!, params.get("error_description") ?? undefined);
    if (!pending?.state || params.get("state") !== pending.state)
      throw new RosterOAuthError(
        "invalid_state",
        "state does not match the pending sign-in (CSRF or a stale tab)",
      );
    const code = params.get("code");
    if (!code) throw new RosterOAuthError("invalid_request", "the callback carries no code");
    const res = await (this.opts.fetch ?? fetch)(`${this.base}/oauth/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        // RFC 6749 §2.3.1: id and secret form-urlencoded before Basic.
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(this.opts.clientId)}:${encodeURIComponent(this.opts.clientSecret)}`).toString("base64")}`,
      },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: this.opts.redirectUri,
        code_verifier: pending.codeVerifier,
      }),
    });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok)
      throw new RosterOAuthError(
        String(body.error ?? `http_${res.status}`),
        body.error_description as string,
        res.status,
      );
    const tokens = body as unknown as TokenSet;
    const claims = decodeClaims(tokens.id_token);
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== this.issuer)
      throw new RosterOAuthError("invalid_id_token", `issuer ${claims.iss} is not ${this.issuer}`);
    if (claims.aud !== this.opts.clientId)
      throw new RosterOAuthError("invalid_id_token", "audience is not this client");
    if (typeof claims.exp !== "number" || claims.exp < now - 60)
      throw new RosterOAuthError("invalid_id_token", "expired");
    if (claims.nonce !== pending.nonce)
      throw new RosterOAuthError("invalid_id_token", "nonce does not match");
    return { tokens, claims };
  }

  /** `GET /oauth/userinfo`: the user with current roles and groups; 401 once the access is revoked. */
  async userinfo(accessToken: string): Promise<UserInfo> {
    const res = await (this.opts.fetch ?? fetch)(`${this.base}/oauth/userinfo`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      throw new RosterOAuthError(
        String(body.error ?? "invalid_token"),
        body.error_description as string,
        res.status,
      );
    }
    return (await res.json()) as UserInfo;
  }
}

function toParams(callback: string | URL | URLSearchParams | Record<string, unknown>): URLSearchParams {
  if (callback instanceof URLSearchParams) return callback;
  if (callback instanceof URL) return callback.searchParams;
  if (typeof callback === "string")
    return callback.includes("?")
      ? new URL(callback, "http://x").searchParams
      : new URLSearchParams(callback);
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(callback)) if (typeof v === "string") p.set(k, v);
  return p;
}

function decodeClaims(jwt: string): IdTokenClaims {
  const payload = typeof jwt === "string" ? jwt.split(".")[1] : undefined;
  if (!payload) throw new RosterOAuthError("invalid_id_token", "not a JWT");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as IdTokenClaims;
}
