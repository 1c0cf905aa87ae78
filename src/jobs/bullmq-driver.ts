import { randomUUID } from "node:crypto";
import { type Job, Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { RepeatingFailureLog } from "../logger.js";
import { RedisHealth } from "../redis/health.js";
import { onJobsEnqueued } from "./notify.js";
import { errorText, type RunJobDeps, runJob } from "./run-job.js";
import {
  claimJobs,
  completeJob,
  failJobAttempt,
  findJob,
  hasClaimableJobs,
  type JobRow,
  releaseRelayedJobs,
  setJobAttempts,
} from "./store.js";
import { type JobDriver, QUEUES, type QueueName } from "./types.js";

/** Options of the BullMQ driver. */
export interface BullmqDriverOptions {
  redisUrl: string;
  /** Relay the jobs table to BullMQ (every API process and worker may; claims are exclusive). */
  relay: boolean;
  /** Run BullMQ workers in this process (`npm run worker`). */
  work: boolean;
  /** Key prefix in Redis (tests use their own). */
  prefix?: string;
  pollMs?: number;
  leaseMs?: number;
  concurrency?: Partial<Record<QueueName, number>>;
  /** Where connection errors go (one outage log per process); a private one when absent. */
  health?: RedisHealth;
}

type Payload = { id: number; generation: number };

/**
 * How many jobs per queue may wait in Redis. The rest of a backlog stays in the jobs table,
 * where claims take tenants in turn: BullMQ runs a queue first-in first-out, so relaying a
 * 100,000-job flood at once would put every other tenant behind it.
 */
const RELAY_WINDOW: Record<QueueName, number> = { urgent: 200, default: 100, webhooks: 400 };

/** How often the relay looks whether Redis still holds its run marker (besides on every reconnect). */
const RUN_CHECK_MS = 5000;

/** A Redis call of the relay that failed (so its failure counts as Redis's, not the database's). */
class RedisCallError extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "RedisCallError";
  }
}

/**
 * A Redis call with a timeout that does not reject the underlying call (a timed-out queue.add
 * may still land); any failure comes out as a RedisCallError.
 */
function redisCall<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new RedisCallError(new Error(`timed out after ${ms} ms`))), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(new RedisCallError(e));
      },
    );
  });
}

/**
 * The scaled shape: the jobs table is the outbox; a relay hands due rows to BullMQ with a
 * deterministic job id (so a re-relay after a timeout or a Redis restart is harmless) and
 * workers run the same handlers as the inline driver, writing the outcome back to the row.
 */
export class BullmqDriver implements JobDriver {
  readonly kind = "bullmq" as const;
  private connection: Redis;
  private readonly queues = new Map<QueueName, Queue>();
  private readonly workers: Worker[] = [];
  private readonly workerConnections: Redis[] = [];
  private relaying = false;
  private relayLoop?: Promise<void>;
  private unsubscribe?: () => void;
  private wake?: () => void;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly health: RedisHealth;
  private readonly relayFailures: RepeatingFailureLog;
  /** When the relay last looked for the run marker (performance.now()); 0: look at the next pass. */
  private runCheckedAt = 0;

  constructor(
    private readonly deps: RunJobDeps,
    private readonly opts: BullmqDriverOptions,
  ) {
    this.pollMs = opts.pollMs ?? 250;
    this.leaseMs = opts.leaseMs ?? 5 * 60_000;
    this.health = opts.health ?? new RedisHealth(deps.logger, deps.now);
    this.relayFailures = new RepeatingFailureLog(
      deps.logger,
      {
        start: "relaying jobs failed; retrying (repeated at most once a minute)",
        repeat: "relaying jobs still failing",
        end: "relaying jobs again",
      },
      deps.now,
    );
    this.connection = this.connect();
  }

  /** The shared connection and one Queue per queue name (again after a stop, so a driver can restart). */
  private connect(): Redis {
    const { opts, health } = this;
    // BullMQ needs maxRetriesPerRequest: null for its blocking commands.
    const connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
    connection.on("error", (err) => health.report("queue connection", err));
    connection.on("ready", () => {
      health.connected();
      // A Redis that comes back may have come back empty: look for the run marker at once.
      this.runCheckedAt = 0;
      this.poke();
    });
    for (const q of QUEUES) {
      const queue = new Queue(`roster-${q}`, { connection, prefix: opts.prefix });
      queue.on("error", (err) => health.report(`queue ${q}`, err));
      this.queues.set(q, queue);
    }
    return connection;
  }

  async start(): Promise<void> {
    if (this.relaying || this.workers.length) return;
    if (this.connection.status === "end") this.connection = this.connect();
    if (this.opts.work) {
      const concurrency: Record<QueueName, number> = {
        urgent: 4,
        default: 4,
        webhooks: 16,
        ...this.opts.concurrency,
      };
      for (const q of QUEUES) {
        const connection = this.connection.duplicate();
        connection.on("error", (err) => this.health.report(`worker ${q} connection`, err));
        this.workerConnections.push(connection);
        const worker = new Worker<Payload>(`roster-${q}`, (job) => this.process(job), {
          connection,
          prefix: this.opts.prefix,
          concurrency: concurrency[q],
        });
        worker.on("error", (err) => this.health.report(`worker ${q}`, err));
        this.workers.push(worker);
      }
    }
    if (this.opts.relay) {
      this.relaying = true;
      this.unsubscribe = onJobsEnqueued(() => this.poke());
      this.relayLoop = this.relay();
    }
  }

  poke(): void {
    this.wake?.();
  }

  async ready(): Promise<boolean> {
    try {
      const up = (await redisCall(this.connection.ping(), 1000)) === "PONG";
      if (up) this.health.connected();
      return up;
    } catch {
      return false;
    }
  }

