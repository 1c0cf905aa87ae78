import { type Db, dialectOf } from "../db/knex.js";
import { parseJson, toIso } from "../db/rows.js";

/** Who and what asked for a revocation, as kept on its receipt. */
export interface RevocationOrigin {
  requestId?: string;
  actor?: { kind: string; id?: string };
  requestedBy?: string;
  reason?: string;
}

/** A revoked role as the receipt lists it. */
export interface RevokedRole {
  key: string;
  source: string;
  groupId: string | null;
}

/** A stored revocation receipt. */
export interface RevocationRow {
  id: string;
  tenantId: string;
  userId: string;
  userName: string;
  trigger: string;
  origin: RevocationOrigin;
  requestedAt: string;
  sessionsRevokedAt: string;
  sessionsRevoked: number;
  tokensRevoked: number;
  roles: RevokedRole[];
  rolesStrippedAt: string | null;
  triggerEventSeq: number | null;
  revokedEventSeq: number | null;
  reactivatedAt: string | null;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function rowToRevocation(r: any): RevocationRow {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    userId: r.user_id,
    userName: r.user_name,
    trigger: r.trigger,
    origin: parseJson(r.origin, {}),
    requestedAt: toIso(r.requested_at)!,
    sessionsRevokedAt: toIso(r.sessions_revoked_at)!,
    sessionsRevoked: Number(r.sessions_revoked),
    tokensRevoked: Number(r.tokens_revoked),
    roles: parseJson(r.roles, []),
    rolesStrippedAt: toIso(r.roles_stripped_at),
    triggerEventSeq: num(r.trigger_event_seq),
    revokedEventSeq: num(r.revoked_event_seq),
    reactivatedAt: toIso(r.reactivated_at),
  };
}

/** Insert a receipt. */
export async function insertRevocation(db: Db, r: RevocationRow): Promise<void> {
  await db("revocations").insert({
    id: r.id,
    tenant_id: r.tenantId,
    user_id: r.userId,
    user_name: r.userName,
    trigger: r.trigger,
    origin: JSON.stringify(r.origin),
    requested_at: r.requestedAt,
    sessions_revoked_at: r.sessionsRevokedAt,
    sessions_revoked: r.sessionsRevoked,
    tokens_revoked: r.tokensRevoked,
    roles: JSON.stringify(r.roles),
    trigger_event_seq: r.triggerEventSeq,
  });
}

/** Receipts whose roles step has not run yet, oldest first. */
export async function listOpenRevocations(db: Db, tenantId: string, limit: number): Promise<RevocationRow[]> {
  const rows = await db("revocations")
    .where({ tenant_id: tenantId })
    .whereNull("roles_stripped_at")
    .orderBy([
      { column: "requested_at", order: "asc" },
      { column: "id", order: "asc" },
    ])
    .limit(limit);
  return rows.map(rowToRevocation);
}

/** These receipts, still open, locked for the rest of the transaction (PostgreSQL). */
export async function lockOpenRevocations(db: Db, tenantId: string, ids: string[]): Promise<RevocationRow[]> {
  const q = db("revocations")
    .where({ tenant_id: tenantId })
    .whereIn("id", ids)
    .whereNull("roles_stripped_at")
    .orderBy("id");
  if (dialectOf(db) === "pg") q.forUpdate();
  return (await q).map(rowToRevocation);
}

/**
 * The latest receipt of each user the directory still holds inactive (not reactivated since),
 * a page at a time by receipt id: who a switch to the `delete` policy must schedule.
 */
