import type { Knex } from "knex";
import type { JobRegistry } from "../jobs/registry.js";
import type { Metrics } from "../metrics.js";

/** What the SSO use cases (SAML and OpenID Connect) need. */
export interface SsoDeps {
  db: Knex;
  now: () => Date;
  jobs: JobRegistry;
  metrics: Pick<Metrics, "ssoRefusals">;
  config: { publicUrl: string; allowPrivateNetwork: boolean; ssoMaxPendingLogins: number };
}
