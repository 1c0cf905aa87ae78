/**
 * SAML login benchmark: node-saml's bare validatePostResponseAsync rate on the very responses
 * Roster then receives, against Roster's end-to-end ACS (validation, request-id and replay
 * checks, directory lookup in a large tenant, session and OAuth code creation) with 20
 * concurrent logins, over two API processes (ROSTER_WORKERS=2, node cluster).
 *   node --import tsx scripts/bench/saml.ts [LOGINS] [USERS] [--both]
 * SQLite by default; with DATABASE_URL=postgres://… it benchmarks PostgreSQL instead.
 * Knobs for experiments: BENCH_WORKERS (API processes, default 2), BENCH_CONCURRENCY (default 20),
 * BENCH_WARMUP (untimed logins first, default 2×concurrency),
 * ROSTER_BENCH_PROFILE=<dir> (V8 CPU profiles of the server processes), BENCH_NODE_ARGS (extra
 * node flags for the server processes, e.g. `--import /path/to/instrumentation.mjs`).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { Knex } from "knex";
import { nodeSamlValidator, TestIdp } from "../../test/helpers/test-idp.js";
import { ADMIN, fmt, freshDatabase, Latencies, pool, processTree, request, startServer } from "./lib.js";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const LOGINS = Number(args[0] ?? 1000);
const USERS = Number(args[1] ?? 100_000);
const BOTH = process.argv.includes("--both");
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
// Like the bare loop's 20 untimed validations: the server's first logins pay for JIT compilation
// and cold caches (the first concurrent batch took 2–7 s), so WARMUP logins run untimed first.
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2 * CONCURRENCY);
const PUBLIC_URL = "https://roster.bench";
const SLUG = "bench";
const ACS = `${PUBLIC_URL}/sso/${SLUG}/acs`;
const ENTITY = `${PUBLIC_URL}/sso/${SLUG}`;
const REDIRECT = "https://app.bench.test/callback";

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** A raw request: status, headers, body text. */
function raw(
  port: number,
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: string,
  via: http.Agent = agent,
) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>(
    (resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, method, path: url, agent: via, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString(),
          }),
        );
      });
      req.on("error", reject);
      if (body) req.write(body);
      req.end();
    },
  );
}

async function seedUsers(db: Knex, tenantId: string, n: number): Promise<void> {
  const at = new Date().toISOString();
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const userName = `user${i}@bench.example.com`;
    rows.push({
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
    });
  }
  await db.transaction(async (trx) => {
    await trx.batchInsert("users", rows, 500);
  });
}

