import http from "node:http";
import type { AddressInfo } from "node:net";
import { createSession, SESSION_COOKIE } from "../../src/access/sessions.js";
import {
  ADMIN,
  cpuMs,
  fmt,
  Latencies,
  pool,
  dropBenchQueues,
  QUEUE_PREFIX,
  request,
  rssPeak,
  startServer,
  freshDatabase,
  startWorkers,
  stopWorker,
} from "./lib.js";

const R = Number(process.argv[2] ?? 1000);
const S = Number(process.argv[3] ?? 100_000);
const pg = process.env.DATABASE_URL?.startsWith("postgres") ? process.env.DATABASE_URL : undefined;
const redis = pg ? process.env.REDIS_URL : undefined;
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const USER = "urn:ietf:params:scim:schemas:core:2.0:User";

/** A local webhook receiver that answers 200 and notes when each event arrived. */
async function receiver() {
  const arrived = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const e = JSON.parse(Buffer.concat(chunks).toString());
      if (e.type === "access.revoked") arrived.set(e.data.userId, Date.now());
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, arrived, server };
}

function sessionStatus(port: number, slug: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(
        {
          host: "127.0.0.1",
          port,
          path: `/sso/${slug}/session`,
          headers: { cookie: `${SESSION_COOKIE}=${token}` },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      )
      .on("error", reject);
  });
}

async function tenantWithToken(port: number, slug: string): Promise<string> {
  await request(port, "POST", "/admin/v1/tenants", { slug, name: slug }, ADMIN);
  return (await request(port, "POST", `/admin/v1/tenants/${slug}/scim-tokens`, { name: "bench" }, ADMIN)).body
    .token;
}

