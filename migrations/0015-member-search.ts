import type { Knex } from "knex";

/**
 * The console's Members list (GET /admin/v1/tenants/{slug}/users): pages in userName order,
 * filtered by status, searched by prefix of userName, displayName or any e-mail.
 *
 * - (tenant_id, active, user_name_norm) and (tenant_id, source, user_name_norm): the status
 *   filters walk an index in page order and stop after one page. With only (tenant_id, active),
 *   "deactivated" read and sorted every deactivated user of the tenant for each page.
 * - A search unites the userNames matched through three indexes and sorts them; with
 *   user_name_norm (and user_id) inside the display-name and e-mail indexes, and
 *   (tenant_id, id, user_name_norm), every step reads indexes only. Reading the table row of
 *   each match cost 7-25 µs: a prefix matching 8,000 of 100,000 users took 200-400 ms, with
 *   covering indexes 12 ms (SQLite, this machine). On SQLite the display-name and e-mail
 *   indexes are replaced by their covering versions (same columns first: the SCIM filters that
 *   used them still do), so a SCIM write maintains one index more than before, not three.
 * - PostgreSQL: the prefix indexes use `varchar_pattern_ops`. In a database whose collation is
 *   not C (en_US.UTF-8 is the usual default), a btree index cannot serve `LIKE 'ann%'`
 *   (PostgreSQL manual, "Operator Classes and Operator Families"). The default-collation
 *   indexes stay: range filters and ORDER BY need them. SQLite searches with a range on its
 *   BINARY-collated columns (code point order), which its ordinary indexes serve.
 */
export async function up(knex: Knex): Promise<void> {
  const pg = knex.client.config.client === "pg";
  await knex.schema.alterTable("users", (t) => {
    t.index(["tenant_id", "active", "user_name_norm"], "users_tenant_active_user_name");
    t.index(["tenant_id", "source", "user_name_norm"], "users_tenant_source_user_name");
    t.index(["tenant_id", "id", "user_name_norm"], "users_tenant_id_user_name");
  });
  if (pg) {
    await knex.raw(
      `create index "users_tenant_user_name_prefix" on "users" ("tenant_id", "user_name_norm" varchar_pattern_ops)`,
    );
    await knex.raw(
      `create index "users_tenant_display_name_prefix" on "users" ("tenant_id", "display_name_norm" varchar_pattern_ops, "user_name_norm")`,
    );
    await knex.raw(
      `create index "user_emails_tenant_value_prefix" on "user_emails" ("tenant_id", "value_norm" varchar_pattern_ops, "user_id")`,
    );
    return;
  }
  await knex.schema.alterTable("users", (t) => {
    t.dropIndex([], "users_tenant_display_name");
    t.index(["tenant_id", "display_name_norm", "user_name_norm"], "users_tenant_display_name");
  });
  await knex.schema.alterTable("user_emails", (t) => {
    t.dropIndex([], "user_emails_tenant_value");
    t.index(["tenant_id", "value_norm", "user_id"], "user_emails_tenant_value");
  });
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === "pg") {
    for (const name of [
      "users_tenant_user_name_prefix",
      "users_tenant_display_name_prefix",
      "user_emails_tenant_value_prefix",
    ])
      await knex.raw(`drop index if exists "${name}"`);
  } else {
    await knex.schema.alterTable("users", (t) => {
      t.dropIndex([], "users_tenant_display_name");
      t.index(["tenant_id", "display_name_norm"], "users_tenant_display_name");
    });
    await knex.schema.alterTable("user_emails", (t) => {
      t.dropIndex([], "user_emails_tenant_value");
      t.index(["tenant_id", "value_norm"], "user_emails_tenant_value");
    });
  }
  await knex.schema.alterTable("users", (t) => {
    t.dropIndex([], "users_tenant_active_user_name");
    t.dropIndex([], "users_tenant_source_user_name");
    t.dropIndex([], "users_tenant_id_user_name");
  });
}
