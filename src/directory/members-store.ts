import { type Binding, exec, placeholders } from "../db/exec.js";
import { type Db, dialectOf } from "../db/knex.js";
import { rowToUser, USER_COLUMNS, type UserRow } from "./users-store.js";

/**
 * Where a member stands: `invited` (created by an invitation, active, never signed in),
 * `active`, or `deactivated` (deprovisioned or offboarded). The three never overlap.
 */
export type MemberStatus = "active" | "deactivated" | "invited";

/** A page of the members list: search prefix, status, and the last userName of the page before. */
export interface MemberQuery {
  /** Lower-cased prefix of userName, displayName or any e-mail address. */
  prefix?: string;
  status?: MemberStatus;
  /** Keyset cursor: the normalised userName of the previous page's last row (unique per tenant). */
  after?: string;
  limit: number;
}

/** A users row with what the list needs to tell its status. */
export interface MemberRow extends UserRow {
  status: MemberStatus;
  /** The stored lower-cased userName: the page cursor. */
  userNameNorm: string;
}

// Qualified so the subqueries below can name their own tables unambiguously.
const COLUMNS = USER_COLUMNS.map((c) => `"u"."${c}"`).join(", ");
const SIGNED_IN = `exists (select 1 from "sessions" "s" where "s"."tenant_id" = "u"."tenant_id" and "s"."user_id" = "u"."id")`;

/**
 * `column starts with prefix`, in a form an index serves. SQLite: a range on the BINARY
 * collation (code point order), which its planner turns into an index range. PostgreSQL: LIKE
 * with the pattern's wildcards escaped, served by the varchar_pattern_ops indexes of migration
 * 0015 whatever the database's collation.
 */
function startsWith(db: Db, column: string, prefix: string): { sql: string; bindings: Binding[] } {
  if (dialectOf(db) === "pg")
    return { sql: `${column} like ? escape '\\'`, bindings: [`${prefix.replace(/[\\%_]/g, "\\$&")}%`] };
  return { sql: `${column} >= ? and ${column} < ?`, bindings: [prefix, successor(prefix)] };
}

/** The smallest string greater than every string that starts with `s` (last code point + 1). */
function successor(s: string): string {
  const points = [...s];
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    // Skip the surrogate range: code points there cannot be stored (input-guard refuses them).
    const next = last === 0xd7ff ? 0xe000 : last + 1;
    if (next <= 0x10ffff) return points.join("") + String.fromCodePoint(next);
  }
  return "\u{10ffff}".repeat(2);
}

/**
 * One page of a tenant's users in userName order (case-insensitive), optionally searched and
 * filtered by status. A search unites the normalised userNames matched through three indexes
 * (userName, displayName, e-mail: each holds user_name_norm, migration 0015, so no table row is
 * read), sorts them, and reads the rows of the page only; the status filters walk
 * (tenant_id, active|source, user_name_norm) in page order and stop after one page.
 */
export async function listMembers(db: Db, tenantId: string, q: MemberQuery): Promise<MemberRow[]> {
  const where: string[] = [`"u"."tenant_id" = ?`];
  const bindings: Binding[] = [tenantId];
  if (q.status === "deactivated") {
    where.push(`"u"."active" = ?`);
    bindings.push(false);
  } else if (q.status === "active") {
    where.push(`"u"."active" = ? and ("u"."source" <> 'invite' or ${SIGNED_IN})`);
    bindings.push(true);
  } else if (q.status === "invited") {
    where.push(`"u"."source" = 'invite' and "u"."active" = ? and not ${SIGNED_IN}`);
    bindings.push(true);
  }
  const select = `select ${COLUMNS}, "u"."user_name_norm", ${signedInColumn()} as "signed_in"`;
  let rows: Array<Record<string, unknown>>;
  if (q.prefix === undefined) {
    if (q.after !== undefined) {
      where.push(`"u"."user_name_norm" > ?`);
      bindings.push(q.after);
    }
    rows = await exec(
      db,
      `${select} from "users" "u" where ${where.join(" and ")} order by "u"."user_name_norm" limit ?`,
      [...bindings, q.limit],
    );
  } else {
    rows = [];
    // Two steps: the matching names in order, from indexes only, a window at a time; then the
    // window's rows (status filter applied) until the page is full. One query joining them made
    // SQLite read the table row of every match before sorting (8,000 rows for "ann").
    // Without a status filter the first `limit` names are the page; with one, names come 5,000
    // at a time (the names query sorts every match, so it runs as few times as possible) and
    // their rows are read 500 at a time until the page is full.
    const window = q.status ? 5000 : q.limit;
    let after = q.after;
    for (;;) {
      const hits = matchingUserNames(db, tenantId, q.prefix, after, window);
      const names = (await exec<{ n: string }>(db, hits.sql, hits.bindings)).map((h) => h.n);
      if (names.length === 0) break;
      for (let i = 0; i < names.length && rows.length < q.limit; i += 500) {
        const chunk = names.slice(i, i + 500);
        rows.push(
          ...(await exec(
            db,
            `${select} from "users" "u"
             where ${where.join(" and ")} and "u"."user_name_norm" in (${placeholders(chunk.length)})
             order by "u"."user_name_norm" limit ?`,
            [...bindings, ...chunk, q.limit - rows.length],
          )),
        );
      }
      if (rows.length >= q.limit || names.length < window) break;
      after = names.at(-1);
    }
  }
  return rows.map((r) => ({ ...rowToUser(r), status: statusOf(r), userNameNorm: String(r.user_name_norm) }));
}

