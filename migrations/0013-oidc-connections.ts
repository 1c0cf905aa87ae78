import type { Knex } from "knex";

/**
 * Upstream OpenID Connect connections (issue 17): one per tenant for now (the connections API of
 * the verified-domains issue will list it beside SAML: id, name, domains, state), and their
 * configuration tests. Started logins reuse `saml_requests` (ids prefixed `oidc_`, the same
 * pending bound, browser binding and purge), codes seen reuse `saml_replay`. The client secret is
 * sealed (src/secrets/sealed.ts: `oidc_connections.client_secret`).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("oidc_connections", (t) => {
    t.string("id", 36).primary();
    t.string("tenant_id", 36).notNullable().unique().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("name", 200).notNullable();
    t.text("domains").notNullable();
    // draft → tested → enabled (and disabled), as SAML
    t.string("state", 16).notNullable();
    t.string("preset", 16).notNullable();
    t.string("issuer", 1024).notNullable();
    t.string("client_id", 512).notNullable();
    t.text("client_secret").notNullable();
    t.text("scopes").notNullable();
    t.text("settings").notNullable();
    // The provider's discovery document as last fetched (a cache; refreshed when stale).
    t.text("discovery");
    t.string("discovered_at", 32);
    t.integer("config_version").notNullable().defaultTo(1);
    t.integer("tested_version");
    t.string("tested_at", 32);
    t.string("enabled_at", 32);
    t.string("created_at", 32).notNullable();
    t.string("updated_at", 32).notNullable();
  });
  await knex.schema.createTable("oidc_tests", (t) => {
    t.string("id", 36).primary();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.integer("config_version").notNullable();
    t.string("status", 16).notNullable();
    t.text("report");
    t.string("created_at", 32).notNullable();
    t.string("completed_at", 32);
    t.index(["tenant_id", "created_at"]);
  });
}

/** Drop the OpenID Connect tables. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("oidc_tests");
  await knex.schema.dropTableIfExists("oidc_connections");
}
