import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { recordEvents } from "../../src/events/outbox.js";
import { findJob, listJobsByState } from "../../src/jobs/store.js";
import { createTestContext, eventually, type TestContext } from "../helpers/context.js";
import { variants } from "../roles/helpers.js";

/** The error a test throws to roll its transaction back: only it may be swallowed, nothing else. */
class PlannedRollback extends Error {}

for (const v of variants()) {
  describe(`job pipeline: outbox, retries, dead letters [${v.label}]`, { skip: v.skip }, () => {
    let ctx: TestContext;
    const seen: Array<{ n: number; attempt: number }> = [];
    const flaky = new Map<number, number>();
    before(async () => {
      ctx = await createTestContext(v.backend, { redis: v.redis });
      ctx.deps.jobs.define<{ n: number; failTimes?: number }>({
        name: "test-record",
        queue: "default",
        maxAttempts: 3,
        handler: async (p, jc) => {
          const failed = flaky.get(p.n) ?? 0;
          if (failed < (p.failTimes ?? 0)) {
            flaky.set(p.n, failed + 1);
            throw new Error(`planned failure ${failed + 1}`);
          }
          seen.push({ n: p.n, attempt: jc.attempt });
        },
      });
      ctx.deps.jobs.define({
        name: "test-urgent",
        queue: "urgent",
        maxAttempts: 1,
        handler: async (p: any) => void seen.push(p),
      });
      await ctx.deps.driver.start();
    });
    after(async () => ctx.close());

    const enqueue = (
      specs: Array<{ name: string; payload: unknown; dedupeKey?: string }>,
      rollback = false,
    ) =>
      ctx.deps.db
        .transaction(async (trx) => {
          await ctx.deps.jobs.enqueue(
            trx,
            specs.map((s) => ({ tenantId: null, ...s })),
            ctx.deps.now(),
          );
          if (rollback) throw new PlannedRollback();
        })
        .catch((e) => {
          if (!(rollback && e instanceof PlannedRollback)) throw e;
        });

    it("reports readiness of the database, and of Redis when configured", async () => {
      const res = await ctx.http.get("/readyz").expect(200);
      assert.equal(res.body.checks.database, "ok");
      assert.equal(res.body.checks.redis, v.redis ? "ok" : undefined);
    });

    it("runs a committed job, and never one whose transaction rolled back", async () => {
      // The rolled-back one first: had it reached the outbox, it would be claimed before job 1.
      await enqueue([{ name: "test-record", payload: { n: 2 } }], true);
      await enqueue([{ name: "test-record", payload: { n: 1 } }]);
      ctx.deps.driver.poke();
      await eventually(async () => seen.some((s) => s.n === 1), undefined, "job 1");
      // Durable state, not a pause: the outbox holds job 1 alone (finished), so nothing is left to run job 2.
      const rows = await eventually(
        async () => {
          const all = await ctx.deps.db("jobs").select("state", "payload");
          return all.every((r: any) => r.state === "done") ? all : undefined;
        },
        undefined,
        "job 1's row to be done",
      );
      assert.deepEqual(
        rows.map((r: any) => JSON.parse(r.payload)),
        [{ n: 1 }],
      );
      assert.equal(seen.filter((s) => s.n === 2).length, 0);
    });

    it("retries a failing job with backoff until it succeeds", async () => {
      ctx.clock.advance(0);
      await enqueue([{ name: "test-record", payload: { n: 3, failTimes: 1 } }]);
      ctx.deps.driver.poke();
      // The inline driver schedules the retry ≥0.5 s later on the test clock: move the clock on.
      const done = await eventually(
        async () => {
          ctx.clock.advance(2000);
          ctx.deps.driver.poke();
          return seen.find((s) => s.n === 3);
        },
        20_000,
        "retried job",
      );
      assert.equal(done.attempt, 2);
    });

    it("moves a job that keeps failing to the failed state with its error", async () => {
      await enqueue([{ name: "test-record", payload: { n: 4, failTimes: 99 } }]);
      const failed = await eventually(
        async () => {
          ctx.clock.advance(5000);
          ctx.deps.driver.poke();
          const list = await listJobsByState(ctx.deps.db, "failed", 10);
          return list.find((j) => (j.payload as any).n === 4);
        },
        30_000,
        "dead-lettered job",
      );
      assert.equal(failed.attempts, 3);
      assert.match(failed.lastError ?? "", /planned failure 3/);
      assert.equal(
        seen.some((s) => s.n === 4),
        false,
      );
    });

    it("coalesces pending jobs with the same dedupe key", async () => {
      await ctx.deps.driver.stop(5000);
      const specs = Array.from({ length: 50 }, () => ({
        name: "test-record",
        payload: { n: 5 },
        dedupeKey: "k5",
      }));
      for (const s of specs) await enqueue([s]);
      const pending = await ctx.deps.db("jobs").where({ dedupe_key: "k5" });
      assert.equal(pending.length, 1);
    });

    it("records events with a per-tenant sequence in the caller's transaction", async () => {
      const at = ctx.deps.now().toISOString();
      await ctx.deps.db("tenants").insert([
        { id: "t-a", slug: "ev-a", name: "A", settings: "{}", created_at: at, updated_at: at },
        { id: "t-b", slug: "ev-b", name: "B", settings: "{}", created_at: at, updated_at: at },
      ]);
      await ctx.deps.db.transaction((trx) =>
        recordEvents(
          trx,
          "t-a",
          [
            { type: "x", data: {} },
            { type: "y", data: {} },
          ],
          at,
        ),
      );
      await ctx.deps.db.transaction((trx) => recordEvents(trx, "t-b", [{ type: "x", data: {} }], at));
      await assert.rejects(
        ctx.deps.db.transaction(async (trx) => {
          await recordEvents(trx, "t-a", [{ type: "lost", data: {} }], at);
          throw new PlannedRollback();
        }),
        PlannedRollback,
      );
      await ctx.deps.db.transaction((trx) => recordEvents(trx, "t-a", [{ type: "z", data: { k: 1 } }], at));
      const rows = await ctx.deps.db("events").where({ tenant_id: "t-a" }).orderBy("seq");
      assert.deepEqual(
        rows.map((r: any) => [Number(r.seq), r.type]),
        [
          [1, "x"],
          [2, "y"],
          [3, "z"],
        ],
      );
      const b = await ctx.deps.db("events").where({ tenant_id: "t-b" });
      assert.equal(Number(b[0].seq), 1);
    });

    it("keeps a row's state as the truth: a finished job is done in the table", async () => {
      const row = await ctx.deps.db("jobs").orderBy("id").first();
      const job = await findJob(ctx.deps.db, Number(row.id));
      assert.equal(job?.state, "done");
    });
  });
}
