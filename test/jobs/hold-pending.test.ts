import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import supertest from "supertest";
import { createApp } from "../../src/app.js";
import { ChangeSet, commitChanges } from "../../src/directory/changes.js";
import { enqueueJobs } from "../../src/jobs/catalog.js";
import { claimJobs, completeJob } from "../../src/jobs/store.js";
import {
  ADMIN_TOKEN,
  allBackends,
  createTestContext,
  eventually,
  patchOp,
  type TestContext,
} from "../helpers/context.js";
import { TestIdp } from "../helpers/test-idp.js";
import { tenant } from "../roles/helpers.js";

// Row locks are PostgreSQL's; SQLite runs one writer at a time, so the race cannot happen there.
for (const backend of allBackends().filter((b) => b.name === "postgres")) {
  describe(`jobs: a pending job is not run before a change that relies on it commits [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
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

    const pendingKeys = async () =>
      (await ctx.deps.db("jobs").where({ state: "pending" }).pluck("dedupe_key")).map(String);

    /**
     * Run `change` through the real app whose database is a transaction left open (the use case's
     * own transaction becomes a savepoint in it), claim jobs from another connection meanwhile,
     * then commit: what a worker could claim between the use case's enqueue and its commit.
     */
    const claimWhileOpen = async (change: (http: ReturnType<typeof openApi>) => Promise<unknown>) => {
      const trx = await ctx.deps.db.transaction();
      try {
        await change(openApi(trx));
        const during = await claim();
        await trx.commit();
        return during;
      } finally {
        if (!trx.isCompleted()) await trx.rollback();
      }
    };
    const openApi = (trx: any) => {
      const http = supertest(createApp({ ...ctx.deps, db: trx }));
      const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
      return {
        patch: (url: string, body: unknown) =>
          http
            .patch(url)
            .set(auth)
            .send(body as object),
        post: (url: string, body: unknown = {}) =>
          http
            .post(url)
            .set(auth)
            .send(body as object),
        put: (url: string, body: unknown) =>
          http
            .put(url)
            .set(auth)
            .send(body as object),
      };
    };
    const assertHeld = async (key: string, during: string[]) => {
      assert.ok(!during.includes(key), `${key} claimed before the change committed: ${during}`);
      assert.ok((await claim()).includes(key), `${key} claimable after the commit`);
    };

    it("holds the tenant-wide role sync for a default-role change and a recompute", async () => {
      const t = await tenant(ctx, "hold-all");
      const key = `sync-roles/${t.tenantId}/all`;
      await t.a.post(`${t.base}/roles/recompute`).expect(202);
      assert.ok((await pendingKeys()).includes(key), "a pending tenant-wide sync before the change");
      const during = await claimWhileOpen((http) =>
        http.patch(t.base, { settings: { defaultRole: "admin" } }).expect(200),
      );
      await assertHeld(key, during);

      await t.a.post(`${t.base}/roles/recompute`).expect(202);
      await assertHeld(
        key,
        await claimWhileOpen((http) => http.post(`${t.base}/roles/recompute`).expect(202)),
      );
    });

    it("holds the tenant's purge schedule for a change of grace period", async () => {
      const t = await tenant(ctx, "hold-purge");
      const key = `schedule-purges/${t.tenantId}`;
      await t.a.patch(t.base, { settings: { deprovisionPolicy: "delete", deleteGraceDays: 30 } }).expect(200);
      assert.ok((await pendingKeys()).includes(key), "a pending purge schedule before the change");
      const during = await claimWhileOpen((http) =>
        http.patch(t.base, { settings: { deleteGraceDays: 7 } }).expect(200),
      );
      await assertHeld(key, during);
    });

    it("holds the SSO certificate check for a connection change", async () => {
      const t = await tenant(ctx, "hold-sso");
      const key = "sso-certificate-expiry";
      const idp = new TestIdp();
      const body = { idpEntityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.keys.certificate] };
      await t.a.put(`${t.base}/saml`, body).expect(200);
      assert.ok((await pendingKeys()).includes(key), "a pending certificate check before the change");
      const during = await claimWhileOpen((http) =>
        http.put(`${t.base}/saml`, { ...body, ssoUrl: "https://idp.test/sso/other" }).expect(200),
      );
      await assertHeld(key, during);
    });

    it("holds an endpoint's stream for a redelivery", async () => {
      const t = await tenant(ctx, "hold-redeliver");
      const hook = (
        await t.a
          .post(`${t.base}/webhooks`, { url: "http://127.0.0.1:9/hook", events: ["user.*"] })
          .expect(201)
      ).body.id;
      const u = await t.user("redeliver@example.com");
      const key = `deliver-webhook/${hook}/${u}`;
      assert.ok((await pendingKeys()).includes(key), "a pending stream job before the redelivery");
      const [d] = (await t.a.get(`${t.base}/webhooks/${hook}/deliveries`).expect(200)).body.deliveries;
      const during = await claimWhileOpen((http) =>
        http.post(`${t.base}/webhooks/${hook}/deliveries/${d.id}/redeliver`).expect(202),
      );
      await assertHeld(key, during);
    });

    it("holds a user's pending purge for a new deprovisioning (policy delete)", async () => {
      const t = await tenant(ctx, "hold-purge-user");
      await t.a.patch(t.base, { settings: { deprovisionPolicy: "delete", deleteGraceDays: 1 } }).expect(200);
      const u = await t.user("purged@example.com");
      const key = `purge-deprovisioned/${t.tenantId}/${u}`;
      const active = (value: boolean) => patchOp({ op: "replace", path: "active", value });
      await t.scim.patch(`/Users/${u}`, active(false)).expect(200);
      await t.scim.patch(`/Users/${u}`, active(true)).expect(200);
      assert.ok((await pendingKeys()).includes(key), "a pending purge before the new deprovisioning");
      ctx.clock.advance(2 * 86_400_000); // the purge is due
      const during = await claimWhileOpen((http) =>
        http.post(`${t.base}/users/${u}/offboard`, { reason: "left" }).expect(200),
      );
      await assertHeld(key, during);
    });

    it("a change while its job runs leaves a new pending job, which runs after it", async () => {
      const t = await tenant(ctx, "hold-running");
      const u = await t.user("running@example.com");
      const g1 = await t.group("Running 1");
      const g2 = await t.group("Running 2");
      const key = `sync-roles/${t.tenantId}/u/${u}`;
      await t.scim
        .patch(`/Groups/${g1}`, patchOp({ op: "add", path: "members", value: [{ value: u }] }))
        .expect(204);
      await claim(); // the user's sync now runs (it may have read the state before the next change)
      const running = await ctx.deps.db("jobs").where({ dedupe_key: key, state: "running" }).first();
      assert.ok(running, "the user's sync is running");
      await t.scim
        .patch(`/Groups/${g2}`, patchOp({ op: "add", path: "members", value: [{ value: u }] }))
        .expect(204);
      const pending = await ctx.deps.db("jobs").where({ dedupe_key: key, state: "pending" }).first();
      assert.ok(
        pending && Number(pending.id) > Number(running.id),
        "a new pending sync after the running one",
      );
      await completeJob(ctx.deps.db, Number(running.id), ctx.deps.now());
      assert.ok((await claim()).includes(key), "the new sync is claimable");
    });

    it("a writer that holds a pending job and then takes the tenant lock does not deadlock with a settings change", async () => {
      const t = await tenant(ctx, "hold-order");
      const key = `sync-roles/${t.tenantId}/all`;
      await t.a.post(`${t.base}/roles/recompute`).expect(202);
      const u = await t.user("order@example.com");
      // Writer B holds the tenant-wide sync (a keyed job, enqueued first as the rule says) ...
      const b = await ctx.deps.db.transaction();
      try {
        await enqueueJobs(
          b,
          [{ name: "sync-roles", tenantId: t.tenantId, payload: { all: true }, dedupeKey: key }],
          ctx.deps.now(),
        );
        // ... while writer A changes the default role, which implies the same job.
        const a = t.a.patch(t.base, { settings: { defaultRole: "admin" } }).then((r) => r);
        const bPid = (await b.raw("select pg_backend_pid() as pid")).rows[0].pid;
        await eventually(
          async () =>
            (
              await ctx.deps.db.raw("select 1 from pg_stat_activity where ? = any(pg_blocking_pids(pid))", [
                bPid,
              ])
            ).rows.length > 0,
          10_000,
          "writer A waits for the job writer B holds",
        );
        // B now takes the tenant's sequence lock: A must not be holding it.
        await commitChanges(
          b,
          t.tenantId,
          new ChangeSet().add("user.updated", { userId: u }),
          ctx.deps.now().toISOString(),
        );
        await b.commit();
        const res = await a;
        assert.equal(res.status, 200, JSON.stringify(res.body));
      } finally {
        if (!b.isCompleted()) await b.rollback();
      }
    });

    it("writers enqueueing overlapping keys in opposite orders and taking the tenant lock do not deadlock", async () => {
      const t = await tenant(ctx, "hold-many");
      await t.a.post(`${t.base}/webhooks`, { url: "http://127.0.0.1:9/hook", events: ["*"] }).expect(201);
      const users: string[] = [];
      for (let i = 0; i < 40; i++) users.push(await t.user(`many${i}@example.com`));
      const g = await t.group("Many");
      const write = (ids: string[]) =>
        ctx.deps.db.transaction(async (trx) => {
          const changes = new ChangeSet();
          for (const userId of ids) changes.add("group.user_added", { userId, groupId: g });
          await commitChanges(trx, t.tenantId, changes, ctx.deps.now().toISOString());
        });
      for (let round = 0; round < 15; round++) {
        const results = await Promise.allSettled([write(users), write([...users].reverse()), write(users)]);
        const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
        assert.deepEqual(
          failed.map((f) => String(f.reason?.message ?? f.reason).slice(-120)),
          [],
          `round ${round}: a writer failed`,
        );
        if (round % 3 === 2) await claim(); // some keys pending, some new: both kinds of wait
      }
    });
  });
}
