import { type Request, type Response, Router } from "express";
import { authenticateSession, revokeSession, SESSION_COOKIE } from "../../access/sessions.js";
import type { Deps } from "../../deps.js";
import { oauthRoutes } from "../../oauth/routes.js";
import { browserNonce, REQUEST_COOKIE, setBrowserCookie } from "../browser.js";
import { loadTenantOidc, oidcEnabled } from "../oidc/login.js";
import { beginOidcLogin } from "../oidc/routes.js";
import { handleAcs } from "./acs.js";
import { findTenantConnectionBySlug } from "./connection-store.js";
import { SsoFailure } from "./acs-checks.js";
import { truncate } from "../bounded.js";
import { formBody, queryString, readCookie, setCookie } from "../http-util.js";
import { discoverRoute } from "../discover.js";
import { loadTenantConnection, startLogin } from "./login.js";
import { sendPage } from "../pages.js";
import type { OAuthParams } from "../request-store.js";
import { isAllowedReturnUrl } from "../return-url.js";
import { rolesOfUser } from "../roles.js";
import { groupNamesOfUser } from "../gate-store.js";
import { spMetadataXml, spUrls } from "./sp.js";

export { REQUEST_COOKIE } from "../browser.js";
const ACS_LIMIT = 512 * 1024;
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Public SSO endpoints: /sso/{slug}/…, /oauth/…, /.well-known/openid-configuration. */
export function ssoRoutes(deps: Deps): Router {
  const r = Router();
  const secure = deps.config.publicUrl.startsWith("https:");

  function failurePage(
    res: Response,
    slug: string,
    f: SsoFailure,
    trace?: string,
    connectionId?: string | null,
  ): void {
    const login = `/sso/${encodeURIComponent(slug)}${connectionId ? `/${encodeURIComponent(connectionId)}` : ""}/login`;
    // Busy (too many sign-ins in progress): say when to come back.
    if (f.status === 503) res.set("Retry-After", "60");
    sendPage(res, {
      status: f.status,
      title: f.status === 503 ? "Sign-in busy" : "Sign-in refused",
      reason: f.message,
      link: f.status === 404 ? undefined : { href: login, text: "Try again" },
      reference: trace ? `${f.code} · trace ${trace}` : f.code,
    });
  }

  /** Start a SAML login bound to this browser: reuse its nonce cookie (several tabs) or set one. */
  async function beginLogin(
    req: Request,
    res: Response,
    slug: string,
    extra: { returnTo?: string; testId?: string; oauth?: OAuthParams; connectionId?: string },
  ) {
    const nonce = browserNonce(req);
    const location = await startLogin(deps, slug, { ...extra, browserNonce: nonce });
    setBrowserCookie(res, nonce, secure);
    res.set("Cache-Control", "no-store").redirect(302, location);
  }

  // The default connection at /sso/{slug}/…, the tenant's other connections at /sso/{slug}/{id}/….
  const connectionOf = (req: Request) =>
    req.params.connectionId === undefined ? null : String(req.params.connectionId);

  r.get(["/sso/:slug/metadata", "/sso/:slug/:connectionId/metadata"], async (req, res) => {
    try {
      const { tenant, conn } = await loadTenantConnection(
        deps,
        String(req.params.slug),
        null,
        connectionOf(req),
      );
      res
        .type("application/samlmetadata+xml")
        .send(spMetadataXml(conn, spUrls(deps.config.publicUrl, tenant.slug, conn)));
    } catch (err) {
      if (!(err instanceof SsoFailure)) throw err;
      res.status(404).type("text/plain").send(err.message);
    }
  });

  r.get(["/sso/:slug/login", "/sso/:slug/:connectionId/login"], async (req, res) => {
    try {
      await beginLogin(req, res, String(req.params.slug), {
        returnTo: queryString(req, "return_to"),
        testId: queryString(req, "test"),
        connectionId: connectionOf(req) ?? undefined,
      });
    } catch (err) {
      if (!(err instanceof SsoFailure)) throw err;
      failurePage(res, String(req.params.slug), err, undefined, connectionOf(req));
    }
  });

  r.post(["/sso/:slug/acs", "/sso/:slug/:connectionId/acs"], formBody(ACS_LIMIT), async (req, res) => {
    const slug = String(req.params.slug);
    const outcome = await handleAcs(deps, slug, req.body, readCookie(req, REQUEST_COOKIE), connectionOf(req));
    res.set("Cache-Control", "no-store");
    if (outcome.kind === "redirect") {
      const ttl = Math.max(
        1,
        Math.floor((new Date(outcome.session.session.expiresAt).getTime() - deps.now().getTime()) / 1000),
      );
      setCookie(res, SESSION_COOKIE, outcome.session.token, { maxAgeSeconds: ttl, secure, sameSite: "Lax" });
      // A bare 302 (no negotiated body): the hot path of every login.
      return res.status(302).set("Location", outcome.location).end();
    }
    if (outcome.kind === "test")
      return sendPage(res, {
        status: outcome.ok ? 200 : 400,
        title: outcome.ok ? "SAML test succeeded" : "SAML test failed",
        reason: `${outcome.message} The full report is in the admin console (GET …/saml/test/{id}). No one was signed in.`,
      });
    req.log.info(
      { reason: outcome.failure.code, tenant: truncate(slug, 64), trace: outcome.trace },
      "SSO login refused",
    );
    failurePage(res, slug, outcome.failure, outcome.trace, connectionOf(req));
  });

  r.get("/sso/:slug/session", async (req, res) => {
    const live = await authenticateSession(deps.db, readCookie(req, SESSION_COOKIE), deps.now());
    // Whatever protocol the session came from (SAML or OpenID Connect): only the tenant matters.
    const slug = String(req.params.slug);
    const tenant = SLUG.test(slug) ? (await findTenantConnectionBySlug(deps.db, slug))?.tenant : undefined;
    if (!live || !tenant || live.session.tenantId !== tenant.id) {
      return res
        .status(401)
        .json({ error: { code: "UNAUTHORIZED", message: "No live session for this workspace" } });
    }
    const u = live.user;
    res.set("Cache-Control", "no-store").json({
      user: {
        id: u.id,
        userName: u.userName,
        displayName: u.displayName,
        email: u.primaryEmail,
        givenName: u.givenName,
        familyName: u.familyName,
        active: u.active,
      },
      tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
      roles: await rolesOfUser(deps.db, tenant.id, u.id),
      groups: await groupNamesOfUser(deps.db, tenant.id, u.id),
      session: { id: live.session.id, createdAt: live.session.createdAt, expiresAt: live.session.expiresAt },
    });
  });

  r.post("/sso/:slug/logout", formBody(16 * 1024), async (req, res) => {
    const live = await authenticateSession(deps.db, readCookie(req, SESSION_COOKIE), deps.now());
    if (live)
      await revokeSession(
        deps.db,
        live.session.tenantId,
        live.session.id,
        "logout",
        deps.now().toISOString(),
      );
    setCookie(res, SESSION_COOKIE, "", { maxAgeSeconds: 0, secure, sameSite: "Lax" });
    const to = typeof req.body?.return_to === "string" ? req.body.return_to : queryString(req, "return_to");
    const conn = await loadTenantConnection(deps, String(req.params.slug)).catch(() => undefined);
    // An OpenID Connect tenant's allow-list when it has no SAML connection.
    const oidc = conn
      ? undefined
      : await loadTenantOidc(deps, String(req.params.slug)).catch(() => undefined);
    const returnUrls = conn?.conn.settings.returnUrls ?? oidc?.conn.settings.returnUrls;
    if (to && returnUrls && isAllowedReturnUrl(to, deps.config.publicUrl, returnUrls))
      return res.redirect(303, to);
    res.status(204).end();
  });

  r.use(
    oauthRoutes(deps, async (req, res, slug, oauth) => {
      // OIDC Core §3.1.2.1 login_hint: the connection the hint's e-mail routes to, when it is one
      // of this client's tenant (several connections); otherwise the tenant's default.
      const hint = queryString(req, "login_hint");
      const routed = hint ? await discoverRoute(deps, hint) : undefined;
      const connectionId = routed?.sso && routed.tenant === slug ? routed.connection : undefined;
      if (connectionId && routed?.type === "oidc") return beginOidcLogin(deps, req, res, slug, { oauth });
      if (connectionId) return beginLogin(req, res, slug, { oauth, connectionId });
      // The hand-off works whichever protocol the tenant signs in with: SAML when its default
      // SAML connection is enabled, else OpenID Connect when that one is (else SAML's refusal).
      const saml = await findTenantConnectionBySlug(deps.db, slug);
      if (saml?.conn?.state !== "enabled" && (await oidcEnabled(deps, slug)))
        return beginOidcLogin(deps, req, res, slug, { oauth });
      await beginLogin(req, res, slug, { oauth });
    }),
  );
  return r;
}
