import type { Knex } from "knex";
import { exec } from "./exec.js";

/** A transaction's work: every statement through `trx`; may run again only if the caller retries. */
export type TransactionBody<T> = (trx: Knex.Transaction) => Promise<T>;

/**
 * Run `body` in a write transaction: all of it commits, or none of it.
 *
 * On PostgreSQL this is `db.transaction(body)`. On SQLite (better-sqlite3) concurrent writers of
 * this process share commits (group commit): the bodies that arrive while the event loop handles
 * one batch of requests run one after another in a single transaction, each inside a savepoint
 * of its own, and commit together. SQLite takes one writer at a time anyway, and a commit (the
 * WAL frames of every page touched: table, ten indexes, events, jobs) cost more than the rest
 * of a SCIM create; shared, it is paid once per batch. Each body is still all or nothing: one
 * that throws is rolled back to its savepoint and rejects alone. Every caller's promise settles
 * only after the shared COMMIT, so nothing is answered before it is committed, and if the COMMIT
 * fails every body of the batch rejects with its error.
 *
 * A body must not wait for another request (it would wait for the batch it is part of), and it
 * must not commit or roll back `trx` itself; both already hold for knex transactions here (the
 * SQLite pool has one connection).
 */
export function writeTransaction<T>(db: Knex, body: TransactionBody<T>): Promise<T> {
  if (db.client.config.client !== "better-sqlite3") return db.transaction(body);
  let committer = committers.get(db);
  if (!committer) {
    committer = new GroupCommitter(db);
    committers.set(db, committer);
  }
  return committer.run(body);
}

/** Bodies per shared transaction at most: the write lock and the connection are held meanwhile. */
const MAX_BATCH = 64;

const committers = new WeakMap<Knex, GroupCommitter>();

interface Queued {
  body: TransactionBody<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

class GroupCommitter {
  private readonly queue: Queued[] = [];
  private draining = false;

  constructor(private readonly db: Knex) {}

  run<T>(body: TransactionBody<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ body, resolve: resolve as (v: unknown) => void, reject });
      if (this.draining) return;
      this.draining = true;
      // After the current turn of the event loop: the writes of every request it read join in.
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.batch();
    } catch (err) {
      // Only the clean-up after a failed batch can get here (the pool is gone, say): the
      // waiting bodies hear of it rather than wait forever.
      for (const item of this.queue.splice(0)) item.reject(err);
    } finally {
      this.draining = false;
    }
  }

  /** One shared transaction: bodies in arrival order, each in a savepoint, then one COMMIT. */
  private async batch(): Promise<void> {
    const ran: Array<{ item: Queued; ok: boolean; value: unknown }> = [];
    try {
      await this.db.transaction(async (trx) => {
        while (this.queue.length > 0 && ran.length < MAX_BATCH) {
          const item = this.queue.shift()!;
          await exec(trx, "SAVEPOINT roster_write");
          try {
            const value = await item.body(trx);
            await exec(trx, "RELEASE roster_write");
            ran.push({ item, ok: true, value });
          } catch (err) {
            // The body's statements are undone; the batch goes on. If even that fails, the
            // transaction is unusable: the error ends the whole batch below.
            ran.push({ item, ok: false, value: err });
            await exec(trx, "ROLLBACK TO roster_write");
            await exec(trx, "RELEASE roster_write");
          }
        }
      });
    } catch (err) {
      // BEGIN, a rollback or the COMMIT failed: nothing of this batch was written. When the
      // transaction could not even begin (the write lock stayed taken), the waiting bodies
      // would meet the same: they fail with it rather than wait again.
      for (const r of ran) r.item.reject(r.ok ? err : r.value);
      if (ran.length === 0) for (const item of this.queue.splice(0)) item.reject(err);
      await this.rollBackLeftovers();
      return;
    }
    for (const r of ran) (r.ok ? r.item.resolve : r.item.reject)(r.value);
  }

  /**
   * A COMMIT SQLite refuses (a deferred constraint) leaves the transaction open, and knex hands
   * the connection back as it is: every later BEGIN would fail. Roll it back here.
   */
  private async rollBackLeftovers(): Promise<void> {
    const client = this.db.client as {
      acquireConnection(): Promise<{ inTransaction: boolean; exec(sql: string): void }>;
      releaseConnection(conn: unknown): Promise<unknown>;
    };
    const conn = await client.acquireConnection();
    try {
      if (conn.inTransaction) conn.exec("ROLLBACK");
    } finally {
      await client.releaseConnection(conn);
    }
  }
}
