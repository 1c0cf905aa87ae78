import type { Knex } from "knex";
import type { Logger } from "pino";
import { writeTransaction } from "../../db/write-transaction.js";
import { insertScimRequests, type ScimRequestEntry } from "./store.js";

/** Entries buffered before a flush is started at once. */
const FLUSH_AT = 200;
/** Longest an entry waits in memory before it is written. */
const FLUSH_AFTER_MS = 100;
/** Entries kept while the database refuses them; beyond it the oldest are dropped (and counted). */
const MAX_BUFFERED = 20_000;

/**
 * Writes the SCIM request log in batches: an entry is queued when its response has been sent,
 * and every FLUSH_AFTER_MS (or FLUSH_AT entries) one multi-row insert writes the batch. A request
 * thus costs no transaction of its own ("without an extra transaction per request", issue 18):
 * on SQLite the batch joins the group commit of the writes around it, on PostgreSQL it is one
 * commit per batch. What is lost in a crash is at most the last FLUSH_AFTER_MS of log entries,
 * never data: the log records what happened, the directory and the event outbox are the truth.
 */
export class ScimLogWriter {
  private buffer: ScimRequestEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly attempts = new WeakMap<ScimRequestEntry, number>();
  /** Entries dropped because the database refused them for too long. */
  dropped = 0;

  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
  ) {}

  /** Queue an entry (written within FLUSH_AFTER_MS). */
  push(entry: ScimRequestEntry): void {
    this.buffer.push(entry);
    if (this.buffer.length >= FLUSH_AT) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_AFTER_MS).unref();
  }

  /** Write what is queued now; resolves once it (and any flush before it) is written. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.flushing.then(() => (batch.length ? this.write(batch) : undefined));
    return this.flushing;
  }

  private async write(batch: ScimRequestEntry[]): Promise<void> {
    try {
      await writeTransaction(this.db, (trx) => insertScimRequests(trx, batch));
    } catch (err) {
      // Kept for the next flush (a database restart, a lock timeout); the log never blocks SCIM.
      // An entry refused three times (its tenant deleted meanwhile) is dropped, not retried forever.
      this.logger.warn({ err, entries: batch.length }, "SCIM request log: write failed, will retry");
      const retry = batch.filter((e) => {
        const n = (this.attempts.get(e) ?? 0) + 1;
        this.attempts.set(e, n);
        return n < 3;
      });
      this.dropped += batch.length - retry.length;
      this.buffer = [...retry, ...this.buffer];
      const over = this.buffer.length - MAX_BUFFERED;
      if (over > 0) {
        this.buffer.splice(0, over);
        this.dropped += over;
      }
      this.timer ??= setTimeout(() => void this.flush(), 1000).unref();
    }
  }
}
