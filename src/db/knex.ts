import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import knex, { type Knex } from "knex";
import type { Logger } from "pino";
import type { DatabaseConfig } from "../config.js";
import { migrationSource } from "../../migrations/index.js";

/** A knex instance or a transaction: every store function accepts either. */
export type Db = Knex | Knex.Transaction;

/** Options: a PostgreSQL schema of their own (tests), where knex's own warnings go. */
export interface DbOptions {
  searchPath?: string;
  logger?: Logger;
}

/**
 * knex's own log lines. It prints a warning with a full stack to stderr for every failed
 * connection attempt ("Acquire connection error") and then throws the same error to the caller,
 * which reports it: the start-up check names the cause in one line, a request logs it with its
 * 500. So its warnings are debug lines here, in the process's JSON log.
 */
function knexLog(logger: Logger | undefined): Knex.Config["log"] {
  const line = (level: "debug" | "warn") => (message: unknown) =>
    logger?.[level](
      { source: "knex" },
      typeof message === "string" ? message.split("\n")[0] : String(message),
    );
  return { warn: line("debug"), error: line("warn"), deprecate: line("warn"), debug: line("debug") };
}

/** Build the knex instance for SQLite (WAL, busy timeout, foreign keys) or PostgreSQL. */
export function createDb(config: DatabaseConfig, options: DbOptions = {}): Knex {
  if (config.client === "sqlite") {
    if (config.filename !== ":memory:") ownerOnly(config.filename);
    return knex({
      client: config.driver,
      connection: { filename: config.filename },
      useNullAsDefault: true,
      // knex writes a failed statement's bound values into its error message by default; that
      // message is logged and kept in jobs.last_error, so secrets and personal data would be too.
      compileSqlOnError: false,
      log: knexLog(options.logger),
      pool: { min: 1, max: 1, afterCreate: config.driver === "sqlite3" ? setupSqlite3 : setupBetterSqlite3 },
    });
  }
  return knex({
    client: "pg",
    connection: { connectionString: config.url },
    searchPath: options.searchPath ? [options.searchPath] : undefined,
    log: knexLog(options.logger),
    pool: { min: 0, max: 10 },
    compileSqlOnError: false, // as above: no bound values in error messages
  });
}

/**
 * The database holds secrets (encrypted, but with hashes, personal data and the tenants'
 * directories in clear): the folder is created 0700 and the file 0600 before SQLite opens it.
 * SQLite creates the -wal and -shm files with the database file's mode (unix VFS,
 * findCreateFileMode), so they are 0600 too; files of an older start are made 0600. A folder
 * that exists is left as it is (it may be /tmp or shared with other files). A file that cannot be
 * created or changed here is left for SQLite to report when it opens it.
 */
function ownerOnly(filename: string): void {
  mkdirSync(path.dirname(path.resolve(filename)), { recursive: true, mode: 0o700 });
  try {
    if (!existsSync(filename)) closeSync(openSync(filename, "wx", 0o600));
  } catch {}
  for (const f of [filename, `${filename}-wal`, `${filename}-shm`, `${filename}-journal`]) {
    try {
      chmodSync(f, 0o600);
    } catch {}
  }
}

type Done = (err: Error | null, conn: any) => void;
/** How long a write waits for another process's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;
// SQLite ignores foreign keys unless told; WAL + NORMAL makes autocommit writes ~9x faster.
// The default 2 MB page cache thrashes on a 100,000-user directory; 32 MB keeps its indexes hot.
// A checkpoint every 4,000 WAL pages (16 MB) instead of SQLite's 1,000: each one copies the
// pages written since the last back into the database file, so fewer checkpoints write a hot
// index page (users, events, jobs) once where they wrote it several times.
const PRAGMAS = [
  "journal_mode = WAL",
  `busy_timeout = ${BUSY_TIMEOUT_MS}`,
  "foreign_keys = ON",
  "cache_size = -32768",
  "wal_autocheckpoint = 4000",
  "synchronous = NORMAL",
  "temp_store = MEMORY",
];

function setupBetterSqlite3(conn: any, done: Done): void {
  try {
    cacheStatements(conn);
    for (const p of PRAGMAS) conn.pragma(p);
    done(null, conn);
  } catch (err) {
    done(err as Error, conn);
  }
}

function setupSqlite3(conn: any, done: Done): void {
  conn.serialize(() => {
    for (const p of PRAGMAS.slice(0, -1)) conn.run(`PRAGMA ${p}`);
    conn.run(`PRAGMA ${PRAGMAS.at(-1)}`, (err: Error | null) => done(err, conn));
  });
}

/**
 * knex prepares every query anew; with better-sqlite3 preparing is a measurable share of a
 * request, so statements are kept per SQL text (bounded: bulk inserts vary in shape).
 * Transactions begin IMMEDIATE, and writes outside a transaction wait for the lock without
 * blocking the process (see below).
 */
