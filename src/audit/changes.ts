import type { AuditChange } from "./store.js";

/**
 * What an audit entry says changed: field names with old → new for non-secret fields. A secret
 * (a token, a webhook secret or URL, a private key, a client secret) is named but its values
 * never appear: `{field: "secret", old: "[secret]", new: "[secret]"}`.
 */

// URLs too (`url`, `ssoUrl`, `metadataUrl`): a webhook or metadata URL may carry a token in its
// path or query, which is why webhook URLs are stored encrypted (issue 14 item 5).
const SECRET = /password|secret|token|credential|private|passphrase|apikey|api_key|signingkey|url$/i;
/** Fields that change on every write and say nothing (the entry has its own time). */
const NOISE = new Set(["updatedAt", "createdAt", "version", "lastUsedAt"]);
const MAX_CHANGES = 50;
const MAX_VALUE = 200;

function flatten(v: unknown, prefix: string, out: Map<string, unknown>, depth = 0): void {
  if (v !== null && typeof v === "object" && !Array.isArray(v) && depth < 4) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>))
      flatten(x, prefix ? `${prefix}.${k}` : k, out, depth + 1);
    return;
  }
  if (prefix) out.set(prefix, v);
}

function shown(field: string, v: unknown): unknown {
  if (v === undefined) return undefined;
  if (SECRET.test(field)) return "[secret]";
  const text = typeof v === "string" ? v : JSON.stringify(v);
  if (text.length <= MAX_VALUE) return v;
  return `${text.slice(0, MAX_VALUE)}…(+${text.length - MAX_VALUE} chars)`;
}

/**
 * The fields that differ between `before` and `after` (either may be absent: a creation has no
 * before, a deletion no after). With `only`, just those top-level fields are compared (what the
 * request named), so derived fields of the answer do not show as changes.
 */
export function summariseChanges(before: unknown, after: unknown, only?: string[]): AuditChange[] {
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  flatten(before ?? {}, "", a);
  flatten(after ?? {}, "", b);
  const fields = [...new Set([...a.keys(), ...b.keys()])].filter((f) => {
    const top = f.split(".")[0];
    return !NOISE.has(top) && !NOISE.has(f.split(".").at(-1)!) && (!only || only.includes(top));
  });
  const out: AuditChange[] = [];
  for (const field of fields.sort()) {
    const o = a.get(field);
    const n = b.get(field);
    if (JSON.stringify(o) === JSON.stringify(n)) continue;
    out.push({
      field,
      ...(o !== undefined ? { old: shown(field, o) } : {}),
      ...(n !== undefined ? { new: shown(field, n) } : {}),
    });
    if (out.length >= MAX_CHANGES) break;
  }
  return out;
}
