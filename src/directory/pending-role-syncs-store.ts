import { exec, insertSql } from "../db/exec.js";
import type { Db } from "../db/knex.js";
import { dialectOf } from "../db/knex.js";

/** Note users whose roles must be computed (created, reactivated); already noted is fine. */
export async function insertPendingRoleSyncs(
  db: Db,
  tenantId: string,
  userIds: string[],
  at: string,
): Promise<void> {
  if (userIds.length === 0) return;
  for (let i = 0; i < userIds.length; i += 300) {
    const { sql, bindings } = insertSql(
      "pending_role_syncs",
      ["tenant_id", "user_id", "created_at"],
      userIds.slice(i, i + 300).map((id) => [tenantId, id, at]),
      `on conflict ("tenant_id", "user_id") do nothing`,
    );
    await exec(db, sql, bindings);
  }
}

/**
 * Up to `limit` noted users, in primary-key order (no sort; every noted user is drained). On PostgreSQL the rows are locked and locked ones
 * skipped, so two drain jobs running at once split the work instead of repeating it.
 */
export async function listPendingRoleSyncs(db: Db, tenantId: string, limit: number): Promise<string[]> {
  const q = db("pending_role_syncs")
    .select("user_id")
    .where({ tenant_id: tenantId })
    .orderBy("user_id")
    .limit(limit);
  if (dialectOf(db) === "pg") q.forUpdate().skipLocked();
  return (await q).map((r: { user_id: string }) => r.user_id);
}

/** Forget noted users once their roles are computed (in the same transaction). */
export async function deletePendingRoleSyncs(db: Db, tenantId: string, userIds: string[]): Promise<void> {
  for (let i = 0; i < userIds.length; i += 500)
    await db("pending_role_syncs")
      .where({ tenant_id: tenantId })
      .whereIn("user_id", userIds.slice(i, i + 500))
      .delete();
}
