import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { z } from "zod";
import { isUniqueViolation } from "../db/errors.js";
import { ChangeSet, commitChanges } from "../directory/changes.js";
import { AppError, conflict } from "../http/errors.js";
import { enqueueJobs } from "../jobs/catalog.js";
import { parseInput } from "../http/validate.js";
import type { Tenant } from "../tenants/store.js";
import { requireTenant } from "../tenants/use-cases.js";
import { ensureDefaultRoles } from "./defaults.js";
import * as store from "./store.js";
import type { Role, RoleMapping } from "./store.js";

/** What the roles use cases need. */
export interface RoleDeps {
  db: Knex;
  now: () => Date;
}

const roleKey = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be 1–64 letters, digits, '_', '.' or '-'");

// roles.priority is a 32-bit integer column: PATCH took any integer (2^40 answered 500 on PostgreSQL).
const priority = z.number().int().min(-1_000_000).max(1_000_000);

/** Body of POST …/roles. */
export const createRoleInput = z
  .object({
    key: roleKey,
    name: z.string().trim().min(1).max(200),
    priority: priority.default(0),
  })
  .strict();

/** Body of PATCH …/roles/{key}. */
export const updateRoleInput = z
  .object({ name: z.string().trim().min(1).max(200).optional(), priority: priority.optional() })
  .strict();

/** One mapping: a group by Roster id or externalId, and a role key. */
export const mappingInput = z
  .object({
    groupId: z.string().min(1).max(64).optional(),
    externalId: z.string().min(1).max(512).optional(),
    role: roleKey,
  })
  .strict()
  .refine((m) => !!m.groupId !== !!m.externalId, {
    message: "give exactly one of groupId or externalId",
    path: ["groupId"],
  });

/** Role errors. */
export const roleErrors = {
  roleNotFound: (key: string) => new AppError(404, "ROLE_NOT_FOUND", `Role '${key}' not found`),
  mappingNotFound: (id: string) => new AppError(404, "MAPPING_NOT_FOUND", `Role mapping ${id} not found`),
  groupNotFound: (ref: string) => new AppError(404, "GROUP_NOT_FOUND", `Group ${ref} not found`),
  userNotFound: (id: string) => new AppError(404, "USER_NOT_FOUND", `User ${id} not found`),
};

/** The tenant, with its starting roles seeded (lazily, once). */
export async function requireTenantWithRoles(deps: RoleDeps, slug: string): Promise<Tenant> {
  const tenant = await requireTenant(deps, slug);
  await ensureDefaultRoles(deps.db, tenant.id, deps.now());
  return tenant;
}

