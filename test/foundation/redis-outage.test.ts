import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RedisServer, startRedis, stopRedis } from "../helpers/redis-server.js";
import {
  allBackends,
  createTestContext,
  eventually,
  settlesWithin,
  skipUnless,
  type TestContext,
} from "../helpers/context.js";

for (const backend of allBackends()) {
  const skip = skipUnless(...(backend.name === "postgres" ? (["postgres"] as const) : []), "redis");
  describe(`jobs survive a Redis outage [${backend.name}] [redis]`, { skip }, () => {
    let ctx: TestContext;
    // A private redis-server on a free port, so stopping it disturbs nothing else on the machine.
    let redis: RedisServer;
    const done = new Set<number>();
    before(async () => {
      redis = await startRedis();
      ctx = await createTestContext(backend, {
        redis: true,
        env: { REDIS_URL: `redis://127.0.0.1:${redis.port}` },
      });
      ctx.deps.jobs.define<{ n: number }>({
        name: "outage-probe",
        queue: "default",
        maxAttempts: 5,
        handler: async (p) => void done.add(p.n),
      });
      await ctx.deps.driver.start();
    });
    after(async () => {
      await ctx.close();
      await stopRedis(redis);
    });

    const enqueue = (from: number, to: number) =>
      ctx.deps.db.transaction((trx) =>
        ctx.deps.jobs.enqueue(
          trx,
          Array.from({ length: to - from }, (_, i) => ({
            name: "outage-probe",
            tenantId: null,
            payload: { n: from + i },
          })),
          ctx.deps.now(),
        ),
      );

    it("commits keep succeeding while Redis is down, and every job runs once it is back", async () => {
      await enqueue(0, 20);
      await eventually(async () => done.size === 20, undefined, "first jobs");
      await stopRedis(redis);
      const lastBefore = Number((await ctx.deps.db("jobs").max({ id: "id" }).first())?.id);
      // Writes never wait for Redis: the jobs table is the outbox. Redis stays down until the
      // commit is back, so a write that needed it would fail or hang here.
      await settlesWithin(enqueue(20, 60), "an enqueue while Redis is down");
      const waiting = await ctx.deps.db("jobs").where("id", ">", lastBefore).select("state");
      assert.equal(waiting.length, 40, "the 40 new jobs are in the outbox");
      assert.ok(
        waiting.every((r: any) => r.state !== "done"),
        "none has run without Redis",
      );
      assert.deepEqual(
        [...done].sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i),
      );
      // Redis comes back empty (no persistence): whatever the relay had handed over is lost.
      redis = await startRedis(redis.port);
      // Leases of rows handed to the dead Redis run out; the relay hands them over again.
      const all = await eventually(
        async () => {
          ctx.clock.advance(60_000);
          ctx.deps.driver.poke();
          return done.size === 60;
        },
        60_000,
        "every job after the outage",
      );
      assert.ok(all);
      // The handler ran for every job; the worker records completion right after, so wait for it.
      const states = await eventually(
        async () => {
          const rows = await ctx.deps.db("jobs").select("state").count({ n: "*" }).groupBy("state");
          return rows.length === 1 && (rows[0] as any).state === "done" ? rows : undefined;
        },
        undefined,
        "every job row done",
      );
      assert.deepEqual(
        states.map((s: any) => [s.state, Number(s.n)]),
        [["done", 60]],
      );
    });
  });
}
