import { ChangeSet, commitChanges } from "../directory/changes.js";
import { findUserById } from "../directory/users-store.js";
import { deleteUser } from "../directory/users.js";
import { AppError, ScimError } from "../http/errors.js";
import { enqueueJobs } from "../jobs/catalog.js";
import type { JobRegistry } from "../jobs/registry.js";
import type { JobContext } from "../jobs/types.js";
import { ensureDefaultRoles } from "../roles/defaults.js";
import { listHeldRoles, lockUsers } from "../roles/store.js";
import { syncBatch } from "../roles/sync.js";
import { findTenantById } from "../tenants/store.js";
import { purgeDue, purgeJob } from "./revocation.js";
import * as store from "./revocation-store.js";

/** Receipts finished per transaction. */
export const REVOKE_BATCH = 100;

/**
 * Step 2 of revocation (urgent queue, ahead of every role recomputation), for every open
 * receipt of a tenant, a batch per transaction: strip the users' roles from current state
 * (`role.revoked` for each), announce `access.revoked` with what was taken (webhooks carry it
 * downstream) and stamp the receipts. One transaction per batch, so a retry after a crash finds
 * a receipt either done or untouched. A user reactivated meanwhile is recomputed like any other
 * (roles that still apply stay, and are not announced as revoked); the announcement still goes
 * out, because the sessions did end. Returns the receipts finished.
 */
export async function finishRevocations(
  ctx: Pick<JobContext, "db" | "now">,
  tenantId: string,
): Promise<number> {
  await ensureDefaultRoles(ctx.db, tenantId, ctx.now());
  let finished = 0;
  for (;;) {
    const open = await store.listOpenRevocations(ctx.db, tenantId, REVOKE_BATCH);
    if (open.length === 0) return finished;
    finished += await ctx.db.transaction(async (trx) => {
      // Lock order users → receipts → tenant, as the SCIM write that reactivates takes them (a
      // receipt locked first deadlocks against it on PostgreSQL).
      await lockUsers(trx, tenantId, [...new Set(open.map((r) => r.userId))]);
      const receipts = await store.lockOpenRevocations(
        trx,
        tenantId,
        open.map((r) => r.id),
      );
      if (receipts.length === 0) return 0;
      const at = ctx.now().toISOString();
      const userIds = [...new Set(receipts.map((r) => r.userId))];
      await syncBatch(trx, tenantId, userIds, at);
      // What was really taken: held when access ended and not held now.
      const still = new Set((await listHeldRoles(trx, tenantId, userIds)).map((h) => `${h.userId}/${h.key}`));
      const changes = new ChangeSet();
      const stripped = receipts.map((r) => r.roles.filter((h) => !still.has(`${r.userId}/${h.key}`)));
      for (const [i, r] of receipts.entries())
        changes.add("access.revoked", {
          userId: r.userId,
          userName: r.userName,
          revocationId: r.id,
          trigger: r.trigger,
          reason: r.origin.reason ?? null,
          requestedAt: r.requestedAt,
          sessionsRevoked: r.sessionsRevoked,
          tokensRevoked: r.tokensRevoked,
          roles: [...new Set(stripped[i].map((h) => h.key))],
        });
      const events = await commitChanges(trx, tenantId, changes, at);
      for (const [i, r] of receipts.entries())
        await store.markRolesStripped(trx, tenantId, r.id, {
          at,
          roles: stripped[i],
          eventSeq: events[i]?.seq ?? null,
        });
      return receipts.length;
    });
  }
}

/**
 * The `delete` policy's end of grace: delete the user if they are still inactive and their
 * latest revocation's grace period has ended (a reactivation keeps them). The latest, not the
 * payload's: a user deactivated, reactivated and deactivated again has one pending purge (the
 * second coalesced into the first), and it must act on the second deactivation.
 */
export async function purgeDeprovisioned(
  ctx: Pick<JobContext, "db" | "now">,
  tenantId: string,
  payload: { userId: string; revocationId: string },
): Promise<boolean> {
  const tenant = await findTenantById(ctx.db, tenantId);
  if (tenant?.settings.deprovisionPolicy !== "delete") return false;
  const [latest] = await store.listRevocationsOfUser(ctx.db, tenantId, payload.userId, 1);
  if (!latest || latest.reactivatedAt) return false;
  const user = await findUserById(ctx.db, tenantId, payload.userId);
  if (!user || user.active) return false;
  // The grace period may have grown since this was scheduled: come back when it ends.
  const due = purgeDue(latest.requestedAt, tenant.settings.deleteGraceDays);
  if (due > ctx.now()) {
    const job = purgeJob(tenantId, payload.userId, latest.id, due);
    await ctx.db.transaction((trx) =>
      enqueueJobs(trx, [{ ...job, dedupeKey: `${job.dedupeKey}/later` }], ctx.now()),
    );
    return false;
  }
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

/**
 * After a switch to the `delete` policy (or a new grace period under it): schedule the purge of
 * every user already deprovisioned, at their own deprovisioning time plus the grace period
 * (past due: now). Pending purges scheduled for later stay; each run re-checks everything.
 */
export async function schedulePurges(ctx: Pick<JobContext, "db" | "now">, tenantId: string): Promise<number> {
  const tenant = await findTenantById(ctx.db, tenantId);
  if (tenant?.settings.deprovisionPolicy !== "delete") return 0;
  const grace = tenant.settings.deleteGraceDays;
  let scheduled = 0;
  for (let after = ""; ; ) {
    const page = await store.listLatestRevocationsOfInactiveUsers(ctx.db, tenantId, after, 500);
    if (page.length === 0) return scheduled;
    const jobs = page.map((r) => {
      const job = purgeJob(tenantId, r.userId, r.id, purgeDue(r.requestedAt, grace));
      return { ...job, dedupeKey: `${job.dedupeKey}/grace-${grace}` };
    });
    await ctx.db.transaction((trx) => enqueueJobs(trx, jobs, ctx.now()));
    scheduled += page.length;
    after = page[page.length - 1].id;
  }
}

/** Register the access capability's jobs. */
export function registerAccessJobs(jobs: JobRegistry): void {
  jobs.define<Record<string, never>>({
    name: "revoke-access",
    queue: "urgent",
    maxAttempts: 10,
    handler: async (_payload, ctx) => {
      if (!ctx.tenantId) return;
      const n = await finishRevocations(ctx, ctx.tenantId);
      if (n) ctx.logger.debug({ receipts: n }, "revocations finished");
    },
  });
  jobs.define({
    name: "schedule-purges",
    queue: "default",
    maxAttempts: 5,
    handler: async (_payload, ctx) => {
      if (!ctx.tenantId) return;
      const n = await schedulePurges(ctx, ctx.tenantId);
      if (n) ctx.logger.info({ users: n }, "purges of deprovisioned users scheduled");
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
