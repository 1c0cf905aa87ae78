import type { Knex } from "knex";

/** Every table of the database, as one text (to prove a value is stored nowhere). */
export async function databaseText(db: Knex): Promise<string> {
  const pg = db.client.config.client === "pg";
  const tables: string[] = pg
    ? (
        await db.raw(
          "select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'",
        )
      ).rows.map((r: { name: string }) => r.name)
    : (await db.raw("select name from sqlite_master where type = 'table'")).map(
        (r: { name: string }) => r.name,
      );
  const parts: string[] = [];
  for (const t of tables) parts.push(JSON.stringify(await db(t).select("*")));
  return parts.join("\n");
}
