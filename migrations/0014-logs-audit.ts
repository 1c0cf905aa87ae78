import type { Knex } from "knex";

/**
 * Issue 18: what happened, and why.
 * - `scim_requests`: one row per SCIM request of a tenant (ROSTER_SCIM_LOG), bodies of writes
 *   redacted and cut; `scim_request_resources` indexes the resources each touched, so
 *   `?resource={id}` never scans the log.
 * - `audit_log`: every admin action, append-only, hash-chained per chain (a tenant's, or the
 *   operator's); `audit_chains` holds each chain's head (the row writers lock to append one at
 *   a time) and, after retention, the hash the oldest kept entry must point back to.
 *   No foreign key to tenants: deleting a tenant must not delete the record that someone did.
 * - `sso_traces` gains what issue 18 asks of a trace: protocol, connection, the fix in words,
 *   the checks run, the decoded response (secrets elided).
 * - `event_retention`: the newest event sequence number retention deleted, per tenant, so the
 *   feed can answer 410 CURSOR_EXPIRED to a cursor that points into the deleted past.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("scim_requests", (t) => {
    t.increments("id").primary();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("at", 32).notNullable();
    t.string("method", 8).notNullable();
    t.text("path").notNullable();
    t.integer("status").notNullable();
    t.float("duration_ms").notNullable();
    t.string("token_id", 36);
    t.string("token_name", 200);
    t.string("user_agent", 300);
    t.string("request_id", 128);
    t.string("scim_type", 32);
    t.text("detail");
    // The userName (or group displayName) the request was about, lower-cased, for `?q=`.
    t.string("subject", 300);
    t.text("resource_ids").notNullable();
    t.text("event_ids").notNullable();
    t.text("request_body");
    t.text("response_body");
    t.index(["tenant_id", "id"], "scim_requests_tenant");
    t.index(["tenant_id", "subject", "id"], "scim_requests_subject");
    // No index on `at`: every SCIM request inserts a row, and retention walks the primary key
    // from the oldest id instead (ids grow with time).
  });
  await knex.schema.createTable("scim_request_resources", (t) => {
    t.string("tenant_id", 36).notNullable();
    t.string("resource_id", 64).notNullable();
    t.integer("request_id").notNullable().references("id").inTable("scim_requests").onDelete("CASCADE");
    t.primary(["tenant_id", "resource_id", "request_id"]);
    t.index(["request_id"], "scim_request_resources_request");
  });

  await knex.schema.createTable("audit_log", (t) => {
    t.increments("seq").primary();
    t.string("chain", 64).notNullable();
    t.string("tenant_id", 36);
    t.string("tenant_slug", 64);
    t.string("at", 32).notNullable();
    t.string("actor_kind", 32).notNullable();
    t.string("actor_id", 64);
    t.string("actor_name", 200);
    t.string("action", 64).notNullable();
    t.string("target_type", 32);
    t.string("target_id", 200);
    t.text("changes").notNullable();
    t.string("source_ip", 64);
    t.string("request_id", 128);
    t.string("prev_hash", 64).notNullable();
    t.string("hash", 64).notNullable();
    t.index(["chain", "seq"], "audit_log_chain");
    t.index(["tenant_id", "seq"], "audit_log_tenant");
    t.index(["at"], "audit_log_at");
  });
  await knex.schema.createTable("audit_chains", (t) => {
    t.string("chain", 64).primary();
    t.integer("head_seq");
    t.string("head_hash", 64).notNullable();
    // The prev_hash of the oldest entry retention kept ("" while nothing was deleted).
    t.string("pruned_hash", 64).notNullable();
  });

  await knex.schema.alterTable("sso_traces", (t) => {
    t.string("protocol", 16).notNullable().defaultTo("saml");
    t.string("connection_id", 36);
    t.text("fix");
    t.text("checks");
    t.text("response");
    t.index(["created_at"], "sso_traces_created");
  });

  await knex.schema.createTable("event_retention", (t) => {
    t.string("tenant_id", 36).primary().references("id").inTable("tenants").onDelete("CASCADE");
    t.bigInteger("pruned_through").notNullable();
  });
  // Retention deletes by age: without these, each housekeeping batch would scan the table.
  await knex.schema.alterTable("events", (t) => t.index(["created_at"], "events_created"));
  await knex.schema.alterTable("webhook_deliveries", (t) =>
    t.index(["created_at"], "webhook_deliveries_created"),
  );
  await knex.schema.alterTable("revocations", (t) => t.index(["requested_at"], "revocations_requested"));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("revocations", (t) => t.dropIndex([], "revocations_requested"));
  await knex.schema.alterTable("webhook_deliveries", (t) => t.dropIndex([], "webhook_deliveries_created"));
  await knex.schema.alterTable("events", (t) => t.dropIndex([], "events_created"));
  await knex.schema.dropTableIfExists("event_retention");
  await knex.schema.alterTable("sso_traces", (t) => {
    t.dropIndex([], "sso_traces_created");
    t.dropColumn("protocol");
    t.dropColumn("connection_id");
    t.dropColumn("fix");
    t.dropColumn("checks");
    t.dropColumn("response");
  });
  await knex.schema.dropTableIfExists("audit_chains");
  await knex.schema.dropTableIfExists("audit_log");
  await knex.schema.dropTableIfExists("scim_request_resources");
  await knex.schema.dropTableIfExists("scim_requests");
}
