import { randomUUID } from "node:crypto";
import type { Db } from "../db/knex.js";
import type { ChangeSet } from "../directory/changes.js";
import { columnsFromDoc } from "../directory/users.js";
import { insertUser, type UserRow } from "../directory/users-store.js";
import { normaliseDomain } from "../domains/names.js";
import { listVerifiedDomains } from "../domains/store.js";
import * as gateStore from "./gate-store.js";
import { assignSsoRoles } from "./roles.js";

/** What the identity provider says about the person (a SAML assertion or an id_token), through the connection's mapping. */
export interface Claims {
  /** SAML NameID; for OpenID Connect, the login name the preset reads (e-mail or preferred_username). */
  nameId: string;
  nameIdFormat: string | null;
  sessionIndex: string | null;
  email: string | null;
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
  groups: string[];
  immutableId: string | null;
  attributes: Record<string, unknown>;
  /** The provider said the groups exist but did not send them (Entra's groups overage): JIT joins none. */
  groupsUnknown?: boolean;
}

/** What the gate reads of a connection's settings (SAML and OpenID Connect alike). */
export interface GateSettings {
  provisioning: "jit" | "manual";
  /** Directory matching: immutable id attribute (when mapped and sent) first, then these. */
  matching: { userName: boolean; email: boolean; idField: "externalId" | "id" };
}

/** The directory's answer for a person. */
export type GateResult =
  | { kind: "found"; user: UserRow; matchedBy: string }
  | { kind: "ambiguous"; matchedBy: string }
  | { kind: "unknown" };

function one(users: UserRow[], matchedBy: string): GateResult | undefined {
  if (users.length === 1) return { kind: "found", user: users[0], matchedBy };
  if (users.length > 1) return { kind: "ambiguous", matchedBy };
  return undefined;
}

/**
 * Find the person in the tenant's directory by the matching rule: the immutable id attribute
 * when mapped and sent (and then only it: DESIGN "identity links use immutable ids"), else
 * NameID against userName, then the e-mail (attribute or NameID) against primary e-mails,
 * case-insensitively.
 */
export async function findDirectoryUser(
  db: Db,
  tenantId: string,
  claims: Claims,
  settings: GateSettings,
): Promise<GateResult> {
  if (claims.immutableId) {
    const users = await gateStore.usersByImmutableId(
      db,
      tenantId,
      settings.matching.idField,
      claims.immutableId,
    );
    const r = one(users, `immutableId:${settings.matching.idField}`);
    if (r) return r;
  }
  if (settings.matching.userName) {
    const r = one(await gateStore.usersByUserName(db, tenantId, claims.nameId), "userName");
    if (r) return r;
  }
  if (settings.matching.email) {
    for (const email of new Set([claims.email, claims.nameId.includes("@") ? claims.nameId : null])) {
      if (!email) continue;
      const r = one(await gateStore.usersByPrimaryEmail(db, tenantId, email), "primaryEmail");
      if (r) return r;
    }
  }
  return { kind: "unknown" };
}

/** The domain of an e-mail claim, normalised like a claimed domain (IDNA, lower case). */
function emailDomain(email: string | null): string | undefined {
  const at = email?.lastIndexOf("@") ?? -1;
  return email && at > 0 ? normaliseDomain(email.slice(at + 1)) : undefined;
}

/**
 * Whether just-in-time creation may create this person (issue 16): once the tenant has a
 * verified domain, only for an e-mail in one of them. An IdP (or a misconfigured one) asserting
 * someone@other-company.com must not mint users outside what the tenant proved it owns; people
 * from other domains come in through the directory (SCIM) or an invitation, which the gate finds
 * before this point. A tenant without verified domains keeps its JIT as configured.
 */
export async function jitDomainProblem(db: Db, tenantId: string, claims: Claims) {
  const verified = await listVerifiedDomains(db, tenantId);
  if (verified.length === 0) return undefined;
  const domain = emailDomain(claims.email);
  if (domain && verified.includes(domain)) return undefined;
  return { email: claims.email, verifiedDomains: verified };
}

/**
 * Just-in-time creation in the caller's transaction: a directory user (source "jit") from the
 * claims, the tenant's default role, and memberships in the tenant's existing groups the
 * assertion names (groups are never created from an assertion).
 */
export async function createJitUser(
  trx: Db,
  tenantId: string,
  claims: Claims,
  defaultRole: string,
  changes: ChangeSet,
  at: string,
): Promise<UserRow> {
  const doc: Record<string, unknown> = {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: claims.nameId,
    active: true,
    ...(claims.displayName ? { displayName: claims.displayName } : {}),
    ...(claims.givenName || claims.familyName
      ? {
          name: {
            ...(claims.givenName ? { givenName: claims.givenName } : {}),
            ...(claims.familyName ? { familyName: claims.familyName } : {}),
          },
        }
      : {}),
    ...(claims.email ? { emails: [{ value: claims.email, type: "work", primary: true }] } : {}),
  };
  const { emails, ...cols } = columnsFromDoc(doc);
  const { externalId: _e, ...resource } = doc;
  const user: UserRow = {
    id: randomUUID(),
    tenantId,
    ...cols,
    resource,
    version: 1,
    source: "jit",
    createdAt: at,
    updatedAt: at,
  };
  await insertUser(trx, user, emails);
  changes.add("user.created", { userId: user.id, userName: user.userName, active: true, source: "jit" });
  await assignSsoRoles(trx, tenantId, user.id, [defaultRole], "jit", at);
  const groupIds = await gateStore.groupsByNamesOrExternalIds(trx, tenantId, claims.groups);
  for (const groupId of await gateStore.addMemberships(trx, tenantId, user.id, groupIds))
    changes.add("group.user_added", { groupId, userId: user.id, source: "jit" });
  return user;
}
