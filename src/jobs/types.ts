import type { Knex } from "knex";
import type { Logger } from "pino";

/**
 * Queues by urgency: revocations never wait behind a bulk role recomputation, and webhook
 * deliveries (slow, external) never hold up either.
 */
export const QUEUES = ["urgent", "default", "webhooks"] as const;

/** A queue name. */
export type QueueName = (typeof QUEUES)[number];

/** What a job handler may use. */
export interface JobContext {
  db: Knex;
  logger: Logger;
  now: () => Date;
  /** The job's row id and attempt number (1-based), for logs and idempotency keys. */
  jobId: number;
  attempt: number;
  tenantId: string | null;
}

/** A job handler: plain, idempotent, recomputes from current database state. */
export type JobHandler<P = any> = (payload: P, ctx: JobContext) => Promise<void>;

/** How a named job runs. */
export interface JobDefinition<P = any> {
  name: string;
  queue: QueueName;
  maxAttempts: number;
  handler: JobHandler<P>;
}

/** A job to enqueue in the caller's transaction. */
export interface JobSpec {
  name: string;
  tenantId: string | null;
  payload: unknown;
  /**
   * Jobs with the same key coalesce while pending (e.g. `sync-roles/<tenant>/u/<user>`). The
   * pending job is locked until the enqueuing transaction commits, so it cannot run on the
   * state before the change: enqueue keyed jobs in one call, before the tenant row's lock (see
   * insertJobs in ./store.ts for the lock order).
   */
  dedupeKey?: string;
  runAt?: Date;
}

/** A driver runs jobs: in this process (inline) or through BullMQ. */
export interface JobDriver {
  readonly kind: "inline" | "bullmq" | "off";
  /** Start relaying and/or processing. */
  start(): Promise<void>;
  /** A commit just enqueued work: look now instead of at the next tick. */
  poke(): void;
  /** Stop taking new work, wait for running jobs (up to the timeout), release connections. */
  stop(timeoutMs: number): Promise<void>;
  /** Whether the queue backend answers (always true without Redis). */
  ready(): Promise<boolean>;
}
