import type { Knex } from "knex";
import { z } from "zod";
import { notFound } from "../../http/errors.js";
import { parseInput } from "../../http/validate.js";
import { requireTenant } from "../../tenants/use-cases.js";
import {
  findScimRequest,
  listScimRequests,
  type ScimRequestFilter,
  type StoredScimRequest,
} from "./store.js";
import type { ScimLogWriter } from "./writer.js";

/** What the log's admin views need. */
export interface ScimLogDeps {
  db: Knex;
  scimLog: ScimLogWriter;
}

const CURSOR = /^\d{1,9}$/;
/** `before`/`after`: an entry id (a cursor from a previous page) or an ISO-8601 time. */
const bound = z
  .string()
  .trim()
  .refine((v) => CURSOR.test(v) || (/^\d{4}-\d\d-\d\dT/.test(v) && !Number.isNaN(Date.parse(v))), {
    message: "must be an entry id (a cursor from a previous page) or an ISO-8601 time",
  });

const listQuery = z
  .object({
    status: z
      .string()
      .trim()
      .regex(/^([1-5]xx|[1-5]\d\d)$/i, "must be a status (404) or a class (4xx)")
      .optional(),
    method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).optional(),
    resource: z.string().trim().min(1).max(64).optional(),
    q: z.string().trim().min(1).max(300).optional(),
    before: bound.optional(),
    after: bound.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

function statusRange(s: string): [number, number] {
  if (/xx$/i.test(s)) return [Number(s[0]) * 100, Number(s[0]) * 100 + 99];
  return [Number(s), Number(s)];
}

function view({ tenantId: _t, id, ...e }: StoredScimRequest) {
  return { id: String(id), ...e };
}

/**
 * GET /admin/v1/tenants/{slug}/scim-requests: the tenant's SCIM requests, newest first, without
 * bodies. `next` is the cursor for the following (older) page: pass it as `before`.
 */
export async function listRequests(deps: ScimLogDeps, slug: string, query: unknown) {
  const q = parseInput(listQuery, query, "query");
  const tenant = await requireTenant(deps, slug);
  // What this process answered a moment ago is in the log when its admin looks.
  await deps.scimLog.flush();
  const filter: ScimRequestFilter = {
    status: q.status ? statusRange(q.status) : undefined,
    method: q.method,
    resourceId: q.resource,
    subject: q.q?.toLowerCase(),
  };
  if (q.before) {
    if (CURSOR.test(q.before)) filter.beforeId = Number(q.before);
    else filter.beforeAt = iso(q.before);
  }
  if (q.after) {
    if (CURSOR.test(q.after)) filter.afterId = Number(q.after);
    else filter.afterAt = iso(q.after);
  }
  const rows = await listScimRequests(deps.db, tenant.id, filter, q.limit);
  return {
    requests: rows.map((row) => {
      const { requestBody: _q, responseBody: _r, ...e } = view(row);
      return e;
    }),
    next: rows.length === q.limit ? String(rows.at(-1)!.id) : null,
  };
}

const iso = (v: string) => new Date(v).toISOString();

/** GET /admin/v1/tenants/{slug}/scim-requests/{id}: one request, with its (redacted) bodies. */
export async function getRequest(deps: ScimLogDeps, slug: string, id: string) {
  const tenant = await requireTenant(deps, slug);
  await deps.scimLog.flush();
  const entry = CURSOR.test(id) ? await findScimRequest(deps.db, tenant.id, Number(id)) : undefined;
  if (!entry) throw notFound("SCIM request");
  const { requestBody, responseBody, ...rest } = view(entry);
  return { ...rest, requestBody: parseBody(requestBody), responseBody: parseBody(responseBody) };
}

function parseBody(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}
