import type { Knex } from "knex";

// RFC 7643 §4.1 `password`, bare or URN-qualified, in any casing (RFC 7643 §2.1).
const PASSWORD_KEY = /^(?:urn:ietf:params:scim:schemas:core:2\.0:user:)?password$/i;
const BATCH = 500;

/**
 * Issue 14 (items 1 and 16).
 *
 * 1. Earlier versions stored the cleartext of a SCIM password sent by PATCH (any path form) or
 *    by a URN-qualified key in POST/PUT inside `users.resource` (GET hid it). Roster is not a
 *    password store: remove every stored password. The visible document does not change, so
 *    neither do `version`, `updated_at` or the ETag.
 * 2. `revocations.user_name` held 256 characters while a userName may have 512: deprovisioning
 *    a user with a longer userName failed on PostgreSQL (SQLite does not enforce lengths). Widen
 *    it to the userName limit.
 */
export async function up(knex: Knex): Promise<void> {
  await removeStoredPasswords(knex);
  if (knex.client.config.client === "pg") {
    await knex.raw('alter table "revocations" alter column "user_name" type varchar(512)');
  }
}

/** Keyset pages over the users whose document mentions a password (case-insensitively). */
async function removeStoredPasswords(knex: Knex): Promise<void> {
  let after = "";
  for (;;) {
    const rows: Array<{ id: string; resource: string }> = await knex("users")
      .select("id", "resource")
      .where("id", ">", after)
      .andWhereRaw("lower(resource) like ?", ["%password%"])
      .orderBy("id")
      .limit(BATCH);
    if (rows.length === 0) return;
    for (const row of rows) {
      const doc = JSON.parse(row.resource) as Record<string, unknown>;
      const keys = Object.keys(doc).filter((k) => PASSWORD_KEY.test(k));
      if (keys.length === 0) continue; // "password" inside some other value, e.g. a title
      for (const k of keys) delete doc[k];
      await knex("users")
        .where({ id: row.id })
        .update({ resource: JSON.stringify(doc) });
    }
    after = rows[rows.length - 1].id;
  }
}

/**
 * Nothing to undo: a removed password must stay removed, and the wider column holds every
 * value the narrower one did (narrowing it again could fail on longer userNames).
 */
export async function down(_knex: Knex): Promise<void> {}
