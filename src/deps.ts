import type { Knex } from "knex";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { createDb, type DbOptions } from "./db/knex.js";
import { registerAccessJobs } from "./access/jobs.js";
import { registerEventJobs } from "./events/jobs.js";
import { BullmqDriver } from "./jobs/bullmq-driver.js";
import { InlineDriver } from "./jobs/inline-driver.js";
import { JobRegistry } from "./jobs/registry.js";
import type { JobDriver } from "./jobs/types.js";
import { createRateLimits, type RateLimits } from "./http/rate-limiters.js";
import { createLogger } from "./logger.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { registerRoleJobs } from "./roles/jobs.js";
import { registerSsoJobs } from "./sso/saml/jobs.js";
import { registerPolicyJobs } from "./sso/policy.js";
import { registerHousekeeping } from "./jobs/housekeeping.js";
import { domainCheckSweep, registerDomainJobs } from "./domains/jobs.js";
import { loadKeyring } from "./secrets/key-file.js";
import { attachKeyring } from "./secrets/sealed.js";
import { RedisHealth } from "./redis/health.js";
import { hashSecret } from "./tenants/secrets.js";

/** Everything the app, the workers and the CLI share: the one composition root. */
export interface Deps {
  config: Config;
  /** What kind of process this is (readiness differs: an API needs the database, a worker Redis too). */
  role: ProcessRole;
  db: Knex;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
  jobs: JobRegistry;
  driver: JobDriver;
  /** Redis as this process sees it, with its one outage log; present when REDIS_URL is set. */
  redis?: RedisHealth;
  /** Rate limits of sign-in endpoints and failed authentication. */
  rateLimits: RateLimits;
  /** SHA-256 of ROSTER_ADMIN_TOKEN, when set (the token itself is not kept). */
  adminTokenHash?: string;
  close(): Promise<void>;
}

/** What kind of process is being composed. */
export type ProcessRole = "api" | "worker" | "cli";

/** Options for tests and tools. */
export interface DepsOptions {
  role?: ProcessRole;
  logger?: Logger;
  now?: () => Date;
  db?: DbOptions;
  /** Redis key prefix for BullMQ and rate limits (tests isolate themselves with it). */
  queuePrefix?: string;
  pollMs?: number;
}

/** Build the dependencies for a process of the given role. */
export function createDeps(config: Config, opts: DepsOptions = {}): Deps {
  const role = opts.role ?? "api";
  const logger = opts.logger ?? createLogger(config.logLevel);
  const db = createDb(config.database, { ...opts.db, logger });
  // Store functions encrypt and decrypt secrets with the keyring of the handle they are given.
  attachKeyring(db, loadKeyring(config.encryption).keyring);
  const metrics = createMetrics();
  const now = opts.now ?? (() => new Date());
  const redis = config.redisUrl ? new RedisHealth(logger, now) : undefined;
  const prefix = opts.queuePrefix ?? config.queuePrefix;
  const rateLimits = createRateLimits(config, {
    logger,
    prefix: prefix ?? "bull",
    health: redis,
    shared: role === "api",
  });
  const jobs = new JobRegistry();
  registerRoleJobs(jobs);
  registerEventJobs(jobs, { allowPrivateNetwork: config.allowPrivateNetwork });
  registerSsoJobs(jobs);
  registerPolicyJobs(jobs);
  registerAccessJobs(jobs);
  registerDomainJobs(jobs, config);
  registerHousekeeping(jobs, config.retentionDays, { domainChecksRescheduled: domainCheckSweep(jobs) });
  const runDeps = { db, logger, now, registry: jobs, metrics };
  let driver: JobDriver;
  if (role === "cli") {
    driver = offDriver;
  } else if (config.redisUrl) {
    driver = new BullmqDriver(runDeps, {
      redisUrl: config.redisUrl,
      relay: true,
      work: role === "worker" || config.inlineJobs,
      prefix,
      pollMs: opts.pollMs,
      health: redis,
    });
  } else if (role === "worker" || config.inlineJobs) {
    driver = new InlineDriver(runDeps, { pollMs: opts.pollMs });
  } else {
    driver = offDriver;
  }
  return {
    config,
    role,
    db,
    logger,
    metrics,
    now,
    jobs,
    driver,
    redis,
    rateLimits,
    adminTokenHash: config.adminToken ? hashSecret(config.adminToken) : undefined,
    async close() {
      await rateLimits.close();
      await db.destroy();
    },
  };
}

/** A driver that only enqueues (the rows wait for a worker elsewhere). */
const offDriver: JobDriver = {
  kind: "off",
  start: async () => {},
  poke: () => {},
  stop: async () => {},
  ready: async () => true,
};
