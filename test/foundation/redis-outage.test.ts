import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { startRedis, stopRedis } from "../helpers/redis-server.js";
import {
  backends,
  createTestContext,
  eventually,
  type TestContext,
  testRedisUrl,
} from "../helpers/context.js";

// A private redis-server on its own port, so stopping it disturbs nothing else on the machine.
const PORT = 16_400 + Math.floor(Math.random() * 500);

for (const backend of testRedisUrl() ? backends() : []) {
  describe(`jobs survive a Redis outage [${backend.name}] [redis]`, () => {
    let ctx: TestContext;
    let redis: ChildProcess;
    const done = new Set<number>();
    before(async () => {
      redis = await startRedis(PORT);
      ctx = await createTestContext(backend, {
        redis: true,
        env: { REDIS_URL: `redis://127.0.0.1:${PORT}` },
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
      await eventually(async () => done.size === 20, 15_000, "first jobs");
      await stopRedis(redis);
      // Writes never wait for Redis: the jobs table is the outbox.
      const t0 = Date.now();
      await enqueue(20, 60);
      assert.ok(Date.now() - t0 < 2000, "enqueue does not block on Redis");
      assert.ok([...done].every((n) => n < 20));
      // Redis comes back empty (no persistence): whatever the relay had handed over is lost.
      redis = await startRedis(PORT);
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
        15_000,
        "every job row done",
      );
      assert.deepEqual(
        states.map((s: any) => [s.state, Number(s.n)]),
        [["done", 60]],
      );
    });
  });
}
