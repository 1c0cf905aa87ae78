// Split CPU/request: lookups only, creates only, then lookups of existing users. Scratch; never commit.
import { ADMIN, cpuMs, fmt, pool, request, startServer, freshDatabase, rssMb } from "../scripts/bench/lib.js";
const N = Number(process.argv[2] ?? 4000);
const C = 16;
const db = await freshDatabase(`split_${N}`);
const prof = process.env.BENCH_CPU_PROF;
const server = await startServer({ DATABASE_URL: db.url, BODY_LIMIT: "5mb", ROSTER_WORKERS: "1" }, "src/server.ts", [...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []), ...(process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [])]);
const slug = `b-${Date.now()}`;
await request(server.port, "POST", "/admin/v1/tenants", { slug, name: "B" }, ADMIN);
const token = (await request(server.port, "POST", `/admin/v1/tenants/${slug}/scim-tokens`, { name: "b" }, ADMIN)).body.token;
const pid = server.child.pid!;
const un = (i: number) => `user${i}@bench.example.com`;
async function ph(label: string, fn: (i: number) => Promise<unknown>) {
  const c0 = cpuMs(pid); const t0 = performance.now();
  await pool(N, C, fn);
  const s = (performance.now() - t0) / 1000; const c = cpuMs(pid) - c0;
  console.log(`${label}: ${fmt(N / s, 0)} req/s, ${fmt(c / N, 3)} ms CPU/req`);
}
const lookup = (i: number) => request(server.port, "GET", `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${un(i)}"`)}`, undefined, token);
await ph("warm lookups", lookup);
await ph("lookups (miss)", lookup);
await ph("creates", async (i) => {
  const r = await request(server.port, "POST", "/scim/v2/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: un(i), externalId: `ext-${i}`, active: true, displayName: `User ${i}`, name: { givenName: "User", familyName: `Number${i}` }, emails: [{ value: un(i), type: "work", primary: true }] }, token);
  if (r.status !== 201) throw new Error(`create ${r.status} ${JSON.stringify(r.body)}`);
});
await new Promise((r) => setTimeout(r, 1500));
await ph("lookups (hit)", lookup);
console.log(`rss ${rssMb(pid)} MB`);
await server.stop();
