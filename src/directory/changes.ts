import type { Knex } from "knex";
import { recordEvents } from "../events/outbox.js";
import type { NewEvent, StoredEvent } from "../events/store.js";
import type { CatalogJobSpec } from "../jobs/catalog.js";
import type { JobSpec } from "../jobs/types.js";
import { insertPendingRoleSyncs } from "./pending-role-syncs-store.js";

/** What a directory use case changed, recorded with the change in one transaction. */
export class ChangeSet {
  readonly events: NewEvent[] = [];
  /**
   * Further jobs the change implies (a revocation's revoke-access and purge jobs): commitChanges
   * enqueues them with the role syncs and webhook streams in one call, before the tenant's
   * sequence lock (the lock order of insertJobs, src/jobs/store.ts).
   */
  readonly jobs: CatalogJobSpec[] = [];

  /** Note an event (e.g. `user.deactivated`) to record at commit. */
  add(type: string, data: Record<string, unknown>): this {
    this.events.push({ type, data });
    return this;
  }

  /** Note a job to enqueue at commit (see `jobs`). */
  enqueue(...jobs: CatalogJobSpec[]): this {
    this.jobs.push(...jobs);
    return this;
  }
}

/**
 * Who asked for a change and through which door, for the records that must say so (revocation
 * receipts). `arrivedAt` is when the request reached Roster, not when the transaction ran.
 */
export interface ChangeOrigin {
  /** e.g. `scim.patch`, `scim.put`, `scim.delete`, `offboard`, `policy.delete`. */
  trigger: string;
  requestId?: string;
  actor?: { kind: string; id?: string };
  requestedBy?: string;
  reason?: string;
  arrivedAt?: string;
}

/** Payload of the sync-roles jobs: the users to recompute, or a scope that names them. */
export interface SyncRolesPayload {
  users?: string[];
  /** Every user under this group (directly or through nesting). */
  group?: string;
  /** Every user who holds a group-sourced role now (after a group vanished). */
  groupHolders?: boolean;
  /** Every user of the tenant. */
  all?: boolean;
  /** The users noted in pending_role_syncs (created, reactivated), drained in batches. */
  pending?: boolean;
}

type SyncJob = JobSpec & { name: "sync-roles" | "sync-roles-urgent" };

/**
 * Users one multi-user sync job names at most (the roles capability recomputes in batches of
 * this size too): a 100,000-member replace becomes 200 jobs, not one with a 4 MB payload.
 */
export const USERS_PER_SYNC_JOB = 500;

/**
 * The role recomputations an event implies. Grants go to the default queue; anything that can
 * take a role away goes to the urgent queue, so a revocation never waits behind a bulk sync.
 * A change touching one user gets that user's dedupe key, which coalesces pending work per user
 * (a burst of one-member PATCHes → one recompute) and per group scope. A change touching many
 * users (a 100-member PATCH, a group deleted) gets one job naming them all instead of one per
 * user: a job costs an insert, a claim, a transaction and a completion, most of a 100-member
 * PATCH's work. Such a job has no key, so it becomes visible with this commit and needs no hold.
 */
export function roleSyncJobs(tenantId: string, events: NewEvent[]): SyncJob[] {
  const jobs = new Map<string, SyncJob>();
  const users = { urgent: new Set<string>(), default: new Set<string>() };
  const add = (urgent: boolean, scope: string, payload: SyncRolesPayload) => {
    const job = syncJob(tenantId, urgent, payload, scope);
    jobs.set(job.dedupeKey!, job);
  };
  for (const e of events) {
    const userId = typeof e.data.userId === "string" ? e.data.userId : undefined;
    const memberId = typeof e.data.memberId === "string" ? e.data.memberId : undefined;
    const groupId = typeof e.data.groupId === "string" ? e.data.groupId : undefined;
    switch (e.type) {
      // One drain job per tenant for all new users (pendingRoleSyncs notes who): a per-user job
      // cost a claim, a transaction and a completion per created user, most of an initial sync.
      case "user.created":
      case "user.reactivated":
        if (userId) add(false, "pending", { pending: true });
        break;
      case "group.user_added":
      case "role.manual_added":
        if (userId) users.default.add(userId);
        break;
      // user.deactivated: the revoke-access job (src/access) strips the roles and writes the receipt.
      case "group.user_removed":
      case "role.manual_removed":
        if (userId) users.urgent.add(userId);
        break;
      case "group.group_added":
        if (memberId) add(false, `g/${memberId}`, { group: memberId });
        break;
      case "group.group_removed":
        if (memberId) add(true, `g/${memberId}`, { group: memberId });
        break;
      case "role_mapping.created":
        if (groupId) add(false, `g/${groupId}`, { group: groupId });
        break;
      case "role_mapping.deleted":
        if (groupId) add(true, `g/${groupId}`, { group: groupId });
        break;
      // Its nested groups' users lost a path to the mapped ancestors: recheck every group-role holder.
      case "group.deleted":
        add(true, "holders", { groupHolders: true });
        break;
    }
  }
  const out = [...jobs.values()];
  for (const [urgent, set] of [
    [true, users.urgent],
    [false, users.default],
  ] as const) {
    const ids = [...set];
    if (ids.length === 1) out.push(syncJob(tenantId, urgent, { users: ids }, `u/${ids[0]}`));
    else
      for (let i = 0; i < ids.length; i += USERS_PER_SYNC_JOB)
        out.push(syncJob(tenantId, urgent, { users: ids.slice(i, i + USERS_PER_SYNC_JOB) }));
  }
  return out;
}

/**
 * A sync job, keyed by `scope` when given. A pending job with that key must not run before this
 * commit: it would recompute from the state before it and nothing would run again (every create
 * of the tenant shares the drain's key; a user's or group's key is shared by the changes that
 * touch them), so it is held. A job without a key is new and unseen until this commit.
 */
function syncJob(tenantId: string, urgent: boolean, payload: SyncRolesPayload, scope?: string): SyncJob {
  const name = urgent ? "sync-roles-urgent" : "sync-roles";
  if (scope === undefined) return { name, tenantId, payload };
  // A pending job with this key is held until this commit (insertJobs): every create of the
  // tenant shares the drain's key; a user's or group's key is shared by the changes that touch them.
  return { name, tenantId, payload, dedupeKey: `${name}/${tenantId}/${scope}` };
}

/** The users whose roles the tenant's pending drain job must compute (see roleSyncJobs). */
export function pendingRoleSyncs(events: NewEvent[]): string[] {
  const ids = new Set<string>();
  for (const e of events)
    if ((e.type === "user.created" || e.type === "user.reactivated") && typeof e.data.userId === "string")
      ids.add(e.data.userId);
  return [...ids];
}

/**
 * Record a change set inside the caller's transaction: the events (the outbox and the audit
 * log), the role recomputations they imply, the change set's own jobs and the webhook
 * deliveries they trigger commit or vanish with the change itself. Called last so the tenant's
 * event-sequence row lock is held only until commit; every job goes in one enqueue before that
 * lock (the lock order of insertJobs, src/jobs/store.ts): enqueue nothing keyed after this.
 */
export async function commitChanges(
  trx: Knex.Transaction,
  tenantId: string,
  changes: ChangeSet,
  at: string,
): Promise<StoredEvent[]> {
  if (changes.events.length === 0 && changes.jobs.length === 0) return [];
  await insertPendingRoleSyncs(trx, tenantId, pendingRoleSyncs(changes.events), at);
  const jobs = [...roleSyncJobs(tenantId, changes.events), ...changes.jobs];
  return recordEvents(trx, tenantId, changes.events, at, jobs);
}
