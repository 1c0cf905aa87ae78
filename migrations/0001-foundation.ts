import type { Knex } from "knex";

/** Tenants, their SCIM tokens, operator admin keys, the event log and the job outbox. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("tenants", (t) => {
    t.string("id", 36).primary();
    t.string("slug", 63).notNullable().unique();
    t.string("name", 200).notNullable();
    t.text("settings").notNullable().defaultTo("{}");
    // Per-tenant event sequence: taken under the row lock, so event ids commit in order per tenant.
    t.bigInteger("event_seq").notNullable().defaultTo(0);
    t.string("created_at", 32).notNullable();
    t.string("updated_at", 32).notNullable();
  });

  await knex.schema.createTable("scim_tokens", (t) => {
    t.string("id", 36).primary();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("name", 200).notNullable();
    t.string("prefix", 32).notNullable();
    t.string("token_hash", 64).notNullable().unique();
    t.string("created_at", 32).notNullable();
    t.string("expires_at", 32);
    t.string("revoked_at", 32);
    t.string("last_used_at", 32);
    t.index(["tenant_id"]);
  });

  await knex.schema.createTable("admin_keys", (t) => {
    t.string("id", 36).primary();
    t.string("name", 200).notNullable();
    t.string("prefix", 32).notNullable();
    t.string("key_hash", 64).notNullable().unique();
    t.string("created_at", 32).notNullable();
    t.string("revoked_at", 32);
  });

  await knex.schema.createTable("events", (t) => {
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.bigInteger("seq").notNullable();
    t.string("type", 64).notNullable();
    t.text("data").notNullable();
    t.string("created_at", 32).notNullable();
    t.primary(["tenant_id", "seq"]);
    t.index(["tenant_id", "type"]);
  });

  await knex.schema.createTable("jobs", (t) => {
    t.increments("id").primary();
    t.string("tenant_id", 36).references("id").inTable("tenants").onDelete("CASCADE");
    t.string("name", 64).notNullable();
    t.string("queue", 32).notNullable();
    t.string("dedupe_key", 200);
    t.text("payload").notNullable();
    // pending → running → done | (pending again with backoff) | failed; relayed = handed to BullMQ
    t.string("state", 16).notNullable();
    t.integer("attempts").notNullable().defaultTo(0);
    // Bumped by an admin retry so BullMQ sees a new job id (a re-relay keeps the same one).
    t.integer("generation").notNullable().defaultTo(0);
    t.integer("max_attempts").notNullable();
    t.string("run_at", 32).notNullable();
    t.string("locked_until", 32);
    t.text("last_error");
    t.string("created_at", 32).notNullable();
    t.string("updated_at", 32).notNullable();
    t.index(["state", "queue", "run_at"]);
  });
  // Coalescing: at most one pending job per dedupe key (a running one does not block a newer change).
  await knex.raw("create unique index jobs_pending_dedupe on jobs (dedupe_key) where state = 'pending'");
}

/** Drop everything this migration created. */
export async function down(knex: Knex): Promise<void> {
  for (const table of ["jobs", "events", "admin_keys", "scim_tokens", "tenants"]) {
    await knex.schema.dropTableIfExists(table);
  }
}