/** CPU (ms) of each process of the tree on its own (lib's cpuMs sums a whole subtree). */
const CLAIMS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";
const MS = "http://schemas.microsoft.com";
/** The claims Entra ID sends by default, plus 30 group object ids: a realistically sized response. */
function entraClaims(user: string): Record<string, string | string[]> {
  return {
    [`${MS}/identity/claims/tenantid`]: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    [`${MS}/identity/claims/objectidentifier`]: randomUUID(),
    [`${MS}/identity/claims/displayname`]: "Bench User",
    [`${MS}/identity/claims/identityprovider`]:
      "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
    [`${MS}/claims/authnmethodsreferences`]: [
      "http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password",
      "http://schemas.microsoft.com/claims/multipleauthn",
    ],
    [`${CLAIMS}/givenname`]: "Bench",
    [`${CLAIMS}/surname`]: "User",
    [`${CLAIMS}/emailaddress`]: user,
    [`${CLAIMS}/name`]: user,
    [`${MS}/ws/2008/06/identity/claims/groups`]: Array.from({ length: 30 }, () => randomUUID()),
  };
}

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
  const database = await freshDatabase("saml");
  const server = await startServer(
    { DATABASE_URL: database.url, PUBLIC_URL, ROSTER_WORKERS: process.env.BENCH_WORKERS ?? "2" },
    "src/server.ts",
    [
      ...(process.env.ROSTER_BENCH_PROFILE
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.ROSTER_BENCH_PROFILE}`]
        : []),
      ...(process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
    ],
  );
  const port = server.port;
  const db = database.knex();
  try {
    const idp = new TestIdp("https://idp.bench/entity", "https://idp.bench/sso");
    const tenant = await request(port, "POST", "/admin/v1/tenants", { slug: SLUG, name: "Bench" }, ADMIN);
    const tenantId = tenant.body.id;
    let t0 = performance.now();
    await seedUsers(db, tenantId, USERS);
    console.log(`  seeded ${USERS} users in ${fmt((performance.now() - t0) / 1000)} s`);
    // Keep-alive sockets idle through the seeding may have been closed by the server: one retry.
    await request(port, "GET", "/healthz").catch(() => undefined);
    const put = await request(
      port,
      "PUT",
      `/admin/v1/tenants/${SLUG}/saml`,
      { idpEntityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.keys.certificate] },
      ADMIN,
    );
    // The bench skips the interactive test login: mark the configuration tested, then enable.
    await db("saml_connections").where({ tenant_id: tenantId }).update({
      tested_version: put.body.configVersion,
      tested_at: new Date().toISOString(),
      state: "tested",
    });
    await request(port, "POST", `/admin/v1/tenants/${SLUG}/saml/enable`, undefined, ADMIN);
    const client = await request(
      port,
      "POST",
      `/admin/v1/tenants/${SLUG}/oauth-clients`,
      { name: "bench", redirectUris: [REDIRECT] },
      ADMIN,
    );

    // Start LOGINS logins through /oauth/authorize (each browser its own cookie), then sign a
    // response for each: the ACS phase below measures only the ACS.
    t0 = performance.now();
    const logins: Array<{ cookie: string; form: string; samlResponse: string }> = [];
    const q = new URLSearchParams({
      response_type: "code",
      client_id: client.body.clientId,
      redirect_uri: REDIRECT,
    });
    for (let i = 0; i < LOGINS + WARMUP; i++) {
      const res = await raw(port, "GET", `/oauth/authorize?${q}`);
      if (res.status !== 302) throw new Error(`authorize: ${res.status} ${res.text}`);
      const cookie = String(res.headers["set-cookie"]?.[0] ?? "").split(";")[0];
      const location = new URL(String(res.headers.location));
      const { inflateRawSync } = await import("node:zlib");
      const xml = inflateRawSync(Buffer.from(location.searchParams.get("SAMLRequest")!, "base64")).toString();
      const id = /\sID="([^"]+)"/.exec(xml)![1];
      const user = `user${Math.floor(Math.random() * USERS)}@bench.example.com`;
      const samlResponse = await idp.response({
        acsUrl: ACS,
        audience: ENTITY,
        nameId: user,
        inResponseTo: id,
        sign: BOTH ? "both" : "assertion",
        attributes: entraClaims(user),
      });
      logins.push({
        cookie,
        samlResponse,
        form: new URLSearchParams({ SAMLResponse: samlResponse }).toString(),
      });
    }
    console.log(
      `  prepared ${LOGINS} logins (${BOTH ? "response and assertion signed" : "assertion signed"}) in ${fmt((performance.now() - t0) / 1000)} s`,
    );

    // 1. node-saml alone, in this process, on the same responses (no DB, no InResponseTo store).
    const saml = nodeSamlValidator(idp, { acsUrl: ACS, entityId: ENTITY });
    const bareN = Math.min(LOGINS, 400);
    for (let i = 0; i < 20; i++)
      await saml.validatePostResponseAsync({ SAMLResponse: logins[i].samlResponse });
    const c0 = process.cpuUsage();
    t0 = performance.now();
    for (let i = 0; i < bareN; i++)
      await saml.validatePostResponseAsync({ SAMLResponse: logins[i].samlResponse });
    const bareSecs = (performance.now() - t0) / 1000;
    const bareCpu = process.cpuUsage(c0);
    const bareCpuPer = (bareCpu.user + bareCpu.system) / 1000 / bareN;
    console.log(
      `  node-saml validatePostResponseAsync: ${bareN} in ${fmt(bareSecs)} s = ${fmt(bareN / bareSecs, 0)} validations/s on one core, CPU ${fmt(bareCpuPer, 3)} ms/validation`,
    );

    // 2. Roster's ACS end to end, 20 concurrent logins, two API processes. Fresh sockets: the
    // server closes keep-alive sockets idle through the bare phase (a reused one hangs up).
    const acsAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const lat = new Latencies();
    const acs = async (l: (typeof logins)[number], record: boolean) => {
      const start = process.hrtime.bigint();
      const res = await raw(
        port,
        "POST",
        `/sso/${SLUG}/acs`,
        {
          "content-type": "application/x-www-form-urlencoded",
          cookie: l.cookie,
          "content-length": String(Buffer.byteLength(l.form)),
        },
        l.form,
        acsAgent,
      );
      lat.add(record ? "acs" : "warmup", Number(process.hrtime.bigint() - start) / 1e6);
      if (res.status !== 302 || !String(res.headers.location).startsWith(REDIRECT))
        throw new Error(`acs: ${res.status} ${res.text.slice(0, 300)}`);
    };
    await pool(WARMUP, CONCURRENCY, (i) => acs(logins[LOGINS + i], false));
    const before = cpuByProcess(server.child.pid!);
    t0 = performance.now();
    await pool(LOGINS, CONCURRENCY, (i) => acs(logins[i], true));
    const secs = (performance.now() - t0) / 1000;
    const after = cpuByProcess(server.child.pid!);
    const perProcess = [...after].map(([pid, ms]) => ({ pid, ms: ms - (before.get(pid) ?? 0) }));
    const serverCpu = perProcess.reduce((s, p) => s + p.ms, 0);
    const cpuPer = serverCpu / LOGINS;
    console.log(
      `  Roster ACS (oauth hand-off): ${LOGINS} logins in ${fmt(secs)} s = ${fmt(LOGINS / secs, 0)} logins/s with ${CONCURRENCY} concurrent, server CPU ${fmt(cpuPer, 3)} ms/login`,
    );
    console.log(`  ${lat.line("acs")}  p99/p50 = ${fmt(lat.pct("acs", 99) / lat.pct("acs", 50))}`);
    if (WARMUP > 0) console.log(`  untimed ${lat.line("warmup")} (first logins after start)`);
    console.log(
      `  CPU per process: ${perProcess
        .filter((p) => p.ms > 0)
        .map((p) => `pid ${p.pid} ${fmt(p.ms / 1000)} s`)
        .join(", ")}`,
    );
    console.log(
      `  => Roster CPU per login / node-saml CPU per validation = ${fmt(cpuPer / bareCpuPer)} (target ≤ 1.15); throughput ${fmt(LOGINS / secs / (bareN / bareSecs))}× one core of bare node-saml`,
    );
    const sessions = await db("sessions").where({ tenant_id: tenantId }).count({ n: "*" });
    const codes = await db("oauth_codes").where({ tenant_id: tenantId }).count({ n: "*" });
    console.log(`  sessions created: ${Number(sessions[0].n)}, codes created: ${Number(codes[0].n)}`);
  } finally {
    await db.destroy();
    await server.stop();
    await database.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
