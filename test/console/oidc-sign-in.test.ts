import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { rolesOfUser } from "../../src/sso/roles.js";
import { admin, allBackends, createTestContext, type TestContext, userBody } from "../helpers/context.js";
import { TestOp } from "../helpers/test-op.js";
import { type OidcTenant, redirectUri, setupOidc } from "../oidc/oidc-helpers.js";
import { Browser } from "../saml/sso-helpers.js";
import { ConsoleClient } from "./helpers.js";

// Console sign-in for a tenant whose enabled connection is OpenID Connect (no SAML connection):
// /console/sso/start hands over to the OIDC login, a real oidc-provider on loopback signs in.
for (const backend of allBackends()) {
  describe(`console sign-in through the tenant's OpenID Connect [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    let op: TestOp;
    let t: OidcTenant;
    let annId: string;
    before(async () => {
      ctx = await createTestContext(backend);
      await ctx.deps.driver.start(); // role syncs run as jobs
      op = await TestOp.start([
        {
          clientId: "roster-oc",
          clientSecret: "secret-oc-0123456789",
          redirectUris: [redirectUri("oidc-co")],
        },
      ]);
      t = await setupOidc(ctx, "oidc-co", {
        preset: "okta",
        issuer: op.issuer,
        clientId: "roster-oc",
        clientSecret: "secret-oc-0123456789",
      });
      op.account("ann", { email: "ann@oidc.test", email_verified: true, name: "Ann" });
      op.account("bob", { email: "bob@oidc.test", email_verified: true, name: "Bob" });
      annId = (await t.scim.post("/Users", userBody("ann@oidc.test")).expect(201)).body.id;
      await t.scim.post("/Users", userBody("bob@oidc.test")).expect(201);
      await admin(ctx).put(`/admin/v1/tenants/oidc-co/users/${annId}/roles/admin`).expect(204);
      for (let i = 0; i < 250; i++) {
        if ((await rolesOfUser(ctx.deps.db, t.tenantId, annId)).includes("admin")) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    after(async () => {
      await op.close();
      await ctx.close();
    });

    async function signIn(account: string) {
      const b = new Browser(ctx);
      const start = await b.get("/console/sso/start?tenant=oidc-co");
      assert.equal(start.status, 200);
      const next = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(start.text)![1].replace(/&amp;/g, "&");
      assert.equal(next, "/sso/oidc-co/oidc/login?return_to=%2Fconsole%2Fsso%2Fcallback");
      const login = await b.get(next, 302);
      const back = await op.login(login.headers.location, account);
      const cb = await b.get(back.pathname + back.search);
      assert.equal(cb.status, 302, cb.text);
      assert.equal(cb.headers.location, "https://roster.test/console/sso/callback");
      const c = new ConsoleClient(ctx);
      for (const [k, v] of b.cookies) c.cookies.set(k, v);
      return { c, callback: await c.get("/console/sso/callback") };
    }

    it("a consoleRoles holder signs in through the OIDC provider and gets their tenant's console", async () => {
      const { c, callback } = await signIn("ann");
      assert.equal(callback.status, 200, callback.text);
      assert.match(callback.text, /content="0;url=\/console\/t\/oidc-co\/sso"/);
      assert.equal((await c.get("/console/t/oidc-co/sso")).status, 200);
      assert.equal((await c.get("/console/operator/tenants")).status, 404);
      const events = (
        await ctx.deps.db("events").where({ tenant_id: t.tenantId, type: "console.action" })
      ).map((e: any) => JSON.parse(e.data));
      assert.deepEqual(events.find((e: any) => e.action === "console.sign_in.sso").actor, {
        kind: "directory_user",
        id: annId,
      });
    });

    it("a member without a console role is refused", async () => {
      const { callback } = await signIn("bob");
      assert.equal(callback.status, 403);
      assert.ok(!String(callback.headers["set-cookie"] ?? "").includes("roster_console="));
    });
  });
}
