import { Router } from "express";
import type { Deps } from "../deps.js";
import { limitRequests } from "../http/rate-limit.js";
import { sendPage } from "./pages.js";
import { discover } from "./discover.js";
import * as policy from "./policy.js";
import { listConnections } from "./connections.js";

/**
 * Public routing by e-mail (no tenant in the path): GET /sso/discover and GET /sso/login. Mounted
 * before the per-slug limits of /sso/{slug}/* (they would count "discover" as a tenant), with a
 * per-address limit of their own: anyone can call them, and each answer costs a query.
 */
export function ssoRoutingRoutes(deps: Deps): Router {
  const r = Router();
  const limit = limitRequests({ perAddress: deps.rateLimits.discoverPerAddress, dialect: () => "api" });
  r.get("/sso/discover", limit, async (req, res) => {
    res.set("Cache-Control", "no-store");
    res.json(await discover(deps, req.query.email));
  });
  r.get("/sso/login", limit, async (req, res) => {
    const hint = req.query.login_hint;
    const found = await discover(deps, hint);
    if (!found.sso) {
      sendPage(res, {
        status: 404,
        title: "Single sign-on is not set up for this address",
        reason: "Sign in with your password, or ask your administrator.",
        reference: "SSO_NOT_FOUND",
      });
      return;
    }
    const target = new URL(found.loginUrl);
    const returnTo = req.query.return_to;
    if (typeof returnTo === "string") target.searchParams.set("return_to", returnTo);
    // SAML 2.0 has no standard login hint (a <Subject> in the AuthnRequest is optional for IdPs
    // and several refuse it), so the hint only chooses the connection; OIDC connections pass it
    // as `login_hint` (OIDC Core §3.1.2.1).
    res.set("Cache-Control", "no-store");
    res.redirect(302, target.toString());
  });
  return r;
}

/** Admin API for the connections registry (read) and the tenant's "Require SSO" policy and break-glass (under /admin/v1). */
export function ssoPolicyRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/tenants/:slug/connections", async (req, res) => {
    res.json({ connections: await listConnections(deps, req.params.slug) });
  });
  r.get("/tenants/:slug/sso-policy", async (req, res) => {
    res.json(await policy.getPolicy(deps, req.params.slug));
  });
  r.put("/tenants/:slug/sso-policy", async (req, res) => {
    res.json(await policy.putPolicy(deps, req.params.slug, req.body));
  });
  r.post("/tenants/:slug/sso-policy/break-glass/arm", async (req, res) => {
    res.status(201).json(await policy.armBreakGlass(deps, req.params.slug, req.body));
  });
  r.post("/tenants/:slug/sso-policy/break-glass/disarm", async (req, res) => {
    res.json(await policy.disarmBreakGlass(deps, req.params.slug, req.body));
  });
  return r;
}
