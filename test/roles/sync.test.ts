import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { claimJobs } from "../../src/jobs/store.js";
import { syncUserRoles } from "../../src/roles/sync.js";
import { createTestContext, patchOp, type TestContext } from "../helpers/context.js";
import { tenant, variants } from "./helpers.js";

const countJobs = async (ctx: TestContext, where: Record<string, unknown>) =>
  Number((await ctx.deps.db("jobs").where(where).count({ c: "*" }).first())?.c);

for (const v of variants()) {
  describe(`role sync: coalescing, idempotence, crashed workers [${v.label}]`, { skip: v.skip }, () => {
    let ctx: TestContext;
    before(async () => {
      // The driver starts inside the first test, after a burst has queued up.
      ctx = await createTestContext(v.backend, { redis: v.redis });
    });
    after(async () => ctx.close());

    it("coalesces a burst of 100-member PATCHes into at most one recompute per user", async () => {
      const t = await tenant(ctx, "s-burst");
      const users: string[] = [];
      for (let i = 0; i < 100; i++) users.push(await t.user(`b${i}@example.com`));
      const g = await t.group("Burst");
      await t.a.post(`${t.base}/role-mappings`, { groupId: g, role: "admin" }).expect(201);
      const add = (ids: string[]) =>
        t.scim.patch(
          `/Groups/${g}`,
          patchOp({ op: "add", path: "members", value: ids.map((value) => ({ value })) }),
        );
      await add(users.slice(0, 50)).expect(204);
      await add(users.slice(50)).expect(204);
      await add(users).expect(204); // no change: no events, no jobs
      for (let i = 0; i < 3; i++)
        await t.scim
          .patch(`/Groups/${g}`, patchOp({ op: "replace", path: "displayName", value: `Burst ${i}` }))
          .expect(204);
      const pending = await countJobs(ctx, { state: "pending", name: "sync-roles", tenant_id: t.tenantId });
      // One per user (group.user_added), the tenant's one new-user drain (every user.created)
      // and the mapping's group scope.
      assert.ok(pending <= 102, `pending sync-roles jobs: ${pending}`);
      await ctx.deps.driver.start();
      await t.settle();
      for (const u of [users[0], users[57], users[99]]) assert.equal(await t.keys(u), "admin");
      const ran = await countJobs(ctx, { state: "done", name: "sync-roles", tenant_id: t.tenantId });
      assert.ok(ran <= 102, `sync-roles jobs run: ${ran}`);
      const assigned = await t.events("role.assigned");
      // member (default) then admin, once each per user: nothing ran twice in a way that shows.
      assert.equal(assigned.filter((e) => e.data.role === "admin").length, 100);
      assert.equal(new Set(assigned.map((e) => `${e.data.userId}/${e.data.role}`)).size, assigned.length);
    });

    it("gives a burst of new users their roles through a few coalesced jobs, not one per user", async () => {
      const t = await tenant(ctx, "s-created");
      await ctx.deps.driver.stop(5000);
      const mapped = await t.group("Mapped");
      await t.a.post(`${t.base}/role-mappings`, { groupId: mapped, role: "admin" }).expect(201);
      const users: string[] = [];
      // More than two drain batches (SYNC_BATCH = 500): the job chains itself until the set is empty.
      for (let i = 0; i < 1100; i += 10)
        users.push(
          ...(await Promise.all(Array.from({ length: 10 }, (_, k) => t.user(`n${i + k}@example.com`)))),
        );
      const admins = users.slice(0, 10);
      await t.scim
        .patch(
          `/Groups/${mapped}`,
          patchOp({ op: "add", path: "members", value: admins.map((value) => ({ value })) }),
        )
        .expect(204);
      // Deactivated and reactivated before any job ran: noted again, ends up with the default role.
      await t.scim
        .patch(`/Users/${users[20]}`, patchOp({ op: "replace", path: "active", value: false }))
        .expect(200);
      await t.scim
        .patch(`/Users/${users[20]}`, patchOp({ op: "replace", path: "active", value: true }))
        .expect(200);
      const drains = await ctx.deps
        .db("jobs")
        .where({ tenant_id: t.tenantId, state: "pending", dedupe_key: `sync-roles/${t.tenantId}/pending` })
        .count({ c: "*" })
        .first();
      assert.equal(Number(drains?.c), 1);
      await ctx.deps.driver.start();
      await t.settle();
      const jobs = await countJobs(ctx, { name: "sync-roles", tenant_id: t.tenantId });
      assert.ok(jobs <= 20, `sync-roles jobs for 1,100 new users: ${jobs}`);
      const held = await ctx.deps
        .db("user_roles as ur")
        .join("roles as r", "r.id", "ur.role_id")
        .where("ur.tenant_id", t.tenantId)
        .select("ur.user_id as userId", "r.key as key");
      const keys = new Map<string, string[]>();
      for (const h of held) keys.set(h.userId, [...(keys.get(h.userId) ?? []), h.key]);
      for (const u of users) assert.deepEqual(keys.get(u), admins.includes(u) ? ["admin"] : ["member"], u);
      const left = await ctx.deps
        .db("pending_role_syncs")
        .where({ tenant_id: t.tenantId })
        .count({ c: "*" })
        .first();
      assert.equal(Number(left?.c), 0);
      // Each user gained exactly one role, once: no duplicate events from overlapping jobs.
      const assigned = await ctx.deps.db("events").where({ tenant_id: t.tenantId, type: "role.assigned" });
      assert.equal(assigned.length, users.length);
    });

    it("recomputing concurrently and repeatedly records each change once", async () => {
      const t = await tenant(ctx, "s-conc");
      await ctx.deps.driver.stop(5000);
      const users: string[] = [];
      for (let i = 0; i < 20; i++) users.push(await t.user(`c${i}@example.com`));
      const g = await t.group("Conc", users);
      await t.a.post(`${t.base}/role-mappings`, { groupId: g, role: "admin" }).expect(201);
      const results = await Promise.all([
        syncUserRoles(ctx.deps, t.tenantId, users),
        syncUserRoles(ctx.deps, t.tenantId, [...users].reverse()),
        syncUserRoles(ctx.deps, t.tenantId, users.slice(5)),
      ]);
      assert.equal(
        results.reduce((n, r) => n + r.assigned, 0),
        20,
      );
      const again = await syncUserRoles(ctx.deps, t.tenantId, users);
      assert.deepEqual(again, { users: 20, assigned: 0, revoked: 0 });
      const assigned = await t.events("role.assigned");
      assert.equal(assigned.length, 20);
      assert.equal((await t.events("role.revoked")).length, 0);
    });

    it("re-runs a job whose worker died mid-job (lease expired) with the same result", async () => {
      const t = await tenant(ctx, "s-crash");
      const u = await t.user("crash@example.com");
      const g = await t.group("Crash", [u]);
      await t.a.post(`${t.base}/role-mappings`, { groupId: g, role: "admin" }).expect(201);
      // A "worker" claims every pending job of the tenant and dies without finishing any.
      const now = ctx.deps.now();
      const claimed = await claimJobs(ctx.deps.db, {
        queues: ["default", "urgent"],
        limit: 100,
        now,
        leaseUntil: new Date(now.getTime() + 60_000),
        state: v.redis ? "relayed" : "running",
      });
      assert.ok(claimed.some((j) => j.tenantId === t.tenantId));
      // Half of the work happened before the crash: the recompute of the user committed.
      await syncUserRoles(ctx.deps, t.tenantId, [u]);
      ctx.clock.advance(61_000);
      await ctx.deps.driver.start();
      await t.settle();
      for (const j of claimed)
        assert.equal((await ctx.deps.db("jobs").where({ id: j.id }).first()).state, "done");
      assert.equal(await t.keys(u), "admin");
      const mine = (await t.events()).filter((e) => e.type.startsWith("role.") && e.data.userId === u);
      assert.deepEqual(
        mine.map((e) => `${e.type}:${e.data.role}`),
        ["role.assigned:admin"],
      );
    });

    it("deleting a role revokes it from its holders at once", async () => {
      const t = await tenant(ctx, "s-delrole");
      await t.a.post(`${t.base}/roles`, { key: "auditor", name: "Auditor" }).expect(201);
      const u = await t.user("holder@example.com");
      await t.a.put(`${t.base}/users/${u}/roles/auditor`).expect(204);
      await t.waitKeys(u, "auditor");
      await t.a.delete(`${t.base}/roles/auditor`).expect(204);
      const revoked = (await t.events("role.revoked")).filter((e) => e.data.role === "auditor");
      assert.deepEqual(
        revoked.map((e) => [e.data.userId, e.data.role]),
        [[u, "auditor"]],
      );
      await t.waitKeys(u, "member");
    });
  });
}