async function main(): Promise<void> {
  const db = await freshDatabase("revoke");
  const env = {
    DATABASE_URL: db.url,
    ROSTER_WEBHOOK_ALLOW_PRIVATE: "true",
    PUBLIC_URL: "http://127.0.0.1",
    ...(redis ? { REDIS_URL: redis, ROSTER_JOBS: "off", ROSTER_QUEUE_PREFIX: QUEUE_PREFIX } : {}),
  };
  console.log(
    `revocation bench: ${R} deprovisionings during a ${S}-user sync of another tenant; ${pg ? `PostgreSQL${redis ? " + BullMQ (2 workers)" : ""}` : "SQLite, in-process jobs"}`,
  );
  const server = await startServer(env);
  const workers = redis ? startWorkers(env) : [];
  const hook = await receiver();
  const port = server.port;
  const side = db.knex();
  try {
    // Set-up (not measured): R users in Staff (role admin), each with a live session.
    const acme = await tenantWithToken(port, "acme");
    const syncToken = await tenantWithToken(port, "bulk");
    await request(
      port,
      "POST",
      "/admin/v1/tenants/acme/webhooks",
      { url: hook.url, events: ["access.revoked"] },
      ADMIN,
    );
    const staff = (
      await request(
        port,
        "POST",
        "/scim/v2/Groups",
        { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Staff" },
        acme,
      )
    ).body.id;
    await request(
      port,
      "POST",
      "/admin/v1/tenants/acme/role-mappings",
      { groupId: staff, role: "admin" },
      ADMIN,
    );
    const users: string[] = new Array(R);
    await pool(R, 8, async (i) => {
      const r = await request(
        port,
        "POST",
        "/scim/v2/Users",
        { schemas: [USER], userName: `leaver${i}@acme.test` },
        acme,
      );
      if (r.status !== 201) throw new Error(`create: ${r.status} ${JSON.stringify(r.body)}`);
      users[i] = r.body.id;
    });
    for (let i = 0; i < R; i += 200)
      await request(
        port,
        "PATCH",
        `/scim/v2/Groups/${staff}`,
        {
          schemas: [PATCH],
          Operations: [
            { op: "add", path: "members", value: users.slice(i, i + 200).map((value) => ({ value })) },
          ],
        },
        acme,
      );
    const tenantId = (await side("tenants").where({ slug: "acme" }).first("id")).id;
    const tokens: string[] = [];
    for (const userId of users)
      tokens.push(
        (
          await createSession(side, {
            tenantId,
            userId,
            nameId: null,
            sessionIndex: null,
            ttlMs: 8 * 3600_000,
            now: new Date(),
          })
        ).token,
      );
    // Wait for the grants to land so there is something to strip.
    for (;;) {
      const n = Number(
        (await side("user_roles").where({ tenant_id: tenantId }).count({ c: "*" }).first())?.c,
      );
      if (n >= R) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    console.log(`set-up: ${R} users with roles and live sessions`);

    // The other tenant's initial sync, 8 clients, until the revocations are all done.
    let synced = 0;
    let stopSync = false;
    const syncStart = Date.now();
    const sync = pool(S, 8, async (i) => {
      if (stopSync) return;
      const r = await request(
        port,
        "POST",
        "/scim/v2/Users",
        { schemas: [USER], userName: `u${i}@bulk.test`, active: true },
        syncToken,
      );
      if (r.status !== 201) throw new Error(`sync: ${r.status}`);
      synced++;
    });
    await new Promise((r) => setTimeout(r, 2000));

    const lat = new Latencies();
    let refused = 0;
    const cpu0 = cpuMs(server.child.pid!);
    const peak = rssPeak(server.child.pid!);
    const sent = new Map<string, number>();
    await pool(R, 4, async (i) => {
      const start = Date.now();
      sent.set(users[i], start);
      const t0 = process.hrtime.bigint();
      const r = await request(
        port,
        "PATCH",
        `/scim/v2/Users/${users[i]}`,
        { schemas: [PATCH], Operations: [{ op: "Replace", path: "active", value: "False" }] },
        acme,
      );
      lat.add("deprovision request", Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 200) throw new Error(`deprovision: ${r.status}`);
      if ((await sessionStatus(port, "acme", tokens[i])) === 401) refused++;
    });
    const revokeDone = Date.now();

    // Completion, from the receipts.
    const pending = new Set(users);
    const deadline = Date.now() + 10 * 60_000;
    while (pending.size > 0 && Date.now() < deadline) {
      await pool(pending.size, 8, async (i) => {
        const userId = [...pending][i];
        if (!userId) return;
        const r = await request(
          port,
          "GET",
          `/admin/v1/tenants/acme/users/${userId}/revocations`,
          undefined,
          ADMIN,
        );
        const receipt = r.body.revocations?.[0];
        if (receipt?.status !== "complete") return;
        pending.delete(userId);
        const t0 = new Date(receipt.requestedAt).getTime();
        lat.add("roles stripped", new Date(receipt.rolesStrippedAt).getTime() - t0);
        const ack = Math.max(...receipt.webhooks.map((w: any) => new Date(w.acknowledgedAt).getTime()));
        lat.add("webhook acknowledged", ack - t0);
        lat.add(
          "receiver got access.revoked (client clock)",
          (hook.arrived.get(userId) ?? Number.NaN) - sent.get(userId)!,
        );
      });
      if (pending.size > 0) await new Promise((r) => setTimeout(r, 250));
    }
    stopSync = true;
    await sync;
    const cpu = cpuMs(server.child.pid!) - cpu0;
    const syncSecs = (Date.now() - syncStart) / 1000;
    console.log(`sessions refused on the very next request: ${refused}/${R}`);
    for (const k of [
      "deprovision request",
      "roles stripped",
      "webhook acknowledged",
      "receiver got access.revoked (client clock)",
    ])
      console.log(`  ${lat.line(k)}`);
    if (pending.size > 0) console.log(`  ${pending.size} receipts incomplete after 10 minutes`);
    console.log(
      `other tenant's sync meanwhile: ${synced} users in ${fmt(syncSecs, 1)} s (${fmt(synced / syncSecs, 0)} users/s); deprovisionings took ${fmt((revokeDone - (syncStart + 2000)) / 1000, 1)} s`,
    );
    console.log(
      `API process CPU during the revocations: ${fmt(cpu / 1000, 1)} s; peak RSS ${fmt(peak.stop(), 0)} MB`,
    );
  } finally {
    await side.destroy();
    hook.server.close();
    await Promise.all(workers.map(stopWorker));
    await server.stop();
    await dropBenchQueues(redis);
    await db.drop();
  }
}

await main();
