/** Unique-constraint violation on SQLite (SQLITE_CONSTRAINT*, "UNIQUE constraint failed") or PostgreSQL (23505). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (e.code === "23505") return true;
  return (
    typeof e.code === "string" && e.code.startsWith("SQLITE_CONSTRAINT") && /UNIQUE/i.test(e.message ?? "")
  );
}

/** Foreign-key violation on either dialect. */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (e.code === "23503") return true;
  return (
    typeof e.code === "string" &&
    e.code.startsWith("SQLITE_CONSTRAINT") &&
    /FOREIGN KEY/i.test(e.message ?? "")
  );
}

/**
 * A PostgreSQL deadlock (40P01) or serialization failure (40001): the transaction was rolled
 * back whole and may simply run again.
 */
export function isRetryableConflict(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "40P01" || code === "40001";
}
