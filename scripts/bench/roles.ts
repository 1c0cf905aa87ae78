import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../../src/config.js";
import { migrateLatest } from "../../src/db/knex.js";
import { createDeps, type Deps } from "../../src/deps.js";
import { updateGroup } from "../../src/directory/groups.js";
import { updateUser } from "../../src/directory/users.js";
import { createWebhook } from "../../src/events/webhooks.js";
import { HOUSEKEEPING_JOB } from "../../src/jobs/housekeeping.js";
import { createMapping } from "../../src/roles/use-cases.js";
import { createTenant } from "../../src/tenants/use-cases.js";
import {
  dropBenchQueues,
  ENCRYPTION_KEY,
  fmt,
  freshDatabase,
  Latencies,
  QUEUE_PREFIX,
  startWorkers,
  stopWorker,
} from "./lib.js";

const N = Number(process.argv[2] ?? 50_000);
const pg = process.env.DATABASE_URL?.startsWith("postgres") ? process.env.DATABASE_URL : undefined;
const redis = pg ? process.env.REDIS_URL : undefined;

/** Insert users and a group holding them straight into the tables (setup, not what is measured). */
async function seed(
  deps: Deps,
  tenantId: string,
  n: number,
  prefix: string,
): Promise<{ groupId: string; users: string[] }> {
  const at = new Date().toISOString();
  const users = Array.from({ length: n }, () => randomUUID());
  const groupId = randomUUID();
  await deps.db("groups").insert({
    id: groupId,
    tenant_id: tenantId,
    display_name: `${prefix}-group`,
    display_name_norm: `${prefix}-group`,
    resource: "{}",
    created_at: at,
    updated_at: at,
  });
  for (let i = 0; i < n; i += 500) {
    const chunk = users.slice(i, i + 500);
    await deps.db("users").insert(
      chunk.map((id, j) => ({
        id,
        tenant_id: tenantId,
        user_name: `${prefix}${i + j}@bench.example.com`,
        user_name_norm: `${prefix}${i + j}@bench.example.com`,
        active: true,
        resource: JSON.stringify({ userName: `${prefix}${i + j}@bench.example.com`, active: true }),
        created_at: at,
        updated_at: at,
      })),
    );
    await deps
      .db("group_members")
      .insert(
        chunk.map((id) => ({ tenant_id: tenantId, group_id: groupId, member_id: id, member_type: "User" })),
      );
  }
  return { groupId, users };
}

