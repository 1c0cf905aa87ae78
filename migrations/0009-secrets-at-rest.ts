import type { Knex } from "knex";

/**
 * Secrets at rest (src/secrets/): webhook secrets and URLs are now stored encrypted
 * (`enc:v1:<key id>:<iv>:<ciphertext>`, about 4/3 of the clear length plus ~45 characters), which
 * outgrows their varchar(128) and varchar(2048) on PostgreSQL: they become text. SQLite does not
 * enforce varchar lengths. The API still limits a URL to 2,048 characters.
 *
 * The existing clear values cannot be encrypted here (the key is not known to migrations): every
 * process encrypts whatever is still in clear right after migrating (sealClearSecrets).
 */
export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client !== "pg") return;
  await knex.raw("alter table webhooks alter column url type text");
  await knex.raw("alter table webhooks alter column secret type text");
  await knex.raw("alter table webhooks alter column previous_secret type text");
}

/** Kept as text: narrowing back would cut the encrypted values. */
export async function down(_knex: Knex): Promise<void> {}
