import { ScimError } from "../http/errors.js";
import { type FilterNode, parseFilter } from "./filter/parse.js";
import { type Projection, parseProjection } from "./projection.js";

/** Largest page served (ServiceProviderConfig filter.maxResults); bigger counts are clamped. */
export const MAX_RESULTS = 1000;
/** Page size when the client gives no count. */
export const DEFAULT_COUNT = 100;

/** Parsed list/search parameters (RFC 7644 §3.4.2, §3.4.3). */
export interface ListParams {
  filter?: FilterNode;
  startIndex: number;
  count: number;
  sortBy?: string;
  sortOrder: "asc" | "desc";
  projection: Projection;
}

// 2^53 - 1: beyond it a number is no longer exact (1e300 is an "integer" to Number.isInteger),
// and an OFFSET of 1e300 is an error in both databases (it answered 500).
const LARGEST = Number.MAX_SAFE_INTEGER;

function integer(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isInteger(n)) throw ScimError.of("invalidValue", `${name} must be an integer`);
  if (!Number.isSafeInteger(n))
    throw ScimError.of("invalidValue", `${name} must be an integer from -${LARGEST} to ${LARGEST}`);
  return n;
}

/**
 * Read list parameters from a query string (GET) or a SearchRequest body (POST /.search).
 * RFC 7644 §3.4.2.4: startIndex < 1 is 1, count < 0 is 0; count above maxResults is clamped.
 * Either beyond ±(2^53 - 1) is 400 invalidValue: it says nothing a client can mean.
 */
export function parseListParams(src: Record<string, unknown>): ListParams {
  const get = (name: string) =>
    src[Object.keys(src).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name];
  const startIndex = Math.max(1, integer(get("startIndex"), "startIndex") ?? 1);
  const count = Math.min(MAX_RESULTS, Math.max(0, integer(get("count"), "count") ?? DEFAULT_COUNT));
  const filterText = get("filter");
  if (filterText !== undefined && typeof filterText !== "string")
    throw ScimError.of("invalidFilter", "filter must be a string");
  const sortBy = get("sortBy");
  if (sortBy !== undefined && typeof sortBy !== "string")
    throw ScimError.of("invalidValue", "sortBy must be a string");
  const order = get("sortOrder");
  if (order !== undefined && !/^(ascending|descending)$/i.test(String(order))) {
    throw ScimError.of("invalidValue", "sortOrder must be ascending or descending");
  }
  return {
    filter: filterText && filterText.trim() !== "" ? parseFilter(filterText) : undefined,
    startIndex,
    count,
    sortBy: sortBy || undefined,
    sortOrder: order && /^descending$/i.test(String(order)) ? "desc" : "asc",
    projection: parseProjection(get("attributes"), get("excludedAttributes")),
  };
}

/** A ListResponse message (RFC 7644 §3.4.2). */
export function listResponse(total: number, startIndex: number, resources: unknown[]) {
  return {
    schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
    totalResults: total,
    itemsPerPage: resources.length,
    startIndex,
    Resources: resources,
  };
}
