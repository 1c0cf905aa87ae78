import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { Queue } from "bullmq";
import { BullmqDriver } from "../../src/jobs/bullmq-driver.js";
import { startRedis, stopRedis } from "../helpers/redis-server.js";
import {
  backends,
  createTestContext,
  eventually,
  type TestContext,
  testRedisUrl,
} from "../helpers/context.js";

// Each suite kills and restarts a private redis-server of its own, so nothing else on the
// machine notices.
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** Log lines (JSON) whose message starts with `text`. */
const linesOf = (ctx: TestContext, text: string) =>
  ctx.logs.map((l) => JSON.parse(l)).filter((l) => typeof l.msg === "string" && l.msg.startsWith(text));

const skip = testRedisUrl() ? false : "no Redis in this run (set REDIS_URL for npm test)";
const tag = testRedisUrl() ? " [redis]" : "";

for (const backend of backends()) {
  describe(`a Redis outage: readiness and the log [${backend.name}]${tag}`, { skip }, () => {
    let redis: ChildProcess;
    let api: TestContext;
    let worker: TestContext;
    let port: number;
    before(async () => {
      port = await freePort();
      redis = await startRedis(port);
      const env = { REDIS_URL: `redis://127.0.0.1:${port}` };
      api = await createTestContext(backend, { redis: true, env });
      worker = await createTestContext(backend, { redis: true, env, role: "worker" });
      await api.deps.driver.start();
    });
    after(async () => {
      await api.close();
      await worker.close();
      await stopRedis(redis);
    });

    it("API processes stay ready (Redis reported apart), workers do not; the outage is logged once, then once a minute", async () => {
      assert.deepEqual((await api.http.get("/readyz").expect(200)).body, {
        status: "ok",
        checks: { database: "ok", redis: "ok" },
      });
      await stopRedis(redis);
      // Many failures: reconnects of every connection, BullMQ's queues and worker, relay passes.
      await eventually(async () => api.deps.redis!.totalErrors >= 20, 60_000, "errors to pile up");
      const ready = await api.http.get("/readyz");
      assert.equal(ready.status, 200, "the API serves: writes go to the outbox");
      assert.deepEqual(ready.body, { status: "degraded", checks: { database: "ok", redis: "down" } });
      const workerReady = await worker.http.get("/readyz");
      assert.equal(workerReady.status, 503, "a worker can do nothing without Redis");
      assert.equal(workerReady.body.checks.redis, "down");

      assert.equal(linesOf(api, "redis unreachable").length, 1);
      assert.equal(linesOf(api, "redis still unreachable").length, 0);
      for (const noisy of ["redis connection error", "bullmq", "relaying jobs failed", "redis error"])
        assert.equal(linesOf(api, noisy).length, 0, noisy);
      // A minute later (the app's clock), the next failure logs one line with the count since.
      api.clock.advance(61_000);
      const before = api.deps.redis!.totalErrors;
      await eventually(async () => api.deps.redis!.totalErrors > before, 30_000, "another error");
      const repeated = linesOf(api, "redis still unreachable");
      assert.equal(repeated.length, 1);
      assert.ok(repeated[0].failures >= 19, `failures counted: ${repeated[0].failures}`);
      assert.equal(repeated[0].forSeconds, 61);

      redis = await startRedis(port);
      await eventually(async () => api.deps.redis!.state === "ok", 30_000, "Redis to be back");
      assert.equal(linesOf(api, "redis reachable again").length, 1);
      assert.equal((await api.http.get("/readyz")).body.status, "ok");
      await eventually(async () => (await worker.http.get("/readyz")).status === 200, 30_000, "worker ready");
    });
  });

  describe(`a Redis that comes back empty [${backend.name}]${tag}`, { skip }, () => {
    let redis: ChildProcess;
    let ctx: TestContext;
    let port: number;
    const done = new Set<number>();
    before(async () => {
      port = await freePort();
      redis = await startRedis(port);
      // Relay only: the jobs wait in Redis, as they would for workers that are busy or down.
      ctx = await createTestContext(backend, {
        redis: true,
        env: { REDIS_URL: `redis://127.0.0.1:${port}`, ROSTER_JOBS: "off" },
      });
      ctx.deps.jobs.define<{ n: number }>({
        name: "loss-probe",
        queue: "default",
        maxAttempts: 3,
        handler: async (p) => void done.add(p.n),
      });
      await ctx.deps.driver.start();
    });
    after(async () => {
      await ctx.close();
      await stopRedis(redis);
    });

    const queueCount = async () => {
      const q = new Queue("roster-default", {
        connection: { host: "127.0.0.1", port, maxRetriesPerRequest: 1 },
        prefix: ctx.queuePrefix,
      });
      try {
        return await q.count();
      } finally {
        await q.close();
      }
    };

    it("hands the jobs it had relayed over again within seconds, not after their 5-minute lease", async () => {
      await ctx.deps.db.transaction((trx) =>
        ctx.deps.jobs.enqueue(
          trx,
          Array.from({ length: 10 }, (_, n) => ({ name: "loss-probe", tenantId: null, payload: { n } })),
          ctx.deps.now(),
        ),
      );
      await eventually(async () => (await queueCount()) === 10, 30_000, "the jobs in Redis");
      const relayed = await ctx.deps
        .db("jobs")
        .where({ name: "loss-probe", state: "relayed" })
        .count({ n: "*" });
      assert.equal(Number(relayed[0].n), 10);

      await stopRedis(redis);
      redis = await startRedis(port);
      // The app's clock stands still: the leases have not run out, only the loss is detected.
      await eventually(async () => (await queueCount()) === 10, 30_000, "the jobs handed over again");
      const lost = linesOf(ctx, "redis lost the jobs handed to it");
      assert.equal(lost.length, 1);
      assert.equal(lost[0].jobs, 10);

      // And a worker runs them.
      const workerDriver = new BullmqDriver(
        {
          db: ctx.deps.db,
          logger: ctx.deps.logger,
          now: ctx.deps.now,
          registry: ctx.deps.jobs,
          metrics: ctx.deps.metrics,
        },
        { redisUrl: `redis://127.0.0.1:${port}`, relay: false, work: true, prefix: ctx.queuePrefix },
      );
      await workerDriver.start();
      try {
        await eventually(async () => done.size === 10, 30_000, "every job run");
        await eventually(
          async () =>
            Number(
              (await ctx.deps.db("jobs").where({ name: "loss-probe", state: "done" }).count({ n: "*" }))[0].n,
            ) === 10,
          15_000,
          "every row done",
        );
      } finally {
        await workerDriver.stop(5000);
      }
    });
  });
}
