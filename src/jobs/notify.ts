import type { Db } from "../db/knex.js";

const listeners = new Set<() => void>();

/** Be told when this process committed new jobs (drivers look at once instead of at the next poll). */
export function onJobsEnqueued(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Wake every local driver. */
export function notifyJobsEnqueued(): void {
  for (const fn of listeners) fn();
}

/**
 * Wake the drivers once the caller's transaction commits: a claim before the commit would not
 * see the rows (knex resolves `executionPromise` when the transaction ends).
 */
export function notifyAfterCommit(db: Db): void {
  if (listeners.size === 0) return;
  const done = (db as { executionPromise?: Promise<unknown> }).executionPromise;
  if (done) done.then(notifyJobsEnqueued, () => {});
  else queueMicrotask(notifyJobsEnqueued);
}
