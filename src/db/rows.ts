/** Normalise the values SQLite and PostgreSQL return differently (booleans, JSON, timestamps). */

/** SQLite gives 0/1, PostgreSQL true/false. */
export function toBool(v: unknown): boolean {
  return v === true || v === 1 || v === "1" || v === "true";
}

/** SQLite gives JSON as text, PostgreSQL as objects. */
export function parseJson<T>(v: unknown, fallback: T): T {
  if (v === null || v === undefined) return fallback;
  if (typeof v === "string") return v === "" ? fallback : (JSON.parse(v) as T);
  return v as T;
}

/** ISO-8601 UTC string from a Date (pg) or a stored ISO string (SQLite); null stays null. */
export function toIso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  return new Date(String(v)).toISOString();
}

/** Timestamps are written as ISO strings by the app (never DB defaults) so both dialects agree. */
export function nowIso(clock: () => Date = () => new Date()): string {
  return clock().toISOString();
}

/**
 * Largest id of an `increments` column (jobs, webhook deliveries): PostgreSQL's serial is a
 * 32-bit integer and refuses to compare with a larger number (a 500 where SQLite found nothing).
 */
export const MAX_SERIAL_ID = 2_147_483_647;

/** A path or query value as an `increments` id, or undefined when it cannot name a row. */
export function serialId(v: unknown): number | undefined {
  const n =
    typeof v === "number" ? v : typeof v === "string" && /^\d{1,10}$/.test(v) ? Number(v) : Number.NaN;
  return Number.isInteger(n) && n >= 1 && n <= MAX_SERIAL_ID ? n : undefined;
}
