import type { Knex } from "knex";
import { type Db, dialectOf } from "../db/knex.js";

/** List options shared by users and groups. */
export interface PageOptions {
  where?: (qb: Knex.QueryBuilder) => void;
  orderBy: { column: string; order: "asc" | "desc" };
  offset: number;
  limit: number;
}

/** One row of a tenant's table by id, optionally locked for the rest of the transaction. */
export async function findRowById(
  db: Db,
  table: "users" | "groups",
  columns: string[],
  tenantId: string,
  id: string,
  lock: boolean,
) {
  const q = db(table).select(columns).where({ tenant_id: tenantId, id }).first();
  // Inside a write transaction on PostgreSQL, lock the row so concurrent writers queue instead of conflicting.
  if (lock && dialectOf(db) === "pg") q.forUpdate();
  return q;
}

/** Which of these ids exist in a tenant's table (chunked under SQLite's bind limit). */
export async function idsPresent(
  db: Db,
  table: "users" | "groups",
  tenantId: string,
  ids: string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db(table)
      .select("id")
      .where({ tenant_id: tenantId })
      .whereIn("id", ids.slice(i, i + 500));
    for (const r of rows) found.add(r.id);
  }
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
    out.push(
      ...(await db(table)
        .select(columns)
        .where({ tenant_id: tenantId })
        .whereIn("id", ids.slice(i, i + 500))),
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
  const base = () => {
    const q = db(table).where(`${table}.tenant_id`, tenantId);
    if (opts.where) q.andWhere((qb) => opts.where!(qb));
    return q;
  };
  const count = async () => Number((await base().count({ n: "*" }).first())?.n ?? 0);
  if (opts.limit === 0) return { total: await count(), rows: [] as any[] };
  const { column, order } = opts.orderBy;
  // Deferred join: OFFSET walks only the sort index to find the page's ids, then the page's
  // rows are read by id (reading whole rows for every skipped one made deep pages O(offset)).
  const ids = base()
    .select(`${table}.id`)
    // RFC 7644 §3.4.2.3: absent values sort last ascending (first descending); id makes paging
    // stable. knex drops the direction when given `nulls` on SQLite, so the clause is written
    // out; the column comes from the sortBy allow-list, never from the client's text.
    .orderByRaw(`${column} ${order} nulls ${order === "asc" ? "last" : "first"}, ${table}.id ${order}`)
    .offset(opts.offset)
    .limit(opts.limit)
    .as("page");
  const rows: any[] = await db(table)
    .select(columns.map((c) => `${table}.${c}`))
    .join(ids, "page.id", `${table}.id`)
    .where(`${table}.tenant_id`, tenantId)
    .orderByRaw(`${column} ${order} nulls ${order === "asc" ? "last" : "first"}, ${table}.id ${order}`);
  // A short first page is the whole result (an IdP's userName/externalId lookups): no count query.
  const total = opts.offset === 0 && rows.length < opts.limit ? rows.length : await count();
  return { total, rows };
}
