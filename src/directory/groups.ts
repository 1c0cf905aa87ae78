import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { isUniqueViolation } from "../db/errors.js";
import { noteCommitted } from "../db/trail.js";
import type { StoredEvent } from "../events/store.js";
import { writeTransaction } from "../db/write-transaction.js";
import { ChangeSet, commitChanges } from "./changes.js";
import { assertVersion, directoryErrors, violatedIndex } from "./errors.js";
import { assertGroupFits } from "./limits.js";
import * as store from "./groups-store.js";
import type { GroupRow, MemberRow } from "./groups-store.js";
import { existingUserIds } from "./users-store.js";
import type { DirectoryDeps } from "./users.js";

/** A group's editable attributes (members travel separately, as set operations). */
export interface GroupDoc {
  displayName: string;
  externalId?: string | null;
  [key: string]: unknown;
}

/** A member reference as the IdP sends it. */
export interface MemberRef {
  value: string;
  type?: "User" | "Group";
}

/** Membership changes to apply: cost ∝ the number of changes, never ∝ the group's size. */
export interface MemberDelta {
  add?: MemberRef[];
  remove?: string[];
  removeAll?: boolean;
  /** Replace the whole set (PUT, or PATCH replace members). */
  replace?: MemberRef[];
}

function mapUniqueViolation(err: unknown, doc: Partial<GroupDoc>): never {
  if (isUniqueViolation(err)) {
    if (/external_id/.test(violatedIndex(err))) throw directoryErrors.externalIdTaken(String(doc.externalId));
    throw directoryErrors.groupNameTaken(String(doc.displayName));
  }
  throw err;
}

function rowFields(doc: GroupDoc) {
  const { displayName, externalId, members: _m, ...resource } = doc;
  return { displayName, externalId: externalId ?? null, resource };
}

/** Resolve member refs to typed rows in this tenant; 400 naming the ids that are not here. */
async function resolveMembers(
  trx: Knex.Transaction,
  tenantId: string,
  refs: MemberRef[],
): Promise<MemberRow[]> {
  const ids = [...new Set(refs.map((r) => r.value))];
  if (ids.length === 0) return [];
  const users = await existingUserIds(trx, tenantId, ids);
  const rest = ids.filter((id) => !users.has(id));
  const groups = rest.length ? await store.existingGroupIds(trx, tenantId, rest) : new Set<string>();
  const unknown = rest.filter((id) => !groups.has(id));
  if (unknown.length) throw directoryErrors.unknownMembers(unknown);
  return ids.map((id) => ({ memberId: id, memberType: users.has(id) ? "User" : "Group" }));
}

/** Add members, refusing nested groups that would close a cycle; records one event per user added. */
async function addResolved(
  trx: Knex.Transaction,
  tenantId: string,
  groupId: string,
  members: MemberRow[],
  changes: ChangeSet,
) {
  for (const m of members) {
    if (m.memberType === "Group" && (await store.wouldCreateCycle(trx, tenantId, groupId, m.memberId))) {
      throw directoryErrors.cycle(m.memberId);
    }
  }
  const types = new Map(members.map((m) => [m.memberId, m.memberType]));
  for (const id of await store.addMembers(trx, tenantId, groupId, members)) {
    changes.add(types.get(id) === "User" ? "group.user_added" : "group.group_added", {
      groupId,
      memberId: id,
      ...(types.get(id) === "User" ? { userId: id } : {}),
    });
  }
}

async function removeIds(
  trx: Knex.Transaction,
  tenantId: string,
  groupId: string,
  ids: string[],
  changes: ChangeSet,
) {
  if (ids.length === 0) return;
  const types = new Map(
    (await store.listMembersByIds(trx, tenantId, groupId, ids)).map((m) => [m.memberId, m.memberType]),
  );
  for (const id of await store.removeMembers(trx, tenantId, groupId, ids)) {
    changes.add(types.get(id) === "Group" ? "group.group_removed" : "group.user_removed", {
      groupId,
      memberId: id,
      ...(types.get(id) === "Group" ? {} : { userId: id }),
    });
  }
}

/** Apply a member delta inside a transaction; returns whether anything changed. */
async function applyDelta(
  trx: Knex.Transaction,
  tenantId: string,
  groupId: string,
  delta: MemberDelta,
  changes: ChangeSet,
) {
  const before = changes.events.length;
  if (delta.replace) {
    const wanted = await resolveMembers(trx, tenantId, delta.replace);
    const wantedIds = new Set(wanted.map((m) => m.memberId));
    const current = await store.listMembers(trx, tenantId, groupId);
    const currentIds = new Set(current.map((m) => m.memberId));
    await removeIds(
      trx,
      tenantId,
      groupId,
      [...currentIds].filter((id) => !wantedIds.has(id)),
      changes,
    );
    await addResolved(
      trx,
      tenantId,
      groupId,
      wanted.filter((m) => !currentIds.has(m.memberId)),
      changes,
    );
  }
  if (delta.removeAll) {
    const current = await store.listMembers(trx, tenantId, groupId);
    await removeIds(
      trx,
      tenantId,
      groupId,
      current.map((m) => m.memberId),
      changes,
    );
  }
  if (delta.remove?.length) await removeIds(trx, tenantId, groupId, [...new Set(delta.remove)], changes);
  if (delta.add?.length)
    await addResolved(trx, tenantId, groupId, await resolveMembers(trx, tenantId, delta.add), changes);
  return changes.events.length > before;
}

