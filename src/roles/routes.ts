import { Router } from "express";
import type { Deps } from "../deps.js";
import { previewMappings } from "./preview.js";
import * as store from "./store.js";
import * as roles from "./use-cases.js";

/** Admin API for roles, role mappings and user roles (under /admin/v1/tenants/{slug}). */
export function roleRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/tenants/:slug/roles", async (req, res) => {
    const tenant = await roles.requireTenantWithRoles(deps, req.params.slug);
    res.json({ roles: (await store.listRoles(deps.db, tenant.id)).map(roles.publicRole) });
  });
  r.post("/tenants/:slug/roles", async (req, res) => {
    res.status(201).json(roles.publicRole(await roles.createRole(deps, req.params.slug, req.body)));
  });
  r.post("/tenants/:slug/roles/recompute", async (req, res) => {
    await roles.recomputeTenant(deps, req.params.slug);
    res.status(202).json({ accepted: true });
  });
  r.get("/tenants/:slug/roles/:key", async (req, res) => {
    const tenant = await roles.requireTenantWithRoles(deps, req.params.slug);
    res.json(roles.publicRole(await roles.requireRole(deps, tenant.id, req.params.key)));
  });
  r.patch("/tenants/:slug/roles/:key", async (req, res) => {
    res.json(roles.publicRole(await roles.updateRole(deps, req.params.slug, req.params.key, req.body)));
  });
  r.delete("/tenants/:slug/roles/:key", async (req, res) => {
    await roles.deleteRole(deps, req.params.slug, req.params.key);
    res.status(204).end();
  });

  r.get("/tenants/:slug/role-mappings", async (req, res) => {
    const tenant = await roles.requireTenantWithRoles(deps, req.params.slug);
    const list = await store.listMappings(deps.db, tenant.id);
    res.json({ roleMappings: await roles.publicMappings(deps, tenant.id, list) });
  });
  r.post("/tenants/:slug/role-mappings/preview", async (req, res) => {
    res.json(await previewMappings(deps, req.params.slug, req.body));
  });
  r.post("/tenants/:slug/role-mappings", async (req, res) => {
    const m = await roles.createMapping(deps, req.params.slug, req.body);
    res.status(201).json((await roles.publicMappings(deps, m.tenantId, [m]))[0]);
  });
  r.get("/tenants/:slug/role-mappings/:id", async (req, res) => {
    const tenant = await roles.requireTenantWithRoles(deps, req.params.slug);
    const m = await roles.requireMapping(deps, tenant.id, req.params.id);
    res.json((await roles.publicMappings(deps, tenant.id, [m]))[0]);
  });
  r.delete("/tenants/:slug/role-mappings/:id", async (req, res) => {
    await roles.deleteMapping(deps, req.params.slug, req.params.id);
    res.status(204).end();
  });

  r.get("/tenants/:slug/users/:userId/roles", async (req, res) => {
    res.json({ roles: await roles.explainUserRoles(deps, req.params.slug, req.params.userId) });
  });
  r.put("/tenants/:slug/users/:userId/roles/:roleKey", async (req, res) => {
    await roles.assignManualRole(deps, req.params.slug, req.params.userId, req.params.roleKey);
    res.status(204).end();
  });
  r.delete("/tenants/:slug/users/:userId/roles/:roleKey", async (req, res) => {
    await roles.removeManualRole(deps, req.params.slug, req.params.userId, req.params.roleKey);
    res.status(204).end();
  });
  return r;
}
