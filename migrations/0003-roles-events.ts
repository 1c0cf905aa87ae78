import type { Knex } from "knex";

/** Roles, group→role mappings, user roles, webhooks and deliveries (filled in by the roles/events work). */
export async function up(_knex: Knex): Promise<void> {}

/** Undo up(). */
export async function down(_knex: Knex): Promise<void> {}
