import { type Db, dialectOf } from "../db/knex.js";
import { toIso } from "../db/rows.js";

/** An application role of a tenant. */
export interface Role {
  id: string;
  tenantId: string;
  key: string;
  name: string;
  priority: number;
  createdAt: string;
  updatedAt: string;
}

/** A group→role mapping. */
export interface RoleMapping {
  id: string;
  tenantId: string;
  groupId: string;
  roleId: string;
  createdAt: string;
}

/** One reason a user holds a role, as stored in user_roles. */
export interface UserRoleRow {
  userId: string;
  roleId: string;
  source: "group" | "manual" | "default";
  /** The mapping id for group grants, else the source name. */
  ref: string;
  groupId: string | null;
}

const rowToRole = (r: any): Role => ({
  id: r.id,
  tenantId: r.tenant_id,
  key: r.key,
  name: r.name,
  priority: Number(r.priority),
  createdAt: toIso(r.created_at)!,
  updatedAt: toIso(r.updated_at)!,
});

const rowToMapping = (r: any): RoleMapping => ({
  id: r.id,
  tenantId: r.tenant_id,
  groupId: r.group_id,
  roleId: r.role_id,
  createdAt: toIso(r.created_at)!,
});

const rowsOf = (r: any): any[] => (Array.isArray(r) ? r : r.rows);

