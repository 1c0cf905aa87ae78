/**
 * The README's `DATABASE_URL=postgres://…/roster_test npm test` on a fresh machine: the database
 * it names does not exist yet. Create it (connected to the server's `postgres` database, as
 * createdb does) so the command works as written; an existing one is left as it is.
 */
import pg from "pg";

/** Create the database a postgres:// URL names when it is missing; returns whether it did. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ""));
  if (!name || name === "postgres") return false;
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query("select 1 from pg_database where datname = $1", [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`create database "${name.replace(/"/g, '""')}"`);
    } catch (err) {
      // Another run created it meanwhile (42P04 duplicate_database).
      if ((err as { code?: string }).code !== "42P04") throw err;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}
