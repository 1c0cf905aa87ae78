import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { admin, allBackends, createTestContext, type TestContext, userBody } from "../helpers/context.js";
import { TestDnsServer } from "../helpers/dns-server.js";
import { TestOp } from "../helpers/test-op.js";
import { Browser, setupSso } from "../saml/sso-helpers.js";
import { oidcLogin, redirectUri, refusalCode, setupOidc } from "./oidc-helpers.js";

const SLUGS = ["oco", "mix", "gw"];
const DAY = 86_400_000;

for (const backend of allBackends()) {
  describe(`OpenID Connect in the connections registry, routing and Require SSO [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    let op: TestOp;
    let a: ReturnType<typeof admin>;
    const dns = new TestDnsServer();
    const conn = (s: string) => ({
      issuer: op.issuer,
      clientId: `roster-${s}`,
      clientSecret: `secret-${s}-0123456789`,
    });
    const discover = async (email: string) =>
      (await ctx.http.get(`/sso/discover?email=${encodeURIComponent(email)}`).expect(200)).body;
    async function verify(slug: string, domain: string) {
      const claim = (await a.post(`/admin/v1/tenants/${slug}/domains`, { domain }).expect(201)).body;
      dns.setTxt(claim.verification.name, claim.verification.value);
      const v = await a.post(`/admin/v1/tenants/${slug}/domains/${domain}/verify`).expect(200);
      assert.equal(v.body.status, "verified");
    }

    before(async () => {
      await dns.start();
      ctx = await createTestContext(backend, { env: { ROSTER_DNS_SERVERS: dns.address } });
      a = admin(ctx);
      op = await TestOp.start(
        SLUGS.map((s) => ({
          clientId: `roster-${s}`,
          clientSecret: `secret-${s}-0123456789`,
          redirectUris: [redirectUri(s)],
        })),
      );
      op.account("ann", { email: "ann@oco.test", email_verified: true, name: "Ann" });
      op.account("gw-ann", { email: "ann@verified.test", email_verified: true, hd: "verified.test" });
      op.account("gw-evil", { email: "ann@verified.test", email_verified: true, hd: "evil.test" });
    });
    after(async () => {
      await ctx.close();
      await op.close();
      await dns.close();
    });

    it("an OIDC-only tenant: its verified domain routes to /sso/{slug}/oidc/login, listed in the registry", async () => {
      const t = await setupOidc(ctx, "oco", { preset: "okta", ...conn("oco") });
      await verify("oco", "oco.test");
      // Listed on the connection: claimed, so routed to it (domains.connection_id = its id).
      const put = await a.put("/admin/v1/tenants/oco/oidc", { domains: ["oco.test"] }).expect(200);
      assert.equal(put.body.state, "enabled");
      const list = (await a.get("/admin/v1/tenants/oco/connections").expect(200)).body.connections;
      assert.deepEqual(list, [
        {
          id: put.body.id,
          type: "oidc",
          name: put.body.name,
          domains: ["oco.test"],
          state: "enabled",
          loginUrl: "https://roster.test/sso/oco/oidc/login",
        },
      ]);
      // The /oidc contract is unchanged.
      assert.equal((await a.get("/admin/v1/tenants/oco/oidc").expect(200)).body.type, "oidc");
      assert.deepEqual(await discover("Ann@OCO.test"), {
        sso: true,
        required: false,
        tenant: "oco",
        connection: put.body.id,
        loginUrl: "https://roster.test/sso/oco/oidc/login",
      });
      const go = await ctx.http.get("/sso/login?login_hint=ann%40oco.test").expect(302);
      assert.equal(go.headers.location, "https://roster.test/sso/oco/oidc/login");
      // Following it signs in at the real provider.
      await t.scim.post("/Users", userBody("ann@oco.test")).expect(201);
      const back = await oidcLogin(new Browser(ctx), "oco", op, "ann");
      assert.equal(back.status, 302, back.text.slice(0, 300));
      // Disabled: no route, the same answer as a domain nobody claimed.
      await a.post("/admin/v1/tenants/oco/oidc/disable").expect(200);
      assert.deepEqual(await discover("ann@oco.test"), { sso: false });
      await a.post("/admin/v1/tenants/oco/oidc/enable").expect(409);
    });

    it("Require SSO accepts an enabled OIDC connection tested in the last 30 days", async () => {
      const t = await setupOidc(ctx, "req", { preset: "okta", ...conn("oco") });
      await verify("req", "req.test");
      await a.put("/admin/v1/tenants/req/oidc", { domains: ["req.test"] }).expect(200);
      const on = { requireSso: true, breakGlass: ["it@req.test"] };
      const old = new Date(ctx.clock.now().getTime() - 31 * DAY).toISOString();
      await ctx.deps.db("oidc_connections").where({ tenant_id: t.tenantId }).update({ tested_at: old });
      const refused = await a.put("/admin/v1/tenants/req/sso-policy", on).expect(409);
      assert.equal(refused.body.error.code, "SSO_POLICY_NOT_TESTED");
      const fresh = new Date(ctx.clock.now().getTime() - 29 * DAY).toISOString();
      await ctx.deps.db("oidc_connections").where({ tenant_id: t.tenantId }).update({ tested_at: fresh });
      assert.equal((await a.put("/admin/v1/tenants/req/sso-policy", on).expect(200)).body.requireSso, true);
      assert.equal((await discover("bob@req.test")).required, true);
      assert.equal((await discover("bob@req.test")).loginUrl, "https://roster.test/sso/req/oidc/login");
      await a.put("/admin/v1/tenants/req/sso-policy", { requireSso: false }).expect(200);
      // Disabled: nothing enabled to require.
      await a.post("/admin/v1/tenants/req/oidc/disable").expect(200);
      const none = await a.put("/admin/v1/tenants/req/sso-policy", on).expect(409);
      assert.equal(none.body.error.code, "SSO_POLICY_NO_ENABLED_CONNECTION");
    });

    it("SAML and OIDC side by side: the domain listed on OIDC routes there, the others to SAML; DELETE …/oidc routes it back", async () => {
      await setupSso(ctx, "mix");
      const saml = (await a.get("/admin/v1/tenants/mix/saml").expect(200)).body.id;
      await verify("mix", "mix.test");
      await verify("mix", "mix-oidc.test");
      const put = await a
        .put("/admin/v1/tenants/mix/oidc", { preset: "okta", domains: ["mix-oidc.test"], ...conn("mix") })
        .expect(200);
      assert.equal((await discover("x@mix.test")).loginUrl, "https://roster.test/sso/mix/login");
      // Not enabled yet: the OIDC domain has no route.
      assert.deepEqual(await discover("x@mix-oidc.test"), { sso: false });
      const { markOidcTested } = await import("../../src/sso/oidc/connection-store.js");
      const tenantId = (await ctx.deps.db("tenants").where({ slug: "mix" }).first()).id;
      await markOidcTested(ctx.deps.db, tenantId, put.body.configVersion, ctx.clock.now().toISOString());
      await a.post("/admin/v1/tenants/mix/oidc/enable").expect(200);
      const routed = await discover("x@mix-oidc.test");
      assert.equal(routed.connection, put.body.id);
      assert.equal(routed.loginUrl, "https://roster.test/sso/mix/oidc/login");
      const list = (await a.get("/admin/v1/tenants/mix/connections").expect(200)).body.connections;
      assert.deepEqual(
        list.map((c: any) => [c.type, c.id, c.domains]),
        [
          ["saml", saml, ["mix.test"]],
          ["oidc", put.body.id, ["mix-oidc.test"]],
        ],
      );
      // Another tenant's registry shows none of it.
      assert.deepEqual(
        (await a.get("/admin/v1/tenants/oco/connections").expect(200)).body.connections
          .map((c: any) => c.id)
          .includes(put.body.id),
        false,
      );
      await a.delete("/admin/v1/tenants/mix/oidc").expect(204);
      assert.equal((await discover("x@mix-oidc.test")).loginUrl, "https://roster.test/sso/mix/login");
    });

    it("Google: hd may name one of the tenant's verified domains as well as the connection's", async () => {
      const t = await setupOidc(ctx, "gw", { preset: "google", domains: ["gw.test"], ...conn("gw") });
      await t.scim.post("/Users", userBody("ann@verified.test")).expect(201);
      assert.equal(
        refusalCode((await oidcLogin(new Browser(ctx), "gw", op, "gw-ann")).text),
        "HOSTED_DOMAIN_MISMATCH",
      );
      await verify("gw", "verified.test");
      assert.equal((await oidcLogin(new Browser(ctx), "gw", op, "gw-ann")).status, 302);
      assert.equal(
        refusalCode((await oidcLogin(new Browser(ctx), "gw", op, "gw-evil")).text),
        "HOSTED_DOMAIN_MISMATCH",
      );
    });
  });
}
