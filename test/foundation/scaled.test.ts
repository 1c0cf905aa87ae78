/**
 * The scaled shape as it is deployed: the real `src/server.ts` and `src/worker.ts` processes on
 * PostgreSQL with BullMQ on Redis. A SCIM write to the API process becomes jobs that only the
 * worker process runs (the API process relays them and runs none).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import knex, { type Knex } from "knex";
import { verifySignature } from "../../src/events/signature.js";
import { startReceiver } from "../events/receiver.js";
import { ADMIN_TOKEN, eventually, skipUnless, userBody } from "../helpers/context.js";
import { freePort } from "../helpers/ports.js";
import { killAll, type RosterProcess, startRoster } from "../helpers/processes.js";

describe("scaled processes: server and worker on PostgreSQL with Redis [postgres] [redis]", {
  skip: skipUnless("postgres", "redis"),
}, () => {
  const id = randomBytes(6).toString("hex");
  const database = `roster_scaled_${id}`;
  const prefix = `rtscaled${id}`;
  const pgUrl = () => {
    const u = new URL(process.env.ROSTER_TEST_PG!);
    u.pathname = `/${database}`;
    return u.toString();
  };
  let adminDb: Knex;
  let db: Knex;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let env: Record<string, string>;
  let base: string;

  before(async () => {
    // A database of its own: the processes migrate it as they would in production.
    adminDb = knex({ client: "pg", connection: process.env.ROSTER_TEST_PG! });
    await adminDb.raw(`create database "${database}"`);
    db = knex({ client: "pg", connection: pgUrl() });
    receiver = await startReceiver();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      DATABASE_URL: pgUrl(),
      REDIS_URL: process.env.ROSTER_TEST_REDIS!,
      ROSTER_QUEUE_PREFIX: prefix,
      ROSTER_ADMIN_TOKEN: ADMIN_TOKEN,
      PORT: String(port),
      PUBLIC_URL: base,
      ROSTER_WEBHOOK_ALLOW_PRIVATE: "true",
      LOG_LEVEL: "info",
    };
  });
  after(async () => {
    killAll();
    await receiver?.close();
    await db?.destroy();
    await adminDb?.raw(`drop database if exists "${database}" with (force)`);
    await adminDb?.destroy();
    const { Redis } = await import("ioredis");
    const r = new Redis(process.env.ROSTER_TEST_REDIS!);
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== "0");
    await r.quit();
  });

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/scim+json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const jobsNamed = (name: string) => db("jobs").where({ name }).select("state");

  it("a SCIM write is relayed by the API process and run by the worker process; both drain on SIGTERM", async () => {
    const server: RosterProcess = startRoster("server", env);
    await server.printed("roster listening");
    assert.match(server.out(), /"database":"pg"/);
    assert.match(server.out(), /"jobs":"bullmq"/);
    const tenant = await call("POST", "/admin/v1/tenants", ADMIN_TOKEN, { slug: "acme", name: "Acme" });
    assert.equal(tenant.status, 201, JSON.stringify(tenant.body));
    const token = (await call("POST", "/admin/v1/tenants/acme/scim-tokens", ADMIN_TOKEN, { name: "idp" }))
      .body.token as string;
    const hook = await call("POST", "/admin/v1/tenants/acme/webhooks", ADMIN_TOKEN, {
      url: receiver.url,
      events: ["user.created", "role.assigned"],
    });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));

    const created = await call("POST", "/scim/v2/Users", token, userBody("ann@acme.test"));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const userId = created.body.id as string;
    // The API process hands the jobs to BullMQ and runs none of them: with no worker yet they
    // wait there (relayed), and the user has no role.
    await eventually(
      async () => {
        const rows = [...(await jobsNamed("sync-roles")), ...(await jobsNamed("deliver-webhook"))];
        return rows.length >= 2 && rows.every((r: any) => r.state === "relayed");
      },
      undefined,
      "the API process to relay the sync-roles and deliver-webhook jobs",
    );
    const roles = async () =>
      (await call("GET", `/admin/v1/tenants/acme/users/${userId}/roles`, ADMIN_TOKEN)).body.roles.map(
        (r: { key: string }) => r.key,
      );
    assert.deepEqual(await roles(), []);
    assert.equal(receiver.received.length, 0);

    const worker = startRoster("worker", env);
    await worker.printed("roster worker started");
    assert.match(worker.out(), /"driver":"bullmq"/);
    await eventually(async () => (await roles()).join() === "member", undefined, "the worker's role sync");
    const types = () => new Set(receiver.accepted().map((r) => r.event.type));
    await eventually(
      async () => types().has("user.created") && types().has("role.assigned"),
      undefined,
      "the worker's webhook deliveries",
    );
    const got = receiver.accepted().find((r) => r.event.type === "user.created")!;
    assert.equal(got.event.data.userId, userId);
    const header = String(got.headers["roster-signature"]);
    const t = Number(/t=(\d+)/.exec(header)?.[1]);
    assert.equal(verifySignature(hook.body.secret, header, got.body, t), true);
    await eventually(
      async () => (await jobsNamed("sync-roles")).every((r: any) => r.state === "done"),
      undefined,
      "the sync-roles rows to be done",
    );

    server.child.kill("SIGTERM");
    worker.child.kill("SIGTERM");
    assert.equal(await server.exited, 0, server.err());
    assert.equal(await worker.exited, 0, worker.err());
  });
});
