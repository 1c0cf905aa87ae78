import type { Knex } from "knex";
import { type Db, dialectOf } from "../db/knex.js";
import { parseJson, toBool, toIso } from "../db/rows.js";

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
const USER_COLUMNS = [
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

function userColumns(u: UserRow) {
  return {
    user_name: u.userName,
    user_name_norm: u.userName.toLowerCase(),
    external_id: u.externalId,
    active: u.active,
    display_name: u.displayName,
    display_name_norm: u.displayName?.toLowerCase() ?? null,
    given_name: u.givenName,
    family_name: u.familyName,
    primary_email: u.primaryEmail,
    resource: JSON.stringify(u.resource),
    version: u.version,
    updated_at: u.updatedAt,
  };
}

/** Insert a user row and its e-mail rows. */
export async function insertUser(db: Db, u: UserRow, emails: EmailRow[]): Promise<void> {
  await db("users").insert({
    id: u.id,
    tenant_id: u.tenantId,
    source: u.source,
    created_at: u.createdAt,
    ...userColumns(u),
  });
  await insertEmails(db, u.tenantId, u.id, emails);
}

async function insertEmails(db: Db, tenantId: string, userId: string, emails: EmailRow[]): Promise<void> {
  if (emails.length === 0) return;
  await db("user_emails").insert(
    emails.map((e) => ({
      tenant_id: tenantId,
      user_id: userId,
      value_norm: e.valueNorm,
      type: e.type,
      primary: e.primary,
    })),
  );
}

/**
 * Write a user's new state if its version is still `expectedVersion` (optimistic concurrency:
 * two writers never silently overwrite each other). Returns false when the row moved on.
 */
export async function updateUser(
  db: Db,
  u: UserRow,
  expectedVersion: number,
  emails: EmailRow[] | null,
): Promise<boolean> {
  const n = await db("users")
    .where({ tenant_id: u.tenantId, id: u.id, version: expectedVersion })
    .update(userColumns(u));
  if (n === 0) return false;
  if (emails) {
    await db("user_emails").where({ tenant_id: u.tenantId, user_id: u.id }).delete();
    await insertEmails(db, u.tenantId, u.id, emails);
  }
  return true;
}

/** One user of a tenant, or undefined. */
export async function findUserById(
  db: Db,
  tenantId: string,
  id: string,
  lock = false,
): Promise<UserRow | undefined> {
  const q = db("users").select(USER_COLUMNS).where({ tenant_id: tenantId, id }).first();
  // Inside a write transaction on PostgreSQL, lock the row so concurrent writers queue instead of conflicting.
  if (lock && dialectOf(db) === "pg") q.forUpdate();
  const row = await q;
  return row ? rowToUser(row) : undefined;
}

/** A user by userName, case-insensitively (RFC 7643: userName is caseExact false). */
export async function findUserByUserName(
  db: Db,
  tenantId: string,
  userName: string,
): Promise<UserRow | undefined> {
  const row = await db("users")
    .select(USER_COLUMNS)
    .where({ tenant_id: tenantId, user_name_norm: userName.toLowerCase() })
    .first();
  return row ? rowToUser(row) : undefined;
}

/** A user by externalId (case-exact), or undefined. */
export async function findUserByExternalId(
  db: Db,
  tenantId: string,
  externalId: string,
): Promise<UserRow | undefined> {
  const row = await db("users")
    .select(USER_COLUMNS)
    .where({ tenant_id: tenantId, external_id: externalId })
    .first();
  return row ? rowToUser(row) : undefined;
}

/** Users whose primary e-mail (normalised) is this address. */
export async function findUsersByEmail(db: Db, tenantId: string, email: string): Promise<UserRow[]> {
  const rows = await db("users")
    .select(USER_COLUMNS)
    .where({ tenant_id: tenantId, primary_email: email.toLowerCase() });
  return rows.map(rowToUser);
}

/** Delete a user row (e-mails cascade); returns rows deleted. */
export async function deleteUserRow(db: Db, tenantId: string, id: string): Promise<number> {
  return db("users").where({ tenant_id: tenantId, id }).delete();
}

/** Which of these ids are users of the tenant. */
export async function existingUserIds(db: Db, tenantId: string, ids: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db("users")
      .select("id")
      .where({ tenant_id: tenantId })
      .whereIn("id", ids.slice(i, i + 500));
    for (const r of rows) found.add(r.id);
  }
  return found;
}

/** Display names of users by id (for members[].display). */
export async function userDisplayNames(
  db: Db,
  tenantId: string,
  ids: string[],
): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db("users")
      .select("id", "display_name", "user_name")
      .where({ tenant_id: tenantId })
      .whereIn("id", ids.slice(i, i + 500));
    for (const r of rows) out.set(r.id, r.display_name ?? r.user_name);
  }
  return out;
}

/** Page through a tenant's users with a filter callback, sorted; plus the total count. */
export async function queryUsers(
  db: Db,
  tenantId: string,
  opts: {
    where?: (qb: Knex.QueryBuilder) => void;
    orderBy: { column: string; order: "asc" | "desc" };
    offset: number;
    limit: number;
  },
): Promise<{ total: number; rows: UserRow[] }> {
  const base = () => {
    const q = db("users").where("users.tenant_id", tenantId);
    if (opts.where) q.andWhere((qb) => opts.where!(qb));
    return q;
  };
  const count = async () => Number((await base().count({ n: "*" }).first())?.n ?? 0);
  if (opts.limit === 0) return { total: await count(), rows: [] };
  const rows = (
    await base()
      .select(USER_COLUMNS.map((c) => `users.${c}`))
      // RFC 7644 §3.4.2.3: absent values sort last ascending (first descending); id makes paging
      // stable. knex drops the direction when given `nulls` on SQLite, so the clause is written
      // out; the column comes from the sortBy allow-list, never from the client's text.
      .orderByRaw(
        `${opts.orderBy.column} ${opts.orderBy.order} nulls ${opts.orderBy.order === "asc" ? "last" : "first"}, users.id ${opts.orderBy.order}`,
      )
      .offset(opts.offset)
      .limit(opts.limit)
  ).map(rowToUser);
  // A short first page is the whole result (an IdP's userName/externalId lookups): no count query.
  const total = opts.offset === 0 && rows.length < opts.limit ? rows.length : await count();
  return { total, rows };
}
