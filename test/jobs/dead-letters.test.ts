import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { claimJobs } from "../../src/jobs/store.js";
import { admin, createTestContext, eventually, type TestContext } from "../helpers/context.js";
import { variants } from "../roles/helpers.js";

for (const v of variants()) {
  describe(`jobs: dead letters, admin retry, per-tenant fairness [${v.label}]`, { skip: v.skip }, () => {
    let ctx: TestContext;
    const ran: Array<{ tenant: string | null; n: number }> = [];
    let healthy = false;
    before(async () => {
      ctx = await createTestContext(v.backend, { redis: v.redis });
      ctx.deps.jobs.define<{ n: number }>({
        name: "test-fragile",
        queue: "default",
        maxAttempts: 2,
        handler: async (p, jc) => {
          if (!healthy) throw new Error("downstream unavailable");
          ran.push({ tenant: jc.tenantId, n: p.n });
        },
      });
      const at = ctx.deps.now().toISOString();
      await ctx.deps.db("tenants").insert(
        ["flood", "quiet"].map((slug) => ({
          id: `t-${slug}`,
          slug,
          name: slug,
          settings: "{}",
          created_at: at,
          updated_at: at,
        })),
      );
    });
    after(async () => ctx.close());

    const enqueue = (tenantId: string | null, ns: number[]) =>
      ctx.deps.db.transaction((trx) =>
        ctx.deps.jobs.enqueue(
          trx,
          ns.map((n) => ({ name: "test-fragile", tenantId, payload: { n } })),
          ctx.deps.now(),
        ),
      );

    it("claims fairly: a flood from one tenant does not starve another", async () => {
      await enqueue(
        "t-flood",
        Array.from({ length: 300 }, (_, i) => i),
      );
      await enqueue("t-quiet", [1000, 1001]);
      const now = ctx.deps.now();
      const claimed = await claimJobs(ctx.deps.db, {
        queues: ["default"],
        limit: 4,
        now,
        leaseUntil: new Date(now.getTime() + 60_000),
        state: "running",
      });
      assert.equal(claimed.length, 4, JSON.stringify(claimed.map((j) => [j.id, j.tenantId])));
      assert.equal(claimed.filter((j) => j.tenantId === "t-quiet").length, 2);
      // Give them back and let the driver run everything, healthy this time.
      await ctx.deps
        .db("jobs")
        .whereIn(
          "id",
          claimed.map((j) => j.id),
        )
        .update({ state: "pending", attempts: 0 });
      healthy = true;
      await ctx.deps.driver.start();
      after(() => {
        healthy = false;
      });
      await eventually(async () => ran.length === 302, 30_000, "all jobs");
      const quietAt = ran.findIndex((r) => r.tenant === "t-quiet");
      assert.ok(quietAt < 20, `the quiet tenant's first job ran at position ${quietAt}`);
      healthy = false;
    });

    it("lists dead letters and retries one through the admin API", async () => {
      const a = admin(ctx);
      await enqueue("t-quiet", [7]);
      const failed = await eventually(
        async () => {
          ctx.clock.advance(5000);
          ctx.deps.driver.poke();
          const r = await a.get("/admin/v1/jobs?state=failed").expect(200);
          return r.body.jobs.find((j: any) => j.payload?.n === 7);
        },
        30_000,
        "a dead letter",
      );
      assert.equal(failed.state, "failed");
      assert.equal(failed.attempts, 2);
      assert.match(failed.lastError, /downstream unavailable/);
      assert.equal(failed.name, "test-fragile");
      const byTenant = await a.get("/admin/v1/jobs?state=failed&tenant=quiet").expect(200);
      assert.ok(byTenant.body.jobs.some((j: any) => j.id === failed.id));
      healthy = true;
      const retried = await a.post(`/admin/v1/jobs/${failed.id}/retry`).expect(202);
      assert.equal(retried.body.state, "pending");
      assert.equal(retried.body.attempts, 0);
      await eventually(
        async () => {
          ctx.deps.driver.poke();
          return ran.some((r) => r.n === 7);
        },
        20_000,
        "the retried job",
      );
      await eventually(async () =>
        (await a.get(`/admin/v1/jobs?state=done&limit=500`)).body.jobs.some((j: any) => j.id === failed.id),
      );
      await a.post(`/admin/v1/jobs/${failed.id}/retry`).expect(404); // no longer failed
      await a.post("/admin/v1/jobs/abc/retry").expect(404);
      await a.get("/admin/v1/jobs?state=bogus").expect(400);
      await ctx.http.get("/admin/v1/jobs").expect(401);
    });
  });
}
