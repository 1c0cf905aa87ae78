import { RepeatingFailureLog } from "../logger.js";
import { backoffMs } from "./registry.js";
import { errorText, type RunJobDeps, runJob } from "./run-job.js";
import { onJobsEnqueued } from "./notify.js";
import { claimJobs, completeJob, failJobAttempt, hasClaimableJobs, type JobRow } from "./store.js";
import { type JobDriver, QUEUES, type QueueName } from "./types.js";

const MIN_CLAIM_GAP_MS = 25;

/** Options of the in-process driver. */
export interface InlineDriverOptions {
  pollMs?: number;
  leaseMs?: number;
  concurrency?: Partial<Record<QueueName, number>>;
}

/**
 * Runs jobs in this process straight from the jobs table (the embedded shape: SQLite, no Redis).
 * Each queue has its own loop and concurrency, so urgent jobs never wait behind default ones.
 * Safe with several processes on PostgreSQL: claims use FOR UPDATE SKIP LOCKED and leases.
 */
export class InlineDriver implements JobDriver {
  readonly kind = "inline" as const;
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly wakers = new Map<QueueName, Set<() => void>>(QUEUES.map((q) => [q, new Set()]));
  private loops: Promise<void>[] = [];
  private unsubscribe?: () => void;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly concurrency: Record<QueueName, number>;
  /** Claims fail together while the database is down: logged once, then once a minute. */
  private readonly claimFailures: RepeatingFailureLog;

  constructor(
    private readonly deps: RunJobDeps,
    opts: InlineDriverOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 250;
    this.leaseMs = opts.leaseMs ?? 5 * 60_000;
    this.concurrency = { urgent: 2, default: 2, webhooks: 8, ...opts.concurrency };
    this.claimFailures = new RepeatingFailureLog(
      deps.logger,
      {
        start: "claiming jobs failed; retrying (repeated at most once a minute)",
        repeat: "claiming jobs still failing",
        end: "claiming jobs again",
      },
      deps.now,
    );
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = onJobsEnqueued((queues) => this.poke(queues));
    this.loops = QUEUES.map((q) => this.loop(q));
  }

  /** Wake the loops of these queues (all when not named) to claim at once. */
  poke(queues?: ReadonlySet<QueueName>): void {
    for (const [queue, wakers] of this.wakers)
      if (!queues || queues.has(queue)) for (const wake of wakers) wake();
  }

  async ready(): Promise<boolean> {
    return true;
  }

  async stop(timeoutMs: number): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.poke();
    const drained = Promise.all([...this.loops, ...this.inFlight]).then(() => undefined);
    await Promise.race([drained, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  private async loop(queue: QueueName): Promise<void> {
    const active = new Set<Promise<void>>();
    while (this.running) {
      const free = this.concurrency[queue] - active.size;
      let claimed: JobRow[] = [];
      if (free > 0) {
        try {
          const now = this.deps.now();
          // Most wake-ups find nothing (every commit pokes every queue): look before claiming.
          if (await hasClaimableJobs(this.deps.db, [queue], now))
            claimed = await claimJobs(this.deps.db, {
              queues: [queue],
              limit: free,
              now,
              leaseUntil: new Date(now.getTime() + this.leaseMs),
              state: "running",
            });
          this.claimFailures.succeeded();
        } catch (err) {
          this.claimFailures.failed(err, { queue });
        }
      }
      for (const job of claimed) {
        const p = this.execute(job).finally(() => {
          active.delete(p);
          this.inFlight.delete(p);
          this.poke(new Set([queue]));
        });
        active.add(p);
        this.inFlight.add(p);
      }
      if (claimed.length === 0 || active.size >= this.concurrency[queue]) {
        const emptyAt = Date.now();
        await this.sleep(queue);
        // Every commit pokes every loop; without a floor an idle queue re-ran its claim queries
        // several times per SCIM write (17,000 claims for 2,400 creates). At most one empty claim
        // per queue per MIN_CLAIM_GAP_MS keeps job latency low and the cost flat.
        const wait = emptyAt + Math.min(this.pollMs, MIN_CLAIM_GAP_MS) - Date.now();
        if (claimed.length === 0 && wait > 0 && this.running) await new Promise((r) => setTimeout(r, wait));
      }
    }
    await Promise.all(active);
  }

  private sleep(queue: QueueName): Promise<void> {
    const wakers = this.wakers.get(queue)!;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.pollMs);
      wakers.add(done);
    });
  }

  private async execute(job: JobRow): Promise<void> {
    const { db, now, metrics, logger } = this.deps;
    try {
      await runJob(this.deps, job, job.attempts);
      await completeJob(db, job.id, now());
      metrics.jobs.inc({ name: job.name, outcome: "completed" });
    } catch (err) {
      const last = job.attempts >= job.maxAttempts;
      const retryAt = last ? null : new Date(now().getTime() + backoffMs(job.attempts));
      logger.warn(
        { job: job.name, jobId: job.id, attempt: job.attempts, err: errorText(err) },
        last ? "job failed for good" : "job failed, will retry",
      );
      metrics.jobs.inc({ name: job.name, outcome: last ? "failed" : "retried" });
      try {
        await failJobAttempt(db, job.id, errorText(err), retryAt, now());
      } catch (e) {
        logger.error(
          { jobId: job.id, err: errorText(e) },
          "recording job failure failed; its lease will expire and it will run again",
        );
      }
    }
  }
}
