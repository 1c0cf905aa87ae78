import type { Knex } from "knex";

/**
 * "These users' roles" (`tenant_id = ? and user_id in (…)`) on user_roles and manual_roles. The
 * primary keys start with user_id, but SQLite's planner (no statistics) preferred the
 * (tenant_id, role_id) / (tenant_id, source) indexes on the tenant equality alone and walked
 * every role row of the tenant: 1 ms per deprovisioning at 10,000 users, growing with the
 * directory. With (tenant_id, user_id) both dialects probe by user.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("user_roles", (t) =>
    t.index(["tenant_id", "user_id"], "user_roles_tenant_user"),
  );
  await knex.schema.alterTable("manual_roles", (t) =>
    t.index(["tenant_id", "user_id"], "manual_roles_tenant_user"),
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("user_roles", (t) => t.dropIndex([], "user_roles_tenant_user"));
  await knex.schema.alterTable("manual_roles", (t) => t.dropIndex([], "manual_roles_tenant_user"));
}
