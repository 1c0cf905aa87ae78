import type { Knex } from "knex";
import { type NewEvent, recordEvents } from "../events/store.js";

/** What a directory use case changed, recorded with the change in one transaction. */
export class ChangeSet {
  readonly events: NewEvent[] = [];

  /** Note an event (e.g. `user.deactivated`) to record at commit. */
  add(type: string, data: Record<string, unknown>): this {
    this.events.push({ type, data });
    return this;
  }
}

/**
 * Record a change set inside the caller's transaction: the events (the outbox and the audit
 * log) commit or vanish with the change itself. Called last so the tenant's event-sequence
 * row lock is held only until commit.
 */
export async function commitChanges(
  trx: Knex.Transaction,
  tenantId: string,
  changes: ChangeSet,
  at: string,
): Promise<void> {
  await recordEvents(trx, tenantId, changes.events, at);
}
