import type { Knex } from "knex";

/**
 * `console_sessions.credential_fingerprint`: for an operator session signed in with
 * ROSTER_ADMIN_TOKEN, a fingerprint of that token (SHA-256 over a label and the token's hash,
 * never the token). When the configured token changes, the session no longer matches and ends,
 * as a session made with an admin key ends when the key is revoked.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("console_sessions", (t) => {
    t.string("credential_fingerprint", 64);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("console_sessions", (t) => {
    t.dropColumn("credential_fingerprint");
  });
}
