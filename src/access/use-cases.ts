import type { Knex } from "knex";
import { z } from "zod";
import { type ChangeOrigin, ChangeSet, commitChanges } from "../directory/changes.js";
import { directoryErrors } from "../directory/errors.js";
import { findUserById, findUserIdByRef } from "../directory/users-store.js";
import { updateUser } from "../directory/users.js";
import { AppError } from "../http/errors.js";
import { parseInput } from "../http/validate.js";
import { requireTenant } from "../tenants/use-cases.js";
import * as revocations from "./revocation-store.js";
import type { RevocationRow } from "./revocation-store.js";
import * as sessions from "./sessions-store.js";
import type { SessionRow } from "./sessions-store.js";

/** What the access use cases need. */
export interface AccessDeps {
  db: Knex;
  now: () => Date;
}

/** The request behind an admin action: id, credential and arrival, for receipts and events. */
export type AdminOrigin = Required<Pick<ChangeOrigin, "requestId" | "actor" | "arrivedAt">>;

// ---------------------------------------------------------------- receipts

/** A receipt as the admin API shows it: every step with its time, and the total. */
export async function publicRevocations(db: Knex, tenantId: string, rows: RevocationRow[]) {
  const seqs = rows
    .flatMap((r) => [r.triggerEventSeq, r.revokedEventSeq])
    .filter((s): s is number => s !== null);
  const deliveries = await revocations.listDeliveriesOfEvents(db, tenantId, seqs);
  return rows.map((r) => {
    const webhooks = deliveries
      .filter((d) => d.eventSeq === r.triggerEventSeq || d.eventSeq === r.revokedEventSeq)
      .map((d) => ({
        webhookId: d.webhookId,
        url: d.url,
        event: d.eventType,
        state: d.state,
        attempts: d.attempts,
        lastStatus: d.lastStatus,
        acknowledgedAt: d.state === "delivered" ? d.deliveredAt : null,
      }));
    const pending = !r.rolesStrippedAt || webhooks.some((w) => w.state === "pending");
    const failed = webhooks.some((w) => w.state === "failed");
    const stamps = [r.sessionsRevokedAt, r.rolesStrippedAt, ...webhooks.map((w) => w.acknowledgedAt)].filter(
      (t): t is string => t !== null,
    );
    const completedAt = pending ? null : stamps.sort().at(-1)!;
    return {
      id: r.id,
      userId: r.userId,
      userName: r.userName,
      trigger: r.trigger,
      requestId: r.origin.requestId ?? null,
      actor: r.origin.actor ?? null,
      requestedBy: r.origin.requestedBy ?? null,
      reason: r.origin.reason ?? null,
      status: pending ? "in_progress" : failed ? "incomplete" : "complete",
      requestedAt: r.requestedAt,
      sessionsRevokedAt: r.sessionsRevokedAt,
      sessionsRevoked: r.sessionsRevoked,
      tokensRevoked: r.tokensRevoked,
      roles: r.roles,
      rolesStrippedAt: r.rolesStrippedAt,
      webhooks,
      reactivatedAt: r.reactivatedAt,
      completedAt,
      totalMs: completedAt ? new Date(completedAt).getTime() - new Date(r.requestedAt).getTime() : null,
    };
  });
}

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict();

/** GET …/users/{id}/revocations: the user's receipts, newest first (they outlive a deleted user). */
export async function listUserRevocations(deps: AccessDeps, slug: string, userId: string, query: unknown) {
  const q = parseInput(listQuery, query, "query");
  const tenant = await requireTenant(deps, slug);
  const rows = await revocations.listRevocationsOfUser(deps.db, tenant.id, userId, q.limit);
  if (rows.length === 0 && !(await findUserById(deps.db, tenant.id, userId)))
    throw directoryErrors.userNotFound(userId);
  return { revocations: await publicRevocations(deps.db, tenant.id, rows) };
}

// ---------------------------------------------------------------- offboarding

const offboardQuery = z.object({ by: z.enum(["id", "userName", "externalId"]).default("id") }).strict();
const offboardBody = z
  .object({
    reason: z.string().trim().min(1).max(500).optional(),
    requestedBy: z.string().trim().min(1).max(256).optional(),
  })
  .strict();

/**
 * POST …/users/{ref}/offboard: deactivate the user with everything a deprovisioning does
 * (sessions and tokens dead in this transaction, roles stripped by the urgent job, webhooks,
 * a receipt). `?by=userName|externalId` lets an HR workflow that only knows an e-mail call it.
 * Idempotent: an inactive user answers `already_offboarded` with the latest receipt.
 */
