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
  /** Jobs with the same key coalesce while pending (e.g. `sync-roles/<tenant>/<user>`). */
  dedupeKey?: string;
  /**
   * When the key already has a pending job, lock that row until this transaction commits, so
   * no worker claims and runs it before this change is visible (PostgreSQL; SQLite serialises
   * anyway). For every job that recomputes from current state under a key other changes
   * share (a per-tenant drain, a user's role sync, an endpoint's stream): take it before the
   * tenant's event-sequence lock, or two writers can deadlock; held keys are locked in key order.
   */
  holdPending?: boolean;
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
