import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Knex } from "knex";
import { isUniqueViolation } from "../db/errors.js";
import { AppError, conflict, notFound } from "../http/errors.js";
import { parseInput } from "../http/validate.js";
import { type CatalogJobSpec, enqueueJobs } from "../jobs/catalog.js";
import { DEFAULT_ROLES, ensureDefaultRoles } from "../roles/defaults.js";
import { findRoleByKey } from "../roles/store.js";
import { displayPrefix, generateSecret, hashSecret, SECRET_PREFIX, sameHash } from "./secrets.js";
import { tenantSettingsPatchSchema, tenantSettingsSchema } from "./settings.js";
import * as store from "./store.js";
import type { ScimToken, Tenant } from "./store.js";

/** What the tenant use cases need: the database and a clock. */
export interface TenantDeps {
  db: Knex;
  now: () => Date;
}

const slugSchema = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])$/,
    "must be 2–63 lowercase letters, digits or dashes, not starting or ending with a dash",
  );

/** Body of POST /admin/v1/tenants. */
export const createTenantInput = z
  .object({
    slug: slugSchema,
    name: z.string().trim().min(1).max(200),
    settings: tenantSettingsPatchSchema.optional(),
  })
  .strict();

/** Body of PATCH /admin/v1/tenants/{slug}. */
export const updateTenantInput = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    settings: tenantSettingsPatchSchema.optional(),
  })
  .strict();

/** Body of POST …/scim-tokens. */
export const createScimTokenInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    expiresAt: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" }).optional(),
  })
  .strict();

/** Create a tenant; 409 TENANT_EXISTS when the slug is taken. */
export async function createTenant(deps: TenantDeps, body: unknown): Promise<Tenant> {
  const input = parseInput(createTenantInput, body);
  // A new tenant has only the starting roles; another default waits until its role exists.
  const defaultRole = input.settings?.defaultRole;
  if (defaultRole && !DEFAULT_ROLES.some((r) => r.key === defaultRole)) throw unknownDefaultRole(defaultRole);
  const at = deps.now().toISOString();
  const tenant: Tenant = {
    id: randomUUID(),
    slug: input.slug,
    name: input.name,
    settings: tenantSettingsSchema.parse(input.settings ?? {}),
    createdAt: at,
    updatedAt: at,
  };
  try {
    await store.insertTenant(deps.db, tenant);
  } catch (err) {
    if (isUniqueViolation(err))
      throw conflict("TENANT_EXISTS", `A tenant with slug '${input.slug}' already exists`);
    throw err;
  }
  return tenant;
}

/** The tenant with this slug, or 404 TENANT_NOT_FOUND. */
export async function requireTenant(deps: Pick<TenantDeps, "db">, slug: string): Promise<Tenant> {
  const tenant = await store.findTenantBySlug(deps.db, slug);
  if (!tenant) throw new AppError(404, "TENANT_NOT_FOUND", `Tenant '${slug}' not found`);
  return tenant;
}

/** Every tenant. */
export async function listTenants(deps: Pick<TenantDeps, "db">): Promise<Tenant[]> {
  return store.listTenants(deps.db);
}

/** Change a tenant's name or settings. */
export async function updateTenant(deps: TenantDeps, slug: string, body: unknown): Promise<Tenant> {
  const input = parseInput(updateTenantInput, body);
  let seen = await requireTenant(deps, slug);
  if (input.settings?.defaultRole) await ensureDefaultRoles(deps.db, seen.id, deps.now());
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await deps.db.transaction((trx) => updateTenantOnce(trx, deps.now(), slug, seen, input));
    } catch (err) {
      if (!(err instanceof SettingsMoved)) throw err;
      seen = err.tenant;
    }
  }
  throw conflict("TENANT_BUSY", `Tenant '${slug}' kept changing under this update; try again`);
}

type TenantUpdate = z.infer<typeof updateTenantInput>;

/** The tenant row changed between the read the jobs were planned from and its lock. */
class SettingsMoved extends Error {
  constructor(readonly tenant: Tenant) {
    super("tenant settings changed while planning their jobs");
  }
}

/**
 * One attempt. The jobs a settings change implies are enqueued (their pending rows held until
 * commit) BEFORE the tenant row is locked, the lock order of insertJobs (src/jobs/store.ts): the
 * tenant row is also the event-sequence lock a writer holding those jobs may wait for. They are
 * planned from the row as read before the lock and checked against the row under it: if it moved
 * in between, the attempt rolls back and runs again from the locked row.
 */
async function updateTenantOnce(
  trx: Knex.Transaction,
  now: Date,
  slug: string,
  seen: Tenant,
  input: TenantUpdate,
): Promise<Tenant> {
  const planned = settingsJobs(seen, applyUpdate(seen, input, now));
  await enqueueJobs(trx, planned, now);
  // Read again under the row's lock: two concurrent PATCHes of different settings both stick.
  const tenant = await store.lockTenant(trx, seen.id);
  if (!tenant) throw new AppError(404, "TENANT_NOT_FOUND", `Tenant '${slug}' not found`);
  const updated = applyUpdate(tenant, input, now);
  const needed = settingsJobs(tenant, updated);
  if (JSON.stringify(needed) !== JSON.stringify(planned)) throw new SettingsMoved(tenant);
  if (
    updated.settings.defaultRole !== tenant.settings.defaultRole &&
    !(await findRoleByKey(trx, tenant.id, updated.settings.defaultRole))
  )
    throw unknownDefaultRole(updated.settings.defaultRole);
  await store.updateTenantRow(trx, updated);
  return updated;
}

