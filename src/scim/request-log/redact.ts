import { SCHEMAS } from "../schema-info.js";

/**
 * What the SCIM request log keeps of a body (issue 18): secrets removed, long values cut. A
 * password an IdP sends is accepted and discarded (issue 14 item 1), so it must not reach the
 * log either; nor any attribute the schema marks `returned: never` (RFC 7643 §7: never shown,
 * so never kept where an admin reads it), nor anything named like a credential.
 */

/** Replaces a removed value. */
export const REDACTED = "[redacted]";
/** Longest string kept; longer ones are cut with a note of how much was dropped. */
export const MAX_STRING = 256;
/** Most items of an array kept (a 50,000-member PUT keeps the first ones and a count). */
export const MAX_ITEMS = 50;
/** Deepest nesting kept. */
const MAX_DEPTH = 10;
/** Largest body kept, serialised; a larger one is replaced by a note of its size. */
export const MAX_BODY_BYTES = 64 * 1024;

// Attribute names are case-insensitive (RFC 7643 §2.1); a name may carry its schema URN.
const NEVER_RETURNED = new Set(
  Object.values(SCHEMAS).flatMap((s) =>
    s.attributes.filter((a) => a.returned === "never").map((a) => a.name.toLowerCase()),
  ),
);
// Named like a credential (a custom extension's apiToken, clientSecret, …).
const CREDENTIAL =
  /password|passwd|secret|token|credential|passphrase|apikey|api_key|privatekey|private_key/i;

/** Whether an attribute name (bare, URN-qualified or a PATCH path) names a secret. */
export function isSecretName(name: string): boolean {
  // A PATCH path: `urn:…:User:password`, `password`, `x.password`, `emails[type eq "w"].value`.
  const bare = name.replace(/\[.*?\]/g, "");
  const last = bare.slice(bare.lastIndexOf(":") + 1);
  for (const part of last.split("."))
    if (NEVER_RETURNED.has(part.toLowerCase()) || CREDENTIAL.test(part)) return true;
  return false;
}

function cutString(s: string): string {
  return s.length <= MAX_STRING ? s : `${s.slice(0, MAX_STRING)}…(+${s.length - MAX_STRING} chars)`;
}

function walk(v: unknown, depth: number): unknown {
  if (typeof v === "string") return cutString(v);
  if (v === null || typeof v !== "object") return v;
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (Array.isArray(v)) {
    const kept = v.slice(0, MAX_ITEMS).map((x) => walk(x, depth + 1));
    if (v.length > MAX_ITEMS) kept.push(`…(+${v.length - MAX_ITEMS} more)`);
    return kept;
  }
  const o = v as Record<string, unknown>;
  // A PATCH operation (RFC 7644 §3.5.2) or a Bulk one: its value is as secret as its path. Keys
  // in any case: the PATCH engine reads `Path`/`Value` as IdPs send them (attribute names are
  // case-insensitive, RFC 7643 §2.1), so the log must not be stricter about spelling than it.
  const secretPath = Object.entries(o).some(
    ([k, x]) => k.toLowerCase() === "path" && typeof x === "string" && isSecretName(x),
  );
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) {
    if (isSecretName(k) || (secretPath && k.toLowerCase() === "value")) out[cutString(k)] = REDACTED;
    else out[cutString(k)] = walk(x, depth + 1);
  }
  return out;
}

/** The body as the log keeps it (JSON text), or null when there is none. */
export function redactBody(body: unknown): string | null {
  if (body === undefined || body === null) return null;
  const text = JSON.stringify(walk(body, 0));
  if (Buffer.byteLength(text) <= MAX_BODY_BYTES) return text;
  return JSON.stringify({ truncated: true, bytes: Buffer.byteLength(text) });
}

/** A request target as logged: cut, and its query dropped when it names a secret (a filter on one). */
export function redactTarget(url: string): string {
  const q = url.indexOf("?");
  let out = url;
  if (q >= 0 && CREDENTIAL.test(decodeSafe(url.slice(q + 1)))) out = `${url.slice(0, q)}?${REDACTED}`;
  return out.length <= 2048 ? out : `${out.slice(0, 2048)}…`;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/** A string cut to `max` characters (attacker-sized values: User-Agent, error details). */
export function cut(s: string | undefined | null, max: number): string | null {
  if (s === undefined || s === null) return null;
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
