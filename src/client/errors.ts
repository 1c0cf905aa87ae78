/** Errors the client throws: the API's own error code travels with them. */

/** One field the API named in a 400 `VALIDATION_FAILED`. */
export interface ErrorDetail {
  field: string;
  message: string;
}

/**
 * A non-2xx answer of Roster's admin API: `{"error": {"code", "message", "details"?}}`.
 * `code` is the stable, documented one (README "Admin API"; e.g. `TENANT_NOT_FOUND`,
 * `VALIDATION_FAILED`, `ROLE_EXISTS`); branch on it, never on `message`.
 */
export class RosterApiError extends Error {
  override name = "RosterApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly retryAfterSeconds?: number,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

/**
 * 410 `CURSOR_EXPIRED` from the event feed: the events after the stored cursor are no longer
 * kept (the retention window passed), so reading on would silently skip some. Reconcile
 * instead: re-read current state (SCIM users and groups, each user's roles) into your
 * application, then continue the feed with `after: "0"`, replaying what the feed still holds
 * (harmless: apply events idempotently, deduplicating on event id).
 */
export class CursorExpiredError extends RosterApiError {
  override name = "CursorExpiredError";
  static readonly advice =
    'The feed no longer holds the events after this cursor. Reconcile: re-read users, groups and roles from Roster into your application, then continue the feed with after "0" (events seen twice are harmless: deduplicate on event id).';
  constructor(
    readonly cursor: string,
    message: string,
    details: ErrorDetail[] = [],
  ) {
    super(410, "CURSOR_EXPIRED", `${message} — ${CursorExpiredError.advice}`, details);
  }
}

/** A webhook delivery that must not be trusted (its body is not Roster's, or is a replay). */
export class WebhookVerificationError extends Error {
  override name = "WebhookVerificationError";
  constructor(
    /** `malformed`: no usable header; `stale`: timestamp outside the tolerance; `signature`: no v1 matches. */
    readonly reason: "malformed" | "stale" | "signature",
    message: string,
  ) {
    super(message);
  }
}

/** The OAuth hand-off refused a step (RFC 6749 §5.2 `error` / `error_description`). */
export class RosterOAuthError extends Error {
  override name = "RosterOAuthError";
  constructor(
    readonly error: string,
    readonly description?: string,
    readonly status?: number,
  ) {
    super(description ? `${error}: ${description}` : error);
  }
}
