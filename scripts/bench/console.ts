/**
 * `npm run bench -- console [users]`: server render time of the console pages this branch owns
 * (SSO configuration, SCIM, operator pages) on a tenant with N users (default 100,000), through
 * the real app on loopback with a real console session. Prints p50/p95/p99 per page.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createConsoleSession } from "../../src/console/sessions.js";
import { migrateLatest } from "../../src/db/knex.js";
import { createDeps } from "../../src/deps.js";
import { putConnection } from "../../src/sso/saml/connections.js";
import { createScimToken, createTenant } from "../../src/tenants/use-cases.js";
import { generateKeyAndCertificate } from "../../src/sso/saml/x509.js";
import { ADMIN, ENCRYPTION_KEY, freshDatabase, Latencies } from "./lib.js";

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
const at = new Date().toISOString();
for (let i = 0; i < N; i += 1000) {
  const rows = Array.from({ length: Math.min(1000, N - i) }, (_, j) => {
    const name = `user${i + j}@bench.example.com`;
    return {
      id: randomUUID(),
      tenant_id: tenant.id,
      user_name: name,
      user_name_norm: name,
      active: true,
      resource: JSON.stringify({ userName: name, active: true }),
      created_at: at,
      updated_at: at,
    };
  });
  await deps.db.batchInsert("users", rows, 500);
}

const { token } = await createConsoleSession(deps.db, {
  kind: "operator",
  actorId: "admin_token",
  tenantId: null,
  scopes: [],
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
