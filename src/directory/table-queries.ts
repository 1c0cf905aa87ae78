import { type Binding, exec, placeholders, type SqlFragment } from "../db/exec.js";
import { type Db, dialectOf } from "../db/knex.js";

/** List options shared by users and groups. */
export interface PageOptions {
  /** A WHERE fragment on the table (a translated filter); the tenant condition is added here. */
  where?: SqlFragment;
  orderBy: { column: string; order: "asc" | "desc" };
  offset: number;
  limit: number;
}

/** `"t"."a", "t"."b"`: a column list qualified by its table. */
const qualified = (table: string, columns: string[]) => columns.map((c) => `"${table}"."${c}"`).join(", ");

/** One row of a tenant's table by id, optionally locked for the rest of the transaction. */
export async function findRowById(
  db: Db,
  table: "users" | "groups",
  columns: string[],
  tenantId: string,
  id: string,
  lock: boolean,
) {
  // Inside a write transaction on PostgreSQL, lock the row so concurrent writers queue instead of conflicting.
  const forUpdate = lock && dialectOf(db) === "pg" ? " for update" : "";
  const rows = await exec(
    db,
    `select ${qualified(table, columns)} from "${table}" where "tenant_id" = ? and "id" = ? limit 1${forUpdate}`,
    [tenantId, id],
  );
  return rows[0];
}

/** Which of these ids exist in a tenant's table (chunked under SQLite's bind limit). */
export async function idsPresent(
  db: Db,
  table: "users" | "groups",
  tenantId: string,
  ids: string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (const r of await rowsByIds(db, table, ["id"], tenantId, ids)) found.add(r.id);
  return found;
}

/** Selected columns of the rows with these ids. */
export async function rowsByIds(
  db: Db,
  table: "users" | "groups",
  columns: string[],
  tenantId: string,
  ids: string[],
) {
  const out: any[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    out.push(
      ...(await exec(
        db,
        `select ${qualified(table, columns)} from "${table}"
         where "tenant_id" = ? and "id" in (${placeholders(chunk.length)})`,
        [tenantId, ...chunk],
      )),
    );
  }
  return out;
}

/** A sorted, filtered page of a tenant's table plus the total count. */
export async function queryPage(
  db: Db,
  table: "users" | "groups",
  columns: string[],
  tenantId: string,
  opts: PageOptions,
) {
  const where = `"${table}"."tenant_id" = ?${opts.where ? ` and (${opts.where.sql})` : ""}`;
  const whereBindings: Binding[] = [tenantId, ...(opts.where?.bindings ?? [])];
  const count = async () =>
    Number(
      (
        await exec<{ n: number | string }>(
          db,
          `select count(*) as n from "${table}" where ${where}`,
          whereBindings,
        )
      )[0]?.n ?? 0,
    );
  if (opts.limit === 0) return { total: await count(), rows: [] as any[] };
  const { column, order } = opts.orderBy;
  // RFC 7644 §3.4.2.3: absent values sort last ascending (first descending); id makes paging
  // stable. The column comes from the sortBy allow-list, never from the client's text.
  const orderBy = `${column} ${order} nulls ${order === "asc" ? "last" : "first"}, "${table}"."id" ${order}`;
  // Deferred join: OFFSET walks only the sort index to find the page's ids, then the page's
  // rows are read by id (reading whole rows for every skipped one made deep pages O(offset)).
  // The first page skips nothing: one plain query (an IdP's lookups are all first pages).
  const rows =
    opts.offset === 0
      ? await exec(
          db,
          `select ${qualified(table, columns)} from "${table}" where ${where} order by ${orderBy} limit ?`,
          [...whereBindings, opts.limit],
        )
      : await exec(
          db,
          `select ${qualified(table, columns)} from "${table}"
           join (select "${table}"."id" from "${table}" where ${where} order by ${orderBy} limit ? offset ?) as "page"
             on "page"."id" = "${table}"."id"
           where "${table}"."tenant_id" = ?
           order by ${orderBy}`,
          [...whereBindings, opts.limit, opts.offset, tenantId],
        );
  // A short first page is the whole result (an IdP's userName/externalId lookups): no count query.
  const total = opts.offset === 0 && rows.length < opts.limit ? rows.length : await count();
  return { total, rows };
}
