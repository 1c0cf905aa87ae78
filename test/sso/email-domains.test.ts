import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { admin, allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { TestDnsServer } from "../helpers/dns-server.js";
import { addUser, Browser, eventsOf, type SsoTenant, setupSso } from "../saml/sso-helpers.js";

for (const backend of allBackends()) {
  describe(`identities stay inside the tenant's verified domains [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    let acme: SsoTenant;
    const dns = new TestDnsServer();

    /** An SP-initiated login of `nameId` (its e-mail) on tenant `t`: the ACS answer. */
    async function login(t: SsoTenant, nameId: string) {
      const b = new Browser(ctx);
      const id = await b.startLogin(t.slug);
      return b.acs(t.slug, await t.idp.response(t.opts({ nameId, inResponseTo: id })));
    }

    before(async () => {
      await dns.start();
      ctx = await createTestContext(backend, { env: { ROSTER_DNS_SERVERS: dns.address } });
      acme = await setupSso(ctx, "acme", { provisioning: "jit" });
    });
    after(async () => {
      await ctx.close();
      await dns.close();
    });

    it("without a verified domain, JIT works as configured", async () => {
      assert.equal((await login(acme, "early@elsewhere.test")).status, 302);
    });

    it("once a domain is verified: JIT only inside it; EMAIL_OUTSIDE_DOMAINS outside; directory and invited users pass", async () => {
      const a = admin(ctx);
      const claim = (await a.post("/admin/v1/tenants/acme/domains", { domain: "acme.test" }).expect(201))
        .body;
      // Pending is not enough.
      assert.equal((await login(acme, "pending@elsewhere.test")).status, 302);
      dns.setTxt(claim.verification.name, claim.verification.value);
      await a.post("/admin/v1/tenants/acme/domains/acme.test/verify").expect(200);

      assert.equal((await login(acme, "New.Person@ACME.test")).status, 302, "JIT inside the domain");
      const outside = await login(acme, "walkin@elsewhere.test");
      assert.equal(outside.status, 403);
      assert.match(outside.text, /Reference: EMAIL_OUTSIDE_DOMAINS/);
      const refused = await eventsOf(ctx, acme.tenantId, "sso.login_refused");
      assert.equal(refused.at(-1)?.reason, "EMAIL_OUTSIDE_DOMAINS");
      assert.equal(
        await ctx.deps
          .db("users")
          .where({ tenant_id: acme.tenantId, user_name: "walkin@elsewhere.test" })
          .first(),
        undefined,
        "no user created",
      );
      // A subdomain is not the domain.
      assert.equal((await login(acme, "x@eu.acme.test")).status, 403);
      // The directory is the authority: a contractor provisioned by SCIM, and an invited guest.
      await addUser(acme, "contractor@partner.test");
      assert.equal((await login(acme, "contractor@partner.test")).status, 302);
      await a
        .post("/admin/v1/tenants/acme/users", { userName: "guest@partner.test", email: "guest@partner.test" })
        .expect(201);
      assert.equal((await login(acme, "guest@partner.test")).status, 302);
      // Users created before the domain was verified keep signing in (they are in the directory now).
      assert.equal((await login(acme, "early@elsewhere.test")).status, 302);
    });
  });
}
