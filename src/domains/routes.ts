import { Router } from "express";
import type { Deps } from "../deps.js";
import * as domains from "./use-cases.js";

/** Admin API for a tenant's verified domains (under /admin/v1, behind adminAuth). */
export function domainRoutes(deps: Deps): Router {
  const r = Router();
  r.post("/tenants/:slug/domains", async (req, res) => {
    res.status(201).json(await domains.addDomain(deps, req.params.slug, req.body));
  });
  r.get("/tenants/:slug/domains", async (req, res) => {
    res.json({ domains: await domains.listDomains(deps, req.params.slug) });
  });
  r.get("/tenants/:slug/domains/:domain", async (req, res) => {
    res.json(await domains.getDomain(deps, req.params.slug, req.params.domain));
  });
  r.delete("/tenants/:slug/domains/:domain", async (req, res) => {
    await domains.deleteDomain(deps, req.params.slug, req.params.domain);
    res.status(204).end();
  });
  r.post("/tenants/:slug/domains/:domain/verify", async (req, res) => {
    res.json(await domains.verifyDomain(deps, req.params.slug, req.params.domain));
  });
  return r;
}
