import type { Knex } from "knex";

/**
 * The console (issue 15):
 * - `console_links`: single-use sign-in links, stored as the SHA-256 of their secret. `operator`
 *   links come from `npm run cli -- console:link` (10 minutes); `setup` links from
 *   POST /admin/v1/tenants/{slug}/setup-links (one tenant, some scopes, the vendor's lifetime).
 * - `console_sessions`: a browser's console session, token hashed. `kind` says who: an operator
 *   (actor = admin key id, `admin_token` or the operator link id), a setup link (actor = link id,
 *   tenant + scopes fixed) or a directory user who signed in through the tenant's SSO (actor =
 *   user id; `app_session_id` ties it to their SSO session, so revoking that ends this one).
 * - `console_audit`: operator actions that touch no tenant (admin keys, a deleted tenant); tenant
 *   actions are events in the tenant's own log.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("console_links", (t) => {
    t.string("id", 36).primary();
    t.string("kind", 16).notNullable();
    t.string("tenant_id", 36).references("id").inTable("tenants").onDelete("CASCADE");
    t.string("token_hash", 64).notNullable().unique();
    t.text("scopes").notNullable();
    t.string("return_url", 2048);
    t.string("created_by", 64).notNullable();
    t.string("created_at", 32).notNullable();
    t.string("expires_at", 32).notNullable();
    t.string("used_at", 32);
    t.string("revoked_at", 32);
    t.index(["tenant_id", "kind", "created_at"], "console_links_tenant");
  });
  await knex.schema.createTable("console_sessions", (t) => {
    t.string("id", 36).primary();
    t.string("token_hash", 64).notNullable().unique();
    t.string("kind", 16).notNullable();
    t.string("actor_id", 64).notNullable();
    t.string("tenant_id", 36).references("id").inTable("tenants").onDelete("CASCADE");
    t.text("scopes").notNullable();
    t.string("link_id", 36);
    t.string("app_session_id", 36);
    t.string("created_at", 32).notNullable();
    t.string("last_seen_at", 32).notNullable();
    t.string("expires_at", 32).notNullable();
    t.string("revoked_at", 32);
    t.string("revoked_reason", 64);
    t.index(["link_id"], "console_sessions_link");
    t.index(["tenant_id", "actor_id"], "console_sessions_actor");
  });
  await knex.schema.createTable("console_audit", (t) => {
    t.increments("seq").primary();
    t.string("at", 32).notNullable();
    t.string("actor_kind", 16).notNullable();
    t.string("actor_id", 64).notNullable();
    t.string("action", 64).notNullable();
    t.string("tenant_id", 36);
    t.string("target", 256);
    t.string("request_id", 128);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("console_audit");
  await knex.schema.dropTableIfExists("console_sessions");
  await knex.schema.dropTableIfExists("console_links");
}
