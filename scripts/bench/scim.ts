import {
  ADMIN,
  cpuMs,
  fmt,
  Latencies,
  pool,
  request,
  rssPeak,
  type Server,
  startServer,
  timed,
  freshDatabase,
} from "./lib.js";

const CONCURRENCY = 16;
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

async function setup(server: Server, label = "bench"): Promise<string> {
  const slug = `${label}-${Date.now()}`;
  await request(server.port, "POST", "/admin/v1/tenants", { slug, name: "Bench" }, ADMIN);
  const tok = await request(
    server.port,
    "POST",
    `/admin/v1/tenants/${slug}/scim-tokens`,
    { name: "bench" },
    ADMIN,
  );
  return tok.body.token;
}

/** Measure a phase: wall time, server CPU and request count. */
async function phase<T>(server: Server, label: string, requests: () => number, fn: () => Promise<T>) {
  const pid = server.child.pid!;
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  const result = await fn();
  const secs = (performance.now() - t0) / 1000;
  const cpu = cpuMs(pid) - cpu0;
  const n = requests();
  console.log(
    `  ${label}: ${n} requests in ${fmt(secs)} s = ${fmt(n / secs, 0)} req/s, server CPU ${fmt(cpu / n, 3)} ms/request`,
  );
  return { result, secs, cpuPerRequest: cpu / n };
}

const userName = (i: number, domain = "bench.example.com") => `user${i}@${domain}`;

/** Untimed lookups and creates before the measured phases (BENCH_WARMUP, default 1,000 users). */
const WARMUP_USERS = Number(process.env.BENCH_WARMUP ?? 1000);

/** One user of an Entra-style initial sync: look it up by userName, then create it; its id. */
async function syncOne(port: number, token: string, lat: Latencies, i: number, domain?: string) {
  const name = userName(i, domain);
  const q = encodeURIComponent(`userName eq "${name}"`);
  await timed(lat, "lookup", [200], () =>
    request(port, "GET", `/scim/v2/Users?filter=${q}`, undefined, token),
  );
  const r = await timed(lat, "create", [201], () =>
    request(
      port,
      "POST",
      "/scim/v2/Users",
      {
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName: name,
        externalId: `ext-${i}`,
        active: true,
        displayName: `User ${i}`,
        name: { givenName: "User", familyName: `Number${i}` },
        emails: [{ value: name, type: "work", primary: true }],
      },
      token,
    ),
  );
  return r.body.id as string;
}

