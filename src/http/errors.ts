/** Errors that carry their HTTP answer. One handler (error-handler.ts) renders them. */

/**
 * Admin/API error: `{ "error": { "code", "message", "details"? } }`. Under /scim the same error
 * renders as a SCIM error with `scimType` when one is given.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly scimType?: ScimType,
  ) {
    super(message);
    this.name = "AppError";
  }
}

/** RFC 7644 §3.12 scimType values, each tied to the only status it may carry. */
export const SCIM_TYPES = {
  invalidFilter: 400,
  tooMany: 400,
  uniqueness: 409,
  mutability: 400,
  invalidSyntax: 400,
  invalidPath: 400,
  noTarget: 400,
  invalidValue: 400,
  invalidVers: 400,
  sensitive: 403,
} as const;

/** A scimType from RFC 7644 §3.12. */
export type ScimType = keyof typeof SCIM_TYPES;

/** SCIM protocol error. Built from a scimType (status follows) or a bare status without one. */
export class ScimError extends Error {
  readonly status: number;
  readonly scimType?: ScimType;
  /** The admin API's code when this error surfaces outside /scim (e.g. INVALID_JSON). */
  readonly code?: string;

  private constructor(status: number, scimType: ScimType | undefined, detail: string, code?: string) {
    super(detail);
    this.name = "ScimError";
    this.status = status;
    this.scimType = scimType;
    this.code = code;
  }

  /** An error with a scimType; its status is the one RFC 7644 gives that type. */
  static of(scimType: ScimType, detail: string, code?: string): ScimError {
    return new ScimError(SCIM_TYPES[scimType], scimType, detail, code);
  }

  /** An error without a scimType (404, 412, 413, 501, 500 …). */
  static status(status: number, detail: string, code?: string): ScimError {
    return new ScimError(status, undefined, detail, code);
  }
}

/** Shorthands for the admin API's common answers. */
export const notFound = (what: string) => new AppError(404, "NOT_FOUND", `${what} not found`);
export const conflict = (code: string, message: string) => new AppError(409, code, message);
export const badRequest = (code: string, message: string, details?: unknown) =>
  new AppError(400, code, message, details);