/** Run `fn` over `ids` in chunks (SQLite's bind limit, statement size). */
async function chunked<T>(ids: T[], size: number, fn: (chunk: T[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < ids.length; i += size) await fn(ids.slice(i, i + size));
}

/** Insert a role. */
export async function insertRole(db: Db, r: Role): Promise<void> {
  await db("roles").insert({
    id: r.id,
    tenant_id: r.tenantId,
    key: r.key,
    name: r.name,
    priority: r.priority,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  });
}

/** A tenant's roles, highest priority first. */
export async function listRoles(db: Db, tenantId: string): Promise<Role[]> {
  const rows = await db("roles")
    .where({ tenant_id: tenantId })
    .orderBy([
      { column: "priority", order: "desc" },
      { column: "key", order: "asc" },
    ]);
  return rows.map(rowToRole);
}

/** One role by key, or undefined. */
export async function findRoleByKey(db: Db, tenantId: string, key: string): Promise<Role | undefined> {
  const row = await db("roles").where({ tenant_id: tenantId, key }).first();
  return row ? rowToRole(row) : undefined;
}

/** Write a role's name and priority. */
export async function updateRoleRow(db: Db, r: Role): Promise<void> {
  await db("roles")
    .where({ tenant_id: r.tenantId, id: r.id })
    .update({ name: r.name, priority: r.priority, updated_at: r.updatedAt });
}

/** Delete a role (its mappings, grants and user_roles rows cascade). */
export async function deleteRoleRow(db: Db, tenantId: string, id: string): Promise<void> {
  await db("roles").where({ tenant_id: tenantId, id }).delete();
}

/** Mark the tenant's default roles seeded; false when they already were. */
export async function markRolesSeeded(db: Db, tenantId: string, at: string): Promise<boolean> {
  const rows = await db("role_seeds")
    .insert({ tenant_id: tenantId, seeded_at: at })
    .onConflict("tenant_id")
    .ignore()
    .returning("tenant_id");
  return rows.length > 0;
}

/** Whether the tenant's default roles were seeded. */
export async function rolesSeeded(db: Db, tenantId: string): Promise<boolean> {
  return !!(await db("role_seeds").where({ tenant_id: tenantId }).first());
}

/** Insert roles unless a role with the key exists. */
export async function insertRolesIfAbsent(db: Db, roles: Role[]): Promise<void> {
  if (roles.length === 0) return;
  await db("roles")
    .insert(
      roles.map((r) => ({
        id: r.id,
        tenant_id: r.tenantId,
        key: r.key,
        name: r.name,
        priority: r.priority,
        created_at: r.createdAt,
        updated_at: r.updatedAt,
      })),
    )
    .onConflict(["tenant_id", "key"])
    .ignore();
}

/** Insert a mapping. */
export async function insertMapping(db: Db, m: RoleMapping): Promise<void> {
  await db("role_mappings").insert({
    id: m.id,
    tenant_id: m.tenantId,
    group_id: m.groupId,
    role_id: m.roleId,
    created_at: m.createdAt,
  });
}

/** A tenant's mappings, oldest first. */
export async function listMappings(db: Db, tenantId: string): Promise<RoleMapping[]> {
  const rows = await db("role_mappings").where({ tenant_id: tenantId }).orderBy(["created_at", "id"]);
  return rows.map(rowToMapping);
}

/** One mapping, or undefined. */
export async function findMapping(db: Db, tenantId: string, id: string): Promise<RoleMapping | undefined> {
  const row = await db("role_mappings").where({ tenant_id: tenantId, id }).first();
  return row ? rowToMapping(row) : undefined;
}

/** Delete a mapping; returns rows deleted. */
export async function deleteMappingRow(db: Db, tenantId: string, id: string): Promise<number> {
  return db("role_mappings").where({ tenant_id: tenantId, id }).delete();
}

/** Grant a role by hand; false when the user already had it by hand. */
export async function insertManualRole(
  db: Db,
  tenantId: string,
  userId: string,
  roleId: string,
  at: string,
): Promise<boolean> {
  const rows = await db("manual_roles")
    .insert({ tenant_id: tenantId, user_id: userId, role_id: roleId, created_at: at })
    .onConflict(["user_id", "role_id"])
    .ignore()
    .returning("user_id");
  return rows.length > 0;
}

/** Withdraw a manual grant; returns rows deleted. */
export async function deleteManualRole(
  db: Db,
  tenantId: string,
  userId: string,
  roleId: string,
): Promise<number> {
  return db("manual_roles").where({ tenant_id: tenantId, user_id: userId, role_id: roleId }).delete();
}

/** Drop every manual grant of these users (deactivated users, unless the tenant keeps them). */
export async function deleteManualRolesOfUsers(db: Db, tenantId: string, userIds: string[]): Promise<void> {
  await chunked(userIds, 500, async (ids) => {
    await db("manual_roles").where({ tenant_id: tenantId }).whereIn("user_id", ids).delete();
  });
}

/** Manual grants of these users: (userId, roleId) pairs. */
export async function listManualRoles(
  db: Db,
  tenantId: string,
  userIds: string[],
): Promise<Array<{ userId: string; roleId: string }>> {
  const out: Array<{ userId: string; roleId: string }> = [];
  await chunked(userIds, 500, async (ids) => {
    const rows = await db("manual_roles")
      .select("user_id", "role_id")
      .where({ tenant_id: tenantId })
      .whereIn("user_id", ids);
    for (const r of rows) out.push({ userId: r.user_id, roleId: r.role_id });
  });
  return out;
}

/**
 * The users' active flags, locking their rows on PostgreSQL (in id order, so two batches never
 * deadlock): concurrent recomputations of one user run one after the other, and the second
 * sees the first's result.
 */
export async function lockUsers(
  db: Db,
  tenantId: string,
  userIds: string[],
): Promise<Array<{ id: string; active: boolean }>> {
  const out: Array<{ id: string; active: boolean }> = [];
  const sorted = [...userIds].sort();
  await chunked(sorted, 500, async (ids) => {
    const q = db("users")
      .select("id", "active")
      .where({ tenant_id: tenantId })
      .whereIn("id", ids)
      .orderBy("id");
    if (dialectOf(db) === "pg") q.forUpdate();
    for (const r of await q) out.push({ id: r.id, active: r.active === true || r.active === 1 });
  });
  return out;
}

/**
 * Group grants of these users: every mapping whose group contains the user directly or through
 * nested groups. Set-based in three steps: the users' direct groups (indexed by member), the
 * ancestors of those few groups (a recursive CTE over groups only, SQLite and PostgreSQL), and
 * the tenant's mappings, joined here; walking upwards per user was 10x slower on 50,000 users.
 */
export async function listGroupGrants(
  db: Db,
  tenantId: string,
  userIds: string[],
): Promise<Array<{ userId: string; mappingId: string; groupId: string; roleId: string }>> {
  const mappings = await listMappings(db, tenantId);
  if (mappings.length === 0 || userIds.length === 0) return [];
  const direct: Array<{ userId: string; groupId: string }> = [];
  await chunked(userIds, 500, async (ids) => {
    const rows = await db("group_members")
      .select("member_id", "group_id")
      .where({ tenant_id: tenantId })
      .whereIn("member_id", ids);
    for (const r of rows) direct.push({ userId: r.member_id, groupId: r.group_id });
  });
  const ancestors = await listGroupAncestors(db, tenantId, [...new Set(direct.map((d) => d.groupId))]);
  const byGroup = new Map<string, RoleMapping[]>();
  for (const m of mappings) byGroup.set(m.groupId, [...(byGroup.get(m.groupId) ?? []), m]);
  const out = new Map<string, { userId: string; mappingId: string; groupId: string; roleId: string }>();
  for (const d of direct)
    for (const g of ancestors.get(d.groupId) ?? [d.groupId])
      for (const m of byGroup.get(g) ?? [])
        out.set(`${d.userId}|${m.id}`, { userId: d.userId, mappingId: m.id, groupId: g, roleId: m.roleId });
  return [...out.values()];
}

/** Each group with itself and every group containing it, directly or through nesting. */
export async function listGroupAncestors(
  db: Db,
  tenantId: string,
  groupIds: string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(groupIds.map((g) => [g, []]));
  await chunked(groupIds, 500, async (ids) => {
    const rows = await db.raw(
      `with recursive anc(group_id, ancestor_id) as (
         select id, id from groups where tenant_id = ? and id in (${ids.map(() => "?").join(", ")})
         union
         select a.group_id, gm.group_id from group_members gm join anc a on gm.member_id = a.ancestor_id
         where gm.tenant_id = ?
       )
       select group_id, ancestor_id from anc`,
      [tenantId, ...ids, tenantId],
    );
    for (const r of rowsOf(rows)) out.get(r.group_id)?.push(r.ancestor_id);
  });
  return out;
}

/** Users under these groups, directly or through nested groups (a recursive CTE walking down). */
export async function listUsersUnderGroups(
  db: Db,
  tenantId: string,
  groupIds: string[],
): Promise<Array<{ rootId: string; userId: string }>> {
  if (groupIds.length === 0) return [];
  const rows = await db.raw(
    `with recursive sub(root_id, group_id) as (
       select id, id from groups where tenant_id = ? and id in (${groupIds.map(() => "?").join(", ")})
       union
       select s.root_id, gm.member_id from group_members gm join sub s on gm.group_id = s.group_id
       where gm.tenant_id = ? and gm.member_type = 'Group'
     )
     select distinct s.root_id, gm.member_id as user_id
     from sub s join group_members gm on gm.group_id = s.group_id
     where gm.tenant_id = ? and gm.member_type = 'User'`,
    [tenantId, ...groupIds, tenantId, tenantId],
  );
  return rowsOf(rows).map((r: any) => ({ rootId: r.root_id, userId: r.user_id }));
}

/** Users holding a role for a given source (or any role, when roleId is omitted). */
export async function listRoleHolders(
  db: Db,
  tenantId: string,
  filter: { source?: UserRoleRow["source"]; roleId?: string },
): Promise<string[]> {
  const q = db("user_roles").distinct("user_id").where({ tenant_id: tenantId });
  if (filter.source) q.andWhere({ source: filter.source });
  if (filter.roleId) q.andWhere({ role_id: filter.roleId });
  return (await q).map((r: any) => r.user_id);
}

/** Every user id of a tenant. */
export async function listAllUserIds(db: Db, tenantId: string): Promise<string[]> {
  return (await db("users").select("id").where({ tenant_id: tenantId }).orderBy("id")).map((r: any) => r.id);
}

/** Active users of a tenant with their userName, by id. */
export async function listActiveUsers(
  db: Db,
  tenantId: string,
  userIds: string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await chunked(userIds, 500, async (ids) => {
    const rows = await db("users")
      .select("id", "user_name")
      .where({ tenant_id: tenantId, active: true })
      .whereIn("id", ids);
    for (const r of rows) out.set(r.id, r.user_name);
  });
  return out;
}

/** Stored user_roles rows of these users. */
export async function listUserRoleRows(db: Db, tenantId: string, userIds: string[]): Promise<UserRoleRow[]> {
  const out: UserRoleRow[] = [];
  await chunked(userIds, 500, async (ids) => {
    const rows = await db("user_roles")
      .select("user_id", "role_id", "source", "ref", "group_id")
      .where({ tenant_id: tenantId })
      .whereIn("user_id", ids);
    for (const r of rows)
      out.push({ userId: r.user_id, roleId: r.role_id, source: r.source, ref: r.ref, groupId: r.group_id });
  });
  return out;
}

/** Insert user_roles rows. */
export async function insertUserRoleRows(
  db: Db,
  tenantId: string,
  rows: UserRoleRow[],
  at: string,
): Promise<void> {
  await chunked(rows, 200, async (chunk) => {
    await db("user_roles").insert(
      chunk.map((r) => ({
        tenant_id: tenantId,
        user_id: r.userId,
        role_id: r.roleId,
        source: r.source,
        ref: r.ref,
        group_id: r.groupId,
        assigned_at: at,
      })),
    );
  });
}

/** Delete user_roles rows by (user, role, ref), set-based (row values work on both dialects). */
export async function deleteUserRoleRows(db: Db, tenantId: string, rows: UserRoleRow[]): Promise<void> {
  await chunked(rows, 300, async (chunk) => {
    await db.raw(
      `delete from user_roles where tenant_id = ? and (user_id, role_id, ref) in (values ${chunk
        .map(() => "(?, ?, ?)")
        .join(", ")})`,
      [tenantId, ...chunk.flatMap((r) => [r.userId, r.roleId, r.ref])],
    );
  });
}

/** A group of the tenant by its Roster id or its externalId (never by the renameable displayName). */
export async function findGroupIdByRef(
  db: Db,
  tenantId: string,
  ref: { groupId?: string; externalId?: string },
): Promise<string | undefined> {
  const q = db("groups").select("id").where({ tenant_id: tenantId });
  if (ref.groupId) q.andWhere({ id: ref.groupId });
  else q.andWhere({ external_id: ref.externalId });
  return (await q.first())?.id;
}

/** Whether a user exists in the tenant. */
export async function userExists(db: Db, tenantId: string, userId: string): Promise<boolean> {
  return !!(await db("users").select("id").where({ tenant_id: tenantId, id: userId }).first());
}

/** The roles these users hold now, by key, with where each comes from (one row per role and source). */
export async function listHeldRoles(
  db: Db,
  tenantId: string,
  userIds: string[],
): Promise<Array<{ userId: string; key: string; source: string; groupId: string | null }>> {
  const out: Array<{ userId: string; key: string; source: string; groupId: string | null }> = [];
  await chunked(userIds, 500, async (ids) => {
    const rows = await db("user_roles as ur")
      .join("roles as r", "r.id", "ur.role_id")
      .select("ur.user_id", "r.key", "ur.source", "ur.group_id")
      .where({ "ur.tenant_id": tenantId })
      .whereIn("ur.user_id", ids)
      .orderBy(["ur.user_id", "r.key", "ur.source"]);
    for (const r of rows)
      out.push({ userId: r.user_id, key: r.key, source: r.source, groupId: r.group_id ?? null });
  });
  return out;
}
