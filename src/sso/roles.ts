import type { Db } from "../db/knex.js";

/**
 * Roles for the SSO profile. Integration point with the roles capability: when its `user_roles`
 * (tenant_id, user_id, role_id) and `roles` (id, key) tables exist and hold rows for the user,
 * those are the truth; until then (or for users the role sync has not reached yet) the roles
 * pre-assigned by an invitation or given at JIT creation (`sso_user_roles`) are returned.
 */

let rolesTablesSeen = false;

async function rolesTablesExist(db: Db): Promise<boolean> {
  if (rolesTablesSeen) return true;
  rolesTablesSeen = (await db.schema.hasTable("user_roles")) && (await db.schema.hasTable("roles"));
  return rolesTablesSeen;
}

/** Role keys of a user; [] when the user has none. Call outside transactions (a failed probe would abort one on PostgreSQL). */
export async function rolesOfUser(db: Db, tenantId: string, userId: string): Promise<string[]> {
  if (await rolesTablesExist(db)) {
    try {
      const rows = await db("user_roles as ur")
        .join("roles as r", "r.id", "ur.role_id")
        .where({ "ur.tenant_id": tenantId, "ur.user_id": userId })
        .distinct("r.key")
        .orderBy("r.key");
      if (rows.length > 0) return rows.map((r: any) => r.key);
    } catch {
      // Their schema differs from the design sketch: fall back to SSO-assigned roles.
    }
  }
  return ssoRolesOfUser(db, tenantId, userId);
}

/** Role keys assigned by invitation or JIT. */
export async function ssoRolesOfUser(db: Db, tenantId: string, userId: string): Promise<string[]> {
  const rows = await db("sso_user_roles").where({ tenant_id: tenantId, user_id: userId }).orderBy("role_key");
  return rows.map((r: any) => r.role_key);
}

/** Record role keys for a user (invite or jit), in the caller's transaction. */
export async function assignSsoRoles(
  db: Db,
  tenantId: string,
  userId: string,
  keys: string[],
  source: "invite" | "jit",
  at: string,
): Promise<void> {
  if (keys.length === 0) return;
  await db("sso_user_roles")
    .insert(
      [...new Set(keys)].map((k) => ({
        tenant_id: tenantId,
        user_id: userId,
        role_key: k,
        source,
        created_at: at,
      })),
    )
    .onConflict(["user_id", "role_key"])
    .ignore();
}
