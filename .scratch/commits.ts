import { randomUUID } from "node:crypto";
import { loadConfig } from "../src/config.js";
import { migrateLatest } from "../src/db/knex.js";
import { createDeps } from "../src/deps.js";
import { updateUser } from "../src/directory/users.js";
import { createWebhook } from "../src/events/webhooks.js";
import { createTenant } from "../src/tenants/use-cases.js";
import { freshDatabase } from "../scripts/bench/lib.js";

const hook = process.argv[2] === "hook";
const db = await freshDatabase("commits");
const deps = createDeps(loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: "warn", ROSTER_WEBHOOK_ALLOW_PRIVATE: "true", REDIS_URL: process.env.REDIS_URL ?? "", ROSTER_JOBS: "off" }), { role: "api", pollMs: 50 });
await migrateLatest(deps.db);
const t = await createTenant(deps, { slug: "cc", name: "cc" });
if (hook) await createWebhook(deps, "cc", { url: "http://127.0.0.1:9/hook", events: ["user.updated"] });
const at = new Date().toISOString();
const users = Array.from({ length: 2000 }, () => randomUUID());
for (let i = 0; i < users.length; i += 500)
  await deps.db("users").insert(users.slice(i, i + 500).map((id, j) => ({ id, tenant_id: t.id, user_name: `u${i + j}`, user_name_norm: `u${i + j}`, active: true, resource: JSON.stringify({ userName: `u${i + j}`, active: true }), created_at: at, updated_at: at })));
const t0 = performance.now();
const c0 = process.cpuUsage();
let next = 0;
await Promise.all(Array.from({ length: 16 }, async () => { while (next < users.length) { const id = users[next++]; await updateUser(deps, t.id, id, (d) => ({ ...d, displayName: "x" + next })); } }));
const s = (performance.now() - t0) / 1000;
const c = process.cpuUsage(c0);
console.log(`${hook ? "hook" : "nohook"}: ${users.length} updates in ${s.toFixed(2)} s = ${(users.length / s).toFixed(0)}/s; client CPU ${((c.user + c.system) / 1000 / users.length).toFixed(2)} ms/update`);
await deps.close();
await db.drop();
process.exit(0);
