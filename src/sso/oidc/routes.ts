import { type Request, type Response, Router } from "express";
import { SESSION_COOKIE } from "../../access/sessions.js";
import type { Deps } from "../../deps.js";
import { truncate } from "../bounded.js";
import { browserNonce, REQUEST_COOKIE, setBrowserCookie } from "../browser.js";
import { SsoFailure } from "../failure.js";
import { queryString, readCookie, setCookie } from "../http-util.js";
import { sendPage } from "../pages.js";
import type { OAuthParams } from "../request-store.js";
import { handleOidcCallback } from "./callback.js";
import { startOidcLogin } from "./login.js";

function failurePage(res: Response, slug: string, f: SsoFailure, trace?: string): void {
  if (f.status === 503) res.set("Retry-After", "60");
  sendPage(res, {
    status: f.status,
    title: f.status === 503 ? "Sign-in busy" : "Sign-in refused",
    reason: f.message,
    link:
      f.status === 404
        ? undefined
        : { href: `/sso/${encodeURIComponent(slug)}/oidc/login`, text: "Try again" },
    reference: trace ? `${f.code} · trace ${trace}` : f.code,
  });
}

/** Start an OpenID Connect login bound to this browser (its cookie), then send it to the provider. */
export async function beginOidcLogin(
  deps: Deps,
  req: Request,
  res: Response,
  slug: string,
  extra: { returnTo?: string; testId?: string; oauth?: OAuthParams },
): Promise<void> {
  const nonce = browserNonce(req);
  const location = await startOidcLogin(deps, slug, { ...extra, browserNonce: nonce });
  setBrowserCookie(res, nonce, deps.config.publicUrl.startsWith("https:"));
  res.set("Cache-Control", "no-store").redirect(302, location);
}

/** Public OpenID Connect endpoints: /sso/{slug}/oidc/login and /sso/{slug}/oidc/callback. */
export function oidcRoutes(deps: Deps): Router {
  const r = Router();
  const secure = deps.config.publicUrl.startsWith("https:");

  r.get("/sso/:slug/oidc/login", async (req, res) => {
    try {
      await beginOidcLogin(deps, req, res, String(req.params.slug), {
        returnTo: queryString(req, "return_to"),
        testId: queryString(req, "test"),
      });
    } catch (err) {
      if (!(err instanceof SsoFailure)) throw err;
      failurePage(res, String(req.params.slug), err);
    }
  });

  r.get("/sso/:slug/oidc/callback", async (req, res) => {
    const slug = String(req.params.slug);
    const query: Record<string, string> = {};
    // The parameters an authorization response carries (RFC 6749 §4.1.2, RFC 9207), each ≤ 4 KB.
    for (const k of ["code", "state", "iss", "error", "error_description", "session_state"]) {
      const v = queryString(req, k);
      if (v !== undefined) query[k] = v.slice(0, 4096);
    }
    const outcome = await handleOidcCallback(deps, slug, query, readCookie(req, REQUEST_COOKIE));
    res.set("Cache-Control", "no-store");
    if (outcome.kind === "redirect") {
      const ttl = Math.max(
        1,
        Math.floor((new Date(outcome.session.session.expiresAt).getTime() - deps.now().getTime()) / 1000),
      );
      setCookie(res, SESSION_COOKIE, outcome.session.token, { maxAgeSeconds: ttl, secure, sameSite: "Lax" });
      return res.status(302).set("Location", outcome.location).end();
    }
    if (outcome.kind === "test")
      return sendPage(res, {
        status: outcome.ok ? 200 : 400,
        title: outcome.ok ? "OpenID Connect test succeeded" : "OpenID Connect test failed",
        reason: `${outcome.message} The full report is in the admin console (GET …/oidc/test/{id}). No one was signed in.`,
      });
    req.log.info(
      { reason: outcome.failure.code, tenant: truncate(slug, 64), trace: outcome.trace },
      "SSO login refused",
    );
    failurePage(res, slug, outcome.failure, outcome.trace);
  });
  return r;
}
