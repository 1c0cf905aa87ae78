import path from "node:path";
import { fileURLToPath } from "node:url";
import express, { type ErrorRequestHandler, type Request, Router } from "express";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { limitRequests } from "../http/rate-limit.js";
import type { Limiter } from "../http/rate-limiters.js";
import { formBody, readCookie, setCookie } from "../sso/http-util.js";
import { oidcEnabled } from "../sso/oidc/login.js";
import { findTenantConnectionBySlug } from "../sso/saml/connection-store.js";
import { TENANT_AREAS } from "./areas.js";
import { Flash } from "./components/flash.js";
import {
  ConsoleRefusal,
  consoleContext,
  consoleHeaders,
  requireConsoleSession,
  requireCsrf,
  requireOperator,
  requireScope,
  withTenant,
} from "./http.js";
import { operatorRouter } from "./operator/routes.js";
import { endConsoleSession, CONSOLE_COOKIE } from "./sessions.js";
import {
  bareHtml,
  exchange,
  handOver,
  landingOf,
  linkPage,
  signInPage,
  signInWithKey,
  ssoCallback,
} from "./sign-in.js";
import { findLinkById } from "./store.js";

const STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "static");

// One console sign-in limiter per rate-limits object (createApp may run more than once per deps).
const limiters = new WeakMap<object, Limiter>();

function signInLimiter(deps: Deps): Limiter {
  let l = limiters.get(deps.rateLimits);
  if (!l) {
    l = deps.rateLimits.create("console-sign-in", deps.config.rateLimit.consoleSignInPerAddress);
    limiters.set(deps.rateLimits, l);
  }
  return l;
}

/**
 * The console, mounted at /console by createApp: static assets, sign-in (admin key form, single
 * use links, SSO), then everything else behind a console session and its CSRF token: tenant
 * areas at /t/:slug/<area> (TENANT_AREAS) and operator pages at /operator.
 */
export function consoleRoutes(deps: Deps): Router {
  const r = Router();
  r.use(consoleHeaders(deps.config.consoleFrameAncestors));
  r.use(
    "/static",
    express.static(STATIC_DIR, { index: false, fallthrough: false, maxAge: "1h", dotfiles: "deny" }),
  );
  r.use(formBody(deps.config.bodyLimitBytes, { refuseBadStrings: true }));
  const limited = limitRequests({ perAddress: signInLimiter(deps), dialect: () => "html" });
  const secure = deps.config.publicUrl.startsWith("https:");

  r.get("/sign-in", (req, res) => signInPage(deps, req, res));
  r.post("/sign-in", limited, (req, res) => signInWithKey(deps, req, res));
  r.get("/link", (req, res) => linkPage(deps, req, res, "link"));
  r.post("/link", limited, (req, res) => exchange(deps, req, res, "link"));
  r.get("/setup", (req, res) => linkPage(deps, req, res, "setup"));
  r.post("/setup", limited, (req, res) => exchange(deps, req, res, "setup"));
  r.get("/sso/start", async (req, res) => {
    const slug = typeof req.query.tenant === "string" ? req.query.tenant.trim().toLowerCase() : "";
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(slug))
      return signInPage(deps, req, res, "Enter your workspace's short name.", 400);
    // CSP form-action 'self' also covers where a form's redirects lead (Chromium enforces it), and
    // the IdP is another origin: hand over with a navigation of our own instead of a redirect.
    // The same choice as the OAuth hand-off (src/sso/saml/routes.ts): the enabled SAML connection,
    // else the enabled OpenID Connect one (else SAML's login, which explains the refusal).
    const saml = await findTenantConnectionBySlug(deps.db, slug);
    const path =
      saml?.conn?.state !== "enabled" && (await oidcEnabled(deps, slug))
        ? `/sso/${slug}/oidc/login`
        : `/sso/${slug}/login`;
    handOver(
      res,
      `${path}?return_to=${encodeURIComponent("/console/sso/callback")}`,
      "Continue to your identity provider",
    );
  });
  r.get("/sso/callback", limited, (req, res) => ssoCallback(deps, req, res));

  r.use(requireConsoleSession(deps), requireCsrf);
  r.post("/sign-out", async (req, res) => {
    await endConsoleSession(deps.db, readCookie(req, CONSOLE_COOKIE), deps.now().toISOString());
    setCookie(res, CONSOLE_COOKIE, "", { maxAgeSeconds: 0, path: "/console", secure, sameSite: "Strict" });
    res.redirect(303, "/console/sign-in");
  });
  r.get(["/", ""], async (_req, res) => {
    const { session } = consoleContext(res);
    const tenant = session.tenantId
      ? await deps.db("tenants").where({ id: session.tenantId }).first()
      : undefined;
    res.redirect(303, landingOf(tenant?.slug ?? null, session.scopes));
  });
  r.use("/operator", requireOperator, operatorRouter(deps));
  const tenantPages = Router({ mergeParams: true });
  tenantPages.use(async (_req, res, next) => {
    const { session } = consoleContext(res);
    if (session.linkId && session.kind === "setup_link")
      res.locals.returnUrl = (await findLinkById(deps.db, session.linkId))?.returnUrl ?? undefined;
    next();
  });
  for (const area of TENANT_AREAS)
    tenantPages.use(`/${area.path}`, requireScope(area.scope), area.router(deps));
  r.use("/t/:slug", withTenant(deps), tenantPages);
  r.use((req: Request, _res, next) => next(new ConsoleRefusal(404, `There is no page at ${req.path}.`)));
  r.use(consoleErrors(deps));
  return r;
}

/** Console errors as pages in the admin's words; unknown errors are logged and answered 500. */
function consoleErrors(deps: Deps): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let status = 500;
    let message = "Something went wrong on our side. The error is logged; please try again.";
    if (err instanceof ConsoleRefusal || err instanceof AppError) {
      status = err.status;
      message = err.message;
    } else if (typeof err?.status === "number" && err.status >= 400 && err.status < 500) {
      // express.static (a missing asset) and body parsers report their own 4xx.
      status = err.status;
      message = status === 404 ? "There is no such file." : "The request was not understood.";
    } else {
      (req.log ?? deps.logger).error({ err }, "console error");
    }
    if (res.headersSent) return;
    const title =
      status === 404 ? "Not found" : status === 401 ? "Signed out" : status >= 500 ? "Error" : "Not allowed";
    bareHtml(
      res,
      title,
      <>
        <Flash tone="bad">{message}</Flash>
        <p>
          <a href={status === 401 ? "/console/sign-in" : "/console/"}>
            {status === 401 ? "Sign in" : "Back to the console"}
          </a>
        </p>
      </>,
      status,
    );
  };
}
