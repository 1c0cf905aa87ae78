import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type { ChangeOrigin } from "../directory/changes.js";
import type { StoredEvent } from "../events/store.js";
import type { CatalogJobSpec } from "../jobs/catalog.js";
import { listHeldRoles } from "../roles/store.js";
import { findTenantById } from "../tenants/store.js";
import * as store from "./revocation-store.js";
import type { RevocationRow } from "./revocation-store.js";
import { revokeUserSessions } from "./sessions.js";

/** A revocation begun inside the trigger's transaction, to be recorded once its event has a sequence. */
export type PendingRevocation = Omit<RevocationRow, "triggerEventSeq">;

const DAY_MS = 86_400_000;

/**
 * Step 1 of a revocation, inside the transaction that deactivates or deletes the user: every
 * session and OAuth token dies with the commit, so the very next request with one is refused
 * (no cache, no window). The roles held right now are noted for the receipt and for what
 * reactivation may restore.
 */
export async function beginRevocation(
  trx: Knex.Transaction,
  input: { tenantId: string; userId: string; userName: string; origin: ChangeOrigin; at: string },
): Promise<PendingRevocation> {
  const { tenantId, userId, origin, at } = input;
  const roles = (await listHeldRoles(trx, tenantId, [userId])).map(({ userId: _u, ...role }) => role);
  const revoked = await revokeUserSessions(trx, tenantId, userId, "deprovisioned", at);
  const { trigger, arrivedAt, ...rest } = origin;
  return {
    id: randomUUID(),
    tenantId,
    userId,
    userName: input.userName,
    trigger,
    origin: rest,
    requestedAt: arrivedAt ?? at,
    sessionsRevokedAt: at,
    sessionsRevoked: revoked.sessions,
    tokensRevoked: revoked.tokens,
    roles,
    rolesStrippedAt: null,
    revokedEventSeq: null,
    reactivatedAt: null,
  };
}

/**
 * The jobs a revocation implies, for the trigger's change set (commitChanges enqueues them before
 * the tenant's sequence lock, the lock order of insertJobs): the urgent revoke-access job (roles,
 * `access.revoked`, webhooks) and, when a deactivation falls under the `delete` policy, the
 * user's purge at the end of the grace period.
 */
export async function revocationJobs(
  trx: Knex.Transaction,
  pending: PendingRevocation,
  trigger: "user.deactivated" | "user.deleted",
): Promise<CatalogJobSpec[]> {
  const { tenantId, userId, id } = pending;
  // The job finishes every open receipt of the tenant, so one pending job per tenant covers a
  // burst of deprovisionings (a job per receipt cost a claim and a transaction each, most finding
  // their receipt already done). Held until this commit like every keyed job (insertJobs): run
  // before it, it would miss this receipt.
  const jobs: CatalogJobSpec[] = [
    {
      name: "revoke-access",
      tenantId,
      payload: {},
      dedupeKey: `revoke-access/${tenantId}`,
    },
  ];
  if (trigger === "user.deactivated") {
    const settings = (await findTenantById(trx, tenantId))?.settings;
    if (settings?.deprovisionPolicy === "delete")
      jobs.push(purgeJob(tenantId, userId, id, purgeDue(pending.requestedAt, settings.deleteGraceDays)));
  }
  return jobs;
}

/**
 * Still inside the trigger's transaction, after its events are recorded (with the jobs of
 * revocationJobs): store the receipt, which names the trigger's event.
 */
export async function recordRevocation(
  trx: Knex.Transaction,
  pending: PendingRevocation,
  events: StoredEvent[],
): Promise<void> {
  const trigger = events.find((e) => e.type === "user.deactivated" || e.type === "user.deleted");
  await store.insertRevocation(trx, { ...pending, triggerEventSeq: trigger?.seq ?? null });
}

/** When the `delete` policy removes a user deprovisioned at `requestedAt`. */
export function purgeDue(requestedAt: string, graceDays: number): Date {
  return new Date(new Date(requestedAt).getTime() + graceDays * DAY_MS);
}

/** The purge job of a deprovisioned user (one pending per user; a later schedule replaces none). */
export function purgeJob(tenantId: string, userId: string, revocationId: string, runAt: Date) {
  return {
    name: "purge-deprovisioned" as const,
    tenantId,
    payload: { userId, revocationId },
    dedupeKey: `purge-deprovisioned/${tenantId}/${userId}`,
    runAt,
  };
}

/** Reactivation closes the user's open receipts (old sessions stay dead; roles come back by recomputation). */
export async function closeRevocations(trx: Knex.Transaction, tenantId: string, userId: string, at: string) {
  await store.markReactivated(trx, tenantId, userId, at);
}
