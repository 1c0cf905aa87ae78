import type { Db } from "../db/knex.js";
import type { QueueName } from "./types.js";

/** Called with the queues that got jobs, or undefined when any may have. */
type Listener = (queues?: ReadonlySet<QueueName>) => void;

const listeners = new Set<Listener>();

/** Be told when this process committed new jobs (drivers look at once instead of at the next poll). */
export function onJobsEnqueued(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Wake every local driver; `queues` narrows which loops need to look. */
export function notifyJobsEnqueued(queues?: ReadonlySet<QueueName>): void {
  for (const fn of listeners) fn(queues);
}

/**
 * Wake the drivers once the caller's transaction commits: a claim before the commit would not
 * see the rows (knex resolves `executionPromise` when the transaction ends). Naming the queues
 * spares the other loops an empty claim (three queries) per commit: a SCIM create only ever
 * enqueues on the default queue.
 */
export function notifyAfterCommit(db: Db, queues?: Iterable<QueueName>): void {
  if (listeners.size === 0) return;
  const only = queues ? new Set(queues) : undefined;
  const notify = () => notifyJobsEnqueued(only);
  const done = (db as { executionPromise?: Promise<unknown> }).executionPromise;
  if (done) done.then(notify, () => {});
  else queueMicrotask(notify);
}
