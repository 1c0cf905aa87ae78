import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ChangeSet, commitChanges } from "../../src/directory/changes.js";
import { claimJobs } from "../../src/jobs/store.js";
import { backends, createTestContext, patchOp, type TestContext } from "../helpers/context.js";
import { tenant } from "../roles/helpers.js";

// Row locks are PostgreSQL's; SQLite runs one writer at a time, so the race cannot happen there.
for (const backend of backends().filter((b) => b.name === "postgres")) {
  describe(`jobs: a pending job is not run before a change that relies on it commits [${backend.name}]`, () => {
    let ctx: TestContext;
    before(async () => {
      // No driver: the test claims jobs itself, while a transaction is open.
      ctx = await createTestContext(backend);
    });
    after(async () => ctx.close());

    const claim = async () => {
      const now = ctx.deps.now();
      const rows = await claimJobs(ctx.deps.db, {
        queues: ["default", "urgent", "webhooks"],
        limit: 50,
        now,
        leaseUntil: new Date(now.getTime() + 60_000),
        state: "running",
      });
      const keys = await ctx.deps
        .db("jobs")
        .whereIn(
          "id",
          rows.map((r) => r.id),
        )
        .pluck("dedupe_key");
      return keys.map(String).sort();
    };

    it("holds the user's role sync and the endpoint's stream job until the commit", async () => {
      const t = await tenant(ctx, "hold");
      await t.a
        .post(`${t.base}/webhooks`, { url: "http://127.0.0.1:9/hook", events: ["user.*"] })
        .expect(201);
      const u = await t.user("held@example.com");
      const g = await t.group("Held");
      await t.scim
        .patch(`/Groups/${g}`, patchOp({ op: "add", path: "members", value: [{ value: u }] }))
        .expect(204);
      const keys = [`deliver-webhook/`, `sync-roles/${t.tenantId}/u/${u}`];
      const pending = await ctx.deps.db("jobs").where({ state: "pending" }).select("dedupe_key");
      for (const k of keys)
        assert.ok(
          pending.some((r: any) => String(r.dedupe_key).startsWith(k)),
          `a pending ${k}… job before the change`,
        );

      // A change that relies on those pending jobs, not yet committed: a worker must pass them by.
      const trx = await ctx.deps.db.transaction();
      try {
        await commitChanges(
          trx,
          t.tenantId,
          new ChangeSet()
            .add("user.updated", { userId: u })
            .add("group.user_added", { userId: u, groupId: g }),
          ctx.deps.now().toISOString(),
        );
        const during = await claim();
        for (const k of keys)
          assert.ok(!during.some((d) => d.startsWith(k)), `${k}… claimed before the commit: ${during}`);
        await trx.commit();
      } finally {
        // A failed assertion must not leave the transaction open (the pool would never close).
        if (!trx.isCompleted()) await trx.rollback();
      }
      const afterCommit = await claim();
      for (const k of keys)
        assert.ok(
          afterCommit.some((d) => d.startsWith(k)),
          `${k}… claimable after the commit: ${afterCommit}`,
        );
    });
  });
}
