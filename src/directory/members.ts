import type { Knex } from "knex";
import { z } from "zod";
import { AppError } from "../http/errors.js";
import { parseInput } from "../http/validate.js";
import { requireTenant } from "../tenants/use-cases.js";
import { directoryErrors } from "./errors.js";
import { listGroupsOfUser, listMembers, type MemberRow, memberStatus } from "./members-store.js";
import { findUserById, type UserRow } from "./users-store.js";

/** What the members use cases need. */
export interface MemberDeps {
  db: Knex;
  now: () => Date;
}

/** A page cursor: the last row's normalised userName, base64url (opaque to callers). */
const encodeCursor = (userNameNorm: string) => Buffer.from(userNameNorm, "utf8").toString("base64url");

function decodeCursor(cursor: string): string {
  const value = Buffer.from(cursor, "base64url").toString("utf8");
  // Round-trip check: anything else is not a cursor this API handed out.
  if (value === "" || encodeCursor(value) !== cursor) throw badCursor();
  return value;
}

const badCursor = () =>
  new AppError(
    400,
    "VALIDATION_FAILED",
    "Invalid query: cursor: must be the `next` cursor of a previous page",
    [{ field: "cursor", message: "must be the `next` cursor of a previous page" }],
  );

/** Query of GET …/users: search text, status filter, page size, cursor. */
export const membersQuery = z
  .object({
    // 512 characters: the longest userName, displayName or e-mail a prefix could match.
    q: z.string().trim().max(512).optional(),
    status: z.enum(["active", "deactivated", "invited"]).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    // base64url of at most 512 characters of UTF-8 (4 bytes each).
    cursor: z
      .string()
      .min(1)
      .max(2800)
      .regex(/^[A-Za-z0-9_-]+$/, "must be the `next` cursor of a previous page")
      .optional(),
  })
  .strict();

/** A user as the members list shows them. */
export function publicMember(u: UserRow & { status: string }) {
  return {
    id: u.id,
    userName: u.userName,
    displayName: u.displayName,
    email: u.primaryEmail,
    externalId: u.externalId,
    active: u.active,
    status: u.status,
    source: u.source,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

/**
 * GET …/users: a tenant's members in userName order (case-insensitive), searched by prefix of
 * userName, displayName or any e-mail (case-insensitive), filtered by status, paged by keyset:
 * `next` is the cursor of the following page, null on the last one. A keyset page costs the
 * same at the 100,000th user as at the first (OFFSET would walk every skipped row).
 */
export async function listMembersPage(deps: MemberDeps, slug: string, query: unknown) {
  const q = parseInput(membersQuery, query, "query");
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
  const tenant = await requireTenant(deps, slug);
  const prefix = q.q ? q.q.toLowerCase() : undefined;
  // One more than asked: tells whether a next page exists without a count.
  const rows = await listMembers(deps.db, tenant.id, { prefix, status: q.status, after, limit: q.limit + 1 });
  const page: MemberRow[] = rows.slice(0, q.limit);
  return {
    users: page.map(publicMember),
    next: rows.length > q.limit ? encodeCursor(page.at(-1)!.userNameNorm) : null,
  };
}

/**
 * GET …/users/{id}: one member with their attributes (the stored SCIM document) and groups
 * (direct, and those containing them through nesting). Roles, sessions and revocation receipts
 * have their own endpoints (…/roles, …/sessions?userId=, …/revocations).
 */
export async function getMember(deps: MemberDeps, slug: string, id: string) {
  const tenant = await requireTenant(deps, slug);
  const user = await findUserById(deps.db, tenant.id, id);
  if (!user) throw directoryErrors.userNotFound(id);
  const [status, groups] = await Promise.all([
    memberStatus(deps.db, user),
    listGroupsOfUser(deps.db, tenant.id, user.id),
  ]);
  const name = (user.resource.name ?? {}) as Record<string, unknown>;
  return {
    ...publicMember({ ...user, status }),
    name: {
      givenName: user.givenName,
      familyName: user.familyName,
      formatted: (name.formatted as string) ?? null,
    },
    emails: Array.isArray(user.resource.emails) ? user.resource.emails : [],
    attributes: { ...user.resource, ...(user.externalId ? { externalId: user.externalId } : {}) },
    groups,
  };
}
