import type { Db } from "../db/knex.js";
import { dialectOf } from "../db/knex.js";
import { isUniqueViolation } from "../db/errors.js";
import { parseJson, toIso } from "../db/rows.js";
import type { JobSpec, QueueName } from "./types.js";

/** A job row: the durable truth of what must run, whatever transports it. */
export interface JobRow {
  id: number;
  tenantId: string | null;
  name: string;
  queue: QueueName;
  payload: unknown;
  state: "pending" | "running" | "relayed" | "done" | "failed";
  attempts: number;
  maxAttempts: number;
  generation: number;
  runAt: string;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

function rowToJob(r: any): JobRow {
  return {
    id: Number(r.id),
    tenantId: r.tenant_id,
    name: r.name,
    queue: r.queue,
    payload: parseJson(r.payload, null),
    state: r.state,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    generation: Number(r.generation),
    runAt: toIso(r.run_at)!,
    lastError: r.last_error ?? null,
    createdAt: toIso(r.created_at)!,
    updatedAt: toIso(r.updated_at)!,
  };
}

/**
 * Insert jobs in the caller's transaction. A job whose dedupe key already has a pending job
 * is dropped: the pending one will recompute from the same (newer) state.
 */
export async function insertJobs(
  db: Db,
  jobs: Array<JobSpec & { queue: QueueName; maxAttempts: number }>,
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  const rows = jobs.map((j) => ({
    tenant_id: j.tenantId,
    name: j.name,
    queue: j.queue,
    dedupe_key: j.dedupeKey ?? null,
    payload: JSON.stringify(j.payload ?? null),
    state: "pending",
    max_attempts: j.maxAttempts,
    run_at: (j.runAt ?? now).toISOString(),
    created_at: at,
    updated_at: at,
  }));
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    // ON CONFLICT DO NOTHING without a target covers the partial unique index on both dialects.
    const sql = db("jobs").insert(chunk).toSQL();
    await db.raw(`${sql.sql} on conflict do nothing`, sql.bindings as any[]);
  }
}

/**
 * Claim due jobs of the given queues: pending ones whose time has come, and ones whose lease
 * ran out (the process running them died). Marks them `state` with a lease until `leaseUntil`.
 */
export async function claimJobs(
  db: Db,
  opts: {
    queues: readonly QueueName[];
    limit: number;
    now: Date;
    leaseUntil: Date;
    state: "running" | "relayed";
  },
): Promise<JobRow[]> {
  const at = opts.now.toISOString();
  const skipLocked = dialectOf(db) === "pg" ? " for update skip locked" : "";
  const queueList = opts.queues.map(() => "?").join(", ");
  const leased = opts.state === "running" ? "'running'" : "'relayed'";
  const rows = await db.raw(
    `update jobs set state = ?, locked_until = ?, updated_at = ?,
       attempts = case when ? = 'running' then attempts + 1 else attempts end
     where id in (
       select id from jobs
       where queue in (${queueList})
         and ((state = 'pending' and run_at <= ?) or (state = ${leased} and locked_until < ?))
       order by id limit ?${skipLocked})
     returning *`,
    [opts.state, opts.leaseUntil.toISOString(), at, opts.state, ...opts.queues, at, at, opts.limit],
  );
  const list = Array.isArray(rows) ? rows : rows.rows;
  return list.map(rowToJob).sort((a: JobRow, b: JobRow) => a.id - b.id);
}

/** Mark a job done. */
export async function completeJob(db: Db, id: number, now: Date): Promise<void> {
  await db("jobs")
    .where({ id })
    .update({ state: "done", locked_until: null, last_error: null, updated_at: now.toISOString() });
}

/**
 * After a failed attempt: back to pending at `retryAt`, or failed (dead letter) when `retryAt`
 * is null. If a newer pending job with the same key exists, this one is folded into it.
 */
export async function failJobAttempt(
  db: Db,
  id: number,
  error: string,
  retryAt: Date | null,
  now: Date,
): Promise<void> {
  const base = { locked_until: null, last_error: error.slice(0, 2000), updated_at: now.toISOString() };
  if (!retryAt) {
    await db("jobs")
      .where({ id })
      .update({ ...base, state: "failed" });
    return;
  }
  try {
    await db("jobs")
      .where({ id })
      .update({ ...base, state: "pending", run_at: retryAt.toISOString() });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    await db("jobs")
      .where({ id })
      .update({ ...base, state: "done", last_error: "coalesced into a newer pending job" });
  }
}

/** Record the attempt count reported by the transport (BullMQ counts its own attempts). */
export async function setJobAttempts(
  db: Db,
  id: number,
  attempts: number,
  error: string | null,
  now: Date,
): Promise<void> {
  await db("jobs")
    .where({ id })
    .update({ attempts, last_error: error?.slice(0, 2000) ?? null, updated_at: now.toISOString() });
}

/** One job row, or undefined. */
export async function findJob(db: Db, id: number): Promise<JobRow | undefined> {
  const row = await db("jobs").where({ id }).first();
  return row ? rowToJob(row) : undefined;
}

/** Jobs in a state, newest first. */
export async function listJobsByState(
  db: Db,
  state: JobRow["state"],
  limit: number,
  tenantId?: string,
): Promise<JobRow[]> {
  const q = db("jobs").where({ state }).orderBy("id", "desc").limit(limit);
  if (tenantId) q.andWhere({ tenant_id: tenantId });
  return (await q).map(rowToJob);
}

/** Count jobs per state and queue (for /metrics and readiness). */
export async function countJobs(db: Db): Promise<Array<{ queue: string; state: string; n: number }>> {
  const rows = await db("jobs").select("queue", "state").count({ n: "*" }).groupBy("queue", "state");
  return rows.map((r: any) => ({ queue: r.queue, state: r.state, n: Number(r.n) }));
}
