import { type Binding, exec, insertSql } from "../db/exec.js";
import type { Db } from "../db/knex.js";
import { parseJson, toBool, toIso } from "../db/rows.js";
import { assertUserFits } from "./limits.js";
import { findRowById, idsPresent, type PageOptions, queryPage, rowsByIds } from "./table-queries.js";

/** A directory user as stored: indexed columns plus the full SCIM document. */
export interface UserRow {
  id: string;
  tenantId: string;
  userName: string;
  externalId: string | null;
  active: boolean;
  displayName: string | null;
  givenName: string | null;
  familyName: string | null;
  primaryEmail: string | null;
  /** The SCIM document without id, meta, schemas, groups and password. */
  resource: Record<string, unknown>;
  version: number;
  source: string;
  createdAt: string;
  updatedAt: string;
}

/** An e-mail address row (what `emails.value` filters search). */
export interface EmailRow {
  valueNorm: string;
  type: string | null;
  primary: boolean;
}

/** Column list for user reads (explicit, so a wide resource is read only when needed). */
export const USER_COLUMNS = [
  "id",
  "tenant_id",
  "user_name",
  "external_id",
  "active",
  "display_name",
  "given_name",
  "family_name",
  "primary_email",
  "resource",
  "version",
  "source",
  "created_at",
  "updated_at",
];

/** Map a users row to a UserRow. */
export function rowToUser(r: any): UserRow {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    userName: r.user_name,
    externalId: r.external_id ?? null,
    active: toBool(r.active),
    displayName: r.display_name ?? null,
    givenName: r.given_name ?? null,
    familyName: r.family_name ?? null,
    primaryEmail: r.primary_email ?? null,
    resource: parseJson(r.resource, {}),
    version: Number(r.version),
    source: r.source,
    createdAt: toIso(r.created_at)!,
    updatedAt: toIso(r.updated_at)!,
  };
}

// The writable columns, in the order userValues gives them. Writes are hand-written statements
// (exec): a user write is on every SCIM create, PUT and PATCH.
const WRITE_COLUMNS = [
  "user_name",
  "user_name_norm",
  "external_id",
  "active",
  "display_name",
  "display_name_norm",
  "given_name",
  "family_name",
  "primary_email",
  "resource",
  "version",
  "updated_at",
];

function userValues(u: UserRow): Binding[] {
  return [
    u.userName,
    u.userName.toLowerCase(),
    u.externalId,
    u.active,
    u.displayName,
    u.displayName?.toLowerCase() ?? null,
    u.givenName,
    u.familyName,
    u.primaryEmail,
    JSON.stringify(u.resource),
    u.version,
    u.updatedAt,
  ];
}

/** Insert a user row and its e-mail rows. */
export async function insertUser(db: Db, u: UserRow, emails: EmailRow[]): Promise<void> {
  assertUserFits(u, emails);
  const { sql, bindings } = insertSql(
    "users",
    ["id", "tenant_id", "source", "created_at", ...WRITE_COLUMNS],
    [[u.id, u.tenantId, u.source, u.createdAt, ...userValues(u)]],
  );
  await exec(db, sql, bindings);
  await insertEmails(db, u.tenantId, u.id, emails);
}

async function insertEmails(db: Db, tenantId: string, userId: string, emails: EmailRow[]): Promise<void> {
  if (emails.length === 0) return;
  const { sql, bindings } = insertSql(
    "user_emails",
    ["tenant_id", "user_id", "value_norm", "type", "primary"],
    emails.map((e) => [tenantId, userId, e.valueNorm, e.type, e.primary]),
  );
  await exec(db, sql, bindings);
}

/**
 * Write a user's new state if its version is still `previous.version` (optimistic concurrency:
 * two writers never silently overwrite each other). Returns false when the row moved on. Only
 * the columns that differ from `previous` are set: SQLite rewrites the index entries of every
 * column a SET names, and a deactivation changes four of the twelve.
 */
export async function updateUser(
  db: Db,
  u: UserRow,
  previous: UserRow,
  emails: EmailRow[] | null,
): Promise<boolean> {
  assertUserFits(u, emails, previous);
  const values = userValues(u);
  const old = userValues(previous);
  const changed = WRITE_COLUMNS.flatMap((_c, i) => (values[i] !== old[i] ? [i] : []));
  const updated = await exec(
    db,
    `update "users" set ${changed.map((i) => `"${WRITE_COLUMNS[i]}" = ?`).join(", ")}
     where "tenant_id" = ? and "id" = ? and "version" = ? returning "id"`,
    [...changed.map((i) => values[i]), u.tenantId, u.id, previous.version],
  );
  if (updated.length === 0) return false;
  if (emails) {
    await exec(db, `delete from "user_emails" where "tenant_id" = ? and "user_id" = ?`, [u.tenantId, u.id]);
    await insertEmails(db, u.tenantId, u.id, emails);
  }
  return true;
}

/** One user of a tenant, or undefined; `lock` holds its row for the rest of the transaction. */
export async function findUserById(
  db: Db,
  tenantId: string,
  id: string,
  lock = false,
): Promise<UserRow | undefined> {
  const row = await findRowById(db, "users", USER_COLUMNS, tenantId, id, lock);
  return row ? rowToUser(row) : undefined;
}

/** The id of the user a userName (case-insensitive, RFC 7643 caseExact false) or externalId names. */
export async function findUserIdByRef(
  db: Db,
  tenantId: string,
  by: "userName" | "externalId",
  value: string,
): Promise<string | undefined> {
  const where =
    by === "userName"
      ? { tenant_id: tenantId, user_name_norm: value.toLowerCase() }
      : { tenant_id: tenantId, external_id: value };
  const row = await db("users").where(where).first("id");
  return row?.id;
}

/** Delete a user row (e-mails cascade); returns rows deleted. */
export async function deleteUserRow(db: Db, tenantId: string, id: string): Promise<number> {
  return db("users").where({ tenant_id: tenantId, id }).delete();
}

/** Which of these ids are users of the tenant. */
export async function existingUserIds(db: Db, tenantId: string, ids: string[]): Promise<Set<string>> {
  return idsPresent(db, "users", tenantId, ids);
}

/** Display names of users by id (for members[].display), falling back to userName. */
export async function userDisplayNames(
  db: Db,
  tenantId: string,
  ids: string[],
): Promise<Map<string, string | null>> {
  const rows = await rowsByIds(db, "users", ["id", "display_name", "user_name"], tenantId, ids);
  return new Map(rows.map((r) => [r.id, r.display_name ?? r.user_name]));
}

/** Page through a tenant's users with a filter callback, sorted; plus the total count. */
export async function queryUsers(
  db: Db,
  tenantId: string,
  opts: PageOptions,
): Promise<{ total: number; rows: UserRow[] }> {
  const page = await queryPage(db, "users", USER_COLUMNS, tenantId, opts);
  return { total: page.total, rows: page.rows.map(rowToUser) };
}
