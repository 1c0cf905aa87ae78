import type { UserRoleRow } from "./store.js";

/** What decides one user's effective roles. */
export interface RoleInputs {
  userId: string;
  active: boolean;
  groupGrants: Array<{ mappingId: string; groupId: string; roleId: string }>;
  manualRoleIds: string[];
  /** The tenant's default role, when it exists. */
  defaultRoleId: string | undefined;
}

/**
 * Effective roles with their reasons, a pure function of the inputs: inactive users hold none;
 * otherwise every mapped group's role plus every manual role; when that is empty, the default.
 */
export function effectiveRoles(input: RoleInputs): UserRoleRow[] {
  if (!input.active) return [];
  const rows: UserRoleRow[] = [];
  const seen = new Set<string>();
  const push = (r: UserRoleRow) => {
    const k = `${r.roleId}|${r.ref}`;
    if (!seen.has(k)) {
      seen.add(k);
      rows.push(r);
    }
  };
  for (const g of input.groupGrants)
    push({ userId: input.userId, roleId: g.roleId, source: "group", ref: g.mappingId, groupId: g.groupId });
  for (const roleId of input.manualRoleIds)
    push({ userId: input.userId, roleId, source: "manual", ref: "manual", groupId: null });
  if (rows.length === 0 && input.defaultRoleId)
    push({
      userId: input.userId,
      roleId: input.defaultRoleId,
      source: "default",
      ref: "default",
      groupId: null,
    });
  return rows;
}

/** Role ids a set of reasons amounts to. */
export function roleIdsOf(rows: UserRoleRow[]): Set<string> {
  return new Set(rows.map((r) => r.roleId));
}

/** Key of a user_roles row. */
export function rowKey(r: UserRoleRow): string {
  return `${r.userId}|${r.roleId}|${r.ref}`;
}
