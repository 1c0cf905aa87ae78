import { type Binding, exec, insertSql } from "../db/exec.js";
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
 * coalesces into it: the pending one will recompute from the same (newer) state. That holds
 * only if it cannot run before this transaction commits, so the pending row is touched (an
 * upsert, DO UPDATE) rather than skipped: on PostgreSQL it stays locked until commit and claims
 * (FOR UPDATE SKIP LOCKED) pass it by. Skipped, a worker could claim it in between, recompute
 * from the state before this change and leave the change without a job. A job that is running
 * (or relayed to BullMQ) is no longer pending, so the partial unique index lets this change add
 * a new pending row: the running one may have read the old state, the new one runs after it.
 *
 * Lock order (every caller): the held rows are locked in key order, so two transactions
 * enqueueing overlapping keys in one call each cannot deadlock. A transaction enqueues its
 * dedupe-keyed jobs in ONE call, after the domain rows it changes and BEFORE the tenant row
 * (the event-sequence lock commitChanges/recordEvents takes last, and the settings lock of
 * updateTenant): one writer waiting for the tenant row while holding a pending job that
 * another, already holding the tenant row, waits for would deadlock. So directory changes put
 * their jobs on the ChangeSet (commitChanges enqueues them with the role syncs and the webhook
 * streams in one call, then takes the sequence lock), and a second enqueue after commitChanges
 * must only use keys without a dedupe key. The tenant row is only ever locked FOR NO KEY
 * UPDATE (never FOR UPDATE): a job row's foreign key takes FOR KEY SHARE on it, so a full lock
 * would wait for every transaction that enqueued a job of the tenant. Jobs enqueued outside a
 * transaction lock nothing past their own statement.
 */
export async function insertJobs(
  db: Db,
  jobs: Array<JobSpec & { queue: QueueName; maxAttempts: number }>,
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  const toRow = (j: JobSpec & { queue: QueueName; maxAttempts: number }): Binding[] => [
    j.tenantId,
    j.name,
    j.queue,
    j.dedupeKey ?? null,
    JSON.stringify(j.payload ?? null),
    "pending",
    j.maxAttempts,
    (j.runAt ?? now).toISOString(),
    at,
    at,
  ];
  const seen = new Set<string>();
  // PostgreSQL refuses to upsert one row twice in a statement: keep the first of each key.
  // In key order: two transactions holding overlapping sets lock them in the same order.
  const held = jobs
    .filter((j) => j.dedupeKey && !seen.has(j.dedupeKey) && seen.add(j.dedupeKey))
    .sort((a, b) => (a.dedupeKey! < b.dedupeKey! ? -1 : a.dedupeKey! > b.dedupeKey! ? 1 : 0));
  const plain = jobs.filter((j) => !j.dedupeKey);
  await insertChunks(db, plain.map(toRow), "on conflict do nothing");
  // DO UPDATE needs the conflict target, which names the partial unique index (both dialects infer it).
  await insertChunks(
    db,
    held.map(toRow),
    "on conflict (dedupe_key) where state = 'pending' do update set updated_at = excluded.updated_at",
  );
}

const JOB_COLUMNS = [
  "tenant_id",
  "name",
  "queue",
  "dedupe_key",
  "payload",
  "state",
  "max_attempts",
  "run_at",
  "created_at",
  "updated_at",
];

async function insertChunks(db: Db, rows: Binding[][], onConflict: string): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    const { sql, bindings } = insertSql("jobs", JOB_COLUMNS, rows.slice(i, i + 200), onConflict);
    await exec(db, sql, bindings);
  }
}

/** What a claim asks for. */
export interface ClaimOptions {
  queues: readonly QueueName[];
  limit: number;
  now: Date;
  leaseUntil: Date;
  state: "running" | "relayed";
}

/**
 * Claim due jobs of the given queues, fairly: first the oldest due jobs of each tenant with
 * pending work (a random subset of tenants when there are more than slots), so one tenant's
 * flood of 100,000 jobs cannot starve another's; then, to keep every slot busy, the oldest due
 * jobs overall and jobs whose lease ran out (the process running them died). Claimed rows are
 * marked `state` with a lease until `leaseUntil`.
 */
