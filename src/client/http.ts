import { CursorExpiredError, RosterApiError } from "./errors.js";

export type Query = Record<string, string | number | boolean | undefined>;

export interface HttpOptions {
  /** Roster's base URL, e.g. `https://roster.example.com` (no `/admin/v1`). */
  baseUrl: string;
  /** An admin token (`ROSTER_ADMIN_TOKEN` or an admin key). */
  adminToken: string;
  /** A `fetch` to use instead of the global one (a proxy agent, tests). */
  fetch?: typeof fetch;
  /** Per-request timeout, ms (default 30,000). */
  timeoutMs?: number;
}

/** Percent-encode one path segment (slugs, ids, userNames with `@`). */
export const seg = (s: string | number) => encodeURIComponent(String(s));

/** One admin API call: JSON in, JSON out, a `RosterApiError` carrying the API's code otherwise. */
export async function call<T>(
  opts: HttpOptions,
  method: string,
  path: string,
  init: { body?: unknown; query?: Query } = {},
): Promise<T> {
  const url = new URL(`${opts.baseUrl.replace(/\/+$/, "")}/admin/v1${path}`);
  for (const [k, v] of Object.entries(init.query ?? {}))
    if (v !== undefined) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = {
    authorization: `Bearer ${opts.adminToken}`,
    accept: "application/json",
  };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const res = await (opts.fetch ?? fetch)(url, {
    method,
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.ok) return json as T;
  const err = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)
    ?.error;
  const code = typeof err?.code === "string" ? err.code : `HTTP_${res.status}`;
  const message = typeof err?.message === "string" ? err.message : res.statusText || text.slice(0, 200);
  const details = Array.isArray(err?.details) ? (err.details as RosterApiError["details"]) : [];
  if (res.status === 410 && code === "CURSOR_EXPIRED")
    throw new CursorExpiredError(url.searchParams.get("after") ?? "0", message, details);
  const retryAfter = Number(res.headers.get("retry-after"));
  throw new RosterApiError(
    res.status,
    code,
    message,
    details,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  );
}
