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
