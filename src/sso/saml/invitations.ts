import { randomUUID } from "node:crypto";
import { z } from "zod";
import { isUniqueViolation } from "../../db/errors.js";
import { ChangeSet, commitChanges } from "../../directory/changes.js";
import { directoryErrors } from "../../directory/errors.js";
import { columnsFromDoc } from "../../directory/users.js";
import { insertUser, type UserRow } from "../../directory/users-store.js";
import { parseInput } from "../../http/validate.js";
import { requireTenant } from "../../tenants/use-cases.js";
import type { SsoDeps } from "./connections.js";
import { assignSsoRoles } from "../roles.js";

/** Body of POST /admin/v1/tenants/{slug}/users (an invitation: manual provisioning). */
export const inviteInput = z
  .object({
    userName: z.string().trim().min(1).max(512),
    email: z.string().trim().email().max(512).optional(),
    givenName: z.string().trim().min(1).max(256).optional(),
    familyName: z.string().trim().min(1).max(256).optional(),
    displayName: z.string().trim().min(1).max(512).optional(),
    externalId: z.string().trim().min(1).max(512).optional(),
    roles: z.array(z.string().trim().min(1).max(64)).max(50).optional(),
  })
  .strict();

/**
 * Invite a person before they ever log in: a directory user (source "invite", active) with
 * pre-assigned role keys, one transaction and a `user.created` event. Their first SSO login
 * then finds them by userName or e-mail.
 */
export async function inviteUser(deps: SsoDeps, slug: string, body: unknown) {
  const input = parseInput(inviteInput, body);
  const tenant = await requireTenant(deps, slug);
  const at = deps.now().toISOString();
  const doc: Record<string, unknown> = {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: input.userName,
    active: true,
    ...(input.externalId ? { externalId: input.externalId } : {}),
    ...(input.displayName ? { displayName: input.displayName } : {}),
    ...(input.givenName || input.familyName
      ? { name: { givenName: input.givenName, familyName: input.familyName } }
      : {}),
    ...(input.email ? { emails: [{ value: input.email, type: "work", primary: true }] } : {}),
  };
  const { emails, ...cols } = columnsFromDoc(doc);
  const { externalId: _e, ...resource } = doc;
  const user: UserRow = {
    id: randomUUID(),
    tenantId: tenant.id,
    ...cols,
    resource,
    version: 1,
    source: "invite",
    createdAt: at,
    updatedAt: at,
  };
  const roles = input.roles ?? [tenant.settings.defaultRole];
  try {
    await deps.db.transaction(async (trx) => {
      await insertUser(trx, user, emails);
      await assignSsoRoles(trx, tenant.id, user.id, roles, "invite", at);
      const changes = new ChangeSet().add("user.created", {
        userId: user.id,
        userName: user.userName,
        active: true,
        source: "invite",
        roles,
      });
      await commitChanges(trx, tenant.id, changes, at);
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    throw /external/i.test(String((err as Error).message))
      ? directoryErrors.externalIdTaken(String(input.externalId))
      : directoryErrors.userNameTaken(input.userName);
  }
  return {
    id: user.id,
    userName: user.userName,
    email: user.primaryEmail,
    displayName: user.displayName,
    active: true,
    source: "invite",
    roles: [...new Set(roles)].sort(),
    createdAt: at,
  };
}
