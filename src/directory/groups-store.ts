import type { Db } from "../db/knex.js";
import { parseJson, toIso } from "../db/rows.js";
import { findRowById, idsPresent, type PageOptions, queryPage, rowsByIds } from "./table-queries.js";

/** A directory group as stored (members live in group_members). */
export interface GroupRow {
  id: string;
  tenantId: string;
  displayName: string;
  externalId: string | null;
  /** Extra SCIM attributes (none in the core schema today; extension-ready). */
  resource: Record<string, unknown>;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** A membership: a user or a nested group. */
export interface MemberRow {
  memberId: string;
  memberType: "User" | "Group";
}

const GROUP_COLUMNS = [
  "id",
  "tenant_id",
  "display_name",
  "external_id",
  "resource",
  "version",
  "created_at",
  "updated_at",
];

function rowToGroup(r: any): GroupRow {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    displayName: r.display_name,
    externalId: r.external_id ?? null,
    resource: parseJson(r.resource, {}),
    version: Number(r.version),
    createdAt: toIso(r.created_at)!,
    updatedAt: toIso(r.updated_at)!,
  };
}

function groupColumns(g: GroupRow) {
  return {
    display_name: g.displayName,
    display_name_norm: g.displayName.toLowerCase(),
    external_id: g.externalId,
    resource: JSON.stringify(g.resource),
    version: g.version,
    updated_at: g.updatedAt,
  };
}

/** Insert a group row. */
export async function insertGroup(db: Db, g: GroupRow): Promise<void> {
  await db("groups").insert({ id: g.id, tenant_id: g.tenantId, created_at: g.createdAt, ...groupColumns(g) });
}

/** Write a group's new state if its version is still `expectedVersion`; false when it moved on. */
export async function updateGroup(db: Db, g: GroupRow, expectedVersion: number): Promise<boolean> {
  const n = await db("groups")
    .where({ tenant_id: g.tenantId, id: g.id, version: expectedVersion })
    .update(groupColumns(g));
  return n > 0;
}

/** One group of a tenant, or undefined; `lock` holds its row for the rest of the transaction. */
export async function findGroupById(
  db: Db,
  tenantId: string,
  id: string,
  lock = false,
): Promise<GroupRow | undefined> {
  const row = await findRowById(db, "groups", GROUP_COLUMNS, tenantId, id, lock);
  return row ? rowToGroup(row) : undefined;
}

/** Delete a group row (its memberships cascade); returns rows deleted. */
export async function deleteGroupRow(db: Db, tenantId: string, id: string): Promise<number> {
  return db("groups").where({ tenant_id: tenantId, id }).delete();
}

/** Which of these ids are groups of the tenant. */
export async function existingGroupIds(db: Db, tenantId: string, ids: string[]): Promise<Set<string>> {
  return idsPresent(db, "groups", tenantId, ids);
}

/** Display names of groups by id. */
export async function groupDisplayNames(
  db: Db,
  tenantId: string,
  ids: string[],
): Promise<Map<string, string>> {
  const rows = await rowsByIds(db, "groups", ["id", "display_name"], tenantId, ids);
  return new Map(rows.map((r) => [r.id, r.display_name]));
}

/** Page through a tenant's groups with a filter callback, sorted; plus the total count. */
export async function queryGroups(
  db: Db,
  tenantId: string,
  opts: PageOptions,
): Promise<{ total: number; rows: GroupRow[] }> {
  const page = await queryPage(db, "groups", GROUP_COLUMNS, tenantId, opts);
  return { total: page.total, rows: page.rows.map(rowToGroup) };
}

/** Insert memberships, ignoring ones that exist; returns the member ids actually added. */
export async function addMembers(
  db: Db,
  tenantId: string,
  groupId: string,
  members: MemberRow[],
): Promise<string[]> {
  const added: string[] = [];
  for (let i = 0; i < members.length; i += 400) {
    const chunk = members.slice(i, i + 400).map((m) => ({
      tenant_id: tenantId,
      group_id: groupId,
      member_id: m.memberId,
      member_type: m.memberType,
    }));
    // RETURNING with DO NOTHING yields only inserted rows (SQLite ≥ 3.35 and PostgreSQL).
    const rows = await db("group_members")
      .insert(chunk)
      .onConflict(["group_id", "member_id"])
      .ignore()
      .returning("member_id");
    for (const r of rows as Array<{ member_id: string }>) added.push(r.member_id);
  }
  return added;
}

