import { ChangeSet, commitChanges } from "../directory/changes.js";
import { findUserById } from "../directory/users-store.js";
import { deleteUser } from "../directory/users.js";
import { AppError, ScimError } from "../http/errors.js";
import type { JobRegistry } from "../jobs/registry.js";
import type { JobContext } from "../jobs/types.js";
import { ensureDefaultRoles } from "../roles/defaults.js";
import { listHeldRoles, lockUsers } from "../roles/store.js";
import { syncBatch } from "../roles/sync.js";
import { findTenantById } from "../tenants/store.js";
import * as store from "./revocation-store.js";

/**
 * Step 2 of a revocation (urgent queue, ahead of every role recomputation): strip the user's
 * roles from current state (`role.revoked` for each), announce `access.revoked` with what was
 * revoked (webhooks carry it downstream) and stamp the receipt — all in one transaction, so a
 * retry after a crash either finds it done or does all of it. A user reactivated meanwhile is
 * recomputed like any other (roles that still apply come back); the announcement still goes
 * out, because the sessions did end.
 */
export async function finishRevocation(
  ctx: Pick<JobContext, "db" | "now">,
  tenantId: string,
  revocationId: string,
) {
  await ensureDefaultRoles(ctx.db, tenantId, ctx.now());
  const first = await store.findRevocation(ctx.db, tenantId, revocationId);
  if (!first || first.rolesStrippedAt) return;
  await ctx.db.transaction(async (trx) => {
    // Lock order user → receipt → tenant, as the SCIM write that reactivates takes them (a
    // receipt locked first deadlocks against it on PostgreSQL).
    await lockUsers(trx, tenantId, [first.userId]);
    const r = await store.findRevocation(trx, tenantId, revocationId, true);
    if (!r || r.rolesStrippedAt) return;
    const at = ctx.now().toISOString();
    await syncBatch(trx, tenantId, [r.userId], at);
    // What was really taken: held when access ended and not held now. A user reactivated before
    // this ran keeps what still applies, and downstream must not hear it was revoked.
    const still = new Set((await listHeldRoles(trx, tenantId, r.userId)).map((h) => h.key));
    const stripped = r.roles.filter((h) => !still.has(h.key));
    const changes = new ChangeSet().add("access.revoked", {
      userId: r.userId,
      userName: r.userName,
      revocationId: r.id,
      trigger: r.trigger,
      reason: r.origin.reason ?? null,
      requestedAt: r.requestedAt,
      sessionsRevoked: r.sessionsRevoked,
      tokensRevoked: r.tokensRevoked,
      roles: [...new Set(stripped.map((h) => h.key))],
    });
    const [event] = await commitChanges(trx, tenantId, changes, at);
    await store.markRolesStripped(trx, tenantId, r.id, { at, roles: stripped, eventSeq: event?.seq ?? null });
  });
}

/**
 * The `delete` policy's end of grace: delete the user if they are still the inactive user this
 * revocation left (a reactivation, or a newer revocation with its own schedule, keeps them).
 */
export async function purgeDeprovisioned(
  ctx: Pick<JobContext, "db" | "now">,
  tenantId: string,
  payload: { userId: string; revocationId: string },
): Promise<boolean> {
  const tenant = await findTenantById(ctx.db, tenantId);
  if (tenant?.settings.deprovisionPolicy !== "delete") return false;
  const [latest] = await store.listRevocationsOfUser(ctx.db, tenantId, payload.userId, 1);
  if (!latest || latest.id !== payload.revocationId || latest.reactivatedAt) return false;
  const user = await findUserById(ctx.db, tenantId, payload.userId);
  if (!user || user.active) return false;
  await deleteUser(ctx, tenantId, payload.userId, [user.version], {
    trigger: "policy.delete",
    actor: { kind: "system" },
    reason: `deprovisioned ${tenant.settings.deleteGraceDays} days ago`,
  }).catch((err) => {
    // Changed or gone since we looked: the next revocation (if any) schedules its own purge.
    if ((err instanceof ScimError || err instanceof AppError) && [404, 412].includes(err.status)) return;
    throw err;
  });
  return true;
}

/** Register the access capability's jobs. */
export function registerAccessJobs(jobs: JobRegistry): void {
  jobs.define<{ revocationId: string }>({
    name: "revoke-access",
    queue: "urgent",
    maxAttempts: 10,
    handler: async (payload, ctx) => {
      if (ctx.tenantId) await finishRevocation(ctx, ctx.tenantId, payload.revocationId);
    },
  });
  jobs.define<{ userId: string; revocationId: string }>({
    name: "purge-deprovisioned",
    queue: "default",
    maxAttempts: 5,
    handler: async (payload, ctx) => {
      if (ctx.tenantId && (await purgeDeprovisioned(ctx, ctx.tenantId, payload)))
        ctx.logger.info({ userId: payload.userId }, "deprovisioned user deleted after grace period");
    },
  });
}
