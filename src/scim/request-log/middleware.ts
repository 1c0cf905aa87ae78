import type { Request, RequestHandler, Response } from "express";
import { newTrail, type Trail } from "../../db/trail.js";
import type { ScimLocals } from "../../http/auth.js";
import { AppError, ScimError } from "../../http/errors.js";
import { cut, redactBody, redactTarget } from "./redact.js";
import type { ScimRequestEntry } from "./store.js";
import type { ScimLogWriter } from "./writer.js";

/** ROSTER_SCIM_LOG: every request, only those answered 4xx/5xx, or none. */
export type ScimLogMode = "all" | "errors" | "off";

/** What the SCIM routes leave on `res.locals` for the log. */
export interface ScimLogLocals {
  scimLogTrail?: Trail;
  /** The body the route answered with (routes.ts `send`). */
  scimBody?: unknown;
  /** The error the request ended with (the SCIM router's last error middleware). */
  scimError?: unknown;
}

const RESOURCE_PATH = /^\/scim\/v2\/(?:Users|Groups)\/([^/?#]+)/;
/** Most resource and event ids one entry lists (a 50,000-member PUT touches more). */
const MAX_IDS = 1000;

/**
 * The SCIM request log's middleware (see writer.ts), after scimAuth and before the body is read
 * (a request refused for its body is logged too): it opens the request's trail, which the
 * routes hand to the use cases (ScimContext.deps.trail) so the events they commit are noted,
 * and writes the entry once the response is sent. A pass-through when the log is off.
 */
export function scimRequestLog(mode: ScimLogMode, writer: ScimLogWriter): RequestHandler {
  if (mode === "off") return (_req, _res, next) => next();
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const trail = newTrail();
    (res.locals as ScimLogLocals).scimLogTrail = trail;
    res.on("finish", () => {
      if (mode === "errors" && res.statusCode < 400) return;
      const durationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
      writer.push(entryOf(req, res, trail, durationMs));
    });
    next();
  };
}

function isWrite(req: Request): boolean {
  if (req.method === "GET" || req.method === "HEAD") return false;
  return !(req.method === "POST" && /\/\.search$/.test(req.path));
}

function errorOf(err: unknown): { scimType: string | null; detail: string | null } {
  if (err instanceof ScimError) return { scimType: err.scimType ?? null, detail: err.message };
  if (err instanceof AppError) return { scimType: err.scimType ?? null, detail: err.message };
  if (err) return { scimType: null, detail: "Internal server error" };
  return { scimType: null, detail: null };
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function entryOf(req: Request, res: Response, trail: Trail, durationMs: number): ScimRequestEntry {
  const locals = res.locals as ScimLogLocals & { scim: ScimLocals };
  const write = isWrite(req);
  const body =
    write && req.body && typeof req.body === "object" ? (req.body as Record<string, unknown>) : undefined;
  const answer =
    locals.scimBody && typeof locals.scimBody === "object"
      ? (locals.scimBody as Record<string, unknown>)
      : undefined;
  const touched = new Set<string>();
  const pathId = RESOURCE_PATH.exec(req.originalUrl)?.[1];
  if (pathId) touched.add(safeDecode(pathId));
  if (write && answer && str(answer.id)) touched.add(answer.id as string);
  // Bulk (RFC 7644 §3.7): each operation's location names its resource.
  if (write && Array.isArray(answer?.Operations))
    for (const op of answer.Operations as Array<Record<string, unknown>>) {
      const loc = str(op?.location);
      if (loc) touched.add(loc.slice(loc.lastIndexOf("/") + 1));
    }
  let subject =
    str(body?.userName) ?? str(answer?.userName) ?? str(body?.displayName) ?? str(answer?.displayName);
  for (const e of trail.events) {
    for (const k of ["userId", "groupId", "memberId"] as const)
      if (str(e.data[k])) touched.add(e.data[k] as string);
    subject ??= str(e.data.userName) ?? str(e.data.displayName);
  }
  // A lookup (`filter=userName eq "x"`, the first half of every IdP's create) is about "x".
  if (!subject && typeof req.query.filter === "string")
    subject = /"((?:[^"\\]|\\.)*)"/.exec(req.query.filter)?.[1];
  const { scimType, detail } = errorOf(locals.scimError);
  return {
    tenantId: locals.scim.tenantId,
    at: req.arrivedAt.toISOString(),
    method: req.method,
    path: redactTarget(req.originalUrl),
    status: res.statusCode,
    durationMs,
    tokenId: locals.scim.tokenId,
    tokenName: cut(locals.scim.tokenName, 200),
    userAgent: cut(req.get("User-Agent"), 300),
    requestId: req.id,
    scimType,
    detail: cut(detail, 2000),
    subject: cut(subject?.toLowerCase(), 300),
    resourceIds: [...touched].filter((id) => id.length <= 64).slice(0, MAX_IDS),
    eventIds: trail.events.slice(0, MAX_IDS).map((e) => e.seq),
    requestBody: write ? redactBody(req.body) : null,
    responseBody: write && res.statusCode < 400 ? redactBody(locals.scimBody) : null,
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
