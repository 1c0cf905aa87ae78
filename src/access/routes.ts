import { type Request, type Response, Router } from "express";
import type { Deps } from "../deps.js";
import type { AdminIdentity } from "../tenants/admin-keys.js";
import * as access from "./use-cases.js";

/** The admin request behind an action: kept on receipts and events (never the credential itself). */
const originOf = (req: Request, res: Response): access.AdminOrigin => ({
  requestId: req.id,
  actor: res.locals.admin as AdminIdentity,
  arrivedAt: req.arrivedAt.toISOString(),
});

/** Admin API for sessions, offboarding and revocation receipts (under /admin/v1/tenants/{slug}). */
export function accessRoutes(deps: Deps): Router {
  const r = Router();
  r.post("/tenants/:slug/users/:ref/offboard", async (req, res) => {
    res.json(
      await access.offboardUser(
        deps,
        req.params.slug,
        req.params.ref,
        req.query,
        req.body,
        originOf(req, res),
      ),
    );
  });
  r.get("/tenants/:slug/users/:id/revocations", async (req, res) => {
    res.json(await access.listUserRevocations(deps, req.params.slug, req.params.id, req.query));
  });
  r.get("/tenants/:slug/sessions", async (req, res) => {
    res.json(await access.listTenantSessions(deps, req.params.slug, req.query));
  });
  r.delete("/tenants/:slug/sessions", async (req, res) => {
    const userId = typeof req.query.userId === "string" ? req.query.userId : undefined;
    res.json(await access.revokeSessionsByAdmin(deps, req.params.slug, { userId }, originOf(req, res)));
  });
  r.delete("/tenants/:slug/sessions/:id", async (req, res) => {
    res.json(
      await access.revokeSessionsByAdmin(
        deps,
        req.params.slug,
        { sessionId: req.params.id },
        originOf(req, res),
      ),
    );
  });
  return r;
}
