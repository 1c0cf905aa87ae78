/**
 * OpenID Connect callback benchmark: Roster's own CPU per login at GET /sso/{slug}/oidc/callback
 * (state and cookie check, code and request used once, the token request, id_token signature and
 * claim checks by openid-client, the claim rules, directory lookup in a large tenant, session and
 * OAuth code), printed next to the SAML ACS figure. The provider is a loopback provider in this
 * process (test/helpers/test-op.ts ForgeOp: RS256 id_tokens signed with jose), so its work is not
 * in the server's CPU; only the callbacks are timed (the logins are started beforehand).
 *   node --import tsx scripts/bench/oidc.ts [LOGINS] [USERS]
 * SQLite by default; with DATABASE_URL=postgres://… it benchmarks PostgreSQL instead.
 * BENCH_WORKERS (API processes, default 2, as the SAML bench), BENCH_CONCURRENCY (default 20),
 * BENCH_WARMUP (untimed logins first, default 2×concurrency).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { Knex } from "knex";
import { ForgeOp } from "../../test/helpers/test-op.js";
import { ADMIN, fmt, freshDatabase, Latencies, pool, processTree, request, startServer } from "./lib.js";

const LOGINS = Number(process.argv[2] ?? 1000);
const USERS = Number(process.argv[3] ?? 100_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2 * CONCURRENCY);
const PUBLIC_URL = "https://roster.bench";
const SLUG = "bench";
const REDIRECT = "https://app.bench.test/callback";
/** The SAML ACS figure README "Benchmarks" records (`npm run bench -- saml`; run it beside this for today's). */
const SAML_ACS_CPU_MS = 10.3;

function raw(port: number, url: string, headers: Record<string, string>, agent: http.Agent) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>(
    (resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port, method: "GET", path: url, agent, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString(),
            }),
          );
        },
      );
      req.on("error", reject);
      req.end();
    },
  );
}

async function seedUsers(db: Knex, tenantId: string, n: number): Promise<void> {
  const at = new Date().toISOString();
  const rows = Array.from({ length: n }, (_, i) => {
    const userName = `user${i}@bench.example.com`;
    return {
      id: randomUUID(),
      tenant_id: tenantId,
      user_name: userName,
      user_name_norm: userName,
      active: true,
      primary_email: userName,
      resource: JSON.stringify({
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName,
        active: true,
      }),
      version: 1,
      source: "scim",
      created_at: at,
      updated_at: at,
    };
  });
  await db.transaction((trx) => trx.batchInsert("users", rows, 500));
}

/** CPU (ms) of each process of the server's tree. */
function cpuByProcess(pid: number): Map<number, number> {
  return new Map(
    processTree(pid).map((p) => {
      try {
        const fields = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ");
        return [p, ((Number(fields[11]) + Number(fields[12])) * 1000) / 100];
      } catch {
        return [p, 0];
      }
    }),
  );
}