/**
 * Delete memberships; returns the member ids actually removed. (knex's sqlite3 dialect has no
 * DELETE … RETURNING, so the rows are read first; callers hold the group's row lock.)
 */
export async function removeMembers(
  db: Db,
  tenantId: string,
  groupId: string,
  memberIds: string[],
): Promise<string[]> {
  const present = (await listMembersByIds(db, tenantId, groupId, memberIds)).map((m) => m.memberId);
  for (let i = 0; i < present.length; i += 400) {
    await db("group_members")
      .where({ tenant_id: tenantId, group_id: groupId })
      .whereIn("member_id", present.slice(i, i + 400))
      .delete();
  }
  return present;
}

/** Every membership of a group. */
export async function listMembers(db: Db, tenantId: string, groupId: string): Promise<MemberRow[]> {
  const rows = await db("group_members")
    .select("member_id", "member_type")
    .where({ tenant_id: tenantId, group_id: groupId });
  return rows.map((r: any) => ({ memberId: r.member_id, memberType: r.member_type }));
}

/** The memberships among these ids (to know each one's type before removing it). */
export async function listMembersByIds(
  db: Db,
  tenantId: string,
  groupId: string,
  ids: string[],
): Promise<MemberRow[]> {
  const out: MemberRow[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db("group_members")
      .select("member_id", "member_type")
      .where({ tenant_id: tenantId, group_id: groupId })
      .whereIn("member_id", ids.slice(i, i + 500));
    for (const r of rows) out.push({ memberId: r.member_id, memberType: r.member_type });
  }
  return out;
}

/** Members of several groups at once (for list pages). */
export async function listMembersOfGroups(
  db: Db,
  tenantId: string,
  groupIds: string[],
): Promise<Map<string, MemberRow[]>> {
  const out = new Map<string, MemberRow[]>(groupIds.map((id) => [id, []]));
  for (let i = 0; i < groupIds.length; i += 500) {
    const rows = await db("group_members")
      .select("group_id", "member_id", "member_type")
      .where({ tenant_id: tenantId })
      .whereIn("group_id", groupIds.slice(i, i + 500));
    for (const r of rows) out.get(r.group_id)!.push({ memberId: r.member_id, memberType: r.member_type });
  }
  return out;
}

/** Remove a member (user or group) from every group of the tenant; returns the group ids it left. */
export async function removeFromAllGroups(db: Db, tenantId: string, memberId: string): Promise<string[]> {
  const rows = await db("group_members")
    .select("group_id")
    .where({ tenant_id: tenantId, member_id: memberId });
  await db("group_members").where({ tenant_id: tenantId, member_id: memberId }).delete();
  return rows.map((r: any) => r.group_id);
}

/** The groups a member belongs to directly, with their names. */
export async function groupsOfMember(
  db: Db,
  tenantId: string,
  memberIds: string[],
): Promise<Map<string, Array<{ id: string; displayName: string }>>> {
  const out = new Map<string, Array<{ id: string; displayName: string }>>(memberIds.map((id) => [id, []]));
  for (let i = 0; i < memberIds.length; i += 500) {
    const rows = await db("group_members as gm")
      .join("groups as g", "g.id", "gm.group_id")
      .select("gm.member_id", "g.id", "g.display_name")
      .where("gm.tenant_id", tenantId)
      .whereIn("gm.member_id", memberIds.slice(i, i + 500));
    for (const r of rows) out.get(r.member_id)!.push({ id: r.id, displayName: r.display_name });
  }
  return out;
}

/**
 * True when `candidateId` is `groupId` or one of its ancestors (a group that contains it,
 * directly or through nesting): adding the candidate as a member would close a cycle.
 */
export async function wouldCreateCycle(
  db: Db,
  tenantId: string,
  groupId: string,
  candidateId: string,
): Promise<boolean> {
  if (groupId === candidateId) return true;
  const rows = await db.raw(
    `with recursive ancestors(id) as (
       select group_id from group_members where tenant_id = ? and member_id = ?
       union
       select gm.group_id from group_members gm join ancestors a on gm.member_id = a.id where gm.tenant_id = ?
     )
     select 1 as hit from ancestors where id = ? limit 1`,
    [tenantId, groupId, tenantId, candidateId],
  );
  const list = Array.isArray(rows) ? rows : rows.rows;
  return list.length > 0;
}
