/**
 * `npm run bench -- members [users]`: the Members list behind the console and
 * GET /admin/v1/tenants/{slug}/users, at 100,000 users (default): p50/p95 of each query shape
 * (first page, deep keyset page, search by userName / display name / e-mail prefix, rare and
 * common prefixes, status filters) and of the member detail. SQLite, or PostgreSQL with
 * DATABASE_URL=postgres://….
 */
import { loadConfig } from "../../src/config.js";
import { migrateLatest } from "../../src/db/knex.js";
import { createDeps } from "../../src/deps.js";
import { getMember, listMembersPage } from "../../src/directory/members.js";
import { createTenant } from "../../src/tenants/use-cases.js";
import { ENCRYPTION_KEY, freshDatabase, Latencies } from "./lib.js";
import { seedMembers } from "./members-seed.js";

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = 60;

async function main(): Promise<void> {
  const db = await freshDatabase("members");
  console.log(`members bench: ${db.pg ? "PostgreSQL" : "SQLite"}, ${N.toLocaleString("en")} users`);
  const deps = createDeps(
    loadConfig({
      DATABASE_URL: db.url,
      ROSTER_ENCRYPTION_KEY: ENCRYPTION_KEY,
      LOG_LEVEL: "warn",
      ROSTER_JOBS: "off",
    }),
    { role: "api" },
  );
  try {
    await migrateLatest(deps.db);
    const tenant = await createTenant(deps, { slug: "bench", name: "Bench" });
    // A second tenant of the same size: every query must stay within its own tenant's rows.
    const neighbour = await createTenant(deps, { slug: "neighbour", name: "Neighbour" });
    const seedStart = performance.now();
    const ids = await seedMembers(deps, tenant.id, N);
    await seedMembers(deps, neighbour.id, Math.min(N, 20_000));
    console.log(`  seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
    const middle = await listMembersPage(deps, "bench", { q: "j" });
    const deep = middle.next!;
    const shapes: Record<string, Record<string, string>> = {
      "first page (50)": {},
      "deep keyset page": { cursor: deep },
      "search common prefix 'ann' (8,300 matches)": { q: "ann" },
      "search common prefix 'e', page 2": { q: "e", cursor: "ZXZlLmtpbTEwMDUxQGJlbmNoLmV4YW1wbGUuY29t" },
      "search userName, one match": { q: `grace.okafor${Math.floor(N / 2) + 6}` },
      "search display name 'lena novak'": { q: "lena novak" },
      "search e-mail prefix 'p9990'": { q: "p9990" },
      "search no match 'zzz'": { q: "zzz" },
      "status=deactivated": { status: "deactivated" },
      "status=invited": { status: "invited" },
      "status=active + search 'eve'": { status: "active", q: "eve" },
    };
    const lat = new Latencies();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, query] of Object.entries(shapes)) {
        const t0 = performance.now();
        await listMembersPage(deps, "bench", query);
        lat.add(name, performance.now() - t0);
      }
      const t0 = performance.now();
      await getMember(deps, "bench", ids[(round * 997) % ids.length]!);
      lat.add("member detail", performance.now() - t0);
    }
    for (const name of [...Object.keys(shapes), "member detail"]) console.log(`  ${lat.line(name)}`);
  } finally {
    await deps.close();
    await db.drop();
  }
}

await main();
