import type { Knex } from "knex";

/**
 * SSO: per-tenant SAML connections and their tests, the SAML request store (InResponseTo,
 * shared by every API process), the assertion replay cache, server-side sessions, OAuth
 * clients / codes / tokens and the id_token signing keys. Secrets (session tokens, client
 * secrets, codes, access tokens) are stored as SHA-256 hashes only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("saml_connections", (t) => {
    t.string("id", 36).primary();
    t.string("tenant_id", 36).notNullable().unique().references("id").inTable("tenants").onDelete("CASCADE");
    // draft → tested → enabled (and disabled)
    t.string("state", 16).notNullable();
    t.string("preset", 32).notNullable();
    t.string("idp_entity_id", 1024).notNullable();
    t.string("sso_url", 2048).notNullable();
    t.string("metadata_url", 2048);
    t.text("certificates").notNullable();
    t.text("settings").notNullable();
    t.text("sp_signing_key").notNullable();
    t.text("sp_signing_cert").notNullable();
    t.text("sp_encryption_key").notNullable();
    t.text("sp_encryption_cert").notNullable();
    // Bumped on every change; a test counts for enabling only if it ran against this version.
    t.integer("config_version").notNullable().defaultTo(1);
    t.integer("tested_version");
    t.string("tested_at", 32);
    t.string("enabled_at", 32);
    // Which certificate-expiry warnings were already emitted ({ fingerprint: [30, 7, …] }).
    t.text("expiry_alerts").notNullable().defaultTo("{}");
    t.string("created_at", 32).notNullable();
    t.string("updated_at", 32).notNullable();
  });

  await knex.schema.createTable("saml_tests", (t) => {
    t.string("id", 36).primary();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.integer("config_version").notNullable();
    t.string("status", 16).notNullable();
    t.text("report");
    t.string("created_at", 32).notNullable();
    t.string("completed_at", 32);
    t.index(["tenant_id", "created_at"]);
  });

  await knex.schema.createTable("saml_requests", (t) => {
    t.string("id", 128).notNullable();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("browser_hash", 64).notNullable();
    t.string("purpose", 16).notNullable();
    t.string("issue_instant", 32).notNullable();
    t.string("return_to", 2048);
    t.string("test_id", 36);
    t.text("oauth");
    t.string("created_at", 32).notNullable();
    t.string("expires_at", 32).notNullable();
    t.string("consumed_at", 32);
    t.primary(["tenant_id", "id"]);
    t.index(["expires_at"]);
  });

  await knex.schema.createTable("saml_replay", (t) => {
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("assertion_id", 256).notNullable();
    t.string("expires_at", 32).notNullable();
    t.primary(["tenant_id", "assertion_id"]);
    t.index(["expires_at"]);
  });

  await knex.schema.createTable("sessions", (t) => {
    t.string("id", 36).primary();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("user_id", 36).notNullable().references("id").inTable("users").onDelete("CASCADE");
    t.string("token_hash", 64).notNullable().unique();
    t.string("name_id", 1024);
    t.string("session_index", 256);
    t.string("created_at", 32).notNullable();
    t.string("expires_at", 32).notNullable();
    t.string("revoked_at", 32);
    t.string("revoked_reason", 64);
    t.index(["tenant_id", "user_id"]);
  });

  await knex.schema.createTable("sso_user_roles", (t) => {
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("user_id", 36).notNullable().references("id").inTable("users").onDelete("CASCADE");
    t.string("role_key", 64).notNullable();
    // invite (pre-assigned by an admin) | jit (the tenant's default role at first login)
    t.string("source", 16).notNullable();
    t.string("created_at", 32).notNullable();
    t.primary(["user_id", "role_key"]);
    t.index(["tenant_id", "user_id"]);
  });

  await knex.schema.createTable("oauth_clients", (t) => {
    t.string("id", 64).primary();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("name", 200).notNullable();
    t.string("secret_hash", 64).notNullable();
    t.text("redirect_uris").notNullable();
    t.string("created_at", 32).notNullable();
    t.string("revoked_at", 32);
    t.index(["tenant_id"]);
  });

  await knex.schema.createTable("oauth_codes", (t) => {
    t.string("code_hash", 64).primary();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("client_id", 64).notNullable();
    t.string("user_id", 36).notNullable();
    t.string("session_id", 36).notNullable();
    t.string("redirect_uri", 2048).notNullable();
    t.string("scope", 512).notNullable();
    t.string("nonce", 512);
    t.string("code_challenge", 128);
    t.string("created_at", 32).notNullable();
    t.string("expires_at", 32).notNullable();
    t.string("used_at", 32);
    t.index(["expires_at"]);
  });

  await knex.schema.createTable("oauth_tokens", (t) => {
    t.string("id", 36).primary();
    t.string("token_hash", 64).notNullable().unique();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("client_id", 64).notNullable();
    t.string("user_id", 36).notNullable();
    t.string("session_id", 36).notNullable();
    t.string("code_hash", 64);
    t.string("scope", 512).notNullable();
    t.string("created_at", 32).notNullable();
    t.string("expires_at", 32).notNullable();
    t.string("revoked_at", 32);
    t.string("revoked_reason", 64);
    t.index(["tenant_id", "user_id"]);
    t.index(["session_id"]);
  });

  await knex.schema.createTable("signing_keys", (t) => {
    t.string("kid", 64).primary();
    t.string("alg", 16).notNullable();
    t.text("private_jwk").notNullable();
    t.text("public_jwk").notNullable();
    t.string("created_at", 32).notNullable();
    t.string("retired_at", 32);
  });
}

/** Drop the SSO tables. */
export async function down(knex: Knex): Promise<void> {
  for (const table of [
    "signing_keys",
    "oauth_tokens",
    "oauth_codes",
    "oauth_clients",
    "sso_user_roles",
    "sessions",
    "saml_replay",
    "saml_requests",
    "saml_tests",
    "saml_connections",
  ])
    await knex.schema.dropTableIfExists(table);
}
