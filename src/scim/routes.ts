import { type ErrorRequestHandler, type Request, type Response, Router } from "express";
import type { Deps } from "../deps.js";
import { type ScimLocals, scimAuth } from "../http/auth.js";
import { jsonBody } from "../http/body.js";
import { ScimError } from "../http/errors.js";
import { runBulk } from "./bulk.js";
import { resourceTypes, schemas, serviceProviderConfig } from "./discovery.js";
import * as h from "./handlers.js";
import { listResponse, parseListParams } from "./list.js";
import { type ScimLogLocals, scimRequestLog } from "./request-log/middleware.js";

const SCIM_TYPE = "application/scim+json; charset=utf-8";

// Written straight to Node's response: Express's res.send (content-type lookup, charset
// rewrite, freshness check) cost more than the JSON it sends on a lookup.
function send(res: Response, r: h.ScimResult): void {
  (res.locals as ScimLogLocals).scimBody = r.body;
  if (r.location) res.setHeader("Location", r.location);
  if (r.etag) res.setHeader("ETag", r.etag);
  if (r.body === undefined) {
    res.statusCode = r.status;
    res.end();
    return;
  }
  const json = JSON.stringify(r.body);
  res.writeHead(r.status, { "Content-Type": SCIM_TYPE, "Content-Length": Buffer.byteLength(json) });
  res.end(json);
}

/** The SCIM 2.0 endpoint, base /scim/v2; the bearer token names the tenant. Routes stay thin. */
export function scimRoutes(deps: Deps): Router {
  const r = Router();
  const base = `${deps.config.publicUrl}/scim/v2`;
  const log = scimRequestLog(deps.config.scimLog, deps.scimLog);
  r.use(
    scimAuth(deps),
    // The request log (issue 18): only requests with a valid token have a tenant to log under.
    log,
    // RFC 7644 §3.1: application/scim+json; plain application/json accepted too.
    jsonBody(deps.config.bodyLimitBytes, { mediaTypes: "application/scim+json (or application/json)" }),
  );

  const ctxOf = (req: Request, res: Response): h.ScimContext => {
    const { tenantId, tokenId } = res.locals.scim as ScimLocals;
    const trail = (res.locals as ScimLogLocals).scimLogTrail;
    return {
      // With the request log on, the use cases note the events they commit on its trail.
      deps: trail ? { ...deps, trail } : deps,
      tenantId,
      base,
      origin: {
        requestId: req.id,
        actor: { kind: "scim_token", id: tokenId },
        arrivedAt: req.arrivedAt.toISOString(),
      },
    };
  };
  const inputOf = (req: Request): h.ScimInput => ({
    id: req.params.id as string | undefined,
    body: req.body,
    query: req.query as Record<string, unknown>,
    ifMatch: req.get("If-Match"),
    ifNoneMatch: req.get("If-None-Match"),
  });
  const handle =
    (fn: (ctx: h.ScimContext, input: h.ScimInput) => Promise<h.ScimResult>) =>
    async (req: Request, res: Response) =>
      send(res, await fn(ctxOf(req, res), inputOf(req)));
  const list = (fn: typeof h.listUsers) => async (req: Request, res: Response) =>
    send(res, await fn(ctxOf(req, res), parseListParams(req.query as Record<string, unknown>)));
  const search = (fn: typeof h.listUsers) => async (req: Request, res: Response) => {
    const body = req.body ?? {};
    if (typeof body !== "object" || Array.isArray(body))
      throw ScimError.of("invalidSyntax", "A SearchRequest must be a JSON object");
    send(res, await fn(ctxOf(req, res), parseListParams(body)));
  };

  r.get("/Users", list(h.listUsers));
  r.post("/Users/.search", search(h.listUsers));
  r.post("/Users", handle(h.createUser));
  r.get("/Users/:id", handle(h.getUser));
  r.put("/Users/:id", handle(h.replaceUser));
  r.patch("/Users/:id", handle(h.patchUser));
  r.delete("/Users/:id", handle(h.deleteUser));

  r.get("/Groups", list(h.listGroups));
  r.post("/Groups/.search", search(h.listGroups));
  r.post("/Groups", handle(h.createGroup));
  r.get("/Groups/:id", handle(h.getGroup));
  r.put("/Groups/:id", handle(h.replaceGroup));
  r.patch("/Groups/:id", handle(h.patchGroup));
  r.delete("/Groups/:id", handle(h.deleteGroup));

  // Discovery after the resources: IdPs read it once per sync, the resources on every request.
  r.get("/ServiceProviderConfig", (_req, res) =>
    send(res, {
      status: 200,
      body: serviceProviderConfig(base, deps.config.bodyLimitBytes, deps.config.scimDocumentationUrl),
    }),
  );
  r.get("/ResourceTypes", (_req, res) => {
    const all = resourceTypes(base);
    send(res, { status: 200, body: listResponse(all.length, 1, all) });
  });
  r.get("/ResourceTypes/:id", (req, res) => {
    const found = resourceTypes(base).find((t) => t.id === req.params.id);
    if (!found) throw ScimError.status(404, `Resource type ${req.params.id} not found`);
    send(res, { status: 200, body: found });
  });
  r.get("/Schemas", (_req, res) => {
    const all = schemas(base);
    send(res, { status: 200, body: listResponse(all.length, 1, all) });
  });
  r.get("/Schemas/:id", (req, res) => {
    const found = schemas(base).find((s) => s.id.toLowerCase() === String(req.params.id).toLowerCase());
    if (!found) throw ScimError.status(404, `Schema ${req.params.id} not found`);
    send(res, { status: 200, body: found });
  });

  r.post("/.search", async (req, res) => {
    const body = req.body ?? {};
    if (typeof body !== "object" || Array.isArray(body))
      throw ScimError.of("invalidSyntax", "A SearchRequest must be a JSON object");
    send(res, await h.searchAll(ctxOf(req, res), parseListParams(body)));
  });
  r.post("/Bulk", async (req, res) => send(res, await runBulk(ctxOf(req, res), req.body)));

  // RFC 7644 §3.11: /Me needs an authenticated end-user; a provisioning token has none.
  r.all("/Me{/*rest}", () => {
    throw ScimError.status(501, "/Me is not supported: SCIM tokens authenticate an IdP, not a person");
  });
  // The request log's record of how a request failed; the app's error handler still answers.
  r.use(((err, _req, res, next) => {
    (res.locals as ScimLogLocals).scimError = err;
    next(err);
  }) as ErrorRequestHandler);
  return r;
}