async function run(n: number) {
  const db = await freshDatabase(`scim_${n}`);
  // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops (open it in
  // Chrome DevTools or summarise it with scripts/bench/profile-top.ts). BENCH_NODE_ARGS: more
  // node flags for the server (e.g. V8 heap settings).
  const prof = process.env.BENCH_CPU_PROF;
  const server = await startServer(
    {
      DATABASE_URL: db.url,
      BODY_LIMIT: "5mb",
      ROSTER_WORKERS: process.env.BENCH_WORKERS ?? "1",
      // ROSTER_SCIM_LOG=off|errors|all: the SCIM request log's cost (issue 18: at most 10%).
      ROSTER_SCIM_LOG: process.env.ROSTER_SCIM_LOG ?? "all",
    },
    "src/server.ts",
    [
      ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []),
      ...(process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
    ],
  );
  const rss = rssPeak(server.child.pid!);
  const token = await setup(server);
  const port = server.port;
  const lat = new Latencies();
  const ids: string[] = new Array(n);
  console.log(
    `\nN = ${n} users (${db.url.startsWith("sqlite") ? "SQLite" : "PostgreSQL"}, concurrency ${CONCURRENCY})`,
  );

  // Warm-up, untimed, on a tenant of its own: a long-running server has compiled its hot paths;
  // a fresh one spends its first thousand requests in V8's compilers (BENCH_WARMUP=0 skips it).
  const warmToken = await setup(server, "warmup");
  const warm = new Latencies();
  await pool(WARMUP_USERS, CONCURRENCY, async (i) => {
    await syncOne(port, warmToken, warm, i, "warmup.example.com");
  });

  // 1. Initial sync as Entra does it: look up by userName, then create.
  const sync = await phase(
    server,
    "initial sync (lookup + create)",
    () => lat.count("lookup") + lat.count("create"),
    () =>
      pool(n, CONCURRENCY, async (i) => {
        ids[i] = await syncOne(port, token, lat, i);
      }),
  );
  console.log(`  → ${fmt(n / sync.secs, 0)} users/s; ${lat.line("lookup")}; ${lat.line("create")}`);

  // 2. One group holding every user, built by PATCH batches of 100 members.
  const group = await request(port, "POST", "/scim/v2/Groups", { displayName: "Everyone" }, token);
  const small = await request(port, "POST", "/scim/v2/Groups", { displayName: "Small" }, token);
  const batches = Math.ceil(n / 100);
  await phase(
    server,
    "group build (PATCH add 100 members)",
    () => lat.count("members+100"),
    async () => {
      for (let b = 0; b < batches; b++) {
        const value = ids.slice(b * 100, b * 100 + 100).map((id) => ({ value: id }));
        await timed(lat, "members+100", [204], () =>
          request(
            port,
            "PATCH",
            `/scim/v2/Groups/${group.body.id}`,
            { schemas: [PATCH], Operations: [{ op: "Add", path: "members", value }] },
            token,
          ),
        );
      }
    },
  );
  console.log(`  → ${lat.line("members+100")}`);
  for (let b = 0; b < 10; b++) {
    const value = ids.slice(b * 100, b * 100 + 100).map((id) => ({ value: id }));
    await request(
      port,
      "PATCH",
      `/scim/v2/Groups/${small.body.id}`,
      { schemas: [PATCH], Operations: [{ op: "Add", path: "members", value }] },
      token,
    );
  }

  // 3. Filter reads and paging.
  const reads = Math.min(n, 5000);
  await phase(
    server,
    "filter by userName",
    () => lat.count("filter userName"),
    () =>
      pool(reads, CONCURRENCY, async () => {
        const i = Math.floor(Math.random() * n);
        const q = encodeURIComponent(`userName eq "${userName(i)}"`);
        const r = await timed(lat, "filter userName", [200], () =>
          request(port, "GET", `/scim/v2/Users?filter=${q}`, undefined, token),
        );
        if (r.body.totalResults !== 1) throw new Error("filter missed");
      }),
  );
  console.log(`  → ${lat.line("filter userName")}`);
  await phase(
    server,
    "filter by userName, one client (latency without queueing)",
    () => lat.count("filter userName c1"),
    () =>
      pool(Math.min(n, 2000), 1, async () => {
        const q = encodeURIComponent(`userName eq "${userName(Math.floor(Math.random() * n))}"`);
        await timed(lat, "filter userName c1", [200], () =>
          request(port, "GET", `/scim/v2/Users?filter=${q}`, undefined, token),
        );
      }),
  );
  console.log(`  → ${lat.line("filter userName c1")}`);
  await phase(
    server,
    "filter by externalId",
    () => lat.count("filter externalId"),
    () =>
      pool(reads, CONCURRENCY, async () => {
        const q = encodeURIComponent(`externalId eq "ext-${Math.floor(Math.random() * n)}"`);
        await timed(lat, "filter externalId", [200], () =>
          request(port, "GET", `/scim/v2/Users?filter=${q}`, undefined, token),
        );
      }),
  );
  console.log(`  → ${lat.line("filter externalId")}`);
  let seen = 0;
  await phase(
    server,
    "paging all users, count=100",
    () => lat.count("page"),
    async () => {
      for (let start = 1; start <= n; start += 100) {
        const r = await timed(lat, "page", [200], () =>
          request(port, "GET", `/scim/v2/Users?startIndex=${start}&count=100`, undefined, token),
        );
        seen += r.body.Resources.length;
      }
    },
  );
  console.log(`  → ${lat.line("page")}; users seen ${seen}/${n}`);

  // 4. One-member remove and re-add on the N-member group and on the 1,000-member group, each
  // time a member of that group, the two groups alternating so background work (role syncs,
  // checkpoints) falls on both alike; 1,000 PATCHes per group, so p99 is not one outlier.
  const oneMember = async (groupId: string, kind: string, user: string) => {
    for (const op of [
      { op: "Remove", path: `members[value eq "${user}"]` },
      { op: "Add", path: "members", value: [{ value: user }] },
    ])
      await timed(lat, kind, [204], () =>
        request(port, "PATCH", `/scim/v2/Groups/${groupId}`, { schemas: [PATCH], Operations: [op] }, token),
      );
  };
  for (let k = 0; k < 500; k++) {
    await oneMember(small.body.id, "one-member 1000", ids[k % Math.min(1000, n)]);
    await oneMember(group.body.id, `one-member ${n}`, ids[ids.length - 1 - k]);
  }
  console.log(`  one-member PATCH: ${lat.line("one-member 1000")}`);
  console.log(`  one-member PATCH: ${lat.line(`one-member ${n}`)}`);
  console.log(
    `  → p50 ratio N=${n}/N=1000: ${fmt(lat.pct(`one-member ${n}`, 50) / lat.pct("one-member 1000", 50))}, p99 ratio: ${fmt(lat.pct(`one-member ${n}`, 99) / lat.pct("one-member 1000", 99))}`,
  );

  // 5. Deprovision 10% (PATCH active false, Entra's soft delete with string booleans).
  const deprov = Math.floor(n / 10);
  await phase(
    server,
    "deprovision 10% (PATCH active False)",
    () => lat.count("deprovision"),
    () =>
      pool(deprov, CONCURRENCY, async (i) => {
        await timed(lat, "deprovision", [200], () =>
          request(
            port,
            "PATCH",
            `/scim/v2/Users/${ids[i]}`,
            { schemas: [PATCH], Operations: [{ op: "Replace", path: "active", value: "False" }] },
            token,
          ),
        );
      }),
  );
  console.log(`  → ${lat.line("deprovision")}`);
  console.log(`  server RSS peak: ${fmt(rss.stop(), 0)} MB`);
  await server.stop();
  await db.drop();
  return {
    usersPerSec: n / sync.secs,
    cpuPerRequest: sync.cpuPerRequest,
    filterP99: lat.pct("filter userName", 99),
  };
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((x) => x > 0);
for (const n of sizes.length ? sizes : [10_000, 100_000]) await run(n);
