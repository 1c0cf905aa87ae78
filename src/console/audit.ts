import type { Knex } from "knex";
import { summariseChanges } from "../audit/changes.js";
import { recordAudit } from "../audit/record.js";
import type { AuditActor } from "../audit/store.js";
import { findUserById } from "../directory/users-store.js";
import { recordEvents } from "../events/outbox.js";
import { findTenantById } from "../tenants/store.js";
import type { Request, Response } from "express";
import { consoleContext, consoleTenant } from "./http.js";
import type { Actor } from "./sessions.js";
import { adminKeyName, findLinkById, insertAudit } from "./store.js";

/** What recording a console action needs. */
export interface AuditDeps {
  db: Knex;
  now: () => Date;
}

/** What a console action says happened, and where the request came from. */
export interface ConsoleActionInput {
  actor: Actor;
  action: string;
  tenantId: string | null;
  target?: string;
  requestId?: string;
  /** The request's source address (req.ip). */
  ip?: string;
  /** The submitted form: its fields become the audit entry's changes, secrets masked. */
  form?: unknown;
}

/**
 * Form fields that are not what the action changed: the CSRF token (derived from the session's
 * secret), the typed confirmation, a link's secret. Anything else secret-looking (client secret,
 * URLs, tokens) is masked by summariseChanges as for the admin API.
 */
const NOT_CHANGES = new Set(["_csrf", "confirm", "token"]);

/**
 * Record a console action (issue 18: the console is a door like the admin API and the CLI):
 *  - in the audit log, hash-chained, as `console.<action>` in the tenant's chain (the operator's
 *    for actions outside any tenant), with the actor resolved to the audit log's kinds;
 *  - as an event in the tenant's log (`console.action`: the feed and the webhooks see it like any
 *    other), naming the actor by kind and id (an admin key id, a link id, a directory user id)
 *    and never a secret. Operator actions that touch no tenant (admin keys, a tenant deleted with
 *    its log) go to console_audit instead.
 */
export async function recordConsoleAction(deps: AuditDeps, input: ConsoleActionInput): Promise<void> {
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
  } else {
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
  await recordAudit(deps, await auditEntryOf(deps, input, at));
}

async function auditEntryOf(deps: AuditDeps, input: ConsoleActionInput, at: string) {
  const tenant = input.tenantId ? await findTenantById(deps.db, input.tenantId) : undefined;
  const action = input.action.startsWith("console.") ? input.action : `console.${input.action}`;
  const form =
    input.form && typeof input.form === "object" && !Array.isArray(input.form)
      ? Object.fromEntries(Object.entries(input.form).filter(([k]) => !NOT_CHANGES.has(k)))
      : undefined;
  return {
    tenantId: input.tenantId,
    tenantSlug: tenant?.slug ?? null,
    at,
    actor: await auditActorOf(deps, input.actor, input.tenantId),
    action: action.slice(0, 64),
    // `scim.token.revoke` → `scim.token`: what the target id names.
    targetType: input.target ? input.action.split(".").slice(0, -1).join(".") || input.action : null,
    targetId: input.target ? input.target.slice(0, 200) : null,
    changes: summariseChanges(undefined, form),
    sourceIp: input.ip ? input.ip.slice(0, 64) : null,
    requestId: input.requestId ?? null,
  };
}

/**
 * A console actor as the audit log names actors: a setup link by its id; a directory user as
 * `console_user` with their id and userName; an operator by the credential it signed in with,
 * like the admin API (`admin_key` id and name, `admin_token`), or, signed in with a
 * `console:link` URL, as `cli` with the link's id (the CLI on the server minted it).
 */
export async function auditActorOf(
  deps: AuditDeps,
  actor: Actor,
  tenantId: string | null,
): Promise<AuditActor> {
  if (actor.kind === "setup_link") return { kind: "setup_link", id: actor.id, name: null };
  if (actor.kind === "directory_user") {
    const user = tenantId ? await findUserById(deps.db, tenantId, actor.id) : undefined;
    return { kind: "console_user", id: actor.id, name: user?.userName ?? null };
  }
  if (actor.id === "admin_token") return { kind: "admin_token", id: null, name: "ROSTER_ADMIN_TOKEN" };
  const keyName = await adminKeyName(deps.db, actor.id);
  if (keyName !== undefined) return { kind: "admin_key", id: actor.id, name: keyName };
  if (await findLinkById(deps.db, actor.id)) return { kind: "cli", id: actor.id, name: "console:link" };
  return { kind: "admin_key", id: actor.id, name: null };
}

/**
 * The recorder a tenant page's actions share: `(req, res, action, target)` records the action
 * of this request's actor on the page's tenant, with its request id, address and form fields.
 */
export function tenantActionRecorder(deps: AuditDeps) {
  return (req: Request, res: Response, action: string, target: string) =>
    recordConsoleAction(deps, {
      actor: consoleContext(res).actor,
      action,
      tenantId: consoleTenant(res).id,
      target,
      requestId: req.id,
      ip: req.ip,
      form: req.body,
    });
}
