// Lookup-only CPU/request with a profile. Scratch; never commit.
import { ADMIN, cpuMs, fmt, pool, request, startServer, freshDatabase } from "../scripts/bench/lib.js";
const N = Number(process.argv[2] ?? 20000);
const db = await freshDatabase(`lk`);
const prof = process.env.BENCH_CPU_PROF;
const server = await startServer({ DATABASE_URL: db.url, ROSTER_WORKERS: "1" }, "src/server.ts", prof ? ["--heap-prof", `--heap-prof-dir=${prof}`, "--heap-prof-interval=65536"] : []);
const slug = `b-${Date.now()}`;
await request(server.port, "POST", "/admin/v1/tenants", { slug, name: "B" }, ADMIN);
const token = (await request(server.port, "POST", `/admin/v1/tenants/${slug}/scim-tokens`, { name: "b" }, ADMIN)).body.token;
const pid = server.child.pid!;
const lookup = (i: number) => request(server.port, "GET", `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "user${i}@bench.example.com"`)}`, undefined, token);
await pool(3000, 16, lookup);
const c0 = cpuMs(pid); const t0 = performance.now();
await pool(N, 16, lookup);
const s = (performance.now() - t0) / 1000;
console.log(`lookups: ${fmt(N / s, 0)} req/s, ${fmt((cpuMs(pid) - c0) / N, 3)} ms CPU/req`);
await server.stop();