export async function offboardUser(
  deps: AccessDeps,
  slug: string,
  ref: string,
  query: unknown,
  body: unknown,
  origin: AdminOrigin,
) {
  const { by } = parseInput(offboardQuery, query, "query");
  const input = parseInput(offboardBody, body);
  const tenant = await requireTenant(deps, slug);
  const userId = by === "id" ? ref : await findUserIdByRef(deps.db, tenant.id, by, ref);
  const user = userId ? await findUserById(deps.db, tenant.id, userId) : undefined;
  if (!user) throw new AppError(404, "USER_NOT_FOUND", `No user with ${by} '${ref}' in tenant '${slug}'`);
  if (user.active) {
    await updateUser(deps, tenant.id, user.id, (doc) => ({ ...doc, active: false }), undefined, {
      ...origin,
      ...input,
      trigger: "offboard",
    });
  }
  const [latest] = await revocations.listRevocationsOfUser(deps.db, tenant.id, user.id, 1);
  const mine = latest?.origin.requestId === origin.requestId && latest.trigger === "offboard";
  return {
    status: mine ? "offboarded" : "already_offboarded",
    userId: user.id,
    userName: user.userName,
    revocation: latest ? (await publicRevocations(deps.db, tenant.id, [latest]))[0] : null,
  };
}

// ---------------------------------------------------------------- sessions

const sessionsQuery = z
  .object({
    userId: z.string().min(1).max(64).optional(),
    state: z.enum(["live", "all"]).default("live"),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z
      .string()
      .regex(/^[^|]{1,40}\|[^|]{1,64}$/, "must be the `next` cursor of a previous page")
      .optional(),
  })
  .strict();

const publicSession = (s: SessionRow, now: Date) => ({
  id: s.id,
  userId: s.userId,
  createdAt: s.createdAt,
  expiresAt: s.expiresAt,
  revokedAt: s.revokedAt,
  revokedReason: s.revokedReason,
  live: !s.revokedAt && new Date(s.expiresAt) > now,
});

/** GET …/sessions: the tenant's sessions, newest first, live ones by default; `next` pages on. */
export async function listTenantSessions(deps: AccessDeps, slug: string, query: unknown) {
  const q = parseInput(sessionsQuery, query, "query");
  const tenant = await requireTenant(deps, slug);
  const now = deps.now();
  const [createdAt, id] = q.cursor?.split("|") ?? [];
  const rows = await sessions.listSessions(deps.db, tenant.id, {
    userId: q.userId,
    live: q.state === "live" ? { at: now.toISOString() } : undefined,
    limit: q.limit,
    before: createdAt && id ? { createdAt, id } : undefined,
  });
  const last = rows.at(-1);
  return {
    sessions: rows.map((s) => publicSession(s, now)),
    next: rows.length === q.limit && last ? `${last.createdAt}|${last.id}` : null,
  };
}

/**
 * DELETE …/sessions/{id}, or DELETE …/sessions?userId=: an admin ends sessions (and the OAuth
 * tokens issued under them) by hand; `session.revoked` records who did it.
 */
export async function revokeSessionsByAdmin(
  deps: AccessDeps,
  slug: string,
  target: { sessionId?: string; userId?: string },
  origin: AdminOrigin,
) {
  const tenant = await requireTenant(deps, slug);
  const at = deps.now().toISOString();
  return deps.db.transaction(async (trx) => {
    let userId = target.userId;
    let counts = { sessions: 0, tokens: 0 };
    if (target.sessionId) {
      const s = await sessions.findSession(trx, tenant.id, target.sessionId);
      if (!s) throw new AppError(404, "SESSION_NOT_FOUND", `Session '${target.sessionId}' not found`);
      userId = s.userId;
      counts = await sessions.revokeSessionRow(trx, tenant.id, s.id, "admin", at);
    } else if (userId) {
      if (!(await findUserById(trx, tenant.id, userId))) throw directoryErrors.userNotFound(userId);
      counts = await sessions.revokeUserSessionRows(trx, tenant.id, userId, "admin", at);
    } else {
      throw new AppError(400, "VALIDATION_FAILED", "Name the sessions to end: /sessions/{id} or ?userId=");
    }
    if (counts.sessions > 0)
      await commitChanges(
        trx,
        tenant.id,
        new ChangeSet().add("session.revoked", {
          userId,
          sessionId: target.sessionId ?? null,
          sessions: counts.sessions,
          reason: "admin",
          actor: origin.actor,
          requestId: origin.requestId,
        }),
        at,
      );
    return { revoked: counts };
  });
}
