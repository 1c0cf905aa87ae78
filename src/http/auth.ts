import type { Request, RequestHandler, Response } from "express";
import type { Knex } from "knex";
import { type AdminIdentity, isAdminSecret } from "../tenants/admin-keys.js";
import { bearerToken } from "../tenants/secrets.js";
import { authenticateScimToken } from "../tenants/use-cases.js";
import { AppError, ScimError } from "./errors.js";
import { addressKey } from "./client-address.js";
import type { Limiter } from "./rate-limiters.js";

/** The limiter of failed attempts an auth guard counts into (absent: no limit). */
interface FailureLimits {
  rateLimits?: { scimFailures: Limiter; adminFailures: Limiter };
}

function retryAfter(res: Response, seconds: number): void {
  res.set("Retry-After", String(seconds));
}

/**
 * Admin API guard: ROSTER_ADMIN_TOKEN or an active admin key. Failed attempts count per client
 * address; an address past its limit gets 429 before its token is even looked at, valid or not,
 * for the rest of the window: an operator-chosen ROSTER_ADMIN_TOKEN may be guessable, so
 * guessing must stop, not merely slow down.
 */
export function adminAuth(opts: { db: Knex; adminTokenHash?: string } & FailureLimits): RequestHandler {
  if (!opts.db) throw new Error("adminAuth needs a database");
  const failures = opts.rateLimits?.adminFailures;
  return async (req, res, next) => {
    const key = addressKey(req);
    const blocked = failures ? await failures.exhausted(key) : undefined;
    if (blocked?.limited) {
      retryAfter(res, blocked.retryAfterSeconds);
      throw new AppError(
        429,
        "RATE_LIMITED",
        `Too many failed authentications from this address: retry after ${blocked.retryAfterSeconds} s`,
      );
    }
    const secret = bearerToken(req.headers.authorization);
    const admin = secret ? await isAdminSecret(opts.db, opts.adminTokenHash, secret) : undefined;
    if (!admin) {
      await failures?.consume(key);
      throw new AppError(401, "UNAUTHORIZED", "A valid admin bearer token is required");
    }
    res.locals.admin = admin satisfies AdminIdentity;
    next();
  };
}

/** The tenant a SCIM request acts for (set by scimAuth). */
export interface ScimLocals {
  tenantId: string;
  tokenId: string;
  /** The token's name, for the SCIM request log. */
  tokenName: string;
}

/**
 * SCIM guard: the bearer token names the tenant; 401 SCIM error with WWW-Authenticate otherwise.
 * Only failures count against the client address, and a valid token always passes: IdPs send
 * from shared addresses (Entra ID's provisioning service serves every customer from the same
 * Azure ranges), an initial sync sends thousands of requests a minute, and one tenant's revoked
 * token must not lock another tenant's sync out. SCIM tokens are 256 random bits, so the limit is
 * about load and noise, not guessing: past it, a failure answers 429 instead of 401.
 */
export function scimAuth(opts: { db: Knex; now: () => Date } & FailureLimits): RequestHandler {
  if (!opts.db) throw new Error("scimAuth needs a database");
  const failures = opts.rateLimits?.scimFailures;
  const refuse = async (req: Request, res: Response, detail: string) => {
    const outcome = failures ? await failures.consume(addressKey(req)) : undefined;
    if (outcome?.limited) {
      retryAfter(res, outcome.retryAfterSeconds);
      return ScimError.status(
        429,
        `Too many failed authentications from this address: retry after ${outcome.retryAfterSeconds} s (${detail})`,
      );
    }
    return ScimError.status(401, detail);
  };
  return async (req, res, next) => {
    const secret = bearerToken(req.headers.authorization);
    if (!secret) throw await refuse(req, res, "Authorization: Bearer <SCIM token> is required");
    const result = await authenticateScimToken(opts, secret);
    if (!result.ok) {
      req.log.info({ reason: result.reason }, "SCIM token refused");
      throw await refuse(req, res, "The bearer token is invalid, expired or revoked");
    }
    res.locals.scim = {
      tenantId: result.tenantId,
      tokenId: result.tokenId,
      tokenName: result.tokenName,
    } satisfies ScimLocals;
    next();
  };
}
