import type { Knex } from "knex";

/**
 * The tenant's directory: users (with their e-mails), groups and memberships. Every column an
 * IdP filters on has an index that starts with tenant_id; case-insensitive attributes
 * (userName, displayName, e-mails) have a normalised (lower-cased) copy so the same index
 * serves uniqueness and lookups on SQLite and PostgreSQL alike.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("users", (t) => {
    t.string("id", 36).primary();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("user_name", 512).notNullable();
    t.string("user_name_norm", 512).notNullable();
    t.string("external_id", 512);
    t.boolean("active").notNullable().defaultTo(true);
    t.string("display_name", 512);
    t.string("display_name_norm", 512);
    t.string("given_name", 256);
    t.string("family_name", 256);
    t.string("primary_email", 512);
    t.text("resource").notNullable();
    t.integer("version").notNullable().defaultTo(1);
    t.string("source", 16).notNullable().defaultTo("scim");
    t.string("created_at", 32).notNullable();
    t.string("updated_at", 32).notNullable();
    // (tenant_id, id): "these ids, in this tenant" probes one index (member adds of 100 ids).
    t.unique(["tenant_id", "id"], { indexName: "users_tenant_id" });
    t.unique(["tenant_id", "user_name_norm"], { indexName: "users_tenant_user_name" });
    t.unique(["tenant_id", "external_id"], { indexName: "users_tenant_external_id" });
    t.index(["tenant_id", "display_name_norm"], "users_tenant_display_name");
    t.index(["tenant_id", "primary_email"], "users_tenant_primary_email");
    t.index(["tenant_id", "family_name"], "users_tenant_family_name");
    // id completes the default sort, so a page's ids come from the index alone.
    t.index(["tenant_id", "created_at", "id"], "users_tenant_created");
    t.index(["tenant_id", "updated_at"], "users_tenant_updated");
    t.index(["tenant_id", "active"], "users_tenant_active");
  });

  await knex.schema.createTable("user_emails", (t) => {
    t.string("tenant_id", 36).notNullable();
    t.string("user_id", 36).notNullable().references("id").inTable("users").onDelete("CASCADE");
    t.string("value_norm", 512).notNullable();
    t.string("type", 64);
    t.boolean("primary").notNullable().defaultTo(false);
    t.index(["tenant_id", "value_norm"], "user_emails_tenant_value");
    t.index(["user_id"], "user_emails_user");
  });

  await knex.schema.createTable("groups", (t) => {
    t.string("id", 36).primary();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("display_name", 512).notNullable();
    t.string("display_name_norm", 512).notNullable();
    t.string("external_id", 512);
    t.text("resource").notNullable();
    t.integer("version").notNullable().defaultTo(1);
    t.string("created_at", 32).notNullable();
    t.string("updated_at", 32).notNullable();
    t.unique(["tenant_id", "id"], { indexName: "groups_tenant_id" });
    t.unique(["tenant_id", "display_name_norm"], { indexName: "groups_tenant_display_name" });
    t.unique(["tenant_id", "external_id"], { indexName: "groups_tenant_external_id" });
    t.index(["tenant_id", "created_at", "id"], "groups_tenant_created");
    t.index(["tenant_id", "updated_at"], "groups_tenant_updated");
  });

  await knex.schema.createTable("group_members", (t) => {
    t.string("tenant_id", 36).notNullable();
    t.string("group_id", 36).notNullable().references("id").inTable("groups").onDelete("CASCADE");
    t.string("member_id", 36).notNullable();
    t.string("member_type", 8).notNullable();
    t.primary(["group_id", "member_id"]);
    t.index(["tenant_id", "member_id"], "group_members_tenant_member");
  });
}

/** Drop the directory tables. */
export async function down(knex: Knex): Promise<void> {
  for (const table of ["group_members", "groups", "user_emails", "users"])
    await knex.schema.dropTableIfExists(table);
}
