import type { Knex } from "knex";
import { ChangeSet, commitChanges } from "../directory/changes.js";
import { deletePendingRoleSyncs, listPendingRoleSyncs } from "../directory/pending-role-syncs-store.js";
import type { CatalogJobSpec } from "../jobs/catalog.js";
import { findTenantById } from "../tenants/store.js";
import { ensureDefaultRoles } from "./defaults.js";
import { effectiveRoles, roleIdsOf, rowKey } from "./rules.js";
import * as store from "./store.js";
import type { UserRoleRow } from "./store.js";

/** Users recomputed per transaction: set-based, so 50,000 users are ~100 short transactions. */
export const SYNC_BATCH = 500;

/** What a recomputation changed. */
export interface SyncResult {
  users: number;
  assigned: number;
  revoked: number;
}

/**
 * Recompute the effective roles of these users from current state and store them, in one
 * transaction per batch. Idempotent: a second run finds nothing to change and records nothing.
 * `role.assigned`/`role.revoked` are recorded only for roles a user really gained or lost.
 */
export async function syncUserRoles(
  deps: { db: Knex; now: () => Date },
  tenantId: string,
  userIds: string[],
): Promise<SyncResult> {
  const total: SyncResult = { users: 0, assigned: 0, revoked: 0 };
  const unique = [...new Set(userIds)];
  await ensureDefaultRoles(deps.db, tenantId, deps.now());
  for (let i = 0; i < unique.length; i += SYNC_BATCH) {
    const r = await deps.db.transaction((trx) =>
      syncBatch(trx, tenantId, unique.slice(i, i + SYNC_BATCH), deps.now().toISOString()),
    );
    total.users += r.users;
    total.assigned += r.assigned;
    total.revoked += r.revoked;
  }
  return total;
}

/**
 * Compute the roles of up to SYNC_BATCH users noted in pending_role_syncs and forget them, in
 * one transaction. A full batch means more may be waiting: the `more` jobs are then enqueued in
 * the same transaction (the next batch), so a crash cannot strand noted users without a job.
 * Safe against a concurrent reactivation: syncBatch locks the user rows, so a change either
 * commits before the recompute reads it or notes the user again after this batch committed.
 */
export async function drainPendingRoleSyncs(
  deps: { db: Knex; now: () => Date },
  tenantId: string,
  more: CatalogJobSpec[],
): Promise<SyncResult> {
  await ensureDefaultRoles(deps.db, tenantId, deps.now());
  return deps.db.transaction(async (trx) => {
    const ids = await listPendingRoleSyncs(trx, tenantId, SYNC_BATCH);
    if (ids.length === 0) return { users: 0, assigned: 0, revoked: 0 };
    const full = ids.length === SYNC_BATCH;
    const r = await syncBatch(trx, tenantId, ids, deps.now().toISOString(), full ? more : []);
    await deletePendingRoleSyncs(trx, tenantId, ids);
    return r;
  });
}

/** Recompute these users' roles inside the caller's transaction (the revoke-access job's step 2). */
export async function syncBatch(
  trx: Knex.Transaction,
  tenantId: string,
  userIds: string[],
  at: string,
  jobs: CatalogJobSpec[] = [],
): Promise<SyncResult> {
  const tenant = await findTenantById(trx, tenantId);
  if (!tenant) return { users: 0, assigned: 0, revoked: 0 };
  const users = await store.lockUsers(trx, tenantId, userIds);
  const ids = users.map((u) => u.id);
  const inactive = users.filter((u) => !u.active).map((u) => u.id);
  if (inactive.length && !tenant.settings.restoreManualRolesOnReactivation)
    await store.deleteManualRolesOfUsers(trx, tenantId, inactive);
  const desired = await desiredRows(trx, tenantId, users, tenant.settings.defaultRole);
  const current = await store.listUserRoleRows(trx, tenantId, ids);
  const wanted = new Set(desired.map(rowKey));
  const have = new Set(current.map(rowKey));
  await store.deleteUserRoleRows(
    trx,
    tenantId,
    current.filter((r) => !wanted.has(rowKey(r))),
  );
  await store.insertUserRoleRows(
    trx,
    tenantId,
    desired.filter((r) => !have.has(rowKey(r))),
    at,
  );
  // Enqueued with the batch's events: one call, before the tenant's sequence lock (insertJobs).
  const changes = (await roleEvents(trx, tenantId, current, desired)).enqueue(...jobs);
  await commitChanges(trx, tenantId, changes, at);
  const assigned = changes.events.filter((e) => e.type === "role.assigned").length;
  return { users: users.length, assigned, revoked: changes.events.length - assigned };
}

/** The rows each user should hold now. */
async function desiredRows(
  trx: Knex.Transaction,
  tenantId: string,
  users: Array<{ id: string; active: boolean }>,
  defaultRoleKey: string,
): Promise<UserRoleRow[]> {
  const activeIds = users.filter((u) => u.active).map((u) => u.id);
  const grants = groupBy(await store.listGroupGrants(trx, tenantId, activeIds), (g) => g.userId);
  const manual = groupBy(await store.listManualRoles(trx, tenantId, activeIds), (m) => m.userId);
  const defaultRoleId = (await store.findRoleByKey(trx, tenantId, defaultRoleKey))?.id;
  return users.flatMap((u) =>
    effectiveRoles({
      userId: u.id,
      active: u.active,
      groupGrants: grants.get(u.id) ?? [],
      manualRoleIds: (manual.get(u.id) ?? []).map((m) => m.roleId),
      defaultRoleId,
    }),
  );
}

/** role.assigned / role.revoked for each role a user gained or lost (reasons changing alone is no event). */
async function roleEvents(
  trx: Knex.Transaction,
  tenantId: string,
  before: UserRoleRow[],
  after: UserRoleRow[],
): Promise<ChangeSet> {
  const changes = new ChangeSet();
  const beforeBy = groupBy(before, (r) => r.userId);
  const afterBy = groupBy(after, (r) => r.userId);
  const userIds = [...new Set([...beforeBy.keys(), ...afterBy.keys()])].sort();
  let keys: Map<string, string> | undefined;
  const keyOf = async (roleId: string) => {
    keys ??= new Map((await store.listRoles(trx, tenantId)).map((r) => [r.id, r.key]));
    return keys.get(roleId) ?? roleId;
  };
  for (const userId of userIds) {
    const was = roleIdsOf(beforeBy.get(userId) ?? []);
    const now = afterBy.get(userId) ?? [];
    const is = roleIdsOf(now);
    for (const roleId of is) {
      if (was.has(roleId)) continue;
      const source = now.find((r) => r.roleId === roleId)!.source;
      changes.add("role.assigned", { userId, role: await keyOf(roleId), roleId, source });
    }
    for (const roleId of was) {
      if (!is.has(roleId)) changes.add("role.revoked", { userId, role: await keyOf(roleId), roleId });
    }
  }
  return changes;
}

function groupBy<T>(list: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of list) {
    const k = key(item);
    const arr = out.get(k);
    if (arr) arr.push(item);
    else out.set(k, [item]);
  }
  return out;
}
