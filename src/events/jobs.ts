import type { JobRegistry } from "../jobs/registry.js";
import { type DeliverOptions, deliverHandler } from "./deliver.js";
import type { DeliverPayload } from "./outbox.js";

/**
 * Register the events capability's jobs (webhook delivery). Pass the operator's
 * `allowPrivateNetwork` to re-check each endpoint's address at delivery time too (DNS may
 * change after the URL was accepted); without it the check happens when the URL is saved.
 */
export function registerEventJobs(jobs: JobRegistry, opts: DeliverOptions = {}): void {
  jobs.define<DeliverPayload>({
    name: "deliver-webhook",
    queue: "webhooks",
    maxAttempts: 5,
    handler: deliverHandler(opts),
  });
}
