import { Router } from "express";
import type { Deps } from "../../deps.js";
import * as oauth from "../../oauth/use-cases.js";
import * as connections from "./connections.js";
import * as named from "./named-connections.js";
import { inviteUser } from "./invitations.js";
import { PRESETS } from "./presets.js";
import { getTrace, getTraces } from "../refusals.js";

/** Admin API for a tenant's SAML connection and its tests (under /admin/v1/tenants/{slug}/saml). */
export function samlAdminRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/saml/presets", (_req, res) => {
    res.json({ presets: Object.values(PRESETS) });
  });
  r.put("/tenants/:slug/saml", async (req, res) => {
    res.json(await connections.putConnection(deps, req.params.slug, req.body));
  });
  r.get("/tenants/:slug/saml", async (req, res) => {
    res.json(await connections.getConnection(deps, req.params.slug));
  });
  r.delete("/tenants/:slug/saml", async (req, res) => {
    await connections.deleteConnection(deps, req.params.slug);
    res.status(204).end();
  });
  r.post("/tenants/:slug/saml/test", async (req, res) => {
    res.status(201).json(await connections.startTest(deps, req.params.slug));
  });
  r.get("/tenants/:slug/saml/test/:id", async (req, res) => {
    res.json(await connections.getTest(deps, req.params.slug, req.params.id));
  });
  r.post("/tenants/:slug/saml/enable", async (req, res) => {
    res.json(await connections.enableConnection(deps, req.params.slug));
  });
  r.post("/tenants/:slug/saml/disable", async (req, res) => {
    res.json(await connections.disableConnection(deps, req.params.slug));
  });
  r.post("/tenants/:slug/saml/sp-keys/rotate", async (req, res) => {
    res.json(await connections.rotateSpKeys(deps, req.params.slug));
  });
  // Several connections per tenant (the list is the registry's, src/sso/routes.ts).
  r.post("/tenants/:slug/connections", async (req, res) => {
    res.status(201).json(await named.createConnection(deps, req.params.slug, req.body));
  });
  r.get("/tenants/:slug/connections/:id", async (req, res) => {
    res.json(await named.getNamedConnection(deps, req.params.slug, req.params.id));
  });
  r.patch("/tenants/:slug/connections/:id", async (req, res) => {
    res.json(await named.patchConnection(deps, req.params.slug, req.params.id, req.body));
  });
  r.delete("/tenants/:slug/connections/:id", async (req, res) => {
    await named.deleteNamedConnection(deps, req.params.slug, req.params.id);
    res.status(204).end();
  });
  r.post("/tenants/:slug/connections/:id/test", async (req, res) => {
    res.status(201).json(await connections.startTest(deps, req.params.slug, req.params.id));
  });
  r.get("/tenants/:slug/connections/:id/test/:testId", async (req, res) => {
    res.json(await connections.getTest(deps, req.params.slug, req.params.testId));
  });
  r.post("/tenants/:slug/connections/:id/enable", async (req, res) => {
    await connections.enableConnection(deps, req.params.slug, req.params.id);
    res.json(await named.getNamedConnection(deps, req.params.slug, req.params.id));
  });
  r.post("/tenants/:slug/connections/:id/disable", async (req, res) => {
    await connections.disableConnection(deps, req.params.slug, req.params.id);
    res.json(await named.getNamedConnection(deps, req.params.slug, req.params.id));
  });
  r.get("/tenants/:slug/sso-traces", async (req, res) => {
    res.json(await getTraces(deps, req.params.slug, req.query));
  });
  r.get("/tenants/:slug/sso-traces/:ref", async (req, res) => {
    res.json(await getTrace(deps, req.params.slug, req.params.ref));
  });
  r.post("/tenants/:slug/oauth-clients", async (req, res) => {
    res.status(201).json(await oauth.createClient(deps, req.params.slug, req.body));
  });
  r.get("/tenants/:slug/oauth-clients", async (req, res) => {
    res.json({ clients: await oauth.listClients(deps, req.params.slug) });
  });
  r.delete("/tenants/:slug/oauth-clients/:id", async (req, res) => {
    await oauth.revokeClient(deps, req.params.slug, req.params.id);
    res.status(204).end();
  });
  r.post("/tenants/:slug/users", async (req, res) => {
    res.status(201).json(await inviteUser(deps, req.params.slug, req.body));
  });
  return r;
}
