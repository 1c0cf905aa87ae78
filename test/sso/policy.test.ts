import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  admin,
  allBackends,
  createTenantWithToken,
  createTestContext,
  eventually,
  type TestContext,
} from "../helpers/context.js";
import { TestDnsServer } from "../helpers/dns-server.js";
import { TestIdp } from "../helpers/test-idp.js";
import { addUser, eventsOf, type SsoTenant, setupSso } from "../saml/sso-helpers.js";

const MINUTE = 60_000;
const DAY = 86_400_000;

for (const backend of allBackends()) {
  describe(`Require SSO, break-glass and discover [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let a: ReturnType<typeof admin>;
    let acme: SsoTenant;
    let acmeConnection: string;
    const dns = new TestDnsServer();
    const policy = (slug: string) => `/admin/v1/tenants/${slug}/sso-policy`;
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
      acme = await setupSso(ctx, "acme");
      await setupSso(ctx, "rival", {}, new TestIdp());
      acmeConnection = (await a.get("/admin/v1/tenants/acme/saml").expect(200)).body.id;
    });
    after(async () => {
      await ctx.close();
      await dns.close();
    });

    it("turning requireSso on is refused, with the reason, until every condition holds; off always works", async () => {
      await createTenantWithToken(ctx, "bare");
      const on = { requireSso: true, breakGlass: ["it-admin@acme.test"] };
      const refused = async (slug: string, body: unknown, code: string) => {
        const res = await a.put(policy(slug), body).expect(409);
        assert.equal(res.body.error.code, code);
        assert.equal(res.body.error.details.reason, code);
      };
      await refused("bare", on, "SSO_POLICY_NO_ENABLED_CONNECTION");
      await a.put(policy("bare"), { requireSso: false }).expect(200);
      // A connection that is configured but not enabled.
      const draft = await createTenantWithToken(ctx, "draft");
      const idp = new TestIdp();
      await a
        .put("/admin/v1/tenants/draft/saml", {
          idpEntityId: idp.entityId,
          ssoUrl: idp.ssoUrl,
          certificates: [idp.keys.certificate],
        })
        .expect(200);
      await refused("draft", on, "SSO_POLICY_NO_ENABLED_CONNECTION");
      assert.ok(draft.tenantId);
      // Enabled, but its last successful test is 31 days old.
      const old = new Date(ctx.clock.now().getTime() - 31 * DAY).toISOString();
      await ctx.deps.db("saml_connections").where({ tenant_id: acme.tenantId }).update({ tested_at: old });
      await refused("acme", on, "SSO_POLICY_NOT_TESTED");
      const fresh = new Date(ctx.clock.now().getTime() - 29 * DAY).toISOString();
      await ctx.deps.db("saml_connections").where({ tenant_id: acme.tenantId }).update({ tested_at: fresh });
      // No verified domain: a pending claim does not count.
      await a.post("/admin/v1/tenants/acme/domains", { domain: "acme.test" }).expect(201);
      await refused("acme", on, "SSO_POLICY_NO_VERIFIED_DOMAIN");
      await a.delete("/admin/v1/tenants/acme/domains/acme.test").expect(204);
      await verify("acme", "acme.test");
      // No break-glass account.
      await refused("acme", { requireSso: true }, "SSO_POLICY_NO_BREAK_GLASS");
      await refused("acme", { requireSso: true, breakGlass: [] }, "SSO_POLICY_NO_BREAK_GLASS");
      await a.put(policy("acme"), { requireSso: true, breakGlass: ["not an email"] }).expect(400);
      const ok = await a
        .put(policy("acme"), { requireSso: true, breakGlass: ["IT-Admin@Acme.test"] })
        .expect(200);
      assert.equal(ok.body.requireSso, true);
      assert.deepEqual(ok.body.breakGlass, ["it-admin@acme.test"]);
      const changed = await eventsOf(ctx, acme.tenantId, "sso.policy_changed");
      assert.deepEqual(
        changed.map((e) => e.requireSso),
        [true],
      );
      assert.equal((await a.get(policy("acme")).expect(200)).body.requireSso, true);
      assert.equal((await a.get(policy("rival")).expect(200)).body.requireSso, false, "isolation");
    });

    it("discover: required for the verified domain; unverified and unknown domains answer the same {sso:false}", async () => {
      const alice = await discover("Alice@ACME.test");
      assert.deepEqual(alice, {
        sso: true,
        required: true,
        tenant: "acme",
        connection: acmeConnection,
        loginUrl: "https://roster.test/sso/acme/login",
      });
      // rival has an enabled connection and a pending claim of a domain; nobody claimed the other.
      await a.post("/admin/v1/tenants/rival/domains", { domain: "rival.test" }).expect(201);
      const pending = await ctx.http.get("/sso/discover?email=bob@rival.test").expect(200);
      const nobody = await ctx.http.get("/sso/discover?email=bob@nobody.test").expect(200);
      assert.deepEqual(pending.body, { sso: false });
      assert.equal(pending.text, nobody.text);
      assert.deepEqual(pending.headers["content-type"], nobody.headers["content-type"]);
      // Verified, without the policy: SSO, not required.
      await a.delete("/admin/v1/tenants/rival/domains/rival.test").expect(204);
      await verify("rival", "rival.test");
      assert.deepEqual(await discover("bob@rival.test"), {
        sso: true,
        required: false,
        tenant: "rival",
        connection: (await a.get("/admin/v1/tenants/rival/saml").expect(200)).body.id,
        loginUrl: "https://roster.test/sso/rival/login",
      });
      // A disabled connection routes nothing.
      await a.post("/admin/v1/tenants/rival/saml/disable").expect(200);
      assert.deepEqual(await discover("bob@rival.test"), { sso: false });
      for (const bad of ["", "no-at-sign", "@acme.test", "a@", "a b@acme.test", "x".repeat(400)])
        assert.deepEqual(await discover(bad), { sso: false }, bad);
      await ctx.http.get("/sso/discover").expect(200, { sso: false });
    });

    it("the connections registry lists each tenant's connections with type, name, domains, state and login URL", async () => {
      const list = await a.get("/admin/v1/tenants/acme/connections").expect(200);
      assert.deepEqual(list.body.connections, [
        {
          id: acmeConnection,
          type: "saml",
          name: "SAML",
          domains: ["acme.test"],
          state: "enabled",
          loginUrl: "https://roster.test/sso/acme/login",
        },
      ]);
      await a.get(`/admin/v1/tenants/acme/connections/${acmeConnection}`).expect(200);
      await a
        .get(`/admin/v1/tenants/rival/connections/${acmeConnection}`)
        .expect(404, /CONNECTION_NOT_FOUND/);
      assert.deepEqual((await a.get("/admin/v1/tenants/bare/connections").expect(200)).body.connections, []);
      const rivalList = (await a.get("/admin/v1/tenants/rival/connections").expect(200)).body.connections;
      assert.equal(rivalList.length, 1);
      assert.deepEqual(rivalList[0].domains, ["rival.test"]);
      await ctx.http.get("/admin/v1/tenants/acme/connections").expect(401);
    });

    it("discover: directory users on other domains are required too (contractors); others are not", async () => {
      assert.deepEqual(await discover("contractor@elsewhere.test"), { sso: false });
      const id = await addUser(acme, "contractor@elsewhere.test", {
        emails: [{ value: "Contractor@Elsewhere.test", primary: true }],
      });
      const found = await discover("contractor@elsewhere.test");
      assert.equal(found.sso, true);
      assert.equal(found.required, true);
      assert.equal(found.tenant, "acme");
      await acme.scim
        .patch(`/Users/${id}`, {
          schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
          Operations: [{ op: "replace", path: "active", value: false }],
        })
        .expect(200);
      assert.deepEqual(await discover("contractor@elsewhere.test"), { sso: false });
    });

    it("GET /sso/login?login_hint routes to the right connection's login, keeping return_to", async () => {
      const res = await ctx.http
        .get("/sso/login?login_hint=alice%40acme.test&return_to=%2Fapp%3Fx%3D1")
        .expect(302);
      const to = new URL(res.headers.location);
      assert.equal(to.origin + to.pathname, "https://roster.test/sso/acme/login");
      assert.equal(to.searchParams.get("return_to"), "/app?x=1");
      const none = await ctx.http.get("/sso/login?login_hint=bob%40nobody.test").expect(404);
      assert.match(none.text, /SSO_NOT_FOUND/);
    });

    it("break-glass: arm one named account for a window (urgent webhook jobs), it closes by itself; disarm", async () => {
      await a
        .post(`${policy("acme")}/break-glass/arm`, { email: "alice@acme.test", minutes: 10, reason: "x" })
        .expect(409, /BREAK_GLASS_NOT_NAMED/);
      await a
        .post(`${policy("rival")}/break-glass/arm`, { email: "it-admin@acme.test", minutes: 10, reason: "x" })
        .expect(409, /BREAK_GLASS_NOT_NAMED/);
      for (const body of [
        { email: "it-admin@acme.test", minutes: 61, reason: "x" },
        { email: "it-admin@acme.test", minutes: 0, reason: "x" },
        { email: "it-admin@acme.test", minutes: 10 },
        { email: "it-admin@acme.test", minutes: 10, reason: "x", extra: 1 },
      ])
        await a.post(`${policy("acme")}/break-glass/arm`, body).expect(400);
      const hook = await a
        .post("/admin/v1/tenants/acme/webhooks", {
          url: "https://hooks.example.com/roster",
          events: ["sso.*"],
        })
        .expect(201);
      const armed = await a
        .post(`${policy("acme")}/break-glass/arm`, {
          email: "IT-admin@acme.test",
          minutes: 30,
          reason: "IdP outage",
        })
        .expect(201);
      assert.equal(armed.body.expiresAt, new Date(ctx.clock.now().getTime() + 30 * MINUTE).toISOString());
      await a
        .post(`${policy("acme")}/break-glass/arm`, {
          email: "it-admin@acme.test",
          minutes: 5,
          reason: "again",
        })
        .expect(409, /BREAK_GLASS_ARMED/);
      const jobs = await ctx.deps
        .db("jobs")
        .where({ tenant_id: acme.tenantId, name: "deliver-webhook-urgent" });
      assert.equal(jobs.length, 1);
      assert.equal(jobs[0].queue, "urgent");
      assert.equal(JSON.parse(jobs[0].payload).stream, "urgent");
      await a.patch(`/admin/v1/tenants/acme/webhooks/${hook.body.id}`, { active: false }).expect(200);
      const bg = await discover("it-admin@acme.test");
      assert.equal(bg.required, false);
      assert.equal(bg.breakGlass, true);
      assert.equal((await discover("alice@acme.test")).required, true, "only the armed account");
      assert.equal((await discover("it-admin@rival.test")).breakGlass, undefined);
      assert.equal((await a.get(policy("acme")).expect(200)).body.armed.length, 1);
      // The window closes by itself on the app's clock; the expiry job records it.
      await ctx.deps.driver.start();
      ctx.clock.advance(30 * MINUTE);
      const after = await discover("it-admin@acme.test");
      assert.equal(after.required, true);
      assert.equal(after.breakGlass, undefined);
      await eventually(async () => {
        ctx.deps.driver.poke();
        return (await eventsOf(ctx, acme.tenantId, "sso.break_glass_expired")).length === 1;
      });
      assert.equal((await eventsOf(ctx, acme.tenantId, "sso.break_glass_armed"))[0].reason, "IdP outage");
      // Disarm closes it at once.
      await a
        .post(`${policy("acme")}/break-glass/arm`, {
          email: "it-admin@acme.test",
          minutes: 60,
          reason: "drill",
        })
        .expect(201);
      assert.equal((await discover("it-admin@acme.test")).breakGlass, true);
      await a
        .post(`${policy("rival")}/break-glass/disarm`, { email: "it-admin@acme.test" })
        .expect(404, /BREAK_GLASS_NOT_ARMED/);
      await a.post(`${policy("acme")}/break-glass/disarm`, { email: "it-admin@acme.test" }).expect(200);
      assert.equal((await discover("it-admin@acme.test")).required, true);
      await a.post(`${policy("acme")}/break-glass/disarm`, { email: "it-admin@acme.test" }).expect(404);
      assert.equal((await eventsOf(ctx, acme.tenantId, "sso.break_glass_disarmed")).length, 1);
      ctx.clock.advance(61 * MINUTE);
      ctx.deps.driver.poke();
      assert.equal(
        (await eventsOf(ctx, acme.tenantId, "sso.break_glass_expired")).length,
        1,
        "a disarmed window does not expire",
      );
    });

    it("turning it off always works, even with the connection disabled; discover then answers required: false", async () => {
      await a.post("/admin/v1/tenants/acme/saml/disable").expect(200);
      await a.put(policy("acme"), { requireSso: false }).expect(200);
      await a.post("/admin/v1/tenants/acme/saml/enable").expect(200);
      assert.equal((await discover("alice@acme.test")).required, false);
      await ctx.http.get(policy("acme")).expect(401);
    });
  });
}

describe("GET /sso/discover is rate-limited per address", () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext({ name: "sqlite" }, { env: { ROSTER_RATE_LIMIT_DISCOVER_IP: "3/1m" } });
  });
  after(async () => ctx.close());
  it("429 with Retry-After past the limit, for discover and /sso/login alike", async () => {
    for (let i = 0; i < 3; i++) await ctx.http.get("/sso/discover?email=a@b.test").expect(200);
    const res = await ctx.http.get("/sso/discover?email=a@b.test").expect(429);
    assert.equal(res.body.error.code, "RATE_LIMITED");
    assert.ok(Number(res.headers["retry-after"]) >= 1);
    await ctx.http.get("/sso/login?login_hint=a@b.test").expect(429);
  });
});