/** Create a group with its members; 409 when the name (case-insensitively) or externalId is taken. */
export async function createGroup(
  deps: DirectoryDeps,
  tenantId: string,
  doc: GroupDoc,
  members: MemberRef[],
): Promise<GroupRow> {
  const at = deps.now().toISOString();
  const group: GroupRow = {
    id: randomUUID(),
    tenantId,
    ...rowFields(doc),
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
  assertGroupFits(group);
  let produced: StoredEvent[] = [];
  try {
    await writeTransaction(deps.db, async (trx) => {
      await store.insertGroup(trx, group);
      const changes = new ChangeSet().add("group.created", {
        groupId: group.id,
        displayName: group.displayName,
      });
      await applyDelta(trx, tenantId, group.id, { add: members }, changes);
      produced = await commitChanges(trx, tenantId, changes, at);
    });
  } catch (err) {
    mapUniqueViolation(err, doc);
  }
  noteCommitted(deps.trail, produced);
  return group;
}

/**
 * Update a group: `mutate` edits its attributes (optional), `delta` its members. One
 * transaction, all or nothing; the version moves once. `ifVersion` (If-Match) → 412 when stale.
 */
export async function updateGroup(
  deps: DirectoryDeps,
  tenantId: string,
  id: string,
  change: { mutate?: (doc: GroupDoc) => GroupDoc; delta?: MemberDelta },
  ifVersions?: number[],
): Promise<GroupRow> {
  let attempted: Partial<GroupDoc> = {};
  let produced: StoredEvent[] = [];
  try {
    const result = await writeTransaction(deps.db, async (trx) => {
      const current = await store.findGroupById(trx, tenantId, id, true);
      if (!current) throw directoryErrors.groupNotFound(id);
      assertVersion(current.version, ifVersions);
      const at = deps.now().toISOString();
      const changes = new ChangeSet();
      const before = groupDoc(current);
      const doc = change.mutate ? change.mutate(structuredClone(before)) : before;
      attempted = doc;
      assertGroupFits(rowFields(doc), current);
      const attrsChanged = JSON.stringify(doc) !== JSON.stringify(before);
      const membersChanged = change.delta
        ? await applyDelta(trx, tenantId, id, change.delta, changes)
        : false;
      if (!attrsChanged && !membersChanged) return current;
      const next: GroupRow = { ...current, ...rowFields(doc), version: current.version + 1, updatedAt: at };
      // The row is locked by this transaction's write; a concurrent writer waits, then re-checks its version.
      if (!(await store.updateGroup(trx, next, current.version))) throw directoryErrors.conflictRetry();
      if (attrsChanged)
        changes.events.unshift({
          type: "group.updated",
          data: { groupId: id, displayName: next.displayName },
        });
      produced = await commitChanges(trx, tenantId, changes, at);
      return next;
    });
    noteCommitted(deps.trail, produced);
    return result;
  } catch (err) {
    mapUniqueViolation(err, attempted);
  }
}

/** The group's editable document. */
export function groupDoc(g: GroupRow): GroupDoc {
  return { ...g.resource, displayName: g.displayName, ...(g.externalId ? { externalId: g.externalId } : {}) };
}

/** Delete a group: it leaves the groups it was nested in, its memberships go with it. */
export async function deleteGroup(
  deps: DirectoryDeps,
  tenantId: string,
  id: string,
  ifVersions?: number[],
): Promise<void> {
  const produced = await writeTransaction(deps.db, async (trx) => {
    const current = await store.findGroupById(trx, tenantId, id, true);
    if (!current) throw directoryErrors.groupNotFound(id);
    assertVersion(current.version, ifVersions);
    const at = deps.now().toISOString();
    const changes = new ChangeSet();
    const members = await store.listMembers(trx, tenantId, id);
    for (const m of members) {
      if (m.memberType === "User")
        changes.add("group.user_removed", { groupId: id, memberId: m.memberId, userId: m.memberId });
    }
    await store.removeFromAllGroups(trx, tenantId, id);
    await store.deleteGroupRow(trx, tenantId, id);
    changes.add("group.deleted", { groupId: id, displayName: current.displayName });
    return commitChanges(trx, tenantId, changes, at);
  });
  noteCommitted(deps.trail, produced);
}