/** Normalised userNames of the users whose userName, displayName or any e-mail starts with `prefix`. */
function matchingUserNames(
  db: Db,
  tenantId: string,
  prefix: string,
  after: string | undefined,
  limit: number,
) {
  const byName = startsWith(db, `"user_name_norm"`, prefix);
  const byDisplay = startsWith(db, `"display_name_norm"`, prefix);
  const byEmail = startsWith(db, `"e"."value_norm"`, prefix);
  const later = `${after === undefined ? "" : ` where "m"."n" > ?`} order by "m"."n" limit ?`;
  return {
    // UNION ALL, then DISTINCT: with UNION, SQLite merged sorted branches and sorted the
    // display-name branch by walking the whole userName index (100,000 rows for "e").
    sql: `select distinct "m"."n" from (
      select "user_name_norm" as "n" from "users" where "tenant_id" = ? and ${byName.sql}
      union all select "user_name_norm" from "users" where "tenant_id" = ? and ${byDisplay.sql}
      union all select "ue"."user_name_norm" from "user_emails" "e"
        join "users" "ue" on "ue"."tenant_id" = "e"."tenant_id" and "ue"."id" = "e"."user_id"
        where "e"."tenant_id" = ? and ${byEmail.sql}) "m"${later}`,
    bindings: [
      tenantId,
      ...byName.bindings,
      tenantId,
      ...byDisplay.bindings,
      tenantId,
      ...byEmail.bindings,
      ...(after === undefined ? [] : [after]),
      limit,
    ] as Binding[],
  };
}

// Only invited users need the sessions probe; everyone else's status follows from `active`.
const signedInColumn = () => `case when "u"."source" = 'invite' and ${SIGNED_IN} then 1 else 0 end`;

function statusOf(r: Record<string, unknown>): MemberStatus {
  const active = r.active === true || r.active === 1;
  if (!active) return "deactivated";
  return r.source === "invite" && Number(r.signed_in) === 0 ? "invited" : "active";
}

/** The status of one user (the member page's badge). */
export async function memberStatus(db: Db, user: UserRow): Promise<MemberStatus> {
  if (!user.active) return "deactivated";
  if (user.source !== "invite") return "active";
  const rows = await exec(db, `select 1 from "sessions" where "tenant_id" = ? and "user_id" = ? limit 1`, [
    user.tenantId,
    user.id,
  ]);
  return rows.length ? "active" : "invited";
}

/**
 * The groups a user belongs to: directly, or through nesting (a group containing one of theirs),
 * by name. A recursive CTE upwards from the user's direct groups, both dialects.
 */
export async function listGroupsOfUser(
  db: Db,
  tenantId: string,
  userId: string,
): Promise<Array<{ id: string; displayName: string; direct: boolean }>> {
  const rows = await exec<{ id: string; display_name: string; depth: number | string }>(
    db,
    `with recursive up("group_id", "depth") as (
       select "group_id", 0 from "group_members" where "tenant_id" = ? and "member_id" = ?
       union
       select "gm"."group_id", 1 from "group_members" "gm" join up on "gm"."member_id" = up."group_id"
       where "gm"."tenant_id" = ?
     )
     select "g"."id", "g"."display_name", min(up."depth") as "depth"
     from up join "groups" "g" on "g"."tenant_id" = ? and "g"."id" = up."group_id"
     group by "g"."id", "g"."display_name"
     order by "g"."display_name"`,
    [tenantId, userId, tenantId, tenantId],
  );
  return rows.map((r) => ({ id: r.id, displayName: r.display_name, direct: Number(r.depth) === 0 }));
}
