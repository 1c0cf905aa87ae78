import type { Db } from "../db/knex.js";
import { rowToUser, USER_COLUMNS, type UserRow } from "../directory/users-store.js";

/** Directory reads the SSO gate needs (by indexed columns only; none of them scans). */

/** Users whose normalised userName equals this (0 or 1). */
export async function usersByUserName(db: Db, tenantId: string, userName: string): Promise<UserRow[]> {
  const rows = await db("users")
    .select(USER_COLUMNS)
    .where({ tenant_id: tenantId, user_name_norm: userName.toLowerCase() });
  return rows.map(rowToUser);
}

/** Users whose primary e-mail equals this, case-insensitively (2 at most are read: ambiguity). */
export async function usersByPrimaryEmail(db: Db, tenantId: string, email: string): Promise<UserRow[]> {
  const rows = await db("users")
    .select(USER_COLUMNS)
    .where({ tenant_id: tenantId, primary_email: email.toLowerCase() })
    .limit(2);
  return rows.map(rowToUser);
}

/** Users by externalId or id (the immutable identifier). */
export async function usersByImmutableId(
  db: Db,
  tenantId: string,
  field: "externalId" | "id",
  value: string,
): Promise<UserRow[]> {
  const column = field === "id" ? "id" : "external_id";
  const rows = await db("users")
    .select(USER_COLUMNS)
    .where({ tenant_id: tenantId, [column]: value })
    .limit(2);
  return rows.map(rowToUser);
}

/** Groups of the tenant whose display name (normalised) or externalId is one of these values. */
export async function groupsByNamesOrExternalIds(
  db: Db,
  tenantId: string,
  values: string[],
): Promise<string[]> {
  if (values.length === 0) return [];
  const rows = await db("groups")
    .select("id")
    .where({ tenant_id: tenantId })
    .andWhere((q) =>
      q
        .whereIn(
          "display_name_norm",
          values.map((v) => v.toLowerCase()),
        )
        .orWhereIn("external_id", values),
    );
  return rows.map((r: any) => r.id);
}

/** Add a user to groups (existing memberships are kept as they are). */
export async function addMemberships(
  db: Db,
  tenantId: string,
  userId: string,
  groupIds: string[],
): Promise<string[]> {
  if (groupIds.length === 0) return [];
  const rows = await db("group_members")
    .insert(
      groupIds.map((g) => ({ tenant_id: tenantId, group_id: g, member_id: userId, member_type: "User" })),
    )
    .onConflict(["group_id", "member_id"])
    .ignore()
    .returning("group_id");
  return (rows as Array<{ group_id: string }>).map((r) => r.group_id);
}

/** Display names of the groups a user is a direct member of. */
export async function groupNamesOfUser(db: Db, tenantId: string, userId: string): Promise<string[]> {
  const rows = await db("group_members as m")
    .join("groups as g", "g.id", "m.group_id")
    .where({ "m.tenant_id": tenantId, "m.member_id": userId })
    .select("g.display_name")
    .orderBy("g.display_name");
  return rows.map((r: any) => r.display_name);
}
