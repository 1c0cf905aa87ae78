import { AppError, ScimError } from "../http/errors.js";
import { BULK_MAX_OPERATIONS } from "./discovery.js";
import * as h from "./handlers.js";
import { scimErrorBody } from "../http/error-handler.js";

const BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

interface BulkOperation {
  method: string;
  bulkId?: string;
  path: string;
  data?: unknown;
  version?: string;
}

function parseBulk(body: unknown): { ops: BulkOperation[]; failOnErrors: number } {
  const b = body as Record<string, unknown> | undefined;
  if (!b || typeof b !== "object" || !Array.isArray(b.schemas) || !b.schemas.includes(BULK_REQUEST)) {
    throw ScimError.of("invalidSyntax", `A bulk request needs schemas [${BULK_REQUEST}]`);
  }
  if (!Array.isArray(b.Operations)) throw ScimError.of("invalidSyntax", "Operations must be an array");
  // RFC 7644 §3.7.4: too many operations → 413.
  if (b.Operations.length > BULK_MAX_OPERATIONS) {
    throw ScimError.status(413, `At most ${BULK_MAX_OPERATIONS} operations per bulk request`);
  }
  const fail = b.failOnErrors;
  if (fail !== undefined && (!Number.isInteger(fail) || (fail as number) < 1)) {
    throw ScimError.of("invalidValue", "failOnErrors must be a positive integer");
  }
  const bulkIds = new Set<string>();
  const ops = b.Operations.map((op: any, i: number) => {
    if (!op || typeof op !== "object" || typeof op.method !== "string" || typeof op.path !== "string") {
      throw ScimError.of("invalidSyntax", `Operations[${i}] needs a method and a path`);
    }
    if (op.method.toUpperCase() === "POST" && typeof op.bulkId !== "string") {
      throw ScimError.of("invalidSyntax", `Operations[${i}]: POST operations need a bulkId`);
    }
    // RFC 7644 §3.7: a bulkId is unique within a request; twice, "bulkId:x" would name either.
    if (typeof op.bulkId === "string") {
      if (bulkIds.has(op.bulkId))
        throw ScimError.of("invalidSyntax", `Operations[${i}]: bulkId ${op.bulkId} is used more than once`);
      bulkIds.add(op.bulkId);
    }
    return op as BulkOperation;
  });
  return { ops, failOnErrors: (fail as number | undefined) ?? Number.POSITIVE_INFINITY };
}

/** Replace "bulkId:x" references (RFC 7644 §3.7.2) in strings of a value; throws on unknown ids. */
function resolveRefs(value: unknown, ids: Map<string, string>): unknown {
  if (typeof value === "string") {
    const m = /^bulkId:(.+)$/.exec(value);
    if (!m) return value;
    const id = ids.get(m[1]);
    if (!id)
      throw ScimError.of("invalidValue", `bulkId ${m[1]} is not defined by an earlier successful operation`);
    return id;
  }
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, ids));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, ids)]));
  }
  return value;
}

type Handler = (ctx: h.ScimContext, input: h.ScimInput) => Promise<h.ScimResult>;
const ROUTES: Record<string, Record<string, Handler>> = {
  Users: { POST: h.createUser, PUT: h.replaceUser, PATCH: h.patchUser, DELETE: h.deleteUser },
  Groups: { POST: h.createGroup, PUT: h.replaceGroup, PATCH: h.patchGroup, DELETE: h.deleteGroup },
};

function route(op: BulkOperation, ids: Map<string, string>): { handler: Handler; id?: string } {
  const m = /^\/(Users|Groups)(?:\/([^/?]+))?$/.exec(op.path);
  const method = op.method.toUpperCase();
  const handler = m ? ROUTES[m[1]][method] : undefined;
  if (!m || !handler || (method === "POST") !== (m[2] === undefined)) {
    throw ScimError.of("invalidValue", `Unsupported bulk operation ${op.method} ${op.path}`);
  }
  return { handler, id: m[2] ? (resolveRefs(m[2], ids) as string) : undefined };
}

/**
 * POST /Bulk: operations run in order, each with the same handler as its single request;
 * bulkId references resolve to ids created earlier in the request; processing stops after
 * `failOnErrors` errors.
 */
export async function runBulk(ctx: h.ScimContext, body: unknown): Promise<h.ScimResult> {
  const { ops, failOnErrors } = parseBulk(body);
  const ids = new Map<string, string>();
  const results: unknown[] = [];
  let errors = 0;
  for (const op of ops) {
    if (errors >= failOnErrors) break;
    const base = { method: op.method, ...(op.bulkId ? { bulkId: op.bulkId } : {}) };
    try {
      const { handler, id } = route(op, ids);
      const r = await handler(ctx, { id, body: resolveRefs(op.data, ids), query: {}, ifMatch: op.version });
      const created = (r.body as { id?: string } | undefined)?.id;
      if (op.bulkId && created) ids.set(op.bulkId, created);
      const location = r.location ?? (id ? `${ctx.base}${op.path.replace(/\/[^/]+$/, "")}/${id}` : undefined);
      results.push({
        ...base,
        ...(location ? { location } : {}),
        ...(r.etag ? { version: r.etag } : {}),
        status: String(r.status),
      });
    } catch (err) {
      if (!(err instanceof ScimError) && !(err instanceof AppError)) throw err;
      errors++;
      const scimType = err instanceof ScimError ? err.scimType : err.scimType;
      results.push({
        ...base,
        status: String(err.status),
        response: scimErrorBody(err.status, err.message, scimType),
      });
    }
  }
  return {
    status: 200,
    body: { schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"], Operations: results },
  };
}
