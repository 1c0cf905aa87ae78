import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createSession } from "../../src/access/sessions.js";
import { allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { tenant } from "../roles/helpers.js";
import { ConsoleClient } from "./helpers.js";

for (const backend of allBackends()) {
  describe(`console members pages [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let acme: Awaited<ReturnType<typeof tenant>>;
    let globex: Awaited<ReturnType<typeof tenant>>;
    let admin: ConsoleClient;
    let linkId: string;
    const ids: Record<string, string> = {};
    const m = "/console/t/acme/members";

    before(async () => {
      ctx = await createTestContext(backend);
      await ctx.deps.driver.start();
      acme = await tenant(ctx, "acme");
      globex = await tenant(ctx, "globex");
      ids.ann = await acme.user("ann@acme.test", {
        displayName: "Ann Lee",
        emails: [{ value: "ann@acme.test" }],
      });
      ids.bob = await acme.user("bob@acme.test", { displayName: "Bob Stone" });
      ids.eve = await globex.user("eve@globex.test", { displayName: "Eve Other" });
      const staff = await acme.group("Staff", [ids.ann]);
      await acme.a
        .post("/admin/v1/tenants/acme/role-mappings", { groupId: staff, role: "admin" })
        .expect(201);
      await acme.waitKeys(ids.ann, "admin");
      // Bob holds the default role once his role sync has run (the page shows it with its reason).
      await acme.waitKeys(ids.bob, "member");
      const link = await acme.a
        .post("/admin/v1/tenants/acme/setup-links", { scopes: ["members"] })
        .expect(201);
      linkId = link.body.id;
      admin = new ConsoleClient(ctx);
      assert.equal((await admin.exchange(link.body.url)).status, 303);
    });
    after(async () => {
      await ctx.deps.driver.stop(5000);
      await ctx.close();
    });

    const consoleActions = async () =>
      (await acme.events("console.action")).map(
        (e) => `${e.data.action} ${e.data.actor.kind}:${e.data.actor.id}`,
      );

    it("lists members with server-side search and status filter", async () => {
      const all = await admin.get(m);
      assert.equal(all.status, 200);
      assert.match(all.text, /Ann Lee/);
      assert.match(all.text, /Bob Stone/);
      assert.doesNotMatch(all.text, /Eve Other/, "another tenant's member is not listed");
      const found = await admin.get(`${m}?q=bob`);
      assert.match(found.text, /Bob Stone/);
      assert.doesNotMatch(found.text, /Ann Lee/);
      const none = await admin.get(`${m}?status=deactivated`);
      assert.match(none.text, /No member matches/);
    });

    it("shows a member's roles with their reasons, groups and attributes", async () => {
      const page = await admin.get(`${m}/${ids.ann}`);
      assert.equal(page.status, 200);
      assert.match(page.text, /Member of group “Staff”, mapped to this role/);
      assert.match(page.text, /Administrator/);
      const bob = await admin.get(`${m}/${ids.bob}`);
      assert.match(bob.text, /Default role of the workspace/);
    });

    it("grants and removes a role by hand, recording who did it", async () => {
      await admin.get(`${m}/${ids.bob}`);
      const res = await admin.post(`${m}/${ids.bob}/roles`, { role: "admin" });
      assert.equal(res.status, 303);
      await acme.waitKeys(ids.bob, "admin");
      assert.match((await admin.get(`${m}/${ids.bob}`)).text, /Assigned by hand/);
      assert.equal((await admin.post(`${m}/${ids.bob}/roles/remove`, { role: "admin" })).status, 303);
      await acme.waitKeys(ids.bob, "member");
      const actions = await consoleActions();
      assert.ok(actions.includes(`member.role.grant setup_link:${linkId}`), actions.join("\n"));
      assert.ok(actions.includes(`member.role.remove setup_link:${linkId}`));
    });

    it("invites a member with a role", async () => {
      await admin.get(`${m}/invite`);
      const bad = await admin.post(`${m}/invite`, { userName: "", role: "admin" });
      assert.equal(bad.status, 400);
      assert.match(bad.text, /field-error/);
      const res = await admin.post(`${m}/invite`, {
        userName: "ivy@acme.test",
        email: "ivy@acme.test",
        role: "admin",
      });
      assert.equal(res.status, 303);
      const id = /members\/([^?]+)\?done=invited/.exec(res.headers.location)?.[1];
      assert.ok(id);
      await acme.waitKeys(id, "admin");
      assert.match((await admin.get(`${m}?status=invited`)).text, /ivy@acme\.test/);
      const dup = await admin.post(`${m}/invite`, { userName: "IVY@acme.test", role: "member" });
      assert.equal(dup.status, 400);
      assert.match(dup.text, /already in use/);
    });

    it("ends a live session and offboards with a typed confirmation and a reason", async () => {
      const { session } = await createSession(ctx.deps.db, {
        tenantId: acme.tenantId,
        userId: ids.bob,
        nameId: null,
        sessionIndex: null,
        ttlMs: 3_600_000,
        now: ctx.clock.now(),
      });
      const other = await createSession(ctx.deps.db, {
        tenantId: acme.tenantId,
        userId: ids.bob,
        nameId: null,
        sessionIndex: null,
        ttlMs: 3_600_000,
        now: ctx.clock.now(),
      });
      assert.match((await admin.get(`${m}/${ids.bob}`)).text, /End session/);
      // Another member's session through Bob's page: not found.
      assert.equal((await admin.post(`${m}/${ids.ann}/sessions/${session.id}/revoke`)).status, 404);
      assert.equal((await admin.post(`${m}/${ids.bob}/sessions/${session.id}/revoke`)).status, 303);
      const row = await ctx.deps.db("sessions").where({ id: session.id }).first();
      assert.ok(row.revoked_at);
      const wrong = await admin.post(`${m}/${ids.bob}/offboard`, { confirm: "bob", reason: "left" });
      assert.equal(wrong.status, 400);
      assert.equal((await ctx.deps.db("users").where({ id: ids.bob }).first()).active ? 1 : 0, 1);
      const ok = await admin.post(`${m}/${ids.bob}/offboard`, {
        confirm: "bob@acme.test",
        reason: "Left the company",
      });
      assert.equal(ok.status, 303);
      const user = await ctx.deps.db("users").where({ id: ids.bob }).first();
      assert.ok(!user.active || user.active === 0);
      assert.ok((await ctx.deps.db("sessions").where({ id: other.session.id }).first()).revoked_at);
      const receipts = (await acme.a.get(`/admin/v1/tenants/acme/users/${ids.bob}/revocations`).expect(200))
        .body.revocations;
      assert.equal(receipts[0].reason, "Left the company");
      assert.deepEqual(receipts[0].actor, { kind: "setup_link", id: linkId });
      const page = await admin.get(`${m}/${ids.bob}`);
      assert.match(page.text, /Left the company/);
      assert.match(page.text, /deactivated/);
      const actions = await consoleActions();
      assert.ok(actions.includes(`member.offboard setup_link:${linkId}`));
      assert.ok(actions.includes(`member.session.revoke setup_link:${linkId}`));
    });

    it("never reaches another tenant's members, whatever the URL or form says", async () => {
      const before = JSON.stringify(await ctx.deps.db("users").where({ id: ids.eve }).first());
      const sessionsBefore = await ctx.deps.db("sessions").where({ user_id: ids.eve }).count({ n: "*" });
      const { session } = await createSession(ctx.deps.db, {
        tenantId: globex.tenantId,
        userId: ids.eve,
        nameId: null,
        sessionIndex: null,
        ttlMs: 3_600_000,
        now: ctx.clock.now(),
      });
      await admin.get(m);
      for (const url of [
        `${m}/${ids.eve}`,
        "/console/t/globex/members",
        `/console/t/globex/members/${ids.eve}`,
        "/console/t/globex/members/invite",
      ])
        assert.equal((await admin.get(url)).status, 404, url);
      for (const [url, form] of [
        [`${m}/${ids.eve}/roles`, { role: "admin" }],
        [`${m}/${ids.eve}/roles/remove`, { role: "member" }],
        [`${m}/${ids.eve}/offboard`, { confirm: "eve@globex.test" }],
        [`${m}/${ids.eve}/sessions/${session.id}/revoke`, {}],
        [`${m}/${ids.ann}/sessions/${session.id}/revoke`, {}],
        [`/console/t/globex/members/${ids.eve}/offboard`, { confirm: "eve@globex.test" }],
        [`/console/t/globex/members/${ids.eve}/roles`, { role: "admin" }],
        ["/console/t/globex/members/invite", { userName: "x@globex.test" }],
      ] as const)
        assert.equal((await admin.post(url, form)).status, 404, url);
      assert.equal(JSON.stringify(await ctx.deps.db("users").where({ id: ids.eve }).first()), before);
      assert.equal((await ctx.deps.db("sessions").where({ id: session.id }).first()).revoked_at, null);
      assert.equal(await ctx.deps.db("manual_roles").where({ user_id: ids.eve }).first(), undefined);
      assert.ok(sessionsBefore);
      assert.equal(await ctx.deps.db("users").where({ user_name: "x@globex.test" }).first(), undefined);
    });

    it("refuses every action without the CSRF token", async () => {
      for (const url of [
        `${m}/${ids.ann}/roles`,
        `${m}/${ids.ann}/roles/remove`,
        `${m}/${ids.ann}/offboard`,
        `${m}/invite`,
      ]) {
        assert.equal(
          (await admin.post(url, { role: "member", confirm: "ann@acme.test" }, false)).status,
          403,
          url,
        );
        assert.equal((await admin.post(url, { _csrf: "x".repeat(43), role: "member" })).status, 403, url);
      }
      assert.equal((await ctx.deps.db("users").where({ id: ids.ann }).first()).active ? 1 : 0, 1);
    });

    it("a session without the members scope cannot open the pages", async () => {
      const link = await acme.a.post("/admin/v1/tenants/acme/setup-links", { scopes: ["sso"] }).expect(201);
      const sso = new ConsoleClient(ctx);
      await sso.exchange(link.body.url);
      assert.equal((await sso.get(m)).status, 403);
      await sso.get("/console/t/acme/sso");
      assert.equal((await sso.post(`${m}/${ids.ann}/offboard`, { confirm: "ann@acme.test" })).status, 403);
    });
  });
}