export async function claimJobs(db: Db, opts: ClaimOptions): Promise<JobRow[]> {
  const fair = await claimFairly(db, opts);
  const rest = opts.limit - fair.length;
  const more = rest > 0 ? await claimOldest(db, { ...opts, limit: rest }) : [];
  // Fair picks first, tenants interleaved: the relay adds them to BullMQ (first-in first-out) in this order.
  return [...interleave(fair), ...more.sort((a, b) => a.id - b.id)];
}

/**
 * Whether a claim on these queues could find anything: a due pending job or a lapsed lease.
 * Two bounded index probes, a fraction of a claim's cost (a recursive tenant scan, an UPDATE
 * and on SQLite a write transaction); idle queues are polled several times a second.
 */
export async function hasClaimableJobs(
  db: Db,
  queues: readonly QueueName[],
  now: Date,
  leased: "running" | "relayed" = "running",
): Promise<boolean> {
  const at = now.toISOString();
  const q = queues.map(() => "?").join(", ");
  const rows = await exec(
    db,
    `select 1 as hit where exists (select 1 from jobs where state = 'pending' and queue in (${q}) and run_at <= ?)
       or exists (select 1 from jobs where state = ? and queue in (${q}) and locked_until < ?)`,
    [...queues, at, leased, ...queues, at],
  );
  return rows.length > 0;
}

/** Tenants (null included) with pending jobs in these queues: a loose index scan, O(tenants·log n). */
async function tenantsWithPendingJobs(db: Db, queues: readonly QueueName[]): Promise<Array<string | null>> {
  const q = queues.map(() => "?").join(", ");
  const rows = await exec(
    db,
    `with recursive t(tid) as (
       select min(tenant_id) from jobs where queue in (${q}) and state = 'pending'
       union all
       select (select min(tenant_id) from jobs where queue in (${q}) and state = 'pending' and tenant_id > t.tid)
       from t where t.tid is not null
     )
     select tid from t where tid is not null`,
    [...queues, ...queues],
  );
  const list: Array<string | null> = rows.map((r: any) => r.tid);
  const nullRow = await exec(
    db,
    `select 1 as hit from jobs where queue in (${q}) and state = 'pending' and tenant_id is null limit 1`,
    [...queues],
  );
  if (nullRow.length) list.push(null);
  return list;
}

async function claimFairly(db: Db, opts: ClaimOptions): Promise<JobRow[]> {
  const tenants = shuffle(await tenantsWithPendingJobs(db, opts.queues));
  if (tenants.length === 0) return [];
  const picked = tenants.slice(0, Math.min(tenants.length, opts.limit));
  const quota = Math.floor(opts.limit / picked.length);
  const at = opts.now.toISOString();
  const lock = dialectOf(db) === "pg" ? " for update skip locked" : "";
  const q = opts.queues.map(() => "?").join(", ");
  const parts: string[] = [];
  const bindings: Binding[] = [];
  picked.forEach((tenant, i) => {
    parts.push(
      `select id from (select id from jobs where queue in (${q}) and state = 'pending' and run_at <= ?
         and tenant_id ${tenant === null ? "is null" : "= ?"} order by id limit ?${lock}) p${i}`,
    );
    bindings.push(...opts.queues, at, ...(tenant === null ? [] : [tenant]), quota);
  });
  // The picks live in a CTE: PostgreSQL evaluates it once. As a plain IN (… union all …) it
  // may run the sub-select per row, and LIMIT … SKIP LOCKED then keeps finding fresh rows.
  const rows = await exec(
    db,
    `with picked(id) as (${parts.join(" union all ")})
     update jobs set state = ?, locked_until = ?, updated_at = ?,
       attempts = case when ? = 'running' then attempts + 1 else attempts end
     where state = 'pending' and id in (select id from picked)
     returning *`,
    [...bindings, opts.state, opts.leaseUntil.toISOString(), at, opts.state],
  );
  return rows.map(rowToJob);
}

