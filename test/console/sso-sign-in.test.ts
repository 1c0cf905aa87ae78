import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { rolesOfUser } from "../../src/sso/roles.js";
import { admin, allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { addUser, Browser, setupSso, type SsoTenant } from "../saml/sso-helpers.js";
import { ConsoleClient } from "./helpers.js";

for (const backend of allBackends()) {
  describe(`console sign-in through the tenant's SSO [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let t: SsoTenant;
    let aliceId: string;
    let bobId: string;
    before(async () => {
      ctx = await createTestContext(backend);
      await ctx.deps.driver.start(); // role syncs run as jobs
      t = await setupSso(ctx, "acme");
      await setupSso(ctx, "globex");
      aliceId = await addUser(t, "alice@acme.test", {
        emails: [{ value: "alice@acme.test", primary: true }],
      });
      bobId = await addUser(t, "bob@acme.test", {
        emails: [{ value: "bob@acme.test", primary: true }],
      });
      await admin(ctx).put(`/admin/v1/tenants/acme/users/${aliceId}/roles/admin`).expect(204);
      await rolesSettled(aliceId, "admin");
      // Bob's default role comes from his own role sync: wait for it, or "member" tests race it.
      await rolesSettled(bobId, "member");
    });

    /** The role-sync job runs after the change commits: wait (bounded) until the user holds the role. */
    async function rolesSettled(userId: string, role: string) {
      const tenant = await ctx.deps.db("tenants").where({ slug: "acme" }).first();
      for (let i = 0; i < 750; i++) {
        if ((await rolesOfUser(ctx.deps.db, tenant.id, userId)).includes(role)) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`user ${userId} never got role ${role}`);
    }
    after(() => ctx.close());

    /** Log in at the test IdP and land on the console callback; returns a console client with the cookies. */
    async function ssoSignIn(nameId: string) {
      const b = new Browser(ctx);
      const start = await b.get(`/console/sso/start?tenant=acme`);
      assert.equal(start.status, 200);
      const next = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(start.text)![1].replace(/&amp;/g, "&");
      assert.equal(next, "/sso/acme/login?return_to=%2Fconsole%2Fsso%2Fcallback");
      const login = await b.get(next);
      assert.equal(login.status, 302);
      const requestId = /ID="([^"]+)"/.exec(
        (await import("node:zlib"))
          .inflateRawSync(
            Buffer.from(new URL(login.headers.location).searchParams.get("SAMLRequest")!, "base64"),
          )
          .toString("utf8"),
      )![1];
      const acs = await b.acs("acme", await t.idp.response(t.opts({ nameId, inResponseTo: requestId })));
      assert.equal(acs.status, 302, acs.text);
      assert.equal(acs.headers.location, "https://roster.test/console/sso/callback");
      const c = new ConsoleClient(ctx);
      for (const [k, v] of b.cookies) c.cookies.set(k, v);
      const callback = await c.get("/console/sso/callback");
      return { c, callback };
    }

    it("a member holding a consoleRoles role gets a console session for their tenant alone", async () => {
      const { c, callback } = await ssoSignIn("alice@acme.test");
      assert.equal(callback.status, 200, callback.text);
      assert.match(callback.text, /http-equiv="refresh" content="0;url=\/console\/t\/acme\/sso"/);
      assert.equal((await c.get("/console/t/acme/sso")).status, 200);
      assert.equal((await c.get("/console/t/acme/scim")).status, 200);
      assert.equal((await c.get("/console/t/globex/sso")).status, 404);
      assert.equal((await c.get("/console/operator/tenants")).status, 404);
      const tenant = await ctx.deps.db("tenants").where({ slug: "acme" }).first();
      const events = (
        await ctx.deps.db("events").where({ tenant_id: tenant.id, type: "console.action" })
      ).map((e: any) => JSON.parse(e.data));
      assert.deepEqual(events.find((e: any) => e.action === "console.sign_in.sso").actor, {
        kind: "directory_user",
        id: aliceId,
      });
    });

    it("a member without a console role is refused", async () => {
      const { callback } = await ssoSignIn("bob@acme.test");
      assert.equal(callback.status, 403);
      assert.match(
        callback.text,
        /does not have a role that may administer Acme|does not have a role that may administer Tenant acme/,
      );
      assert.ok(!String(callback.headers["set-cookie"] ?? "").includes("roster_console="));
    });

    it('consoleRoles is a tenant setting: with ["it"] a holder of "it" gets in', async () => {
      await admin(ctx).post("/admin/v1/tenants/acme/roles", { key: "it", name: "IT" }).expect(201);
      await admin(ctx).put(`/admin/v1/tenants/acme/users/${bobId}/roles/it`).expect(204);
      await rolesSettled(bobId, "it");
      await admin(ctx)
        .patch("/admin/v1/tenants/acme", { settings: { consoleRoles: ["it"] } })
        .expect(200);
      try {
        const { callback } = await ssoSignIn("bob@acme.test");
        assert.equal(callback.status, 200);
      } finally {
        await admin(ctx)
          .patch("/admin/v1/tenants/acme", { settings: { consoleRoles: ["admin"] } })
          .expect(200);
      }
    });

    it("offboarding the admin ends their console session with their other sessions", async () => {
      const { c } = await ssoSignIn("alice@acme.test");
      assert.equal((await c.get("/console/t/acme/sso")).status, 200);
      await admin(ctx)
        .post(`/admin/v1/tenants/acme/users/${aliceId}/offboard`, { reason: "left" })
        .expect(200);
      const res = await c.get("/console/t/acme/sso");
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, "/console/sign-in");
    });
  });
}
