import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { beginRevocation, closeRevocations, recordRevocation, revocationJobs } from "../access/revocation.js";
import { writeTransaction } from "../db/write-transaction.js";
import { isRetryableConflict, isUniqueViolation } from "../db/errors.js";
import { type ChangeOrigin, ChangeSet, commitChanges } from "./changes.js";
import { noteCommitted, type Trail } from "../db/trail.js";
import type { StoredEvent } from "../events/store.js";
import { assertVersion, directoryErrors, violatedIndex } from "./errors.js";
import { removeFromAllGroups } from "./groups-store.js";
import * as store from "./users-store.js";
import type { EmailRow, UserRow } from "./users-store.js";

/** What directory use cases need. */
export interface DirectoryDeps {
  db: Knex;
  now: () => Date;
  /** Where a request that keeps a record (the SCIM request log) hears of the events committed. */
  trail?: Trail;
}

/** A user's SCIM document (core attributes at the top, extensions under their URN). */
export type UserDoc = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** The indexed columns a user document implies: names, e-mails, active. */
export function columnsFromDoc(doc: UserDoc) {
  const name = (doc.name ?? {}) as Record<string, unknown>;
  const emails = Array.isArray(doc.emails) ? (doc.emails as Array<Record<string, unknown>>) : [];
  const emailRows: EmailRow[] = emails
    .filter((e) => typeof e?.value === "string" && e.value !== "")
    .map((e) => ({
      valueNorm: String(e.value).toLowerCase(),
      type: str(e.type),
      primary: e.primary === true,
    }));
  const primary = emailRows.find((e) => e.primary) ?? emailRows[0];
  return {
    userName: String(doc.userName),
    externalId: str(doc.externalId),
    active: doc.active !== false,
    displayName: str(doc.displayName),
    givenName: str(name.givenName),
    familyName: str(name.familyName),
    primaryEmail: primary?.valueNorm ?? null,
    emails: emailRows,
  };
}

// RFC 7643 §4.1: `password`, bare or URN-qualified, in any casing (attribute names are
// case-insensitive, RFC 7643 §2.1).
const PASSWORD_KEY = /^(?:urn:ietf:params:scim:schemas:core:2\.0:user:)?password$/i;

/**
 * The document as stored: externalId lives in its column, and a password never lives anywhere.
 * The SCIM layer already drops it (writeOnly); this is the last step before every user write,
 * so no caller can store one by mistake.
 */
function splitDoc(doc: UserDoc): UserDoc {
  const { externalId: _e, ...rest } = doc;
  for (const key of Object.keys(rest)) if (PASSWORD_KEY.test(key)) delete rest[key];
  return rest;
}

function mapUniqueViolation(err: unknown, doc: UserDoc): never {
  if (isUniqueViolation(err)) {
    if (/external_id/.test(violatedIndex(err))) throw directoryErrors.externalIdTaken(String(doc.externalId));
    throw directoryErrors.userNameTaken(String(doc.userName));
  }
  throw err;
}

/** Create a user from a validated document; 409 when userName or externalId is taken. */
export async function createUser(
  deps: DirectoryDeps,
  tenantId: string,
  doc: UserDoc,
  source = "scim",
): Promise<UserRow> {
  const at = deps.now().toISOString();
  const { emails, ...cols } = columnsFromDoc(doc);
  const user: UserRow = {
    id: randomUUID(),
    tenantId,
    ...cols,
    resource: splitDoc(doc),
    version: 1,
    source,
    createdAt: at,
    updatedAt: at,
  };
  let produced: StoredEvent[] = [];
  try {
    await writeTransaction(deps.db, async (trx) => {
      await store.insertUser(trx, user, emails);
      const changes = new ChangeSet().add("user.created", {
        userId: user.id,
        userName: user.userName,
        active: user.active,
        source,
      });
      produced = await commitChanges(trx, tenantId, changes, at);
    });
  } catch (err) {
    mapUniqueViolation(err, doc);
  }
  noteCommitted(deps.trail, produced);
  return user;
}

/** The user's document as the SCIM layer edits it (externalId included). */
export function docOf(user: UserRow): UserDoc {
  return { ...user.resource, ...(user.externalId ? { externalId: user.externalId } : {}) };
}

/**
 * Read-modify-write of one user: `mutate` gets the current document and returns the new one.
 * `ifVersions` (from If-Match) makes a stale write a 412; without it a concurrent writer causes
 * a re-read and retry (as does a PostgreSQL deadlock), so two PATCHes never overwrite each other.
 * Unchanged → no write, no event.
 * Deactivation revokes every session and token in the same transaction (see src/access).
 */
