import type { Knex } from "knex";
import { recordEvents } from "../events/outbox.js";
import type { Actor } from "./sessions.js";
import { insertAudit } from "./store.js";

/** What recording a console action needs. */
export interface AuditDeps {
  db: Knex;
  now: () => Date;
}

/**
 * Record a console action as an event in the tenant's log (`console.action`: the feed and the
 * webhooks see it like any other), naming the actor by kind and id (an admin key id, a link id,
 * a directory user id) and never a secret. Operator actions that touch no tenant (admin keys, a
 * tenant deleted with its log) go to console_audit instead.
 */
export async function recordConsoleAction(
  deps: AuditDeps,
  input: { actor: Actor; action: string; tenantId: string | null; target?: string; requestId?: string },
): Promise<void> {
  const at = deps.now().toISOString();
  const data = {
    actor: { kind: input.actor.kind, id: input.actor.id },
    action: input.action,
    ...(input.target ? { target: input.target } : {}),
    ...(input.requestId ? { requestId: input.requestId } : {}),
  };
  if (input.tenantId) {
    const tenantId = input.tenantId;
    await deps.db.transaction((trx) => recordEvents(trx, tenantId, [{ type: "console.action", data }], at));
    return;
  }
  await insertAudit(deps.db, {
    at,
    actorKind: input.actor.kind,
    actorId: input.actor.id,
    action: input.action,
    tenantId: null,
    target: input.target ?? null,
    requestId: input.requestId ?? null,
  });
}
