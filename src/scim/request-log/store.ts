import type { Db } from "../../db/knex.js";
import { parseJson } from "../../db/rows.js";

/** One SCIM request as the log keeps it. */
export interface ScimRequestEntry {
  tenantId: string;
  at: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  tokenId: string | null;
  tokenName: string | null;
  userAgent: string | null;
  requestId: string | null;
  scimType: string | null;
  detail: string | null;
  subject: string | null;
  resourceIds: string[];
  eventIds: number[];
  requestBody: string | null;
  responseBody: string | null;
}

/** A stored entry, with its id (the cursor). */
export type StoredScimRequest = ScimRequestEntry & { id: number };

// SQLite allows 32,766 bound values per statement; an entry binds 17.
const ROWS_PER_INSERT = 500;

/** Insert a batch of entries and their resource index rows (one statement per table and chunk). */
export async function insertScimRequests(db: Db, entries: ScimRequestEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += ROWS_PER_INSERT) {
    const chunk = entries.slice(i, i + ROWS_PER_INSERT);
    const ids = (await db("scim_requests").insert(chunk.map(rowOf), ["id"])) as Array<
      { id: number } | number
    >;
    const index = chunk.flatMap((e, k) => {
      const raw = ids[k];
      const id = typeof raw === "object" ? raw.id : raw;
      return e.resourceIds.map((r) => ({ tenant_id: e.tenantId, resource_id: r, request_id: id }));
    });
    for (let j = 0; j < index.length; j += 5000)
      await db("scim_request_resources").insert(index.slice(j, j + 5000));
  }
}

function rowOf(e: ScimRequestEntry) {
  return {
    tenant_id: e.tenantId,
    at: e.at,
    method: e.method,
    path: e.path,
    status: e.status,
    duration_ms: e.durationMs,
    token_id: e.tokenId,
    token_name: e.tokenName,
    user_agent: e.userAgent,
    request_id: e.requestId,
    scim_type: e.scimType,
    detail: e.detail,
    subject: e.subject,
    resource_ids: JSON.stringify(e.resourceIds),
    event_ids: JSON.stringify(e.eventIds),
    request_body: e.requestBody,
    response_body: e.responseBody,
  };
}

function entryOf(r: any): StoredScimRequest {
  return {
    id: Number(r.id),
    tenantId: r.tenant_id,
    at: r.at,
    method: r.method,
    path: r.path,
    status: Number(r.status),
    durationMs: Number(r.duration_ms),
    tokenId: r.token_id,
    tokenName: r.token_name,
    userAgent: r.user_agent,
    requestId: r.request_id,
    scimType: r.scim_type,
    detail: r.detail,
    subject: r.subject,
    resourceIds: parseJson(r.resource_ids, []),
    eventIds: parseJson(r.event_ids, []),
    requestBody: r.request_body,
    responseBody: r.response_body,
  };
}

/** Filters of the log's list: all optional, combined with AND. */
export interface ScimRequestFilter {
  /** Inclusive status range (e.g. 400–499 for `4xx`). */
  status?: [number, number];
  method?: string;
  resourceId?: string;
  /** Prefix of the lower-cased subject (userName or displayName). */
  subject?: string;
  /** Entries with a smaller id (older) / a larger id (newer). */
  beforeId?: number;
  afterId?: number;
  beforeAt?: string;
  afterAt?: string;
}

/** A tenant's entries matching the filter, newest first, without bodies. */
export async function listScimRequests(
  db: Db,
  tenantId: string,
  f: ScimRequestFilter,
  limit: number,
): Promise<StoredScimRequest[]> {
  const q = db("scim_requests as r").where("r.tenant_id", tenantId);
  if (f.resourceId !== undefined)
    q.whereIn(
      "r.id",
      db("scim_request_resources")
        .where({ tenant_id: tenantId, resource_id: f.resourceId })
        .select("request_id"),
    );
  if (f.status) q.whereBetween("r.status", f.status);
  if (f.method) q.where("r.method", f.method);
  // Range, not LIKE: no escaping of % and _, and the (tenant, subject) index serves it on both.
  if (f.subject) q.where("r.subject", ">=", f.subject).where("r.subject", "<", `${f.subject}\uffff`);
  if (f.beforeId !== undefined) q.where("r.id", "<", f.beforeId);
  if (f.afterId !== undefined) q.where("r.id", ">", f.afterId);
  if (f.beforeAt) q.where("r.at", "<", f.beforeAt);
  if (f.afterAt) q.where("r.at", ">", f.afterAt);
  const rows = await q
    .orderBy("r.id", "desc")
    .limit(limit)
    .select(
      "r.id",
      "r.tenant_id",
      "r.at",
      "r.method",
      "r.path",
      "r.status",
      "r.duration_ms",
      "r.token_id",
      "r.token_name",
      "r.user_agent",
      "r.request_id",
      "r.scim_type",
      "r.detail",
      "r.subject",
      "r.resource_ids",
      "r.event_ids",
    );
  return rows.map(entryOf);
}

/** One entry of a tenant, bodies included. */
export async function findScimRequest(
  db: Db,
  tenantId: string,
  id: number,
): Promise<StoredScimRequest | undefined> {
  const row = await db("scim_requests").where({ tenant_id: tenantId, id }).first();
  return row ? entryOf(row) : undefined;
}

/** Delete up to `batch` entries recorded before `before` (retention); how many went. */
export async function deleteScimRequestsBefore(db: Db, before: string, batch: number): Promise<number> {
  const ids = (await db("scim_requests")
    .where("at", "<", before)
    .orderBy("id")
    .limit(batch)
    .pluck("id")) as number[];
  if (ids.length === 0) return 0;
  await db("scim_request_resources").whereIn("request_id", ids).delete();
  return db("scim_requests").whereIn("id", ids).delete();
}
