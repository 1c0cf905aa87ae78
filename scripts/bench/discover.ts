/**
 * GET /sso/discover latency with many tenants and domains (issue 16: under 5 ms at p99 with
 * 10,000 tenants and 50,000 domains). Rows are inserted directly (set-up, not what is measured):
 * tenants with an enabled SAML connection, five verified domains each, half of them requiring
 * SSO, and a directory e-mail per tenant; then discover is asked, one request at a time, for
 * e-mails of verified domains (routed), of unknown domains (no route: the directory is asked
 * too) and for directory users on other domains.
 *   node --import tsx scripts/bench/discover.ts [TENANTS] [DOMAINS] [REQUESTS]
 * SQLite by default; with DATABASE_URL=postgres://… it benchmarks PostgreSQL instead.
 */
import { randomUUID } from "node:crypto";
import { cpuMs, fmt, freshDatabase, Latencies, request, startServer, timed } from "./lib.js";

const TENANTS = Number(process.argv[2] ?? 10_000);
const DOMAINS = Number(process.argv[3] ?? 50_000);
const REQUESTS = Number(process.argv[4] ?? 5000);
const BATCH = 500;

const db = await freshDatabase("discover");
// Set-up takes longer than the default keep-alive: the idle socket of the health check would be reset.
const server = await startServer({
  DATABASE_URL: db.url,
  PUBLIC_URL: "https://roster.bench",
  HTTP_KEEP_ALIVE_TIMEOUT_MS: "600000",
});
try {
  const k = db.knex();
  const at = new Date().toISOString();
  const perTenant = Math.ceil(DOMAINS / TENANTS);
  const started = Date.now();
  for (let from = 0; from < TENANTS; from += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, TENANTS - from) }, (_, i) => ({
      i: from + i,
      id: randomUUID(),
    }));
    await k.transaction(async (trx) => {
      await trx("tenants").insert(
        ids.map(({ i, id }) => ({
          id,
          slug: `t${i}`,
          name: `Tenant ${i}`,
          settings: "{}",
          created_at: at,
          updated_at: at,
        })),
      );
      await trx("saml_connections").insert(
        ids.map(({ id }) => ({
          id: randomUUID(),
          tenant_id: id,
          state: "enabled",
          preset: "custom",
          idp_entity_id: "https://idp.bench",
          sso_url: "https://idp.bench/sso",
          certificates: "[]",
          settings: "{}",
          // Never read by discover; the server started before these rows existed.
          sp_signing_key: "-",
          sp_signing_cert: "-",
          sp_encryption_key: "-",
          sp_encryption_cert: "-",
          config_version: 1,
          created_at: at,
          updated_at: at,
        })),
      );
      const domains = ids.flatMap(({ i, id }) =>
        Array.from({ length: perTenant }, (_, d) => ({
          id: randomUUID(),
          tenant_id: id,
          domain: `d${d}.t${i}.bench`,
          status: "verified",
          token: "x",
          created_at: at,
          verified_at: at,
          next_check_at: at,
        })),
      );
      for (let j = 0; j < domains.length; j += 100) await trx("domains").insert(domains.slice(j, j + 100));
      await trx("sso_policies").insert(
        ids
          .filter(({ i }) => i % 2 === 0)
          .map(({ id }) => ({
            tenant_id: id,
            require_sso: true,
            break_glass: '["it@x.bench"]',
            updated_at: at,
          })),
      );
      const users = ids.map(({ i, id }) => ({ i, id, userId: randomUUID() }));
      await trx("users").insert(
        users.map(({ i, id, userId }) => ({
          id: userId,
          tenant_id: id,
          user_name: `contractor${i}@partner.bench`,
          user_name_norm: `contractor${i}@partner.bench`,
          active: true,
          resource: "{}",
          version: 1,
          source: "scim",
          created_at: at,
          updated_at: at,
        })),
      );
      await trx("user_emails").insert(
        users.map(({ i, id, userId }) => ({
          tenant_id: id,
          user_id: userId,
          value_norm: `contractor${i}@partner.bench`,
          primary: true,
        })),
      );
    });
  }
  await k.destroy();
  console.log(
    `set-up: ${TENANTS} tenants, ${TENANTS * perTenant} verified domains in ${((Date.now() - started) / 1000).toFixed(1)} s (${db.pg ? "PostgreSQL" : "SQLite"})`,
  );

  const lat = new Latencies();
  const pick = (n: number) => Math.floor(Math.random() * n);
  const ask = (kind: string, email: string, sso: boolean) =>
    timed(lat, kind, [200], () =>
      request(server.port, "GET", `/sso/discover?email=${encodeURIComponent(email)}`),
    ).then((r) => {
      if (r.body.sso !== sso) throw new Error(`${kind}: ${email} answered ${JSON.stringify(r.body)}`);
    });
  // Warm-up (JIT, caches), untimed.
  for (let i = 0; i < 200; i++)
    await request(server.port, "GET", `/sso/discover?email=a@d0.t${pick(TENANTS)}.bench`);
  const cpuBefore = cpuMs(server.child.pid!);
  for (let i = 0; i < REQUESTS; i++) {
    const t = pick(TENANTS);
    const r = i % 4;
    if (r < 2) await ask("verified domain", `user${i}@d${pick(perTenant)}.t${t}.bench`, true);
    else if (r === 2) await ask("unknown domain", `user${i}@nobody${i}.bench`, false);
    else await ask("directory user", `contractor${t}@partner.bench`, t % 2 === 0);
  }
  const cpuPerRequest = (cpuMs(server.child.pid!) - cpuBefore) / REQUESTS;
  for (const kind of ["verified domain", "unknown domain", "directory user"]) console.log(lat.line(kind));
  // The steadier figure on a shared machine: the server's own CPU time per answer.
  console.log(`server CPU per discover: ${fmt(cpuPerRequest)} ms (user+sys, all kinds)`);
  const all = ["verified domain", "unknown domain", "directory user"].map((k) => lat.pct(k, 99));
  console.log(
    `discover p99 (worst kind): ${fmt(Math.max(...all))} ms, one request at a time over HTTP on loopback`,
  );
} finally {
  await server.stop();
  await db.drop();
}
