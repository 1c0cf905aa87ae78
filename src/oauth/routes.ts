import { Router, type Request, type Response } from "express";
import { authenticateSession, SESSION_COOKIE } from "../access/sessions.js";
import type { Deps } from "../deps.js";
import { SsoFailure } from "../sso/saml/acs-checks.js";
import { formBody, readCookie } from "../sso/http-util.js";
import { sendPage } from "../sso/pages.js";
import { bearerToken } from "../tenants/secrets.js";
import { issueCode, redirectWith } from "./codes.js";
import { jwks } from "./keys.js";
import * as oauth from "./use-cases.js";

function sendOAuthError(res: Response, err: oauth.OAuthError): void {
  if (err.status === 401) res.set("WWW-Authenticate", 'Basic realm="oauth"');
  res
    .status(err.status)
    .set("Cache-Control", "no-store")
    .json({ error: err.error, error_description: err.message });
}

function query(req: Request): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.query)) if (typeof v === "string") out[k] = v;
  return out;
}

/**
 * OAuth 2.0 authorization code (+ PKCE S256) with OpenID Connect on top: the application behind
 * Roster learns who logged in through SAML. `startLogin` begins the SAML round trip.
 */
export function oauthRoutes(
  deps: Deps,
  startLogin: (
    req: Request,
    res: Response,
    slug: string,
    oauthParams: import("../sso/request-store.js").OAuthParams,
  ) => Promise<void>,
): Router {
  const r = Router();
  const form = formBody(64 * 1024);

  r.get("/.well-known/openid-configuration", (_req, res) => {
    const base = deps.config.publicUrl;
    res.set("Cache-Control", "public, max-age=300").json({
      issuer: base,
      authorization_endpoint: `${base}/oauth/authorize`,
      token_endpoint: `${base}/oauth/token`,
      userinfo_endpoint: `${base}/oauth/userinfo`,
      jwks_uri: `${base}/oauth/jwks`,
      introspection_endpoint: `${base}/oauth/introspect`,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
      scopes_supported: [...oauth.SUPPORTED_SCOPES],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      code_challenge_methods_supported: ["S256"],
      claims_supported: [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "nonce",
        "sid",
        "auth_time",
        "tenant",
        "email",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "roles",
        "groups",
      ],
    });
  });

  r.get("/oauth/jwks", async (_req, res) => {
    res.set("Cache-Control", "public, max-age=300").json(await jwks(deps.db, deps.now()));
  });

  r.get("/oauth/authorize", async (req, res) => {
    let v: Awaited<ReturnType<typeof oauth.validateAuthorize>>;
    try {
      v = await oauth.validateAuthorize(deps, query(req));
    } catch (err) {
      if (!(err instanceof oauth.OAuthError)) throw err;
      return sendPage(res, { status: 400, title: "Sign-in request refused", reason: err.message });
    }
    if (v.problem)
      return res.redirect(
        302,
        redirectWith(v.params.redirectUri, {
          error: v.problem[0],
          error_description: v.problem[1],
          state: v.params.state,
        }),
      );
    const live = await authenticateSession(deps.db, readCookie(req, SESSION_COOKIE), deps.now());
    if (live && live.session.tenantId === v.tenant.id) {
      const now = deps.now();
      const location = await deps.db.transaction((trx) =>
        issueCode(trx, {
          tenantId: v.tenant.id,
          userId: live.user.id,
          sessionId: live.session.id,
          oauth: v.params,
          now,
        }),
      );
      return res.set("Cache-Control", "no-store").redirect(302, location);
    }
    try {
      await startLogin(req, res, v.tenant.slug, v.params);
    } catch (err) {
      if (!(err instanceof SsoFailure)) throw err;
      res.redirect(
        302,
        redirectWith(v.params.redirectUri, {
          // RFC 6749 §4.1.2.1: the server is busy (too many sign-ins in progress), try later.
          error: err.status === 503 ? "temporarily_unavailable" : "access_denied",
          error_description: err.message,
          state: v.params.state,
        }),
      );
    }
  });

  r.post("/oauth/token", form, async (req, res) => {
    try {
      const client = await oauth.authenticateClient(deps, req.headers.authorization, req.body);
      res
        .set({ "Cache-Control": "no-store", Pragma: "no-cache" })
        .json(await oauth.exchangeCode(deps, client, req.body));
    } catch (err) {
      if (!(err instanceof oauth.OAuthError)) throw err;
      sendOAuthError(res, err);
    }
  });

  r.get("/oauth/userinfo", async (req, res) => {
    const info = await oauth.userinfo(deps, bearerToken(req.headers.authorization));
    if (!info) {
      res.set("WWW-Authenticate", 'Bearer error="invalid_token"');
      return res.status(401).json({
        error: "invalid_token",
        error_description: "The access token is invalid, expired or revoked",
      });
    }
    res.set("Cache-Control", "no-store").json(info);
  });

  r.post("/oauth/introspect", form, async (req, res) => {
    try {
      const client = await oauth.authenticateClient(deps, req.headers.authorization, req.body);
      res.set("Cache-Control", "no-store").json(await oauth.introspect(deps, client, req.body.token));
    } catch (err) {
      if (!(err instanceof oauth.OAuthError)) throw err;
      sendOAuthError(res, err);
    }
  });
  return r;
}
