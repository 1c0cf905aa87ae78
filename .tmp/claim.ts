import knex from "knex";
import { migrationSource } from "../migrations/index.ts";
import { claimJobs } from "../src/jobs/store.ts";
async function main() {
  const db = knex({ client: "better-sqlite3", connection: { filename: ":memory:" }, useNullAsDefault: true });
  await db.migrate.latest({ migrationSource });
  const at = "2026-01-01T00:00:00.000Z";
  await db("tenants").insert([{ id: "t1", slug: "t1", name: "t1", settings: "{}", created_at: at, updated_at: at }, { id: "t2", slug: "t2", name: "t2", settings: "{}", created_at: at, updated_at: at }]);
  const rows = [];
  for (let i = 0; i < 100000; i++) rows.push({ tenant_id: "t1", name: "sync-roles", queue: "default", state: i < 100000 ? "done" : "pending", payload: "{}", attempts: 0, max_attempts: 8, run_at: at, created_at: at, updated_at: at });
  for (let i = 0; i < rows.length; i += 500) await db("jobs").insert(rows.slice(i, i + 500));
  for (let i = 0; i < 2000; i++) await db("jobs").insert({ tenant_id: "t2", name: "revoke-access", queue: "urgent", state: "done", payload: "{}", attempts: 0, max_attempts: 8, run_at: at, created_at: at, updated_at: at });
  for (const queue of ["urgent", "default"] as const) {
    const t0 = performance.now();
    let n = 0;
    for (let i = 0; i < 50; i++) n += (await claimJobs(db, { queues: [queue], limit: 2, now: new Date("2026-02-01"), leaseUntil: new Date("2026-03-01"), state: "running" })).length;
    console.log(queue, "claimed", n, "ms/claim", ((performance.now() - t0) / 50).toFixed(2));
  }
  await db.destroy();
}
main();
