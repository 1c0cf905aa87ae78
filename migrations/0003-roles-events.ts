import type { Knex } from "knex";

/**
 * Roles, group→role mappings, manual grants, effective user roles (recomputed by the
 * sync-roles job), webhook endpoints with their deliveries and attempts, and an index that
 * lets job claims visit tenants in turn (per-tenant fairness).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("roles", (t) => {
    t.string("id", 36).primary();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("key", 64).notNullable();
    t.string("name", 200).notNullable();
    t.integer("priority").notNullable().defaultTo(0);
    t.string("created_at", 32).notNullable();
    t.string("updated_at", 32).notNullable();
    t.unique(["tenant_id", "key"], { indexName: "roles_tenant_key" });
  });

  // Tenants whose default roles (admin, member) were seeded, so a deleted one is not re-created.
  await knex.schema.createTable("role_seeds", (t) => {
    t.string("tenant_id", 36).primary().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("seeded_at", 32).notNullable();
  });

  await knex.schema.createTable("role_mappings", (t) => {
    t.string("id", 36).primary();
    t.string("tenant_id", 36).notNullable();
    t.string("group_id", 36).notNullable().references("id").inTable("groups").onDelete("CASCADE");
    t.string("role_id", 36).notNullable().references("id").inTable("roles").onDelete("CASCADE");
    t.string("created_at", 32).notNullable();
    t.unique(["tenant_id", "group_id", "role_id"], { indexName: "role_mappings_tenant_group_role" });
    t.index(["role_id"], "role_mappings_role");
  });

  // Roles an admin gave by hand, kept apart from the computed set so a recompute never drops them.
  await knex.schema.createTable("manual_roles", (t) => {
    t.string("tenant_id", 36).notNullable();
    t.string("user_id", 36).notNullable().references("id").inTable("users").onDelete("CASCADE");
    t.string("role_id", 36).notNullable().references("id").inTable("roles").onDelete("CASCADE");
    t.string("created_at", 32).notNullable();
    t.primary(["user_id", "role_id"]);
    t.index(["tenant_id", "role_id"], "manual_roles_tenant_role");
  });

  // Effective roles with their reasons: one row per (user, role, reason); ref = mapping id,
  // 'manual' or 'default'. Written only by the sync-roles job.
  await knex.schema.createTable("user_roles", (t) => {
    t.string("tenant_id", 36).notNullable();
    t.string("user_id", 36).notNullable().references("id").inTable("users").onDelete("CASCADE");
    t.string("role_id", 36).notNullable().references("id").inTable("roles").onDelete("CASCADE");
    t.string("source", 16).notNullable();
    t.string("ref", 36).notNullable();
    t.string("group_id", 36);
    t.string("assigned_at", 32).notNullable();
    t.primary(["user_id", "role_id", "ref"]);
    t.index(["tenant_id", "role_id"], "user_roles_tenant_role");
    t.index(["tenant_id", "source"], "user_roles_tenant_source");
  });

  await knex.schema.createTable("webhooks", (t) => {
    t.string("id", 36).primary();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("url", 2048).notNullable();
    t.text("events").notNullable();
    t.boolean("active").notNullable().defaultTo(true);
    // HMAC keys must be kept to sign; the previous one stays valid until previous_expires_at.
    t.string("secret", 128).notNullable();
    t.string("previous_secret", 128);
    t.string("previous_expires_at", 32);
    t.string("created_at", 32).notNullable();
    t.string("updated_at", 32).notNullable();
    t.index(["tenant_id"], "webhooks_tenant");
  });

  await knex.schema.createTable("webhook_deliveries", (t) => {
    t.increments("id").primary();
    t.string("tenant_id", 36).notNullable();
    t.string("webhook_id", 36).notNullable().references("id").inTable("webhooks").onDelete("CASCADE");
    t.bigInteger("event_seq").notNullable();
    t.string("event_type", 64).notNullable();
    // Per-endpoint order is kept within a stream (the user the event is about).
    t.string("stream", 80).notNullable();
    // pending → delivered | failed (gave up after the retry window)
    t.string("state", 16).notNullable();
    t.integer("attempts").notNullable().defaultTo(0);
    t.string("next_attempt_at", 32).notNullable();
    t.integer("last_status");
    t.text("last_error");
    t.string("created_at", 32).notNullable();
    t.string("delivered_at", 32);
    t.unique(["webhook_id", "event_seq"], { indexName: "webhook_deliveries_event" });
    t.index(["webhook_id", "stream", "state", "event_seq"], "webhook_deliveries_stream");
  });

  await knex.schema.createTable("webhook_attempts", (t) => {
    t.increments("id").primary();
    t.integer("delivery_id")
      .unsigned()
      .notNullable()
      .references("id")
      .inTable("webhook_deliveries")
      .onDelete("CASCADE");
    t.string("at", 32).notNullable();
    t.integer("status");
    t.text("error");
    t.integer("duration_ms").notNullable();
    t.index(["delivery_id"], "webhook_attempts_delivery");
  });

  // One sender per (endpoint, stream) at a time, so deliveries of one user leave in order.
  await knex.schema.createTable("webhook_streams", (t) => {
    t.string("webhook_id", 36).notNullable().references("id").inTable("webhooks").onDelete("CASCADE");
    t.string("stream", 80).notNullable();
    t.string("locked_until", 32);
    t.primary(["webhook_id", "stream"]);
  });

  // Fair claims walk the tenants with pending work, then take each one's oldest jobs.
  await knex.schema.alterTable("jobs", (t) => {
    t.index(["queue", "state", "tenant_id", "id"], "jobs_queue_state_tenant");
  });
}

/** Undo up(). */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("jobs", (t) => t.dropIndex([], "jobs_queue_state_tenant"));
  for (const table of [
    "webhook_streams",
    "webhook_attempts",
    "webhook_deliveries",
    "webhooks",
    "user_roles",
    "manual_roles",
    "role_mappings",
    "role_seeds",
    "roles",
  ])
    await knex.schema.dropTableIfExists(table);
}
