import type { JobRegistry } from "../jobs/registry.js";

/** Register the roles capability's jobs. */
export function registerRoleJobs(_jobs: JobRegistry): void {}
