import type { Knex } from "knex";
import type { SyncRolesPayload } from "../directory/changes.js";
import { enqueueJobs } from "../jobs/catalog.js";
import type { JobRegistry } from "../jobs/registry.js";
import type { JobContext } from "../jobs/types.js";
import * as store from "./store.js";
import { drainPendingRoleSyncs, SYNC_BATCH, syncUserRoles } from "./sync.js";

/** The users a sync-roles payload names. */
export async function usersInScope(db: Knex, tenantId: string, p: SyncRolesPayload): Promise<string[]> {
  if (p.users) return p.users;
  if (p.all) return store.listAllUserIds(db, tenantId);
  if (p.groupHolders) return store.listRoleHolders(db, tenantId, { source: "group" });
  if (p.group)
    return [...new Set((await store.listUsersUnderGroups(db, tenantId, [p.group])).map((r) => r.userId))];
  return [];
}

/**
 * The sync-roles handler (both queues): resolve the scope from current state; a small one is
 * recomputed here, a large one fans out into batch jobs of SYNC_BATCH users on the same queue,
 * so several workers share a 50,000-user mapping change and a crash redoes one batch only.
 */
function syncRolesHandler(name: "sync-roles" | "sync-roles-urgent") {
  return async (payload: SyncRolesPayload, ctx: JobContext): Promise<void> => {
    const tenantId = ctx.tenantId;
    if (!tenantId) return;
    if (payload.pending) return drainPending(name, tenantId, ctx);
    const users = await usersInScope(ctx.db, tenantId, payload);
    if (payload.users || users.length <= SYNC_BATCH) {
      const r = await syncUserRoles(ctx, tenantId, users);
      if (r.assigned || r.revoked) ctx.logger.debug(r, "roles recomputed");
      return;
    }
    const batches: Array<{ name: typeof name; tenantId: string; payload: SyncRolesPayload }> = [];
    for (let i = 0; i < users.length; i += SYNC_BATCH)
      batches.push({ name, tenantId, payload: { users: users.slice(i, i + SYNC_BATCH) } });
    await ctx.db.transaction((trx) => enqueueJobs(trx, batches, ctx.now()));
    ctx.logger.debug({ users: users.length, batches: batches.length }, "role recomputation fanned out");
  };
}

/**
 * How long a drain job lets new users gather before it reads them (200 ms: ~100 users a batch
 * during an initial sync, against ~30 at 50 ms). Without it each drain was
 * claimed right after the create that enqueued it and took one user: a claim, a transaction
 * and a completion per user again. Real time (not ctx.now): a pause, not a schedule.
 */
const DRAIN_GATHER_MS = 200;

/**
 * One batch of the tenant's new users per job; a full batch enqueues the next job (its own
 * dedupe key, so a chain of batches never waits on the creates' pending drain job).
 * Short jobs keep per-tenant fairness and make a crash redo one batch only.
 */
async function drainPending(
  name: "sync-roles" | "sync-roles-urgent",
  tenantId: string,
  ctx: JobContext,
): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, DRAIN_GATHER_MS));
  // Not the key user.created shares: a chain of batches never waits on the creates' pending
  // drain job (held until each create commits).
  const next = { name, tenantId, payload: { pending: true }, dedupeKey: `${name}/${tenantId}/pending-next` };
  const r = await drainPendingRoleSyncs(ctx, tenantId, [next]);
  if (r.assigned || r.revoked) ctx.logger.debug(r, "roles of new users computed");
}

/** Register the roles capability's jobs. */
export function registerRoleJobs(jobs: JobRegistry): void {
  jobs.define<SyncRolesPayload>({
    name: "sync-roles",
    queue: "default",
    maxAttempts: 8,
    handler: syncRolesHandler("sync-roles"),
  });
  jobs.define<SyncRolesPayload>({
    name: "sync-roles-urgent",
    queue: "urgent",
    maxAttempts: 8,
    handler: syncRolesHandler("sync-roles-urgent"),
  });
}
