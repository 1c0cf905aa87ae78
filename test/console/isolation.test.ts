import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  admin,
  allBackends,
  createTenantWithToken,
  type TestContext,
  createTestContext,
} from "../helpers/context.js";
import { TestIdp } from "../helpers/test-idp.js";
import { ConsoleClient } from "./helpers.js";

const ALL = ["sso", "scim", "members", "roles", "events"];

for (const backend of allBackends()) {
  describe(`console isolation [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let acme: ConsoleClient;
    let globexTokenId: string;
    let globexTestId: string;
    const idp = new TestIdp();
    before(async () => {
      ctx = await createTestContext(backend);
      await createTenantWithToken(ctx, "acme");
      await createTenantWithToken(ctx, "globex");
      const a = admin(ctx);
      for (const slug of ["acme", "globex"])
        await a
          .put(`/admin/v1/tenants/${slug}/saml`, {
            idpEntityId: idp.entityId,
            ssoUrl: idp.ssoUrl,
            certificates: [idp.keys.certificate],
          })
          .expect(200);
      globexTokenId = (await a.get("/admin/v1/tenants/globex/scim-tokens")).body.scimTokens[0].id;
      globexTestId = (await a.post("/admin/v1/tenants/globex/saml/test").expect(201)).body.id;
      const link = await a.post("/admin/v1/tenants/acme/setup-links", { scopes: ALL }).expect(201);
      acme = new ConsoleClient(ctx);
      assert.equal((await acme.exchange(link.body.url)).status, 303);
      await acme.get("/console/t/acme/sso");
    });
    after(() => ctx.close());

    const globexState = async () => {
      const t = await ctx.deps.db("tenants").where({ slug: "globex" }).first();
      const conn = await ctx.deps.db("saml_connections").where({ tenant_id: t.id }).first();
      const tokens = await ctx.deps.db("scim_tokens").where({ tenant_id: t.id }).orderBy("id");
      return JSON.stringify({ t, conn, tokens: tokens.map((x: any) => [x.id, x.revoked_at]) });
    };

    it("every page of another tenant is not found for a tenant session", async () => {
      for (const url of [
        "/console/t/globex/sso",
        "/console/t/globex/sso?provider=okta",
        `/console/t/globex/sso?test=${globexTestId}`,
        `/console/t/globex/sso/test/${globexTestId}`,
        "/console/t/globex/sso/sp-certificate.pem",
        "/console/t/globex/scim",
        "/console/t/globex/members",
        "/console/t/globex/roles",
        "/console/t/globex/events",
      ])
        assert.equal((await acme.get(url)).status, 404, url);
      // Another tenant's test id through the own tenant's URL: not found either.
      assert.equal((await acme.get(`/console/t/acme/sso/test/${globexTestId}`)).status, 404);
      const own = await acme.get(`/console/t/acme/sso?test=${globexTestId}`);
      assert.equal(own.status, 200);
      assert.doesNotMatch(own.text, new RegExp(globexTestId), "another tenant's test is not shown");
    });

    it("every action on another tenant is refused and changes nothing", async () => {
      const before = await globexState();
      const posts: Array<[string, Record<string, string>]> = [
        [
          "/console/t/globex/sso/idp",
          {
            provider: "okta",
            ssoUrl: "https://evil.test/sso",
            idpEntityId: "x",
            certificate: idp.keys.certificate,
          },
        ],
        ["/console/t/globex/sso/test", {}],
        ["/console/t/globex/sso/enable", {}],
        ["/console/t/globex/sso/disable", {}],
        ["/console/t/globex/sso/provisioning", { provisioning: "jit", defaultRole: "admin" }],
        ["/console/t/globex/scim/tokens", { name: "stolen" }],
        [`/console/t/globex/scim/tokens/${globexTokenId}/revoke`, {}],
        [`/console/t/acme/scim/tokens/${globexTokenId}/revoke`, {}],
      ];
      for (const [url, form] of posts) assert.equal((await acme.post(url, form)).status, 404, url);
      assert.equal(await globexState(), before);
    });

    it("operator pages and actions are not found for a tenant session", async () => {
      for (const url of [
        "/console/operator/tenants",
        "/console/operator/tenants/globex",
        "/console/operator/admin-keys",
        "/console/operator/jobs",
        "/console/operator/health",
        "/console/operator/tenants/globex/setup-links",
      ])
        assert.equal((await acme.get(url)).status, 404, url);
      const before = await globexState();
      for (const url of [
        "/console/operator/tenants",
        "/console/operator/tenants/globex",
        "/console/operator/tenants/globex/delete",
        "/console/operator/admin-keys",
        "/console/operator/jobs/1/retry",
        "/console/operator/tenants/globex/setup-links",
      ])
        assert.equal((await acme.post(url, { name: "x", slug: "x", confirm: "globex" })).status, 404, url);
      assert.equal(await globexState(), before);
      assert.ok(await ctx.deps.db("tenants").where({ slug: "globex" }).first());
    });

    it("every action without the CSRF token is refused", async () => {
      const posts = [
        "/console/t/acme/sso/idp",
        "/console/t/acme/sso/test",
        "/console/t/acme/sso/enable",
        "/console/t/acme/sso/disable",
        "/console/t/acme/sso/provisioning",
        "/console/t/acme/scim/tokens",
        "/console/sign-out",
      ];
      for (const url of posts) {
        assert.equal((await acme.post(url, {}, false)).status, 403, url);
        assert.equal((await acme.post(url, { _csrf: "x".repeat(43) })).status, 403, url);
      }
      const op = new ConsoleClient(ctx);
      await op.get("/console/sign-in");
      await op.post("/console/sign-in", { key: ctx.adminToken });
      await op.get("/console/operator/tenants");
      for (const url of [
        "/console/operator/tenants",
        "/console/operator/tenants/globex/delete",
        "/console/operator/admin-keys",
      ])
        assert.equal(
          (await op.post(url, { name: "x", slug: "zz", confirm: "globex" }, false)).status,
          403,
          url,
        );
      assert.ok(await ctx.deps.db("tenants").where({ slug: "globex" }).first());
      assert.equal(await ctx.deps.db("tenants").where({ slug: "zz" }).first(), undefined);
    });

    it("an expired session (absolute lifetime) reaches nothing", async () => {
      const a = admin(ctx);
      const link = await a.post("/admin/v1/tenants/acme/setup-links", { scopes: ALL }).expect(201);
      const b = new ConsoleClient(ctx);
      await b.exchange(link.body.url);
      for (let i = 0; i < 26; i++) {
        ctx.clock.advance(29 * 60_000); // active, never idle: the 12-hour lifetime ends it
        await b.get("/console/t/acme/sso");
      }
      const res = await b.get("/console/t/acme/sso");
      assert.equal(res.status, 303);
      assert.equal((await b.post("/console/t/acme/sso/disable")).status, 401);
    });

    it("operators see every tenant; typed confirmation guards tenant deletion", async () => {
      const op = new ConsoleClient(ctx);
      await op.get("/console/sign-in");
      await op.post("/console/sign-in", { key: ctx.adminToken });
      assert.equal((await op.get("/console/t/globex/sso")).status, 200);
      await op.get("/console/operator/tenants/globex");
      assert.equal(
        (await op.post("/console/operator/tenants/globex/delete", { confirm: "glob" })).status,
        400,
      );
      assert.ok(await ctx.deps.db("tenants").where({ slug: "globex" }).first());
    });
  });
}
