import type { Knex } from "knex";

/**
 * Verified domains (issue 16): a tenant claims a domain, proves it with a DNS TXT record, and only
 * then does the domain route sign-in or count for "Require SSO".
 * - `(tenant_id, domain)` is unique: a tenant claims a name once.
 * - `domain` is unique among verified rows (a partial index): a domain verified by one tenant
 *   cannot be claimed by another (409 DOMAIN_TAKEN), and two racing verifications cannot both win.
 *   Pending claims by several tenants may coexist: refusing them would let anyone squat a name.
 * - `(status, next_check_at)` serves the overdue sweep of the re-check schedule.
 *
 * "Require SSO" and break-glass:
 * - `sso_policies`: one row per tenant that set a policy (none = SSO not required).
 * - `break_glass_windows`: each arming of a named account, closed by its expiry or a disarm;
 *   discover reads the open one of an e-mail, so `(tenant_id, email, expires_at)`.
 * - `user_emails (value_norm)`: discover asks, for an e-mail outside every verified domain,
 *   whether a tenant requiring SSO has it in its directory, without knowing the tenant.
 *
 * Several connections per tenant:
 * - `saml_connections` loses its one-per-tenant unique; the row PUT …/saml manages is the
 *   tenant's default (`is_default`, unique per tenant), the others are named connections
 *   (POST …/connections). Existing rows become the defaults.
 * - `domains.connection_id`: the connection a domain routes to (null: the tenant's default).
 * - `saml_requests.connection_id`, `saml_tests.connection_id`: which connection started a
 *   sign-in or a test, so a response is checked by, and a test marks, that connection only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("domains", (t) => {
    t.string("id", 36).primary();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    // ASCII (IDNA) form, lower case: at most 253 characters (RFC 1035 §2.3.4).
    t.string("domain", 253).notNullable();
    t.string("status", 16).notNullable();
    t.string("token", 64).notNullable();
    t.string("created_at", 32).notNullable();
    t.string("verified_at", 32);
    t.string("last_checked_at", 32);
    t.string("last_result", 32);
    t.string("next_check_at", 32);
    t.string("record_missing_since", 32);
    t.string("connection_id", 36);
    t.unique(["tenant_id", "domain"], { indexName: "domains_tenant_domain" });
    t.index(["status", "next_check_at"], "domains_schedule");
  });
  await knex.raw("create unique index domains_verified_once on domains (domain) where status = 'verified'");
  await knex.schema.createTable("sso_policies", (t) => {
    t.string("tenant_id", 36).primary().references("id").inTable("tenants").onDelete("CASCADE");
    t.boolean("require_sso").notNullable();
    t.text("break_glass").notNullable();
    t.string("updated_at", 32).notNullable();
  });
  await knex.schema.createTable("break_glass_windows", (t) => {
    t.string("id", 36).primary();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("email", 320).notNullable();
    t.string("reason", 1000).notNullable();
    t.string("armed_at", 32).notNullable();
    t.string("expires_at", 32).notNullable();
    t.string("closed_at", 32);
    // expired | disarmed
    t.string("closed_by", 16);
    t.index(["tenant_id", "email", "expires_at"], "break_glass_open");
  });
  await knex.schema.alterTable("user_emails", (t) => t.index(["value_norm"], "user_emails_value"));
  await knex.schema.alterTable("saml_connections", (t) => {
    t.string("name", 200).notNullable().defaultTo("SAML");
    t.boolean("is_default").notNullable().defaultTo(true);
  });
  await knex.schema.alterTable("saml_connections", (t) => t.dropUnique(["tenant_id"]));
  await knex.schema.alterTable("saml_connections", (t) => t.index(["tenant_id"], "saml_connections_tenant"));
  await knex.raw(
    "create unique index saml_connections_default on saml_connections (tenant_id) where is_default",
  );
  await knex.schema.alterTable("saml_requests", (t) => t.string("connection_id", 36));
  await knex.schema.alterTable("saml_tests", (t) => t.string("connection_id", 36));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("saml_tests", (t) => t.dropColumn("connection_id"));
  await knex.schema.alterTable("saml_requests", (t) => t.dropColumn("connection_id"));
  await knex.raw("drop index saml_connections_default");
  await knex.schema.alterTable("saml_connections", (t) =>
    t.dropIndex(["tenant_id"], "saml_connections_tenant"),
  );
  await knex("saml_connections").where({ is_default: false }).delete();
  await knex.schema.alterTable("saml_connections", (t) => {
    t.dropColumn("is_default");
    t.dropColumn("name");
    t.unique(["tenant_id"]);
  });
  await knex.schema.alterTable("user_emails", (t) => t.dropIndex(["value_norm"], "user_emails_value"));
  await knex.schema.dropTableIfExists("break_glass_windows");
  await knex.schema.dropTableIfExists("sso_policies");
  await knex.schema.dropTableIfExists("domains");
}
