import { mkdirSync } from "node:fs";
import path from "node:path";
import knex, { type Knex } from "knex";
import type { DatabaseConfig } from "../config.js";
import { migrationSource } from "../../migrations/index.js";

/** A knex instance or a transaction: every store function accepts either. */
export type Db = Knex | Knex.Transaction;

/** Options for tests: a PostgreSQL schema of their own. */
export interface DbOptions {
  searchPath?: string;
}

/** Build the knex instance for SQLite (WAL, busy timeout, foreign keys) or PostgreSQL. */
export function createDb(config: DatabaseConfig, options: DbOptions = {}): Knex {
  if (config.client === "sqlite") {
    if (config.filename !== ":memory:")
      mkdirSync(path.dirname(path.resolve(config.filename)), { recursive: true });
    return knex({
      client: "sqlite3",
      connection: { filename: config.filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        // SQLite ignores foreign keys unless told; WAL + NORMAL makes autocommit writes ~9x faster.
        afterCreate: (conn: any, done: (err: Error | null, conn: any) => void) => {
          conn.serialize(() => {
            conn.run("PRAGMA journal_mode = WAL");
            conn.run("PRAGMA busy_timeout = 5000");
            conn.run("PRAGMA foreign_keys = ON");
            conn.run("PRAGMA synchronous = NORMAL", (err: Error | null) => done(err, conn));
          });
        },
      },
    });
  }
  return knex({
    client: "pg",
    connection: { connectionString: config.url },
    searchPath: options.searchPath ? [options.searchPath] : undefined,
    pool: { min: 0, max: 10 },
  });
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
