import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { admin, allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { TestDnsServer } from "../helpers/dns-server.js";
import { TestIdp } from "../helpers/test-idp.js";
import { addUser, authnRequestOf, Browser, type SsoTenant, setupSso } from "../saml/sso-helpers.js";

for (const backend of allBackends()) {
  describe(`several connections per tenant, routed by domain [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    let a: ReturnType<typeof admin>;
    let acme: SsoTenant;
    let defaultId: string;
    let id: string;
    const okta = new TestIdp();
    const dns = new TestDnsServer();
    const base = "/admin/v1/tenants/acme/connections";
    const named = () => `https://roster.test/sso/acme/${id}`;
    const discover = async (email: string) =>
      (await ctx.http.get(`/sso/discover?email=${encodeURIComponent(email)}`).expect(200)).body;

    /** A login through the named connection's own login and ACS, answered by the second IdP. */
    async function namedLogin(nameId: string, path = `/sso/acme/${id}/login`) {
      const b = new Browser(ctx);
      const start = await b.get(path, 302);
      const { id: requestId } = authnRequestOf(start.headers.location);
      const response = await okta.response({
        acsUrl: `${named()}/acs`,
        audience: named(),
        nameId,
        inResponseTo: requestId,
        now: ctx.clock.now(),
      });
      return { b, requestId, res: await b.postForm(`/sso/acme/${id}/acs`, { SAMLResponse: response }) };
    }

    before(async () => {
      await dns.start();
      ctx = await createTestContext(backend, { env: { ROSTER_DNS_SERVERS: dns.address } });
      a = admin(ctx);
      acme = await setupSso(ctx, "acme");
      await setupSso(ctx, "rival");
      defaultId = (await a.get("/admin/v1/tenants/acme/saml").expect(200)).body.id;
      for (const [slug, domain] of [
        ["acme", "acme.test"],
        ["acme", "contractors.test"],
        ["rival", "rival.test"],
      ]) {
        const claim = (await a.post(`/admin/v1/tenants/${slug}/domains`, { domain }).expect(201)).body;
        dns.setTxt(claim.verification.name, claim.verification.value);
        await a.post(`/admin/v1/tenants/${slug}/domains/${domain}/verify`).expect(200);
      }
    });
    after(async () => {
      await ctx.close();
      await dns.close();
    });

    it("POST a second SAML connection: its own SP entity ID, ACS and metadata under /sso/{slug}/{id}/", async () => {
      const res = await a
        .post(base, {
          type: "saml",
          name: "Contractors' Okta",
          domains: ["Contractors.TEST"],
          idpEntityId: okta.entityId,
          ssoUrl: okta.ssoUrl,
          certificates: [okta.keys.certificate],
        })
        .expect(201);
      id = res.body.id;
      assert.equal(res.body.type, "saml");
      assert.equal(res.body.name, "Contractors' Okta");
      assert.equal(res.body.isDefault, false);
      assert.equal(res.body.state, "draft");
      assert.deepEqual(res.body.domains, ["contractors.test"]);
      assert.equal(res.body.sp.entityId, named());
      assert.equal(res.body.sp.acsUrl, `${named()}/acs`);
      const md = await ctx.http.get(`/sso/acme/${id}/metadata`).expect(200);
      assert.match(md.text, new RegExp(`entityID="${named()}"`));
      // The default connection and its contract are unchanged.
      const def = await a.get("/admin/v1/tenants/acme/saml").expect(200);
      assert.equal(def.body.id, defaultId);
      assert.equal(def.body.sp.entityId, "https://roster.test/sso/acme");
      const list = (await a.get(base).expect(200)).body.connections;
      assert.deepEqual(
        list.map((c: any) => [c.name, c.state, c.domains]),
        [
          ["SAML", "enabled", ["acme.test"]],
          ["Contractors' Okta", "draft", ["contractors.test"]],
        ],
      );
      // A draft connection routes nothing, and its domain does not fall back to the default.
      assert.deepEqual(await discover("bob@contractors.test"), { sso: false });
    });

    it("its own test → enable lifecycle", async () => {
      await a.post(`${base}/${id}/enable`).expect(409, /SAML_NOT_TESTED/);
      const test = (await a.post(`${base}/${id}/test`).expect(201)).body;
      assert.match(test.loginUrl, new RegExp(`^${named()}/login\\?test=`));
      // A test link does not run on another connection of the tenant.
      await ctx.http.get(`/sso/acme/login?test=${test.id}`).expect(404);
      await addUser(acme, "bob@contractors.test");
      const { res } = await namedLogin(
        "bob@contractors.test",
        new URL(test.loginUrl).pathname + new URL(test.loginUrl).search,
      );
      assert.equal(res.status, 200, res.text);
      assert.equal((await a.get(`${base}/${id}/test/${test.id}`).expect(200)).body.status, "succeeded");
      const enabled = await a.post(`${base}/${id}/enable`).expect(200);
      assert.equal(enabled.body.state, "enabled");
      assert.equal((await a.get("/admin/v1/tenants/acme/saml").expect(200)).body.state, "enabled");
    });

    it("routing: each domain to its connection; /sso/login redirects there; sign-in works through it", async () => {
      assert.deepEqual(await discover("bob@contractors.test"), {
        sso: true,
        required: false,
        tenant: "acme",
        connection: id,
        loginUrl: `${named()}/login`,
      });
      assert.equal((await discover("alice@acme.test")).connection, defaultId);
      const go = await ctx.http.get("/sso/login?login_hint=bob%40contractors.test").expect(302);
      assert.equal(go.headers.location, `${named()}/login`);
      const { b, res } = await namedLogin("bob@contractors.test");
      assert.equal(res.status, 302, res.text);
      assert.equal((await b.get("/sso/acme/session", 200)).body.user.userName, "bob@contractors.test");
      // The OAuth hand-off takes the same hint (OIDC Core login_hint) to the routed connection's IdP.
      const client = (
        await a
          .post("/admin/v1/tenants/acme/oauth-clients", {
            name: "App",
            redirectUris: ["https://app.test/cb"],
          })
          .expect(201)
      ).body;
      const authorize = (hint?: string) =>
        new Browser(ctx).get(
          `/oauth/authorize?${new URLSearchParams({
            response_type: "code",
            client_id: client.clientId,
            redirect_uri: "https://app.test/cb",
            scope: "openid",
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            code_challenge_method: "S256",
            ...(hint ? { login_hint: hint } : {}),
          })}`,
          302,
        );
      const idpOf = async (hint?: string) => {
        const { url } = authnRequestOf((await authorize(hint)).headers.location);
        return url.origin + url.pathname;
      };
      assert.equal(await idpOf("bob@contractors.test"), okta.ssoUrl);
      assert.equal(await idpOf("alice@acme.test"), acme.idp.ssoUrl);
      assert.equal(await idpOf(), acme.idp.ssoUrl);
      assert.equal((await discover("someone@rival.test")).tenant, "rival");
      assert.equal(await idpOf("someone@rival.test"), acme.idp.ssoUrl, "another tenant's route is ignored");
    });

    it("a response is checked by the connection it reaches: another IdP's or another connection's request is refused", async () => {
      // Okta's response at the default connection's ACS: not its IdP.
      const b = new Browser(ctx);
      const requestId = await b.startLogin("acme");
      const wrong = await b.acs(
        "acme",
        await okta.response({
          acsUrl: acme.acsUrl,
          audience: acme.entityId,
          nameId: "bob@contractors.test",
          inResponseTo: requestId,
          now: ctx.clock.now(),
        }),
      );
      assert.equal(wrong.status, 403);
      // A request the default connection started, answered at the named connection's ACS.
      const b2 = new Browser(ctx);
      const other = await b2.startLogin("acme");
      const res = await b2.postForm(`/sso/acme/${id}/acs`, {
        SAMLResponse: await okta.response({
          acsUrl: `${named()}/acs`,
          audience: named(),
          nameId: "bob@contractors.test",
          inResponseTo: other,
          now: ctx.clock.now(),
        }),
      });
      assert.equal(res.status, 403);
      assert.match(res.text, /UNKNOWN_REQUEST/);
    });

    it("PATCH renames (no new test) and moves domains; DELETE sends them back to the default", async () => {
      const renamed = await a.patch(`${base}/${id}`, { name: "Partners" }).expect(200);
      assert.equal(renamed.body.name, "Partners");
      assert.equal(renamed.body.state, "enabled");
      const moved = await a.patch(`${base}/${id}`, { domains: [] }).expect(200);
      assert.deepEqual(moved.body.domains, []);
      assert.equal((await discover("bob@contractors.test")).connection, defaultId);
      await a.patch(`${base}/${id}`, { domains: ["contractors.test"] }).expect(200);
      assert.equal((await discover("bob@contractors.test")).connection, id);
      await a.delete(`${base}/${id}`).expect(204);
      await a.get(`${base}/${id}`).expect(404, /CONNECTION_NOT_FOUND/);
      await ctx.http.get(`/sso/acme/${id}/metadata`).expect(404);
      assert.equal((await discover("bob@contractors.test")).connection, defaultId);
    });

    it("refusals and isolation: unclaimed domains, other types, other tenants' connections", async () => {
      const body = {
        type: "saml",
        name: "X",
        idpEntityId: okta.entityId,
        ssoUrl: okta.ssoUrl,
        certificates: [okta.keys.certificate],
      };
      await a.post(base, { ...body, domains: ["nobody.test"] }).expect(400, /DOMAIN_NOT_CLAIMED/);
      await a.post(base, { ...body, domains: ["gmail.com"] }).expect(400, /CONSUMER_DOMAIN/);
      await a.post(base, { ...body, type: "oidc" }).expect(400);
      await a.post(base, { ...body, name: "" }).expect(400);
      await a.post(base, { type: "saml", name: "no idp" }).expect(400);
      const mine = (await a.post(base, body).expect(201)).body.id;
      await a.get(`/admin/v1/tenants/rival/connections/${mine}`).expect(404, /CONNECTION_NOT_FOUND/);
      await a.patch(`/admin/v1/tenants/rival/connections/${mine}`, { name: "stolen" }).expect(404);
      await a.delete(`/admin/v1/tenants/rival/connections/${mine}`).expect(404);
      await a.post(`/admin/v1/tenants/rival/connections/${mine}/enable`).expect(404);
      await ctx.http.get(`/sso/rival/${mine}/metadata`).expect(404);
      await a.get(`${base}/not-a-uuid`).expect(404);
      await ctx.http.get(base).expect(401);
      assert.equal(
        (await a.get("/admin/v1/tenants/rival/connections").expect(200)).body.connections.length,
        1,
      );
    });
  });
}
