// CPU/request of cheap endpoints (framework floor), min of 3 rounds. Scratch; never commit.
import { ADMIN, cpuMs, fmt, pool, request, startServer, freshDatabase } from "../scripts/bench/lib.js";
const N = 10000;
const db = await freshDatabase(`fl`);
const server = await startServer({ DATABASE_URL: db.url, ROSTER_WORKERS: "1" });
const slug = `b-${Date.now()}`;
await request(server.port, "POST", "/admin/v1/tenants", { slug, name: "B" }, ADMIN);
const token = (await request(server.port, "POST", `/admin/v1/tenants/${slug}/scim-tokens`, { name: "b" }, ADMIN)).body.token;
const pid = server.child.pid!;
const cases = [["404", "/nope", undefined], ["SPConfig", "/scim/v2/ServiceProviderConfig", token], ["lookup", `/scim/v2/Users?filter=${encodeURIComponent('userName eq "x@y"')}`, token]] as const;
const best = new Map<string, number>();
for (const [, url, tok] of cases) await pool(3000, 16, () => request(server.port, "GET", url, undefined, tok));
for (let round = 0; round < 3; round++)
  for (const [label, url, tok] of cases) {
    const c0 = cpuMs(pid);
    await pool(N, 16, () => request(server.port, "GET", url, undefined, tok));
    const v = (cpuMs(pid) - c0) / N;
    best.set(label, Math.min(best.get(label) ?? 1e9, v));
  }
console.log([...best].map(([l, v]) => `${l} ${fmt(v, 3)}`).join("  "));
await server.stop();
