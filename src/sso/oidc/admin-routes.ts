import { Router } from "express";
import type { Deps } from "../../deps.js";
import * as connections from "./connections.js";
import { OIDC_PRESETS } from "./presets.js";

/** Admin API for a tenant's OpenID Connect connection (under /admin/v1), mirroring …/saml. */
export function oidcAdminRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/oidc/presets", (_req, res) => {
    res.json({ presets: Object.values(OIDC_PRESETS) });
  });
  r.put("/tenants/:slug/oidc", async (req, res) => {
    res.json(await connections.putOidcConnection(deps, req.params.slug, req.body));
  });
  r.get("/tenants/:slug/oidc", async (req, res) => {
    res.json(await connections.getOidcConnection(deps, req.params.slug));
  });
  r.delete("/tenants/:slug/oidc", async (req, res) => {
    await connections.deleteOidcConnection(deps, req.params.slug);
    res.status(204).end();
  });
  r.post("/tenants/:slug/oidc/test", async (req, res) => {
    res.status(201).json(await connections.startOidcTest(deps, req.params.slug));
  });
  r.get("/tenants/:slug/oidc/test/:id", async (req, res) => {
    res.json(await connections.getOidcTest(deps, req.params.slug, req.params.id));
  });
  r.post("/tenants/:slug/oidc/enable", async (req, res) => {
    res.json(await connections.enableOidcConnection(deps, req.params.slug));
  });
  r.post("/tenants/:slug/oidc/disable", async (req, res) => {
    res.json(await connections.disableOidcConnection(deps, req.params.slug));
  });
  return r;
}