/** A role as the API shows it. */
export function publicRole(r: Role) {
  return {
    id: r.id,
    key: r.key,
    name: r.name,
    priority: r.priority,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** Create a role; 409 ROLE_EXISTS when the key is taken. */
export async function createRole(deps: RoleDeps, slug: string, body: unknown): Promise<Role> {
  const input = parseInput(createRoleInput, body);
  const tenant = await requireTenantWithRoles(deps, slug);
  const at = deps.now().toISOString();
  const role: Role = { id: randomUUID(), tenantId: tenant.id, ...input, createdAt: at, updatedAt: at };
  try {
    await deps.db.transaction(async (trx) => {
      await store.insertRole(trx, role);
      await commitChanges(
        trx,
        tenant.id,
        new ChangeSet().add("role.created", { roleId: role.id, role: role.key }),
        at,
      );
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw conflict("ROLE_EXISTS", `A role with key '${input.key}' already exists`);
    throw err;
  }
  return role;
}

/** A role by key, or 404 ROLE_NOT_FOUND. */
export async function requireRole(deps: RoleDeps, tenantId: string, key: string): Promise<Role> {
  const role = await store.findRoleByKey(deps.db, tenantId, key);
  if (!role) throw roleErrors.roleNotFound(key);
  return role;
}

/** Rename or re-prioritise a role. */
export async function updateRole(deps: RoleDeps, slug: string, key: string, body: unknown): Promise<Role> {
  const input = parseInput(updateRoleInput, body);
  const tenant = await requireTenantWithRoles(deps, slug);
  const role = await requireRole(deps, tenant.id, key);
  const next = { ...role, ...input, updatedAt: deps.now().toISOString() };
  await store.updateRoleRow(deps.db, next);
  return next;
}

/**
 * Delete a role: refused for the tenant's default role. Its mappings and manual grants go with
 * it; every holder gets `role.revoked` in the same transaction and an urgent recomputation
 * (someone left with no role falls back to the default).
 */
export async function deleteRole(deps: RoleDeps, slug: string, key: string): Promise<void> {
  const tenant = await requireTenantWithRoles(deps, slug);
  if (tenant.settings.defaultRole === key)
    throw conflict("ROLE_IS_DEFAULT", `Role '${key}' is the tenant's default role; change defaultRole first`);
  const role = await requireRole(deps, tenant.id, key);
  const at = deps.now().toISOString();
  await deps.db.transaction(async (trx) => {
    const holders = await store.listRoleHolders(trx, tenant.id, { roleId: role.id });
    await store.deleteRoleRow(trx, tenant.id, role.id);
    const changes = new ChangeSet();
    for (const userId of holders.sort())
      changes.add("role.revoked", { userId, role: role.key, roleId: role.id });
    changes.add("role.deleted", { roleId: role.id, role: role.key });
    await commitChanges(trx, tenant.id, changes, at);
    if (holders.length) await recomputeUsers(trx, tenant.id, holders, at);
  });
}

async function recomputeUsers(trx: Knex.Transaction, tenantId: string, users: string[], at: string) {
  const jobs = [];
  for (let i = 0; i < users.length; i += 500)
    jobs.push({ name: "sync-roles-urgent" as const, tenantId, payload: { users: users.slice(i, i + 500) } });
  await enqueueJobs(trx, jobs, new Date(at));
}

/** Map a group to a role; 409 MAPPING_EXISTS when that pair is mapped already. */
export async function createMapping(deps: RoleDeps, slug: string, body: unknown): Promise<RoleMapping> {
  const input = parseInput(mappingInput, body);
  const tenant = await requireTenantWithRoles(deps, slug);
  const role = await requireRole(deps, tenant.id, input.role);
  const groupId = await store.findGroupIdByRef(deps.db, tenant.id, input);
  if (!groupId) throw roleErrors.groupNotFound(input.groupId ?? `with externalId '${input.externalId}'`);
  const at = deps.now().toISOString();
  const mapping: RoleMapping = {
    id: randomUUID(),
    tenantId: tenant.id,
    groupId,
    roleId: role.id,
    createdAt: at,
  };
  try {
    await deps.db.transaction(async (trx) => {
      await store.insertMapping(trx, mapping);
      const data = { mappingId: mapping.id, groupId, roleId: role.id, role: role.key };
      await commitChanges(trx, tenant.id, new ChangeSet().add("role_mapping.created", data), at);
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw conflict("MAPPING_EXISTS", `Group ${groupId} is already mapped to '${role.key}'`);
    throw err;
  }
  return mapping;
}

/** A mapping as the API shows it (with its role key). */
export async function publicMappings(deps: RoleDeps, tenantId: string, list: RoleMapping[]) {
  const keys = new Map((await store.listRoles(deps.db, tenantId)).map((r) => [r.id, r.key]));
  return list.map((m) => ({
    id: m.id,
    groupId: m.groupId,
    role: keys.get(m.roleId),
    createdAt: m.createdAt,
  }));
}

/** A mapping, or 404 MAPPING_NOT_FOUND. */
export async function requireMapping(deps: RoleDeps, tenantId: string, id: string): Promise<RoleMapping> {
  const m = await store.findMapping(deps.db, tenantId, id);
  if (!m) throw roleErrors.mappingNotFound(id);
  return m;
}

/** Delete a mapping; its users are recomputed on the urgent queue (a revocation). */
export async function deleteMapping(deps: RoleDeps, slug: string, id: string): Promise<void> {
  const tenant = await requireTenantWithRoles(deps, slug);
  const m = await requireMapping(deps, tenant.id, id);
  await deps.db.transaction(async (trx) => {
    if ((await store.deleteMappingRow(trx, tenant.id, id)) === 0) throw roleErrors.mappingNotFound(id);
    const data = { mappingId: id, groupId: m.groupId, roleId: m.roleId };
    await commitChanges(
      trx,
      tenant.id,
      new ChangeSet().add("role_mapping.deleted", data),
      deps.now().toISOString(),
    );
  });
}

/** Give a user a role by hand (idempotent). */
export async function assignManualRole(
  deps: RoleDeps,
  slug: string,
  userId: string,
  key: string,
): Promise<void> {
  const tenant = await requireTenantWithRoles(deps, slug);
  const role = await requireRole(deps, tenant.id, key);
  if (!(await store.userExists(deps.db, tenant.id, userId))) throw roleErrors.userNotFound(userId);
  const at = deps.now().toISOString();
  await deps.db.transaction(async (trx) => {
    if (!(await store.insertManualRole(trx, tenant.id, userId, role.id, at))) return;
    const data = { userId, role: role.key, roleId: role.id };
    await commitChanges(trx, tenant.id, new ChangeSet().add("role.manual_added", data), at);
  });
}

/** Withdraw a manual role (idempotent); roles from groups or the default are unaffected. */
export async function removeManualRole(
  deps: RoleDeps,
  slug: string,
  userId: string,
  key: string,
): Promise<void> {
  const tenant = await requireTenantWithRoles(deps, slug);
  const role = await requireRole(deps, tenant.id, key);
  if (!(await store.userExists(deps.db, tenant.id, userId))) throw roleErrors.userNotFound(userId);
  await deps.db.transaction(async (trx) => {
    if ((await store.deleteManualRole(trx, tenant.id, userId, role.id)) === 0) return;
    const data = { userId, role: role.key, roleId: role.id };
    await commitChanges(
      trx,
      tenant.id,
      new ChangeSet().add("role.manual_removed", data),
      deps.now().toISOString(),
    );
  });
}

/**
 * A user's effective roles with the reason for each, highest priority first: one entry per
 * reason (a role held through two groups and by hand appears three times).
 */
export async function explainUserRoles(deps: RoleDeps, slug: string, userId: string) {
  const tenant = await requireTenantWithRoles(deps, slug);
  if (!(await store.userExists(deps.db, tenant.id, userId))) throw roleErrors.userNotFound(userId);
  const roles = await store.listRoles(deps.db, tenant.id);
  const order = new Map(roles.map((r, i) => [r.id, i]));
  const byId = new Map(roles.map((r) => [r.id, r]));
  const rows = (await store.listUserRoleRows(deps.db, tenant.id, [userId])).filter((r) => byId.has(r.roleId));
  rows.sort((a, b) => order.get(a.roleId)! - order.get(b.roleId)! || a.source.localeCompare(b.source));
  return rows.map((r) => ({
    key: byId.get(r.roleId)!.key,
    name: byId.get(r.roleId)!.name,
    source: r.source,
    ...(r.source === "group" ? { groupId: r.groupId, mappingId: r.ref } : {}),
  }));
}

/** Recompute every user of the tenant (after changing the default role, say). */
export async function recomputeTenant(deps: RoleDeps, slug: string): Promise<void> {
  const tenant = await requireTenantWithRoles(deps, slug);
  await deps.db.transaction((trx) =>
    enqueueJobs(
      trx,
      [
        {
          name: "sync-roles",
          tenantId: tenant.id,
          payload: { all: true },
          dedupeKey: `sync-roles/${tenant.id}/all`,
        },
      ],
      deps.now(),
    ),
  );
}
