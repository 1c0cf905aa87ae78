/**
 * `npm run bench -- console [users]`: server render time of the console pages this branch owns
 * (SSO configuration, SCIM, operator pages; Members, Groups & roles, Events & webhooks) on a tenant
 * with N users (default 100,000) and N events, through
 * the real app on loopback with a real console session. Prints p50/p95/p99 per page.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createConsoleSession } from "../../src/console/sessions.js";
import { migrateLatest } from "../../src/db/knex.js";
import { createDeps } from "../../src/deps.js";
import { listMembersPage } from "../../src/directory/members.js";
import { createWebhook } from "../../src/events/webhooks.js";
import { createMapping } from "../../src/roles/use-cases.js";
import { putConnection } from "../../src/sso/saml/connections.js";
import { createScimToken, createTenant } from "../../src/tenants/use-cases.js";
import { generateKeyAndCertificate } from "../../src/sso/saml/x509.js";
import { ADMIN, ENCRYPTION_KEY, freshDatabase, Latencies } from "./lib.js";
import { seedMembers } from "./members-seed.js";

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 300);

const db = await freshDatabase("console");
const config = loadConfig({
  DATABASE_URL: db.url,
  ROSTER_ADMIN_TOKEN: ADMIN,
  ROSTER_ENCRYPTION_KEY: ENCRYPTION_KEY,
  PUBLIC_URL: "https://roster.bench",
  LOG_LEVEL: "silent",
  ROSTER_JOBS: "off",
});
const deps = createDeps(config, { role: "api" });
await migrateLatest(deps.db);
const tenant = await createTenant(deps, { slug: "bench", name: "Bench" });
for (let i = 0; i < 5; i++) await createScimToken(deps, "bench", { name: `idp ${i}` });
const idp = generateKeyAndCertificate({ commonName: "Bench IdP" });
await putConnection(deps, "bench", {
  preset: "okta",
  idpEntityId: "https://idp.bench/okta",
  ssoUrl: "https://idp.bench/sso",
  certificates: [idp.certificate],
});
// The members pages' data (src/console/members, roles, events): users with names and e-mails,
// 2% deactivated, some invited, five groups; one mapping, one webhook, N events.
const ids = await seedMembers(deps, tenant.id, N);
const groups = await deps.db("groups").where({ tenant_id: tenant.id }).select("id");
await createMapping(deps, "bench", { groupId: groups[0].id, role: "admin" });
const hook = await createWebhook({ ...deps, config: { allowPrivateNetwork: true } }, "bench", {
  url: "http://127.0.0.1:9/hook",
  events: ["user.*"],
});
const at = new Date().toISOString();
const first =
  Number((await deps.db("events").where({ tenant_id: tenant.id }).max({ m: "seq" }).first())?.m ?? 0) + 1;
const types = ["user.created", "user.updated", "group.user_added", "role.assigned", "console.action"];
for (let i = 0; i < N; i += 500)
  await deps.db("events").insert(
    Array.from({ length: Math.min(500, N - i) }, (_, j) => ({
      tenant_id: tenant.id,
      seq: first + i + j,
      type: types[(i + j) % types.length],
      data: JSON.stringify({ userId: ids[i + j], userName: `user${i + j}@bench.example.com` }),
      created_at: at,
    })),
  );
await deps.db.raw("analyze");
const firstSearch = await listMembersPage(deps, "bench", { q: "e" });

const { token } = await createConsoleSession(deps.db, {
  kind: "operator",
  actorId: "admin_token",
  tenantId: null,
  scopes: [],
  // Tied to ROSTER_ADMIN_TOKEN like a session from the sign-in form (else refused as changed).
  adminTokenHash: deps.adminTokenHash,
  now: new Date(),
});
const app = createApp(deps);
const server = http.createServer(app);
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const { port } = server.address() as AddressInfo;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: "127.0.0.1", port, path, agent, headers: { Cookie: `roster_console=${token}` } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
  });
}

const pages = [
  "/console/t/bench/sso",
  "/console/t/bench/sso?provider=okta",
  "/console/t/bench/scim",
  "/console/operator/tenants",
  "/console/operator/tenants/bench",
  "/console/operator/admin-keys",
  "/console/operator/jobs",
  "/console/operator/health",
  "/console/t/bench/members",
  "/console/t/bench/members?q=ann",
  `/console/t/bench/members?q=e&cursor=${firstSearch.next}`,
  "/console/t/bench/members?q=lena.novak107",
  "/console/t/bench/members?status=deactivated",
  "/console/t/bench/members?status=invited",
  `/console/t/bench/members/${ids[Math.floor(N / 2)]}`,
  `/console/t/bench/members/${ids[10]}`,
  "/console/t/bench/members/invite",
  "/console/t/bench/roles",
  "/console/t/bench/events",
  "/console/t/bench/events?type=user.*",
  "/console/t/bench/events?type=console.action",
  "/console/t/bench/events/webhooks",
  `/console/t/bench/events/webhooks/${hook.id}`,
  "/console/t/bench/logs",
  "/console/t/bench/logs?status=4xx",
  "/console/t/bench/logs/sign-ins",
  "/console/operator/audit-log",
];
const lat = new Latencies();
console.log(`console pages, ${db.pg ? "PostgreSQL" : "SQLite"}, ${N} users, ${ROUNDS} requests per page`);
for (const page of pages) {
  for (let i = 0; i < 20; i++) await get(page); // warm-up
  for (let i = 0; i < ROUNDS; i++) {
    const start = process.hrtime.bigint();
    const status = await get(page);
    lat.add(page, Number(process.hrtime.bigint() - start) / 1e6);
    if (status !== 200) throw new Error(`${page}: ${status}`);
  }
  console.log(lat.line(page));
}
agent.destroy();
await new Promise((r) => server.close(r));
await deps.close();
await db.drop();