async function waitFor(fn: () => Promise<boolean>, timeoutMs = 300_000): Promise<void> {
  const start = Date.now();
  while (!(await fn())) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

const count = async (q: any) => Number((await q.count({ c: "*" }).first())?.c ?? 0);
// The daily housekeeping job every process schedules stays pending until tomorrow: not work.
const idle = (deps: Deps) => async () =>
  (await count(
    deps.db("jobs").whereIn("state", ["pending", "running", "relayed"]).whereNot("name", HOUSEKEEPING_JOB),
  )) === 0;

async function mappingChange(deps: Deps, slug: string, tenantId: string): Promise<void> {
  const { groupId } = await seed(deps, tenantId, N, "m");
  const t0 = performance.now();
  await createMapping(deps, slug, { groupId, role: "admin" });
  await waitFor(
    async () => (await count(deps.db("user_roles").where({ tenant_id: tenantId, source: "group" }))) === N,
  );
  await waitFor(idle(deps));
  console.log(
    `  mapping change covering ${N} users: fully recomputed in ${fmt((performance.now() - t0) / 1000)} s`,
  );
}

async function patchBatch(deps: Deps, slug: string, tenantId: string): Promise<void> {
  const { users } = await seed(deps, tenantId, 100, "p");
  const { groupId } = await seed(deps, tenantId, 0, "p2");
  await createMapping(deps, slug, { groupId, role: "admin" });
  await waitFor(idle(deps));
  const before = await count(deps.db("jobs").where({ state: "done" }).whereLike("name", "sync-roles%"));
  const t0 = performance.now();
  await updateGroup(deps, tenantId, groupId, {
    delta: { add: users.map((value) => ({ value, type: "User" as const })) },
  });
  await waitFor(
    async () =>
      (await count(
        deps.db("user_roles").where({ tenant_id: tenantId, source: "group" }).whereIn("user_id", users),
      )) === 100,
  );
  await waitFor(idle(deps));
  const secs = (performance.now() - t0) / 1000;
  const ran =
    (await count(deps.db("jobs").where({ state: "done" }).whereLike("name", "sync-roles%"))) - before;
  console.log(`  100-member PATCH: ${ran} role jobs executed, settled in ${fmt(secs * 1000, 0)} ms`);
}

async function webhooks(deps: Deps, slug: string, tenantId: string): Promise<void> {
  const rate = 200;
  const seconds = 10;
  const total = rate * seconds;
  const lat = new Latencies();
  const committed = new Map<string, number>();
  const arrived = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const e = JSON.parse(Buffer.concat(chunks).toString());
      if (e.type === "user.updated" && !arrived.has(e.data.userId))
        arrived.set(e.data.userId, performance.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  await createWebhook(deps, slug, { url: `http://127.0.0.1:${port}/hook`, events: ["user.updated"] });
  const { users } = await seed(deps, tenantId, total, "w");
  const t0 = performance.now();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = users[i];
    // Paced, not awaited one by one: a slow commit must not lower the offered rate.
    writes.push(
      updateUser(deps, tenantId, id, (doc) => ({ ...doc, displayName: `U ${i}` })).then(() => {
        committed.set(id, performance.now());
      }),
    );
  }
  await Promise.all(writes);
  await waitFor(async () => arrived.size >= total, 120_000);
  for (const [id, at] of committed) lat.add("delivery", Math.max(0, arrived.get(id)! - at));
  const secs = (Math.max(...arrived.values()) - t0) / 1000;
  console.log(
    `  webhooks at ${rate} events/s for ${seconds} s: ${arrived.size} delivered in ${fmt(secs)} s = ${fmt(arrived.size / secs, 0)} deliveries/s; commit→delivery ${lat.line("delivery").replace("delivery: ", "")}`,
  );
  server.close();
}

async function main(): Promise<void> {
  const db = await freshDatabase("roles");
  console.log(
    `roles bench: ${pg ? `PostgreSQL${redis ? " + BullMQ (2 workers)" : " (in-process jobs)"}` : "SQLite, in-process jobs"}`,
  );
  const config = loadConfig({
    DATABASE_URL: db.url,
    ROSTER_ENCRYPTION_KEY: ENCRYPTION_KEY,
    LOG_LEVEL: "warn",
    ROSTER_WEBHOOK_ALLOW_PRIVATE: "true",
    ...(redis ? { REDIS_URL: redis, ROSTER_JOBS: "off", ROSTER_QUEUE_PREFIX: QUEUE_PREFIX } : {}),
  });
  const deps = createDeps(config, { role: "api", pollMs: 50 });
  await migrateLatest(deps.db);
  const workers = redis
    ? startWorkers({ DATABASE_URL: db.url, REDIS_URL: redis, ROSTER_WEBHOOK_ALLOW_PRIVATE: "true" })
    : [];
  await deps.driver.start();
  try {
    for (const [slug, run] of [
      ["bench-map", mappingChange],
      ["bench-patch", patchBatch],
      ["bench-hooks", webhooks],
    ] as const) {
      const tenant = await createTenant(deps, { slug, name: slug });
      await run(deps, slug, tenant.id);
    }
  } finally {
    await deps.driver.stop(5000);
    await deps.close();
    await Promise.all(workers.map(stopWorker));
    await dropBenchQueues(redis);
    await db.drop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
