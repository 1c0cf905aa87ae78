import { Router } from "express";
import type { Deps } from "../deps.js";
import type { AdminIdentity } from "../tenants/admin-keys.js";
import { createSetupLink, listSetupLinks, revokeSetupLink } from "./links.js";

/** Admin API for setup links (under /admin/v1, behind adminAuth): what an embedding app calls. */
export function setupLinkRoutes(deps: Deps): Router {
  const r = Router();
  r.post("/tenants/:slug/setup-links", async (req, res) => {
    const admin = res.locals.admin as AdminIdentity | undefined;
    const by = admin?.kind === "admin_key" ? `admin_key:${admin.id}` : "admin_token";
    res
      .status(201)
      .set("Cache-Control", "no-store")
      .json(await createSetupLink(deps, req.params.slug, req.body, by));
  });
  r.get("/tenants/:slug/setup-links", async (req, res) => {
    res.json({ setupLinks: await listSetupLinks(deps, req.params.slug) });
  });
  r.delete("/tenants/:slug/setup-links/:id", async (req, res) => {
    await revokeSetupLink(deps, req.params.slug, req.params.id);
    res.status(204).end();
  });
  return r;
}
