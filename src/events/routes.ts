import { Router } from "express";
import type { Deps } from "../deps.js";
import { readFeed } from "./feed.js";
import { readRecentEvents } from "./recent.js";
import { listWebhooks } from "./webhooks-store.js";
import * as hooks from "./webhooks.js";
import { requireTenant } from "../tenants/use-cases.js";

/** Admin API for the event feed and webhooks (under /admin/v1/tenants/{slug}). */
export function eventRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/tenants/:slug/events", async (req, res) => {
    res.json(await readFeed(deps, req.params.slug, req.query));
  });
  r.get("/tenants/:slug/events/recent", async (req, res) => {
    res.json(await readRecentEvents(deps, req.params.slug, req.query));
  });
  r.post("/tenants/:slug/webhooks", async (req, res) => {
    res.status(201).json(await hooks.createWebhook(deps, req.params.slug, req.body));
  });
  r.get("/tenants/:slug/webhooks", async (req, res) => {
    const tenant = await requireTenant(deps, req.params.slug);
    res.json({ webhooks: (await listWebhooks(deps.db, tenant.id)).map(hooks.publicWebhook) });
  });
  r.get("/tenants/:slug/webhooks/:id", async (req, res) => {
    res.json(hooks.publicWebhook(await hooks.requireWebhook(deps, req.params.slug, req.params.id)));
  });
  r.patch("/tenants/:slug/webhooks/:id", async (req, res) => {
    res.json(await hooks.updateWebhook(deps, req.params.slug, req.params.id, req.body));
  });
  r.delete("/tenants/:slug/webhooks/:id", async (req, res) => {
    await hooks.deleteWebhook(deps, req.params.slug, req.params.id);
    res.status(204).end();
  });
  r.post("/tenants/:slug/webhooks/:id/rotate-secret", async (req, res) => {
    res.json(await hooks.rotateWebhookSecret(deps, req.params.slug, req.params.id, req.body));
  });
  r.get("/tenants/:slug/webhooks/:id/deliveries", async (req, res) => {
    res.json(await hooks.listDeliveries(deps, req.params.slug, req.params.id, req.query));
  });
  r.post("/tenants/:slug/webhooks/:id/deliveries/:deliveryId/redeliver", async (req, res) => {
    res.status(202).json(await hooks.redeliver(deps, req.params.slug, req.params.id, req.params.deliveryId));
  });
  return r;
}