export async function listLatestRevocationsOfInactiveUsers(
  db: Db,
  tenantId: string,
  afterId: string,
  limit: number,
): Promise<Array<{ id: string; userId: string; requestedAt: string }>> {
  const rows = await db("revocations as r")
    .join("users as u", (j) => j.on("u.tenant_id", "=", "r.tenant_id").andOn("u.id", "=", "r.user_id"))
    .where("r.tenant_id", tenantId)
    .andWhere("u.active", false)
    .whereNull("r.reactivated_at")
    .andWhere("r.id", ">", afterId)
    .whereNotExists(
      db("revocations as n").whereRaw(
        "n.tenant_id = r.tenant_id and n.user_id = r.user_id and (n.requested_at > r.requested_at or (n.requested_at = r.requested_at and n.id > r.id))",
      ),
    )
    .orderBy("r.id")
    .limit(limit)
    .select("r.id", "r.user_id", "r.requested_at");
  return rows.map((r: any) => ({ id: r.id, userId: r.user_id, requestedAt: toIso(r.requested_at)! }));
}

/** A user's receipts, newest first. */
export async function listRevocationsOfUser(
  db: Db,
  tenantId: string,
  userId: string,
  limit: number,
): Promise<RevocationRow[]> {
  const rows = await db("revocations")
    .where({ tenant_id: tenantId, user_id: userId })
    .orderBy([
      { column: "requested_at", order: "desc" },
      { column: "id", order: "desc" },
    ])
    .limit(limit);
  return rows.map(rowToRevocation);
}

/** Record that the roles step ran, the roles it really took, and the event that announced it. */
export async function markRolesStripped(
  db: Db,
  tenantId: string,
  id: string,
  step: { at: string; roles: RevokedRole[]; eventSeq: number | null },
): Promise<void> {
  await db("revocations")
    .where({ tenant_id: tenantId, id })
    .update({
      roles_stripped_at: step.at,
      roles: JSON.stringify(step.roles),
      revoked_event_seq: step.eventSeq,
    });
}

/** Close a user's open receipts: they were reactivated. */
export async function markReactivated(db: Db, tenantId: string, userId: string, at: string): Promise<void> {
  await db("revocations")
    .where({ tenant_id: tenantId, user_id: userId })
    .whereNull("reactivated_at")
    .update({ reactivated_at: at });
}

/** Webhook deliveries of these events (the downstream acknowledgements on a receipt). */
export async function listDeliveriesOfEvents(
  db: Db,
  tenantId: string,
  eventSeqs: number[],
): Promise<
  Array<{
    webhookId: string;
    url: string;
    eventSeq: number;
    eventType: string;
    state: string;
    attempts: number;
    lastStatus: number | null;
    deliveredAt: string | null;
  }>
> {
  if (eventSeqs.length === 0) return [];
  // Through the tenant's endpoints, so the (webhook_id, event_seq) unique index serves it.
  const rows = await db("webhook_deliveries as d")
    .join("webhooks as w", "w.id", "d.webhook_id")
    .select(
      "d.webhook_id",
      "w.url",
      "d.event_seq",
      "d.event_type",
      "d.state",
      "d.attempts",
      "d.last_status",
      "d.delivered_at",
    )
    .where("w.tenant_id", tenantId)
    .whereIn("d.event_seq", eventSeqs)
    .orderBy(["d.event_seq", "d.webhook_id"]);
  return rows.map((r: any) => ({
    webhookId: r.webhook_id,
    url: r.url,
    eventSeq: Number(r.event_seq),
    eventType: r.event_type,
    state: r.state,
    attempts: Number(r.attempts),
    lastStatus: r.last_status === null ? null : Number(r.last_status),
    deliveredAt: toIso(r.delivered_at),
  }));
}

/**
 * Retention: delete up to `limit` revocation receipts requested before `before` whose work is
 * done (roles stripped); an open one is still being acted on and stays. Returns how many went.
 */
export async function deleteClosedRevocations(db: Db, before: string, limit: number): Promise<number> {
  const ids = (await db("revocations")
    .where("requested_at", "<", before)
    .whereNotNull("roles_stripped_at")
    .orderBy("requested_at")
    .limit(limit)
    .pluck("id")) as string[];
  if (ids.length === 0) return 0;
  return db("revocations").whereIn("id", ids).delete();
}
