import { type Request, type RequestHandler, type Response, Router } from "express";
import type { Deps } from "../deps.js";
import { clientTenantSlugs } from "../oauth/client-tenant.js";
import { formBody } from "../sso/http-util.js";
import { sendPage } from "../sso/pages.js";
import { addressKey } from "./client-address.js";
import { AppError } from "./errors.js";
import type { Limiter } from "./rate-limiters.js";

/** How a 429 is written: in the dialect of the path it answers. */
export type LimitDialect = "api" | "oauth" | "html";

/**
 * Answer 429 with Retry-After (RFC 9110 §10.2.3, RFC 6585 §4). A person gets a page; an OAuth
 * client RFC 6749 §5.2's `{error, error_description}` (what its library reads, as the OAuth
 * routes answer every error); anything else goes to the one error handler as RATE_LIMITED, which
 * renders it as a SCIM error under /scim and as an admin API error elsewhere.
 */
export function sendRateLimited(
  res: Response,
  dialect: LimitDialect,
  retryAfterSeconds: number,
  message: string,
): void {
  res.set({ "Retry-After": String(retryAfterSeconds), "Cache-Control": "no-store" });
  if (dialect === "html") {
    sendPage(res, {
      status: 429,
      title: "Too many sign-in attempts",
      reason: `${message} Please wait ${retryAfterSeconds} seconds and try again.`,
      reference: "RATE_LIMITED",
    });
    return;
  }
  if (dialect === "oauth") {
    res.status(429).json({ error: "rate_limited", error_description: message });
    return;
  }
  throw new AppError(429, "RATE_LIMITED", message);
}

/** What limitRequests needs: the limits, where the tenant comes from, how to answer. */
export interface LimitRequestsOptions {
  perAddress: Limiter;
  perTenant?: Limiter;
  /** The tenant a request is for (a slug), when it can be known before the route runs. */
  tenantOf?: (req: Request) => string | undefined | Promise<string | undefined>;
  dialect: (req: Request) => LimitDialect;
}

/**
 * Middleware factory: count every request against its client address and, when the tenant is
 * known, against the tenant (so many addresses together cannot flood one tenant either);
 * 429 with Retry-After past either limit. Mount it by path in front of the routes it guards.
 */
export function limitRequests(opts: LimitRequestsOptions): RequestHandler {
  return async (req, res, next) => {
    const byAddress = await opts.perAddress.consume(addressKey(req));
    if (byAddress.limited)
      return sendRateLimited(
        res,
        opts.dialect(req),
        byAddress.retryAfterSeconds,
        "Too many requests from this address.",
      );
    const tenant = opts.perTenant && opts.tenantOf ? await opts.tenantOf(req) : undefined;
    if (tenant) {
      const byTenant = await opts.perTenant!.consume(tenant);
      if (byTenant.limited)
        return sendRateLimited(
          res,
          opts.dialect(req),
          byTenant.retryAfterSeconds,
          "Too many sign-in requests for this organisation right now.",
        );
    }
    next();
  };
}

/** The client id of an OAuth request: HTTP Basic (RFC 6749 §2.3.1) first, like authenticateClient. */
function oauthClientId(req: Request): string | undefined {
  const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (basic) {
    const decoded = Buffer.from(basic[1], "base64").toString("utf8");
    const id = decoded.slice(0, Math.max(0, decoded.indexOf(":")));
    try {
      return decodeURIComponent(id);
    } catch {
      return undefined;
    }
  }
  const v = req.body?.client_id ?? req.query.client_id;
  return typeof v === "string" ? v : undefined;
}

// Browser pages (a person reads the 429) vs. calls from applications.
// /sso/{slug}/login|acs (default SAML connection), /sso/{slug}/{connectionId}/login|acs, OIDC's login and callback.
const BROWSER_SSO_PAGE = /^\/sso\/[^/]+\/(?:[^/]+\/)?(login|acs|oidc\/login|oidc\/callback)\/?$/;

/**
 * The limits on the unauthenticated sign-in endpoints, mounted by path in front of them:
 * /sso/{slug}/* and /oauth/authorize (per address, and per tenant: the slug, or the OAuth
 * client's tenant), /oauth/token and /oauth/introspect (the same, their own budget),
 * /oauth/userinfo and /oauth/jwks (per address, the same budget). Failed
 * SCIM and admin authentication is limited where it is checked (http/auth.ts).
 */
export function signInRateLimits(deps: Deps): Router {
  const r = Router();
  const limits = deps.rateLimits;
  if (!limits.enabled) return r;
  const tenantOfClient = clientTenantSlugs(deps.db);
  const clientTenant = (req: Request) => {
    const id = oauthClientId(req);
    return id ? tenantOfClient(id) : undefined;
  };
  r.use(
    "/sso/:slug",
    limitRequests({
      perAddress: limits.ssoPerAddress,
      perTenant: limits.ssoPerTenant,
      tenantOf: (req) => String(req.params.slug).slice(0, 100),
      dialect: (req) => (BROWSER_SSO_PAGE.test(req.originalUrl.split("?")[0]) ? "html" : "api"),
    }),
  );
  r.get(
    "/oauth/authorize",
    limitRequests({
      perAddress: limits.ssoPerAddress,
      perTenant: limits.ssoPerTenant,
      tenantOf: clientTenant,
      dialect: () => "html",
    }),
  );
  r.post(
    ["/oauth/token", "/oauth/introspect"],
    // The client id may be in the form (client_secret_post): read it here; the route keeps it.
    formBody(64 * 1024),
    limitRequests({
      perAddress: limits.oauthPerAddress,
      perTenant: limits.oauthPerTenant,
      tenantOf: clientTenant,
      dialect: () => "oauth",
    }),
  );
  // The other /oauth endpoints that read the database for anyone: userinfo (a bearer token
  // looked up per request; the tenant is known only once it is found) and the JWKS.
  r.get(
    ["/oauth/userinfo", "/oauth/jwks"],
    limitRequests({ perAddress: limits.oauthPerAddress, dialect: () => "oauth" }),
  );
  return r;
}
