import { Router } from "express";
import type { Deps } from "../deps.js";
import { getMember, listMembersPage } from "./members.js";

/** Admin API for reading a tenant's members (under /admin/v1/tenants/{slug}/users). */
export function memberRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/tenants/:slug/users", async (req, res) => {
    res.json(await listMembersPage(deps, req.params.slug, req.query));
  });
  r.get("/tenants/:slug/users/:id", async (req, res) => {
    res.json(await getMember(deps, req.params.slug, req.params.id));
  });
  return r;
}
