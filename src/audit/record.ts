import type { Knex } from "knex";
import { writeTransaction } from "../db/write-transaction.js";
import { type AuditEntry, appendAuditEntry, type NewAuditEntry } from "./store.js";

/**
 * Record an admin action in the audit log, in a transaction of its own (its chain's head is
 * locked only as long as the append takes). Every door calls this: the admin API through
 * auditAdminActions (src/audit/middleware.ts), the CLI with actor `cli`, and the console with
 * the actor it signed in (a setup link or a console user).
 */
export function recordAudit(deps: { db: Knex }, entry: NewAuditEntry): Promise<AuditEntry> {
  return writeTransaction(deps.db, (trx) => appendAuditEntry(trx, entry));
}
