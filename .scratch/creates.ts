// Create-only CPU/request with optional profile. Scratch; never commit.
import { ADMIN, cpuMs, fmt, pool, request, startServer, freshDatabase } from "../scripts/bench/lib.js";
const N = Number(process.argv[2] ?? 8000);
const db = await freshDatabase(`cr`);
const prof = process.env.BENCH_CPU_PROF;
const server = await startServer({ DATABASE_URL: db.url, ROSTER_WORKERS: "1" }, "src/server.ts", prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []);
const slug = `b-${Date.now()}`;
await request(server.port, "POST", "/admin/v1/tenants", { slug, name: "B" }, ADMIN);
const token = (await request(server.port, "POST", `/admin/v1/tenants/${slug}/scim-tokens`, { name: "b" }, ADMIN)).body.token;
const pid = server.child.pid!;
const un = (i: number) => `user${i}@bench.example.com`;
const create = async (i: number) => {
  const r = await request(server.port, "POST", "/scim/v2/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: un(i), externalId: `ext-${i}`, active: true, displayName: `User ${i}`, name: { givenName: "User", familyName: `Number${i}` }, emails: [{ value: un(i), type: "work", primary: true }] }, token);
  if (r.status !== 201) throw new Error(`create ${r.status}`);
};
await pool(1000, 16, (i) => create(i + 1_000_000));
const c0 = cpuMs(pid); const t0 = performance.now();
await pool(N, 16, create);
const s = (performance.now() - t0) / 1000;
console.log(`creates: ${fmt(N / s, 0)} req/s, ${fmt((cpuMs(pid) - c0) / N, 3)} ms CPU/req`);
await server.stop();