function applyUpdate(tenant: Tenant, input: TenantUpdate, now: Date): Tenant {
  return {
    ...tenant,
    name: input.name ?? tenant.name,
    settings: tenantSettingsSchema.parse({ ...tenant.settings, ...(input.settings ?? {}) }),
    updatedAt: now.toISOString(),
  };
}

/** The jobs a change of settings implies (see roleRecomputeJob, purgeScheduleJob). */
function settingsJobs(was: Tenant, is: Tenant): CatalogJobSpec[] {
  const jobs: CatalogJobSpec[] = [];
  if (is.settings.defaultRole !== was.settings.defaultRole) jobs.push(roleRecomputeJob(is.id));
  const [a, b] = [was.settings, is.settings];
  if (
    b.deprovisionPolicy === "delete" &&
    (a.deprovisionPolicy !== "delete" || a.deleteGraceDays !== b.deleteGraceDays)
  )
    jobs.push(purgeScheduleJob(is.id));
  return jobs;
}

/** A defaultRole that names no role of the tenant would leave uncovered users with none. */
function unknownDefaultRole(key: string): AppError {
  const message = `no role '${key}' in this tenant: create it (POST …/roles) before making it the default`;
  return new AppError(400, "VALIDATION_FAILED", `Invalid body: settings.defaultRole: ${message}`, [
    { field: "settings.defaultRole", message },
  ]);
}

/**
 * Issue 4: users no mapping covers hold the default role, so a new default must reach them (and
 * the old one leave them). Enqueued with the settings change: both commit or neither does.
 */
function roleRecomputeJob(tenantId: string): CatalogJobSpec {
  return { name: "sync-roles", tenantId, payload: { all: true }, dedupeKey: `sync-roles/${tenantId}/all` };
}

/**
 * Issue 6: users deprovisioned before the tenant turned to the `delete` policy (or before its
 * grace period changed) get their purge scheduled too, not only those deprovisioned after.
 */
function purgeScheduleJob(tenantId: string): CatalogJobSpec {
  return { name: "schedule-purges", tenantId, payload: {}, dedupeKey: `schedule-purges/${tenantId}` };
}

/** Delete a tenant and all of its data. */
export async function deleteTenant(deps: TenantDeps, slug: string): Promise<void> {
  const tenant = await requireTenant(deps, slug);
  await store.deleteTenantRow(deps.db, tenant.id);
}

/** A created SCIM token: the only time its secret is visible. */
export type CreatedScimToken = Omit<ScimToken, "tenantId" | "revokedAt" | "lastUsedAt"> & { token: string };

/** Create a SCIM token for a tenant; the secret is returned once and stored hashed. */
export async function createScimToken(
  deps: TenantDeps,
  slug: string,
  body: unknown,
): Promise<CreatedScimToken> {
  const input = parseInput(createScimTokenInput, body);
  const tenant = await requireTenant(deps, slug);
  const now = deps.now();
  if (input.expiresAt && new Date(input.expiresAt) <= now) {
    throw new AppError(400, "VALIDATION_FAILED", "Invalid body: expiresAt: must be in the future", [
      { field: "expiresAt", message: "must be in the future" },
    ]);
  }
  const secret = generateSecret(SECRET_PREFIX.scim);
  const token: ScimToken = {
    id: randomUUID(),
    tenantId: tenant.id,
    name: input.name,
    prefix: displayPrefix(secret, SECRET_PREFIX.scim),
    createdAt: now.toISOString(),
    expiresAt: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
    revokedAt: null,
    lastUsedAt: null,
  };
  await store.insertScimToken(deps.db, token, hashSecret(secret));
  return {
    id: token.id,
    name: token.name,
    token: secret,
    prefix: token.prefix,
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
  };
}

/** A tenant's SCIM tokens, without secrets. */
export async function listScimTokens(deps: TenantDeps, slug: string): Promise<ScimToken[]> {
  const tenant = await requireTenant(deps, slug);
  return store.listScimTokens(deps.db, tenant.id);
}

/** Revoke a SCIM token at once; 404 when it is not this tenant's. Revoking twice is harmless. */
export async function revokeScimToken(deps: TenantDeps, slug: string, id: string): Promise<ScimToken> {
  const tenant = await requireTenant(deps, slug);
  const existing = await store.findScimToken(deps.db, tenant.id, id);
  if (!existing) throw notFound("SCIM token");
  await store.revokeScimTokenRow(deps.db, tenant.id, id, deps.now().toISOString());
  return (await store.findScimToken(deps.db, tenant.id, id))!;
}

/** Why a bearer token was refused (for the log, never for the client). */
export type TokenRefusal = "unknown" | "revoked" | "expired";

/** Resolve a SCIM bearer token to its tenant id, or say why it is refused. */
export async function authenticateScimToken(
  deps: TenantDeps,
  secret: string,
): Promise<
  { ok: true; tenantId: string; tokenId: string; tokenName: string } | { ok: false; reason: TokenRefusal }
> {
  const hash = hashSecret(secret);
  const row = await store.findScimTokenByHash(deps.db, hash);
  if (!row || !sameHash(row.tokenHash, hash)) return { ok: false, reason: "unknown" };
  const now = deps.now();
  if (row.revokedAt) return { ok: false, reason: "revoked" };
  if (row.expiresAt && new Date(row.expiresAt) <= now) return { ok: false, reason: "expired" };
  // Write last_used_at at most once a minute: a write per SCIM request would halve throughput.
  if (!row.lastUsedAt || now.getTime() - new Date(row.lastUsedAt).getTime() > 60_000) {
    await store.touchScimToken(deps.db, row.id, now.toISOString());
  }
  return { ok: true, tenantId: row.tenantId, tokenId: row.id, tokenName: row.name };
}
