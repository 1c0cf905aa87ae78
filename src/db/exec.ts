import type { Db } from "./knex.js";

/** A value a statement binds (booleans become 0/1 on SQLite). */
export type Binding = string | number | boolean | null;

/** A SQL fragment with `?` placeholders and its bindings (e.g. a filter's WHERE clause). */
export interface SqlFragment {
  sql: string;
  bindings: Binding[];
}

/**
 * Run one hand-written statement and return its rows (RETURNING rows for writes; none
 * otherwise). For the hot paths of SCIM requests and job claims: building a query with knex's
 * builder and running it through knex's runner cost more CPU than SQLite took to answer it.
 *
 * With better-sqlite3 the statement runs on the connection knex would have used (the pool's one
 * connection, or the transaction's), prepared once per SQL text (see cacheStatements), so it
 * queues and commits exactly like knex's own queries. Other drivers (PostgreSQL, sqlite3) go
 * through `knex.raw`. Placeholders are `?` on both dialects; quote identifiers with "…".
 */
export async function exec<T = Record<string, any>>(
  db: Db,
  sql: string,
  bindings: Binding[] = [],
): Promise<T[]> {
  const client = db.client as DirectClient;
  if (client.config.client !== "better-sqlite3") {
    // SQLite stores booleans as 0/1; PostgreSQL takes them as they are.
    const args = client.config.client === "pg" ? bindings : bindings.map(sqliteValue);
    const result = await db.raw(sql, args as Array<string | number>);
    return (Array.isArray(result) ? result : result.rows) as T[];
  }
  // A read outside a transaction, with no transaction open on the connection, runs on it at
  // once: it is synchronous, so nothing can interleave, and it reads committed rows whoever holds
  // the pool's lease. The lease (a promise and a queue entry each way) cost more than a lookup's
  // SELECT. With a transaction open (a knex one, or a shared write batch) it queues as before:
  // run now, it would read inside that transaction. Writes always take the lease: one that waits
  // for another process's lock must not find, when it retries, a transaction begun meanwhile.
  const idle = db.isTransaction ? undefined : idleConnections.get(client);
  if (idle?.open && !idle.inTransaction) {
    const stmt = idle.prepare(sql);
    if (stmt.readonly) return stmt.all(argsOf(sql, bindings)) as T[];
  }
  const conn = await client.acquireConnection();
  try {
    if (!db.isTransaction) idleConnections.set(client, conn);
    return await run<T>(conn, sql, bindings);
  } finally {
    await client.releaseConnection(conn);
  }
}

/** The pool's connection (SQLite has one), kept to run statements without a lease when idle. */
const idleConnections = new WeakMap<DirectClient, BetterConnection>();

async function run<T>(conn: BetterConnection, sql: string, bindings: Binding[]): Promise<T[]> {
  const stmt = conn.prepare(sql);
  const args = argsOf(sql, bindings);
  // A write outside a transaction answers with a promise (it may wait for another process's
  // write lock without blocking: see waitsWithoutBlocking in knex.ts).
  if (stmt.reader) return (await stmt.all(args)) as T[];
  await stmt.run(args);
  return [];
}

function argsOf(sql: string, bindings: Binding[]): unknown[] {
  return bindings.map((b) => {
    if (b === undefined) throw new TypeError(`undefined binding in: ${sql}`);
    return sqliteValue(b);
  });
}

const sqliteValue = (b: Binding) => (typeof b === "boolean" ? Number(b) : b);

const PLACEHOLDERS: string[] = [];

/** `?, ?, ?` for n values. */
export function placeholders(n: number): string {
  let text = PLACEHOLDERS[n];
  if (text === undefined) {
    text = Array.from({ length: n }, () => "?").join(", ");
    if (n <= 1000) PLACEHOLDERS[n] = text;
  }
  return text;
}

// The statement text per (table, columns, row count, tail): built once, then looked up.
const INSERTS = new Map<string, string>();

/**
 * A multi-row INSERT of `rows` (each with the columns' values in order); `tail` follows the
 * VALUES list (`on conflict … do nothing`, `returning …`).
 */
export function insertSql(table: string, columns: string[], rows: Binding[][], tail = ""): SqlFragment {
  const key = `${table}|${columns.join(",")}|${rows.length}|${tail}`;
  let sql = INSERTS.get(key);
  if (sql === undefined) {
    const one = `(${placeholders(columns.length)})`;
    sql = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(", ")}) values ${rows.map(() => one).join(", ")}${tail ? ` ${tail}` : ""}`;
    if (INSERTS.size >= 500) INSERTS.clear();
    INSERTS.set(key, sql);
  }
  return { sql, bindings: rows.length === 1 ? rows[0] : rows.flat() };
}

/** The parts of knex's client (or a transaction's) that `exec` uses. */
interface DirectClient {
  config: { client: string };
  acquireConnection(): Promise<BetterConnection>;
  releaseConnection(conn: unknown): Promise<unknown>;
}

interface BetterConnection {
  open: boolean;
  inTransaction: boolean;
  prepare(sql: string): BetterStatement;
}

interface BetterStatement {
  reader: boolean;
  /** False for writes, RETURNING ones included (those are wrapped by waitsWithoutBlocking). */
  readonly: boolean;
  all(args: unknown[]): unknown[];
  run(args: unknown[]): unknown;
}
