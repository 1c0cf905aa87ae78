import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import * as store from "./store.js";

/** The roles every tenant starts with. */
export const DEFAULT_ROLES = [
  { key: "admin", name: "Administrator", priority: 100 },
  { key: "member", name: "Member", priority: 10 },
] as const;

/**
 * Give a tenant its starting roles (`admin`, `member`) once. Idempotent and lazy: called
 * whenever a tenant's roles are read or used, so tenants created before this existed (or by a
 * path that does not call it) get them too; a role the admin later deletes is not re-created.
 */
export async function ensureDefaultRoles(db: Knex, tenantId: string, now: Date): Promise<void> {
  if (await store.rolesSeeded(db, tenantId)) return;
  const at = now.toISOString();
  await db.transaction(async (trx) => {
    if (!(await store.markRolesSeeded(trx, tenantId, at))) return;
    await store.insertRolesIfAbsent(
      trx,
      DEFAULT_ROLES.map((r) => ({ id: randomUUID(), tenantId, ...r, createdAt: at, updatedAt: at })),
    );
  });
}