async function main(): Promise<void> {
  const database = await freshDatabase("oidc");
  const server = await startServer({
    DATABASE_URL: database.url,
    PUBLIC_URL,
    ROSTER_WORKERS: process.env.BENCH_WORKERS ?? "2",
    // The provider listens on loopback.
    ROSTER_WEBHOOK_ALLOW_PRIVATE: "true",
  });
  const port = server.port;
  const db = database.knex();
  const forge = await ForgeOp.start("RS256");
  try {
    const tenant = await request(port, "POST", "/admin/v1/tenants", { slug: SLUG, name: "Bench" }, ADMIN);
    const tenantId = tenant.body.id;
    let t0 = performance.now();
    await seedUsers(db, tenantId, USERS);
    console.log(`  seeded ${USERS} users in ${fmt((performance.now() - t0) / 1000)} s`);
    await request(port, "GET", "/healthz").catch(() => undefined);
    const put = await request(
      port,
      "PUT",
      `/admin/v1/tenants/${SLUG}/oidc`,
      {
        preset: "custom",
        issuer: forge.issuer,
        clientId: "roster-bench",
        clientSecret: "bench-secret-0123456789",
      },
      ADMIN,
    );
    if (put.status !== 200) throw new Error(`PUT oidc: ${put.status} ${JSON.stringify(put.body)}`);
    // The bench skips the interactive test login: mark the configuration tested, then enable.
    await db("oidc_connections").where({ tenant_id: tenantId }).update({
      tested_version: put.body.configVersion,
      tested_at: new Date().toISOString(),
      state: "tested",
    });
    await request(port, "POST", `/admin/v1/tenants/${SLUG}/oidc/enable`, undefined, ADMIN);
    const client = await request(
      port,
      "POST",
      `/admin/v1/tenants/${SLUG}/oauth-clients`,
      { name: "bench", redirectUris: [REDIRECT] },
      ADMIN,
    );

    // Start every login through /oauth/authorize (each browser its own cookie) and follow the
    // provider's redirect back; the timed phase below is the callback alone.
    const userOf = new Map<string, string>();
    forge.mint = (r, f) =>
      f.valid(r, { email: userOf.get(r.code), email_verified: true, name: "Bench User" });
    const q = new URLSearchParams({
      response_type: "code",
      client_id: client.body.clientId,
      redirect_uri: REDIRECT,
    });
    const prepAgent = new http.Agent({ keepAlive: true });
    const logins: Array<{ cookie: string; path: string }> = [];
    t0 = performance.now();
    for (let i = 0; i < LOGINS + WARMUP; i++) {
      const res = await raw(port, `/oauth/authorize?${q}`, {}, prepAgent);
      if (res.status !== 302) throw new Error(`authorize: ${res.status} ${res.text}`);
      const cookie = String(res.headers["set-cookie"]?.[0] ?? "").split(";")[0];
      const back = await forge.login(String(res.headers.location));
      userOf.set(
        back.searchParams.get("code")!,
        `user${Math.floor(Math.random() * USERS)}@bench.example.com`,
      );
      logins.push({ cookie, path: back.pathname + back.search });
    }
    console.log(`  prepared ${LOGINS} logins in ${fmt((performance.now() - t0) / 1000)} s`);

    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const lat = new Latencies();
    const callback = async (l: (typeof logins)[number], record: boolean) => {
      const start = process.hrtime.bigint();
      const res = await raw(port, l.path, { cookie: l.cookie }, agent);
      lat.add(record ? "callback" : "warmup", Number(process.hrtime.bigint() - start) / 1e6);
      if (res.status !== 302 || !String(res.headers.location).startsWith(REDIRECT))
        throw new Error(`callback: ${res.status} ${res.text.slice(0, 300)}`);
    };
    await pool(WARMUP, CONCURRENCY, (i) => callback(logins[LOGINS + i], false));
    const before = cpuByProcess(server.child.pid!);
    t0 = performance.now();
    await pool(LOGINS, CONCURRENCY, (i) => callback(logins[i], true));
    const secs = (performance.now() - t0) / 1000;
    const after = cpuByProcess(server.child.pid!);
    const serverCpu = [...after].reduce((s, [pid, ms]) => s + ms - (before.get(pid) ?? 0), 0);
    const cpuPer = serverCpu / LOGINS;
    console.log(
      `  Roster OIDC callback (oauth hand-off): ${LOGINS} logins in ${fmt(secs)} s = ${fmt(LOGINS / secs, 0)} logins/s with ${CONCURRENCY} concurrent, server CPU ${fmt(cpuPer, 3)} ms/login`,
    );
    console.log(
      `  ${lat.line("callback")}  p99/p50 = ${fmt(lat.pct("callback", 99) / lat.pct("callback", 50))}`,
    );
    console.log(
      `  => OIDC callback CPU per login ${fmt(cpuPer, 2)} ms next to the SAML ACS's ${SAML_ACS_CPU_MS} ms (npm run bench -- saml; ratio ${fmt(cpuPer / SAML_ACS_CPU_MS)})`,
    );
    const sessions = await db("sessions").where({ tenant_id: tenantId }).count({ n: "*" });
    console.log(
      `  sessions created: ${Number(sessions[0].n)}, token requests at the provider: ${forge.tokenRequests.length}`,
    );
  } finally {
    await forge.close();
    await db.destroy();
    await server.stop();
    await database.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
