import type { Knex } from "knex";

/**
 * Users whose roles must be computed for the first time (created or reactivated). One
 * coalesced job per tenant drains this set in batches, instead of one job per new user: an
 * initial sync of 100,000 users is ~200 jobs, not 100,000 claims and completions.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("pending_role_syncs", (t) => {
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("user_id", 36).notNullable();
    t.string("created_at", 32).notNullable();
    t.primary(["tenant_id", "user_id"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("pending_role_syncs");
}
