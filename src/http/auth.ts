import type { RequestHandler } from "express";
import type { Knex } from "knex";
import { type AdminIdentity, isAdminSecret } from "../tenants/admin-keys.js";
import { bearerToken } from "../tenants/secrets.js";
import { authenticateScimToken } from "../tenants/use-cases.js";
import { AppError, ScimError } from "./errors.js";

/** Admin API guard: ROSTER_ADMIN_TOKEN or an active admin key. */
export function adminAuth(opts: { db: Knex; adminTokenHash?: string }): RequestHandler {
  if (!opts.db) throw new Error("adminAuth needs a database");
  return async (req, res, next) => {
    const secret = bearerToken(req.headers.authorization);
    const admin = secret ? await isAdminSecret(opts.db, opts.adminTokenHash, secret) : undefined;
    if (!admin) throw new AppError(401, "UNAUTHORIZED", "A valid admin bearer token is required");
    res.locals.admin = admin satisfies AdminIdentity;
    next();
  };
}

/** The tenant a SCIM request acts for (set by scimAuth). */
export interface ScimLocals {
  tenantId: string;
  tokenId: string;
}

/** SCIM guard: the bearer token names the tenant; 401 SCIM error with WWW-Authenticate otherwise. */
export function scimAuth(opts: { db: Knex; now: () => Date }): RequestHandler {
  if (!opts.db) throw new Error("scimAuth needs a database");
  return async (req, res, next) => {
    const secret = bearerToken(req.headers.authorization);
    if (!secret) throw ScimError.status(401, "Authorization: Bearer <SCIM token> is required");
    const result = await authenticateScimToken(opts, secret);
    if (!result.ok) {
      req.log.info({ reason: result.reason }, "SCIM token refused");
      throw ScimError.status(401, "The bearer token is invalid, expired or revoked");
    }
    res.locals.scim = { tenantId: result.tenantId, tokenId: result.tokenId } satisfies ScimLocals;
    next();
  };
}
