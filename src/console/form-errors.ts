import { AppError } from "../http/errors.js";
import type { FieldErrors } from "./components/field.js";

/**
 * A use case's 400 as field errors for the form (VALIDATION_FAILED and field errors carry
 * `details: [{field, message}]`); `rename` maps API field paths to form field names. Undefined
 * when the error is not about fields (the console error page shows it).
 */
export function fieldErrorsOf(err: unknown, rename: Record<string, string> = {}): FieldErrors | undefined {
  if (!(err instanceof AppError) || err.status !== 400) return undefined;
  const details = Array.isArray(err.details)
    ? (err.details as Array<{ field?: unknown; message?: unknown }>)
    : [];
  const out: FieldErrors = {};
  for (const d of details) {
    if (typeof d.field !== "string" || typeof d.message !== "string") continue;
    // "settings.defaultRole" and "certificates.0" are the form's defaultRole and certificates.
    const parts = d.field.split(".");
    const field = rename[d.field] ?? (parts[0] === "settings" && parts[1] ? parts[1] : parts[0]);
    out[field] ??= d.message;
  }
  if (Object.keys(out).length === 0) out._form = err.message;
  return out;
}
