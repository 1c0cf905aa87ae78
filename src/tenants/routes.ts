import { Router } from "express";
import type { Deps } from "../deps.js";
import * as tenants from "./use-cases.js";

/** Admin API for tenants and their SCIM tokens (mounted under /admin/v1, behind adminAuth). */
export function tenantRoutes(deps: Deps): Router {
  const r = Router();
  r.post("/tenants", async (req, res) => {
    res.status(201).json(await tenants.createTenant(deps, req.body));
  });
  r.get("/tenants", async (_req, res) => {
    res.json({ tenants: await tenants.listTenants(deps) });
  });
  r.get("/tenants/:slug", async (req, res) => {
    res.json(await tenants.requireTenant(deps, req.params.slug));
  });
  r.patch("/tenants/:slug", async (req, res) => {
    res.json(await tenants.updateTenant(deps, req.params.slug, req.body));
  });
  r.delete("/tenants/:slug", async (req, res) => {
    await tenants.deleteTenant(deps, req.params.slug);
    res.status(204).end();
  });
  r.post("/tenants/:slug/scim-tokens", async (req, res) => {
    res.status(201).json(await tenants.createScimToken(deps, req.params.slug, req.body));
  });
  r.get("/tenants/:slug/scim-tokens", async (req, res) => {
    const list = await tenants.listScimTokens(deps, req.params.slug);
    res.json({ scimTokens: list.map(({ tenantId: _t, ...t }) => t) });
  });
  r.delete("/tenants/:slug/scim-tokens/:id", async (req, res) => {
    await tenants.revokeScimToken(deps, req.params.slug, req.params.id);
    res.status(204).end();
  });
  return r;
}
