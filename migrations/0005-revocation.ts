import type { Knex } from "knex";

/**
 * Revocation receipts: one row per deprovisioning (SCIM deactivation or delete, offboarding
 * call, policy purge) with what triggered it, when the request arrived, when sessions died,
 * which roles were stripped and when. Webhook acknowledgements are read from the deliveries of
 * the events the receipt names. No foreign key to users: the receipt outlives a deleted user,
 * which is exactly when an auditor asks for it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("revocations", (t) => {
    t.string("id", 36).primary();
    t.string("tenant_id", 36).notNullable().references("id").inTable("tenants").onDelete("CASCADE");
    t.string("user_id", 36).notNullable();
    t.string("user_name", 256).notNullable();
    // scim.patch | scim.put | scim.delete | scim.bulk | offboard | policy.delete
    t.string("trigger", 32).notNullable();
    // request id, actor ({ kind, id }), requestedBy and reason as given by the caller
    t.text("origin").notNullable();
    t.string("requested_at", 32).notNullable();
    t.string("sessions_revoked_at", 32).notNullable();
    t.integer("sessions_revoked").notNullable();
    t.integer("tokens_revoked").notNullable();
    // JSON [{ key, source, groupId }]: the roles held when access ended, then (once the job ran)
    // those it really took — a user reactivated in between keeps what still applies.
    t.text("roles").notNullable();
    t.string("roles_stripped_at", 32);
    // Event sequence numbers whose webhook deliveries are the downstream acknowledgements.
    t.bigInteger("trigger_event_seq");
    t.bigInteger("revoked_event_seq");
    t.string("reactivated_at", 32);
    t.index(["tenant_id", "user_id", "requested_at"], "revocations_user");
    // The revoke-access job finds a tenant's open receipts.
    t.index(["tenant_id", "roles_stripped_at", "requested_at"], "revocations_open");
  });
  // The admin's tenant-wide session list pages newest first.
  await knex.schema.alterTable("sessions", (t) => {
    t.index(["tenant_id", "created_at", "id"], "sessions_tenant_created");
  });
}

/** Drop the receipts. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("sessions", (t) => {
    t.dropIndex(["tenant_id", "created_at", "id"], "sessions_tenant_created");
  });
  await knex.schema.dropTableIfExists("revocations");
}
