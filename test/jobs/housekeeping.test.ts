import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { HOUSEKEEPING_JOB, runHousekeeping, scheduleHousekeeping } from "../../src/jobs/housekeeping.js";
import { createTestContext, eventually, type TestContext } from "../helpers/context.js";
import { variants } from "../roles/helpers.js";

const DAY = 86_400_000;

for (const v of variants()) {
  describe(`jobs: daily housekeeping deletes only what is old and over [${v.label}]`, {
    skip: v.skip,
  }, () => {
    let ctx: TestContext;
    const ago = (days: number) => new Date(ctx.deps.now().getTime() - days * DAY).toISOString();
    before(async () => {
      ctx = await createTestContext(v.backend, { redis: v.redis });
      ctx.deps.jobs.define({ name: "test-kept", queue: "default", maxAttempts: 1, handler: async () => {} });
    });
    after(async () => ctx.close());

    it("deletes finished jobs and finished deliveries' attempts past the retention, nothing else", async () => {
      const db = ctx.deps.db;
      const now = ctx.deps.now().toISOString();
      await db("tenants").insert({
        id: "t-hk",
        slug: "hk",
        name: "hk",
        settings: "{}",
        created_at: now,
        updated_at: now,
      });
      const job = (state: string, days: number) => ({
        tenant_id: "t-hk",
        name: "test-kept",
        queue: "default",
        payload: "{}",
        state,
        max_attempts: 1,
        run_at: ago(days),
        created_at: ago(days),
        updated_at: ago(days),
      });
      await db("jobs").insert([job("done", 40), job("done", 45), job("done", 2), job("failed", 40)]);
      await db("webhooks").insert({
        id: "w-hk",
        tenant_id: "t-hk",
        url: "https://hooks.example.com/x",
        events: '["*"]',
        secret: "s",
        created_at: now,
        updated_at: now,
      });
      const delivery = (seq: number, state: string, days: number) => ({
        tenant_id: "t-hk",
        webhook_id: "w-hk",
        event_seq: seq,
        event_type: "user.updated",
        stream: "u1",
        state,
        attempts: 2,
        next_attempt_at: ago(days),
        created_at: ago(days),
      });
      await db("webhook_deliveries").insert([
        delivery(1, "delivered", 40),
        delivery(2, "failed", 40),
        delivery(3, "pending", 40),
        delivery(4, "delivered", 1),
      ]);
      const ids = new Map(
        (await db("webhook_deliveries").where({ webhook_id: "w-hk" })).map((d: any) => [
          Number(d.event_seq),
          d.id,
        ]),
      );
      const attempt = (seq: number, days: number) => ({
        delivery_id: ids.get(seq),
        at: ago(days),
        status: 500,
        duration_ms: 3,
      });
      await db("webhook_attempts").insert([
        attempt(1, 41),
        attempt(1, 40),
        attempt(2, 40),
        attempt(3, 40), // still being retried: its history stays
        attempt(4, 1),
      ]);

      assert.deepEqual(await runHousekeeping(db, ctx.deps.now(), 30), { jobs: 2, webhookAttempts: 3 });
      const jobs = await db("jobs").where({ tenant_id: "t-hk" }).orderBy("updated_at");
      assert.deepEqual(
        jobs.map((j: any) => j.state),
        ["failed", "done"],
      );
      const left = await db("webhook_attempts as a")
        .join("webhook_deliveries as d", "d.id", "a.delivery_id")
        .where("d.webhook_id", "w-hk")
        .orderBy("d.event_seq")
        .select("d.event_seq");
      assert.deepEqual(
        left.map((r: any) => Number(r.event_seq)),
        [3, 4],
      );
      // Delivery rows (what receipts and the deliveries list read) all stay.
      assert.equal((await db("webhook_deliveries").where({ webhook_id: "w-hk" })).length, 4);
      assert.deepEqual(await runHousekeeping(db, ctx.deps.now(), 30), { jobs: 0, webhookAttempts: 0 });
    });

    it("runs as a job that reschedules itself a day later, one pending at a time", async () => {
      const db = ctx.deps.db;
      await scheduleHousekeeping(ctx.deps.jobs, db, ctx.deps.now());
      await scheduleHousekeeping(ctx.deps.jobs, db, ctx.deps.now());
      assert.equal((await db("jobs").where({ name: HOUSEKEEPING_JOB, state: "pending" })).length, 1);
      await ctx.deps.driver.start();
      await eventually(
        async () => (await db("jobs").where({ name: HOUSEKEEPING_JOB, state: "done" })).length === 1,
        10_000,
        "the housekeeping job to run",
      );
      const next = await db("jobs").where({ name: HOUSEKEEPING_JOB, state: "pending" });
      assert.equal(next.length, 1);
      const inHours = (new Date(next[0].run_at).getTime() - ctx.deps.now().getTime()) / 3600_000;
      assert.ok(inHours > 23 && inHours <= 24, `next run in ${inHours} h`);
    });
  });
}