async function claimOldest(db: Db, opts: ClaimOptions): Promise<JobRow[]> {
  const at = opts.now.toISOString();
  const lock = dialectOf(db) === "pg" ? " for update skip locked" : "";
  const q = opts.queues.map(() => "?").join(", ");
  const leased = opts.state === "running" ? "running" : "relayed";
  // Two index range scans (due pending jobs; leases that ran out), each bounded, merged by id.
  // As one OR it walked every row of the queue, done jobs included: a claim cost grew with
  // history (2 ms on an idle queue of 2,000 done jobs, three queues polled every 25 ms).
  const rows = await exec(
    db,
    `with picked(id) as (
       select id from (select id from jobs where state = 'pending' and queue in (${q}) and run_at <= ?
         order by id limit ?${lock}) due
       union all
       select id from (select id from jobs where state = ? and queue in (${q}) and locked_until < ?
         order by id limit ?${lock}) expired
     )
     update jobs set state = ?, locked_until = ?, updated_at = ?,
       attempts = case when ? = 'running' then attempts + 1 else attempts end
     where id in (select id from picked order by id limit ?)
     returning *`,
    [
      ...opts.queues,
      at,
      opts.limit,
      leased,
      ...opts.queues,
      at,
      opts.limit,
      opts.state,
      opts.leaseUntil.toISOString(),
      at,
      opts.state,
      opts.limit,
    ],
  );
  return rows.map(rowToJob);
}

/** Round-robin over tenants, oldest first within each. */
function interleave(jobs: JobRow[]): JobRow[] {
  const byTenant = new Map<string | null, JobRow[]>();
  for (const j of [...jobs].sort((a, b) => a.id - b.id)) {
    const list = byTenant.get(j.tenantId) ?? [];
    list.push(j);
    byTenant.set(j.tenantId, list);
  }
  const out: JobRow[] = [];
  const lists = [...byTenant.values()];
  for (let i = 0; out.length < jobs.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

/**
 * Delete up to `limit` jobs that finished (done) before `before`; returns how many. Dead
 * letters (failed) stay until an admin retries or deletes them.
 */
export async function deleteDoneJobs(db: Db, before: string, limit: number): Promise<number> {
  return db("jobs")
    .whereIn(
      "id",
      db("jobs").select("id").where({ state: "done" }).andWhere("updated_at", "<", before).limit(limit),
    )
    .delete();
}

/** Mark a job done. */
export async function completeJob(db: Db, id: number, now: Date): Promise<void> {
  await exec(
    db,
    `update jobs set state = 'done', locked_until = null, last_error = null, updated_at = ? where id = ?`,
    [now.toISOString(), id],
  );
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

/**
 * Hand every relayed job back to the relay: their leases end now, so the next relay pass adds
 * them to BullMQ again (same job ids: a job Redis still holds is not added twice). For when
 * Redis lost its data; returns how many rows.
 */
export async function releaseRelayedJobs(db: Db, now: Date): Promise<number> {
  const past = new Date(now.getTime() - 1).toISOString();
  return db("jobs").where({ state: "relayed" }).andWhere("locked_until", ">", past).update({
    locked_until: past,
    updated_at: now.toISOString(),
  });
}

/** One job row, or undefined. */
export async function findJob(db: Db, id: number): Promise<JobRow | undefined> {
  const row = await db("jobs").where({ id }).first();
  return row ? rowToJob(row) : undefined;
}

/**
 * Put a dead-lettered job back to work: pending now, attempts reset, a new generation (so
 * BullMQ sees a new job id). When a pending job with the same dedupe key exists, that one
 * already covers the work (handlers recompute from current state): this one is closed as done.
 * Returns the job, or undefined when it is not in the failed state.
 */
export async function resetFailedJob(db: Db, id: number, now: Date): Promise<JobRow | undefined> {
  const at = now.toISOString();
  const reset = { state: "pending", attempts: 0, run_at: at, locked_until: null, updated_at: at };
  try {
    // The row as reset (a driver may claim it before another read could see it pending).
    const rows = await db("jobs")
      .where({ id, state: "failed" })
      .update({ ...reset, generation: db.raw("generation + 1") })
      .returning("*");
    return rows.length ? rowToJob(rows[0]) : undefined;
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    await db("jobs")
      .where({ id, state: "failed" })
      .update({ state: "done", last_error: "retried: coalesced into a pending job", updated_at: at });
  }
  return findJob(db, id);
}

/** Jobs in a state, newest first, paged by id (`beforeId`). */
export async function listJobs(
  db: Db,
  opts: { state?: JobRow["state"]; tenantId?: string; limit: number; beforeId?: number },
): Promise<JobRow[]> {
  const q = db("jobs").orderBy("id", "desc").limit(opts.limit);
  if (opts.state) q.where({ state: opts.state });
  if (opts.tenantId) q.andWhere({ tenant_id: opts.tenantId });
  if (opts.beforeId) q.andWhere("id", "<", opts.beforeId);
  return (await q).map(rowToJob);
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
