import type { GroupRow, MemberRow } from "../directory/groups-store.js";
import type { UserRow } from "../directory/users-store.js";
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from "./schema-info.js";

/** Weak ETag of a resource version (RFC 7644 §3.14). */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/**
 * The version an If-Match / If-None-Match header names: a number, "*" (any), or undefined when
 * the header is absent. Accepts weak and strong forms and lists.
 */
export function parseEtagHeader(header: string | undefined): Array<number | "*"> | undefined {
  if (!header) return undefined;
  return header.split(",").map((part) => {
    const t = part.trim();
    if (t === "*") return "*";
    const m = /^(?:W\/)?"(\d+)"$/.exec(t);
    return m ? Number(m[1]) : -1;
  });
}

/** A user's group as shown in `groups` (read-only, derived from memberships). */
export interface UserGroupRef {
  id: string;
  displayName: string;
}

/** Render a user as a SCIM resource (full; projection is applied afterwards). */
export function renderUser(
  u: UserRow,
  groups: UserGroupRef[] | undefined,
  base: string,
): Record<string, unknown> {
  const { password: _p, ...doc } = u.resource;
  return {
    schemas: ENTERPRISE_USER_SCHEMA in doc ? [USER_SCHEMA, ENTERPRISE_USER_SCHEMA] : [USER_SCHEMA],
    id: u.id,
    ...(u.externalId ? { externalId: u.externalId } : {}),
    ...doc,
    ...(groups?.length
      ? {
          groups: groups.map((g) => ({
            value: g.id,
            $ref: `${base}/Groups/${g.id}`,
            display: g.displayName,
            type: "direct",
          })),
        }
      : {}),
    meta: {
      resourceType: "User",
      created: u.createdAt,
      lastModified: u.updatedAt,
      location: `${base}/Users/${u.id}`,
      version: etagOf(u.version),
    },
  };
}

/** Render a group; `members` undefined when not loaded (excludedAttributes=members). */
export function renderGroup(
  g: GroupRow,
  members: Array<MemberRow & { display?: string | null }> | undefined,
  base: string,
): Record<string, unknown> {
  return {
    schemas: [GROUP_SCHEMA],
    id: g.id,
    ...(g.externalId ? { externalId: g.externalId } : {}),
    ...g.resource,
    displayName: g.displayName,
    ...(members?.length
      ? {
          members: members.map((m) => ({
            value: m.memberId,
            $ref: `${base}/${m.memberType === "User" ? "Users" : "Groups"}/${m.memberId}`,
            ...(m.display ? { display: m.display } : {}),
            type: m.memberType,
          })),
        }
      : {}),
    meta: {
      resourceType: "Group",
      created: g.createdAt,
      lastModified: g.updatedAt,
      location: `${base}/Groups/${g.id}`,
      version: etagOf(g.version),
    },
  };
}
