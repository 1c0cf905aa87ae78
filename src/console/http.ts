import { randomBytes, timingSafeEqual } from "node:crypto";
import { type NextFunction, type Request, type RequestHandler, type Response, Router } from "express";
import type { VNode } from "preact";
import { render } from "preact-render-to-string";
import type { Deps } from "../deps.js";
import { readCookie, setCookie } from "../sso/http-util.js";
import type { Tenant } from "../tenants/store.js";
import { findTenantBySlug } from "../tenants/store.js";
import { type Actor, authenticateConsole, CONSOLE_COOKIE, type ConsoleSession } from "./sessions.js";
import type { Scope } from "./store.js";

/** What a console page knows about its request: the session, the actor, the tenant (tenant pages). */
export interface ConsoleContext {
  session: ConsoleSession;
  actor: Actor;
  operator: boolean;
  tenant?: Tenant;
}

/** The console context of a request that passed requireConsoleSession (and, for tenant pages, withTenant). */
export function consoleContext(res: Response): ConsoleContext {
  const ctx = res.locals.console as ConsoleContext | undefined;
  if (!ctx) throw new Error("console route mounted without requireConsoleSession");
  return ctx;
}

/** The tenant of a tenant page (withTenant ran). */
export function consoleTenant(res: Response): Tenant {
  const t = consoleContext(res).tenant;
  if (!t) throw new Error("tenant route mounted without withTenant");
  return t;
}

/**
 * Send a page: `<!doctype html>` + the server-rendered tree. preact-render-to-string escapes
 * every text and attribute value, so a value is safe by construction; `dangerouslySetInnerHTML`
 * is never used in src/console (a test greps for it).
 */
export function sendHtml(res: Response, page: VNode, status = 200): void {
  res
    .status(status)
    .type("html")
    .send(`<!doctype html>${render(page)}`);
}

/**
 * Security headers for every console response: a strict CSP (no inline script or style, nothing
 * from another origin, forms post only here, framing only by ROSTER_CONSOLE_FRAME_ANCESTORS),
 * no caching of pages that show secrets, no referrer (link secrets ride in the query string).
 */
export function consoleHeaders(frameAncestors: string): RequestHandler {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join("; ");
  return (_req, res, next) => {
    res.set({
      "Content-Security-Policy": csp,
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "Cache-Control": "no-store",
      "Cross-Origin-Opener-Policy": "same-origin",
      ...(frameAncestors === "'none'" ? { "X-Frame-Options": "DENY" } : {}),
    });
    next();
  };
}

/** Set the console session cookie: HttpOnly, SameSite=Strict, Path=/console, Secure on https. */
export function setSessionCookie(deps: Deps, res: Response, token: string, maxAgeSeconds: number): void {
  setCookie(res, CONSOLE_COOKIE, token, {
    maxAgeSeconds,
    path: "/console",
    secure: deps.config.publicUrl.startsWith("https:"),
    sameSite: "Strict",
  });
}

/**
 * The session of a console request, or: a GET goes to the sign-in page, anything else gets 401.
 * Puts the ConsoleContext on res.locals.console.
 */
export function requireConsoleSession(deps: Deps): RequestHandler {
  return async (req, res, next) => {
    const session = await authenticateConsole(
      deps.db,
      readCookie(req, CONSOLE_COOKIE),
      deps.now(),
      deps.adminTokenHash,
    );
    if (!session) {
      if (req.method === "GET" || req.method === "HEAD") return res.redirect(303, "/console/sign-in");
      return next(new ConsoleRefusal(401, "Your console session has ended. Sign in again."));
    }
    const ctx: ConsoleContext = {
      session,
      actor: { kind: session.kind, id: session.actorId },
      operator: session.kind === "operator",
    };
    res.locals.console = ctx;
    next();
  };
}

/** A console refusal rendered as a page (not the API's JSON): status and the words the admin reads. */
export class ConsoleRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * CSRF: every state-changing console request carries the session's token, in the form (`_csrf`)
 * or the `X-CSRF-Token` header (console.js). SameSite=Strict already keeps the cookie off
 * cross-site requests; this is the second, independent guard (OWASP: defence in depth).
 */
export const requireCsrf: RequestHandler = (req, res, next) => {
  if (req.method === "GET" || req.method === "HEAD") return next();
  const { session } = consoleContext(res);
  const sent = (req.body as Record<string, unknown> | undefined)?._csrf ?? req.get("x-csrf-token");
  if (typeof sent !== "string" || !sameString(sent, session.csrf))
    return next(
      new ConsoleRefusal(
        403,
        "This form expired or did not come from the console. Reload the page and try again.",
      ),
    );
  next();
};

/** The pre-session cookie that ties a sign-in form to this browser (login CSRF). */
export const PRE_COOKIE = "roster_console_pre";

/** A pre-session form token: reuse this browser's or set a new one (HttpOnly, Strict, 10 minutes). */
export function preSessionToken(deps: Deps, req: Request, res: Response): string {
  const existing = readCookie(req, PRE_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomBytes(32).toString("base64url");
  setCookie(res, PRE_COOKIE, token, {
    maxAgeSeconds: 600,
    path: "/console",
    secure: deps.config.publicUrl.startsWith("https:"),
    sameSite: "Strict",
  });
  return token;
}

/** Whether a pre-session form carries this browser's token. */
export function preSessionValid(req: Request): boolean {
  const cookie = readCookie(req, PRE_COOKIE);
  const sent = (req.body as Record<string, unknown> | undefined)?._csrf;
  return Boolean(cookie && typeof sent === "string" && sameString(cookie, sent));
}

/**
 * Tenant pages (/console/t/:slug/...): the tenant must exist and, for a tenant-scoped session,
 * be the session's own; any other slug is "not found" whatever the URL or form says (no hint
 * that another tenant exists).
 */
export function withTenant(deps: Deps): RequestHandler {
  return async (req, res, next) => {
    const ctx = consoleContext(res);
    const slug = String(req.params.slug ?? "");
    const tenant = /^[a-z0-9][a-z0-9-]{0,62}$/.test(slug) ? await findTenantBySlug(deps.db, slug) : undefined;
    if (!tenant || (!ctx.operator && ctx.session.tenantId !== tenant.id))
      return next(new ConsoleRefusal(404, "There is no such page."));
    ctx.tenant = tenant;
    next();
  };
}

/** A tenant area needs its scope (operators have every scope). */
export function requireScope(scope: Scope): RequestHandler {
  return (_req, res, next: NextFunction) => {
    const ctx = consoleContext(res);
    if (ctx.operator || ctx.session.scopes.includes(scope)) return next();
    next(new ConsoleRefusal(403, "This sign-in does not give access to this page."));
  };
}

/** Operator pages: operator sessions only; a tenant session is told there is no such page. */
export const requireOperator: RequestHandler = (_req, res, next) => {
  if (consoleContext(res).operator) return next();
  next(new ConsoleRefusal(404, "There is no such page."));
};

/** A new router for a console area (the mount path's :slug is visible inside). */
export const areaRouter = () => Router({ mergeParams: true });
