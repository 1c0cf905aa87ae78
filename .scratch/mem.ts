// Memory composition after N creates + lookups. Scratch; never commit.
import { ADMIN, fmt, pool, request, startServer, freshDatabase, rssMb } from "../scripts/bench/lib.js";
const N = Number(process.argv[2] ?? 20000);
const db = await freshDatabase(`mem`);
const server = await startServer({ DATABASE_URL: db.url, ROSTER_WORKERS: "1" }, "src/server.ts", process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []);
const slug = `b-${Date.now()}`;
await request(server.port, "POST", "/admin/v1/tenants", { slug, name: "B" }, ADMIN);
const token = (await request(server.port, "POST", `/admin/v1/tenants/${slug}/scim-tokens`, { name: "b" }, ADMIN)).body.token;
const pid = server.child.pid!;
const un = (i: number) => `user${i}@bench.example.com`;
const show = async (label: string) => {
  const m = (await request(server.port, "GET", "/metrics")).body as string;
  const get = (k: string) => Number(new RegExp(`^${k}(?:\\{[^}]*\\})? (\\S+)`, "m").exec(m)?.[1] ?? NaN) / 1048576;
  console.log(`${label}: rss ${fmt(rssMb(pid), 0)} MB; heap used ${fmt(get("nodejs_heap_size_used_bytes"), 0)} total ${fmt(get("nodejs_heap_size_total_bytes"), 0)}; external ${fmt(get("nodejs_external_memory_bytes"), 0)}`);
};
await show("idle");
let peak = 0; const t = setInterval(() => { peak = Math.max(peak, rssMb(pid)); }, 200);
await pool(N, 16, async (i) => {
  await request(server.port, "GET", `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${un(i)}"`)}`, undefined, token);
  await request(server.port, "POST", "/scim/v2/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: un(i), externalId: `ext-${i}`, active: true, displayName: `User ${i}`, name: { givenName: "User", familyName: `Number${i}` }, emails: [{ value: un(i), type: "work", primary: true }] }, token);
});
clearInterval(t);
await show(`after ${N}`);
console.log(`peak rss ${fmt(peak, 0)} MB`);
await server.stop();
