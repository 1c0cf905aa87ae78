/**
 * Everything a SAML response says is the sender's text until a signature of the tenant's IdP
 * verifies, and refusals are stored (traces, events, test reports) and sent out (webhooks): each
 * string is cut to a documented length first, so what one anonymous POST can make Roster keep is
 * bounded whatever it carried (a 467 KB StatusMessage once became a 700 KB event).
 */

/** Longest string from a response kept in a stored record. */
export const MAX_STORED_STRING = 256;
/** Most entries of one list (audiences, recipients, fingerprints…) kept in a stored record. */
export const MAX_STORED_ITEMS = 10;
/** Largest `details` object kept, serialized. */
export const MAX_STORED_DETAILS = 8 * 1024;

/**
 * `s` cut to at most `max` characters, ending with how long it was (so cutting again changes
 * nothing), never inside a surrogate pair.
 */
export function truncate(s: string, max = MAX_STORED_STRING): string {
  if (s.length <= max) return s;
  const suffix = `… (${s.length} characters)`;
  let cut = Math.max(0, max - suffix.length);
  if (cut > 0 && /[\uD800-\uDBFF]/.test(s[cut - 1])) cut--;
  return `${s.slice(0, cut)}${suffix}`;
}

/** A nullable string truncated. */
export function truncateOrNull(s: string | null | undefined, max = MAX_STORED_STRING): string | null {
  return typeof s === "string" ? truncate(s, max) : null;
}

/**
 * A JSON-able value with every string truncated, lists cut to MAX_STORED_ITEMS and nesting to
 * three levels (the details Roster builds are two deep), then refused whole beyond
 * MAX_STORED_DETAILS serialized.
 */
export function boundedDetails(details: Record<string, unknown>): Record<string, unknown> {
  const out = bounded(details, 0) as Record<string, unknown>;
  if (JSON.stringify(out).length <= MAX_STORED_DETAILS) return out;
  return { truncated: true, keys: Object.keys(out).slice(0, MAX_STORED_ITEMS) };
}

function bounded(value: unknown, depth: number): unknown {
  if (typeof value === "string") return truncate(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= 3) return "[nested]";
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_STORED_ITEMS).map((v) => bounded(v, depth + 1));
    if (value.length > MAX_STORED_ITEMS) items.push(`… ${value.length - MAX_STORED_ITEMS} more`);
    return items;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  return Object.fromEntries(
    entries.slice(0, 2 * MAX_STORED_ITEMS).map(([k, v]) => [truncate(k, 64), bounded(v, depth + 1)]),
  );
}
