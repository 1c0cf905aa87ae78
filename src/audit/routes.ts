import { type Response, Router } from "express";
import type { Deps } from "../deps.js";
import {
  type AuditQuery,
  auditExport,
  auditPage,
  operatorAuditQuery,
  tenantAuditQuery,
  verifyAuditLog,
} from "./admin.js";

async function answer(deps: Deps, res: Response, q: AuditQuery): Promise<void> {
  if (q.format === "json") {
    res.json(await auditPage(deps, q));
    return;
  }
  // JSON lines (one entry per line, newest first): every matching entry, streamed page by page.
  res.status(200).type("application/x-ndjson");
  for await (const e of auditExport(deps, q)) res.write(`${JSON.stringify(e)}\n`);
  res.end();
}

/** Admin API of the audit log (under /admin/v1, behind adminAuth; reads, so not audited). */
export function auditRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/audit-log/verify", async (_req, res) => {
    res.json(await verifyAuditLog(deps));
  });
  r.get("/audit-log", async (req, res) => {
    await answer(deps, res, await operatorAuditQuery(deps, req.query));
  });
  r.get("/tenants/:slug/audit-log", async (req, res) => {
    await answer(deps, res, await tenantAuditQuery(deps, req.params.slug, req.query));
  });
  return r;
}
