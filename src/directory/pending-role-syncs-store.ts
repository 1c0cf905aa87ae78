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
  const rows = userIds.map((user_id) => ({ tenant_id: tenantId, user_id, created_at: at }));
  await db("pending_role_syncs").insert(rows).onConflict(["tenant_id", "user_id"]).ignore();
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
