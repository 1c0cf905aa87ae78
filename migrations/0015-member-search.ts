import type { Knex } from "knex";

/**
 * The console's Members list (GET /admin/v1/tenants/{slug}/users): pages in userName order,
 * filtered by status, searched by prefix.
 *
 * - (tenant_id, active, user_name_norm) and (tenant_id, source, user_name_norm): the status
 *   filters walk an index in page order and stop after one page. With only (tenant_id, active),
 *   "deactivated" read and sorted every deactivated user of the tenant for each page.
 * - PostgreSQL only: `varchar_pattern_ops` copies of the three prefix-searched columns. In a
 *   database whose collation is not C (en_US.UTF-8 is the usual default), a btree index cannot
 *   serve `LIKE 'ann%'` (PostgreSQL manual, "Operator Classes and Operator Families"), so every
 *   search scanned the tenant's users. SQLite searches with a range on its BINARY-collated
 *   columns (code point order), which the existing indexes serve.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("users", (t) => {
    t.index(["tenant_id", "active", "user_name_norm"], "users_tenant_active_user_name");
    t.index(["tenant_id", "source", "user_name_norm"], "users_tenant_source_user_name");
  });
  if (knex.client.config.client !== "pg") return;
  await knex.raw(
    `create index "users_tenant_user_name_prefix" on "users" ("tenant_id", "user_name_norm" varchar_pattern_ops)`,
  );
  await knex.raw(
    `create index "users_tenant_display_name_prefix" on "users" ("tenant_id", "display_name_norm" varchar_pattern_ops)`,
  );
  await knex.raw(
    `create index "user_emails_tenant_value_prefix" on "user_emails" ("tenant_id", "value_norm" varchar_pattern_ops)`,
  );
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === "pg")
    for (const name of [
      "users_tenant_user_name_prefix",
      "users_tenant_display_name_prefix",
      "user_emails_tenant_value_prefix",
    ])
      await knex.raw(`drop index if exists "${name}"`);
  await knex.schema.alterTable("users", (t) => {
    t.dropIndex([], "users_tenant_active_user_name");
    t.dropIndex([], "users_tenant_source_user_name");
  });
}
