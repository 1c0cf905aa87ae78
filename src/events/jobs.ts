import type { JobRegistry } from "../jobs/registry.js";

/** Register the events capability's jobs (webhook delivery). */
export function registerEventJobs(_jobs: JobRegistry): void {}
