import type { JobRegistry } from "../jobs/registry.js";
import { type DeliverOptions, deliverHandler } from "./deliver.js";
import type { DeliverPayload } from "./outbox.js";

/**
 * Register the events capability's jobs (webhook delivery). The operator's
 * `allowPrivateNetwork: false` re-checks each endpoint's address as every delivery connects
 * (DNS may change after the URL was accepted); the URL is also checked when saved.
 */
export function registerEventJobs(jobs: JobRegistry, opts: DeliverOptions = {}): void {
  jobs.define<DeliverPayload>({
    name: "deliver-webhook",
    queue: "webhooks",
    maxAttempts: 5,
    handler: deliverHandler(opts),
  });
  jobs.define<DeliverPayload>({
    name: "deliver-webhook-urgent",
    queue: "urgent",
    maxAttempts: 5,
    handler: deliverHandler(opts),
  });
}
