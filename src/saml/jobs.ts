import type { JobRegistry } from "../jobs/registry.js";

/** Register the SSO capability's jobs (certificate expiry). */
export function registerSsoJobs(_jobs: JobRegistry): void {}
