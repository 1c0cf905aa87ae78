import type { Db } from "../db/knex.js";
import { notifyAfterCommit } from "./notify.js";
import { insertJobs } from "./store.js";
import type { JobSpec, QueueName } from "./types.js";

/**
 * Jobs that capabilities enqueue from inside a transaction without holding the registry (the
 * directory's commitChanges, the roles use cases): their name, queue and attempts are fixed
 * here, and the handlers registered under these names must agree (JobRegistry.define checks).
 */
export const JOB_CATALOG = {
  /** Recompute users' effective roles (grants: created, added, reactivated, new mapping). */
  "sync-roles": { queue: "default", maxAttempts: 8 },
  /** The same recomputation for revocations (deactivated, removed, mapping deleted): never waits behind grants. */
  "sync-roles-urgent": { queue: "urgent", maxAttempts: 8 },
  /** Finish a revocation: strip roles, emit `access.revoked`, complete the receipt. */
  "revoke-access": { queue: "urgent", maxAttempts: 10 },
  /** Delete a deprovisioned user at the end of the tenant's grace period (policy `delete`). */
  "purge-deprovisioned": { queue: "default", maxAttempts: 5 },
  /** Schedule purges of users already deprovisioned when a tenant turns to the `delete` policy. */
  "schedule-purges": { queue: "default", maxAttempts: 5 },
  /** Send one endpoint's pending deliveries of one stream (user), in order. */
  "deliver-webhook": { queue: "webhooks", maxAttempts: 5 },
  /** The same for the urgent stream (break-glass events): never waits behind other deliveries. */
  "deliver-webhook-urgent": { queue: "urgent", maxAttempts: 5 },
} as const satisfies Record<string, { queue: QueueName; maxAttempts: number }>;

/** A job name from the catalog. */
export type CatalogJobName = keyof typeof JOB_CATALOG;

/** A job of the catalog to enqueue. */
export type CatalogJobSpec = JobSpec & { name: CatalogJobName };

/** Enqueue catalog jobs in the caller's transaction; the local drivers are woken after commit. */
export async function enqueueJobs(db: Db, specs: CatalogJobSpec[], now: Date): Promise<void> {
  if (specs.length === 0) return;
  const rows = specs.map((s) => ({ ...s, ...JOB_CATALOG[s.name] }));
  await insertJobs(db, rows, now);
  notifyAfterCommit(
    db,
    rows.map((r) => r.queue),
  );
}