export async function updateUser(
  deps: DirectoryDeps,
  tenantId: string,
  id: string,
  mutate: (doc: UserDoc, current: UserRow) => UserDoc,
  ifVersions?: number[],
  origin: ChangeOrigin = { trigger: "directory" },
): Promise<UserRow> {
  let attempted: UserDoc = {};
  let produced: StoredEvent[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const result = await writeTransaction(deps.db, async (trx) => {
      produced = [];
      const current = await store.findUserById(trx, tenantId, id, true);
      if (!current) throw directoryErrors.userNotFound(id);
      assertVersion(current.version, ifVersions);
      const before = docOf(current);
      const doc = mutate(structuredClone(before), current);
      attempted = doc;
      if (JSON.stringify(doc) === JSON.stringify(before)) return current;
      const at = deps.now().toISOString();
      const { emails, ...cols } = columnsFromDoc(doc);
      const next: UserRow = {
        ...current,
        ...cols,
        resource: splitDoc(doc),
        version: current.version + 1,
        updatedAt: at,
      };
      // The e-mail rows are rewritten only when the addresses changed (not on a deactivation).
      const sameEmails = JSON.stringify(emails) === JSON.stringify(columnsFromDoc(before).emails);
      if (!(await store.updateUser(trx, next, current, sameEmails ? null : emails))) return undefined;
      const deactivated = current.active && !next.active;
      const revocation = deactivated
        ? await beginRevocation(trx, { tenantId, userId: id, userName: next.userName, origin, at })
        : undefined;
      if (!current.active && next.active) await closeRevocations(trx, tenantId, id, at);
      const changes = userChanges(current, next, revocation?.id);
      if (revocation) changes.enqueue(...(await revocationJobs(trx, revocation, "user.deactivated")));
      const events = await commitChanges(trx, tenantId, changes, at);
      if (revocation) await recordRevocation(trx, revocation, events);
      produced = events;
      return next;
    }).catch((err) => {
      // PostgreSQL chose this transaction as a deadlock victim: it rolled back whole, run it again.
      if (isRetryableConflict(err) && attempt < 4) return undefined;
      return mapUniqueViolation(err, attempted);
    });
    if (result) {
      noteCommitted(deps.trail, produced);
      return result;
    }
  }
  throw directoryErrors.conflictRetry();
}

function userChanges(before: UserRow, after: UserRow, revocationId?: string): ChangeSet {
  const changes = new ChangeSet();
  const base = { userId: after.id, userName: after.userName };
  if (before.active && !after.active) changes.add("user.deactivated", { ...base, revocationId });
  if (!before.active && after.active) changes.add("user.reactivated", base);
  const { active: _a, ...restBefore } = { ...before.resource, externalId: before.externalId } as Record<
    string,
    unknown
  >;
  const { active: _b, ...restAfter } = { ...after.resource, externalId: after.externalId } as Record<
    string,
    unknown
  >;
  if (JSON.stringify(restBefore) !== JSON.stringify(restAfter)) changes.add("user.updated", base);
  return changes;
}

/**
 * Delete a user: sessions and tokens revoked (with a receipt), memberships removed (each an
 * event), then the row; 404 when unknown.
 */
export async function deleteUser(
  deps: DirectoryDeps,
  tenantId: string,
  id: string,
  ifVersions?: number[],
  origin: ChangeOrigin = { trigger: "directory" },
): Promise<void> {
  const produced = await writeTransaction(deps.db, async (trx) => {
    const current = await store.findUserById(trx, tenantId, id, true);
    if (!current) throw directoryErrors.userNotFound(id);
    assertVersion(current.version, ifVersions);
    const at = deps.now().toISOString();
    const revocation = await beginRevocation(trx, {
      tenantId,
      userId: id,
      userName: current.userName,
      origin,
      at,
    });
    const changes = new ChangeSet();
    for (const groupId of await removeFromAllGroups(trx, tenantId, id)) {
      changes.add("group.user_removed", { groupId, userId: id });
    }
    await store.deleteUserRow(trx, tenantId, id);
    changes.add("user.deleted", { userId: id, userName: current.userName, revocationId: revocation.id });
    changes.enqueue(...(await revocationJobs(trx, revocation, "user.deleted")));
    const events = await commitChanges(trx, tenantId, changes, at);
    await recordRevocation(trx, revocation, events);
    return events;
  });
  noteCommitted(deps.trail, produced);
}
