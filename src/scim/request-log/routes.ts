import { Router } from "express";
import type { Deps } from "../../deps.js";
import { getRequest, listRequests } from "./admin.js";

/** Admin API of the SCIM request log (under /admin/v1, behind adminAuth). */
export function scimLogRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/tenants/:slug/scim-requests", async (req, res) => {
    res.json(await listRequests(deps, req.params.slug, req.query));
  });
  r.get("/tenants/:slug/scim-requests/:id", async (req, res) => {
    res.json(await getRequest(deps, req.params.slug, req.params.id));
  });
  return r;
}
