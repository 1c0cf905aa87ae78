import type { Knex } from "knex";

/** SAML connections, sessions, OAuth clients and codes (filled in by the SSO work). */
export async function up(_knex: Knex): Promise<void> {}

/** Undo up(). */
export async function down(_knex: Knex): Promise<void> {}
