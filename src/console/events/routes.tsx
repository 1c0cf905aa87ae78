import type { Response } from "express";
import type { Deps } from "../../deps.js";
import * as hooks from "../../events/webhooks.js";
import type { TenantArea } from "../areas.js";
import { tenantActionRecorder } from "../audit.js";
import { fieldErrorsOf } from "../form-errors.js";
import { areaRouter, ConsoleRefusal, consoleTenant } from "../http.js";
import { eventsPage } from "./feed.js";
import { deliveriesPage, webhooksPage } from "./webhooks.js";

const ID = /^[A-Za-z0-9._~-]{1,64}$/;
const str = (v: unknown) => (typeof v === "string" ? v.trim() : "");

/** Events and webhooks: the event log by type, endpoints (secret shown once), deliveries, dead letters. */
export const eventsArea: TenantArea = {
  path: "events",
  label: "Events & webhooks",
  group: "Activity",
  scope: "events",
  router: (deps: Deps) => {
    const r = areaRouter();
    const base = (res: Response) =>
      `/console/t/${encodeURIComponent(consoleTenant(res).slug)}/events/webhooks`;
    const audit = tenantActionRecorder(deps);
    const idOf = (v: unknown) => {
      const id = String(v);
      if (!ID.test(id)) throw new ConsoleRefusal(404, "There is no such endpoint.");
      return id;
    };

    r.get("/", (req, res) => eventsPage(deps, res, req.query as Record<string, unknown>));
    r.get("/webhooks", (req, res) => webhooksPage(deps, res, { done: req.query.done }));
    r.post("/webhooks", async (req, res) => {
      const values = { url: str(req.body.url), events: str(req.body.events) };
      try {
        const created = await hooks.createWebhook(deps, consoleTenant(res).slug, {
          url: values.url,
          events: values.events
            .split(/[\s,]+/)
            .map((e) => e.trim())
            .filter(Boolean),
        });
        await audit(req, res, "webhook.create", created.id);
        // The secret is in this answer only (it is never shown again).
        await webhooksPage(deps, res, { created: { url: created.url, secret: created.secret } });
      } catch (err) {
        const errors = fieldErrorsOf(err);
        if (!errors) throw err;
        await webhooksPage(deps, res, { errors, values });
      }
    });
    r.post("/webhooks/:id/delete", async (req, res) => {
      const id = idOf(req.params.id);
      await hooks.deleteWebhook(deps, consoleTenant(res).slug, id);
      await audit(req, res, "webhook.delete", id);
      res.redirect(303, `${base(res)}?done=deleted`);
    });
    r.get("/webhooks/:id", (req, res) =>
      deliveriesPage(deps, res, idOf(req.params.id), req.query as Record<string, unknown>),
    );
    r.post("/webhooks/:id/deliveries/:deliveryId/redeliver", async (req, res) => {
      const id = idOf(req.params.id);
      const deliveryId = String(req.params.deliveryId);
      if (!/^\d{1,10}$/.test(deliveryId)) throw new ConsoleRefusal(404, "There is no such delivery.");
      await hooks.redeliver(deps, consoleTenant(res).slug, id, deliveryId);
      await audit(req, res, "webhook.redeliver", `${id}/${deliveryId}`);
      res.redirect(303, `${base(res)}/${encodeURIComponent(id)}?done=redelivered`);
    });
    return r;
  },
};