function cacheStatements(conn: SqliteConnection): void {
  const cache = new Map<string, unknown>();
  const prepare = conn.prepare.bind(conn);
  conn.prepare = (text: string) => {
    // Roster opens transactions only to write. A deferred BEGIN that later needs the write lock
    // fails at once with SQLITE_BUSY when another process (cluster worker, CLI) wrote meanwhile;
    // BEGIN IMMEDIATE takes the lock up front.
    const sql = text === "BEGIN;" ? "BEGIN IMMEDIATE;" : text;
    let stmt = cache.get(sql);
    if (!stmt) {
      const prepared = prepare(sql) as SqliteStatement;
      // Statements that write (RETURNING ones included: `reader` but not `readonly`).
      stmt = prepared.readonly ? prepared : waitsWithoutBlocking(conn, prepared);
      if (cache.size >= 2000) cache.clear();
      cache.set(sql, stmt);
    }
    return stmt;
  };
}

interface SqliteStatement {
  reader: boolean;
  readonly: boolean;
  run(...bindings: unknown[]): unknown;
  all(...bindings: unknown[]): unknown;
  safeIntegers(on?: boolean): SqliteStatement;
}
interface SqliteConnection {
  inTransaction: boolean;
  prepare(sql: string): unknown;
}

const timeoutStatements = new WeakMap<SqliteConnection, { none: PragmaStatement; usual: PragmaStatement }>();
interface PragmaStatement {
  get(): unknown;
}
/** The two busy_timeout settings, prepared once per connection (pragma() prepares every call). */
function busyTimeouts(conn: SqliteConnection) {
  let t = timeoutStatements.get(conn);
  if (!t) {
    t = {
      none: conn.prepare("PRAGMA busy_timeout = 0") as PragmaStatement,
      usual: conn.prepare(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`) as PragmaStatement,
    };
    timeoutStatements.set(conn, t);
  }
  return t;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A write outside a transaction (BEGIN IMMEDIATE above all, and the job claims) that finds
 * another process holding the write lock. busy_timeout would wait inside SQLite, blocking the
 * whole event loop, sleeping up to 100 ms at a time: with two cluster workers every login and
 * SCIM write of the waiting process stalled behind it. Instead, try without waiting and retry
 * after a millisecond or two, so the process goes on with other requests meanwhile (up to the
 * same 5 s, then SQLITE_BUSY as before). Inside a transaction the lock is already held.
 */
function waitsWithoutBlocking(conn: SqliteConnection, stmt: SqliteStatement): SqliteStatement {
  const timeouts = busyTimeouts(conn);
  // In a transaction the result is returned as it comes (callers may rely on a synchronous
  // value there); outside one, a promise of it.
  const retrying =
    (call: (bindings: unknown[]) => unknown) =>
    (...bindings: unknown[]): unknown => {
      if (conn.inTransaction) return call(bindings);
      return (async () => {
        const started = Date.now();
        for (let attempt = 0; ; attempt++) {
          timeouts.none.get();
          try {
            return call(bindings);
          } catch (err) {
            if ((err as { code?: string }).code !== "SQLITE_BUSY" || Date.now() - started > BUSY_TIMEOUT_MS)
              throw err;
          } finally {
            timeouts.usual.get();
          }
          await sleep(Math.min(1 + attempt, 5));
        }
      })();
    };
  const wrapped: SqliteStatement = {
    reader: stmt.reader,
    readonly: false,
    run: retrying((b) => stmt.run(...b)),
    all: retrying((b) => stmt.all(...b)),
    safeIntegers: (on?: boolean) => {
      stmt.safeIntegers(on);
      return wrapped;
    },
  };
  return wrapped;
}

/** Apply every pending migration; returns the names applied. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = await db.migrate.latest({ migrationSource });
  return applied as string[];
}

/** True when the database answers a trivial query. */
export async function pingDb(db: Knex): Promise<boolean> {
  try {
    await db.raw("select 1");
    return true;
  } catch {
    return false;
  }
}

/** Which SQL dialect a knex instance speaks. */
export function dialectOf(db: Db): "sqlite" | "pg" {
  return db.client.config.client === "pg" ? "pg" : "sqlite";
}
