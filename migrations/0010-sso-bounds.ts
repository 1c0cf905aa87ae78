import type { Knex } from "knex";

/**
 * What an anonymous caller can make Roster store, bounded (issue 14 item 2):
 * - `sso_traces`: one row per refused sign-in, with every string from the response truncated.
 *   Refusals before any signature verified are kept only as the newest 100 per tenant (and
 *   counted in a metric); refusals after one verified are events too. Issue 18's sign-in traces
 *   extend this table (successes, the checks run, the decoded response).
 * - a partial index over the pending (unconsumed) AuthnRequests of a tenant and browser, which
 *   the login endpoint counts before it stores and signs another one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("sso_traces", (t) => {
    t.increments("seq").primary();
    // The short reference shown on the refusal page ("give this to your IT admin").
    t.string("ref", 16).notNullable().unique();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("created_at", 32).notNullable();
    t.string("outcome", 16).notNullable();
    t.string("reason", 64).notNullable();
    // Whether a signature of the tenant's IdP verified: what the response says is otherwise anyone's.
    t.boolean("verified").notNullable();
    t.string("message", 1024).notNullable();
    t.text("details").notNullable();
    t.string("name_id", 1024);
    t.string("request_id", 128);
    t.index(["tenant_id", "verified", "seq"], "sso_traces_tenant_verified");
    t.index(["tenant_id", "seq"], "sso_traces_tenant");
  });
  await knex.schema.alterTable("saml_requests", (t) =>
    t.index(["tenant_id", "browser_hash", "expires_at"], "saml_requests_pending", {
      predicate: knex.whereNull("consumed_at"),
    }),
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("saml_requests", (t) => t.dropIndex([], "saml_requests_pending"));
  await knex.schema.dropTableIfExists("sso_traces");
}