  async stop(timeoutMs: number): Promise<void> {
    this.relaying = false;
    this.unsubscribe?.();
    this.poke();
    const closing = (async () => {
      await this.relayLoop;
      await Promise.all(this.workers.map((w) => w.close()));
      await Promise.all([...this.queues.values()].map((q) => q.close()));
    })();
    await Promise.race([closing, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    // Connections passed to BullMQ are ours to close; an open one keeps the process alive.
    for (const c of [this.connection, ...this.workerConnections]) if (c.status !== "end") c.disconnect();
    this.workers.length = 0;
    this.workerConnections.length = 0;
  }

  /** Move due rows to BullMQ until stopped. */
  private async relay(): Promise<void> {
    while (this.relaying) {
      let moved = 0;
      try {
        await this.checkRun();
        moved = await this.relayOnce();
        this.relayFailures.succeeded();
      } catch (err) {
        // Counted in an outage log, not logged per pass (4 a second while Redis or the database is down).
        if (err instanceof RedisCallError) this.health.report("relay", err.cause);
        else this.relayFailures.failed(err);
      }
      if (moved === 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.pollMs);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    }
  }

  /** The key of the run marker: set once per Redis "life", gone when Redis loses its data. */
  private get runKey(): string {
    return `${this.opts.prefix ?? "bull"}:roster:run`;
  }

  /**
   * A Redis that restarted without persistence (or was flushed, or failed over to an empty
   * replica) lost every job the relay had handed to it, while their rows still say `relayed`
   * under a 5-minute lease. Redis keeps a run marker: when it is missing, the relayed rows are
   * released at once and re-relayed (deterministic job ids make that harmless if Redis did keep
   * them, e.g. on the first start against an existing Redis). Looked at after every reconnect
   * and every few seconds (a flush needs no reconnect). Several processes may all release:
   * harmless for the same reason.
   */
  async checkRun(): Promise<void> {
    const at = performance.now();
    if (this.runCheckedAt && at - this.runCheckedAt < RUN_CHECK_MS) return;
    const marker = await redisCall(this.connection.get(this.runKey), 5000);
    // Redis answers: an outage declared on a timeout alone (no reconnect to end it) is over.
    this.health.connected();
    if (!marker) {
      const released = await releaseRelayedJobs(this.deps.db, this.deps.now());
      if (released)
        this.deps.logger.warn(
          { jobs: released },
          "redis lost the jobs handed to it (no run marker): handing them over again",
        );
      await redisCall(this.connection.set(this.runKey, randomUUID(), "NX"), 5000);
    }
    this.runCheckedAt = at || 1;
  }

  /**
   * One relay pass: per queue, claim due rows (and rows whose relay lease expired) up to the
   * room left in Redis, fairly across tenants, and add them to BullMQ.
   */
  async relayOnce(limit = 200): Promise<number> {
    let moved = 0;
    for (const q of QUEUES) {
      const now = this.deps.now();
      // Most passes find nothing to relay: a cheap look first spares Redis and the claim.
      if (!(await hasClaimableJobs(this.deps.db, [q], now, "relayed"))) continue;
      const waiting = await redisCall(this.queues.get(q)!.count(), 5000);
      const room = Math.min(limit, RELAY_WINDOW[q] - waiting);
      if (room <= 0) continue;
      const rows = await claimJobs(this.deps.db, {
        queues: [q],
        limit: room,
        now,
        leaseUntil: new Date(now.getTime() + this.leaseMs),
        state: "relayed",
      });
      // Issued in claim order on one connection, so BullMQ queues them in that (tenant-fair) order.
      await Promise.all(rows.map((row) => this.add(row)));
      moved += rows.length;
    }
    return moved;
  }

  private async add(row: JobRow): Promise<void> {
    const queue = this.queues.get(row.queue)!;
    const def = this.deps.registry.get(row.name);
    const delay = Math.max(0, new Date(row.runAt).getTime() - this.deps.now().getTime());
    // Job ids may not contain ':' nor be integers; the same id on a re-relay is a no-op in BullMQ.
    // The row's creation time is part of it: row ids restart with a fresh database, and BullMQ
    // silently skips an id it still keeps as completed (removeOnComplete keeps them a day).
    await redisCall(
      queue.add(row.name, { id: row.id, generation: row.generation } satisfies Payload, {
        jobId: `job-${row.id}-g${row.generation}-${Date.parse(row.createdAt)}`,
        attempts: def?.maxAttempts ?? row.maxAttempts,
        backoff: { type: "exponential", delay: 1000, jitter: 0.5 },
        delay,
        removeOnComplete: { age: 24 * 3600, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      }),
      5000,
    );
  }

  /** BullMQ processor: run the row's handler and write the outcome back to the row. */
  private async process(job: Job<Payload>): Promise<void> {
    const { db, now, metrics } = this.deps;
    const row = await findJob(db, job.data.id);
    // Stale transport copy: the row finished, was retried under a new generation, or is gone.
    if (row?.state !== "relayed" || row.generation !== job.data.generation) return;
    const attempt = job.attemptsMade + 1;
    try {
      await runJob(this.deps, row, attempt);
      await completeJob(db, row.id, now());
      metrics.jobs.inc({ name: row.name, outcome: "completed" });
    } catch (err) {
      const final = attempt >= (job.opts.attempts ?? 1);
      metrics.jobs.inc({ name: row.name, outcome: final ? "failed" : "retried" });
      await setJobAttempts(db, row.id, attempt, errorText(err), now());
      if (final) await failJobAttempt(db, row.id, errorText(err), null, now());
      throw err;
    }
  }
}
