import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { revokeUserSessions } from "../../src/access/sessions.js";
import { admin, allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { authnRequestOf, addUser, Browser, eventsOf, setupSso, type SsoTenant } from "./sso-helpers.js";

for (const backend of allBackends()) {
  describe(`SAML login and the directory gate [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let acme: SsoTenant;
    let jit: SsoTenant;
    before(async () => {
      ctx = await createTestContext(backend);
      acme = await setupSso(ctx, "acme", { returnUrls: ["https://app.acme.test/"] });
      jit = await setupSso(ctx, "jitco", {
        provisioning: "jit",
        attributeMapping: { email: "email", givenName: "firstName", groups: "groups" },
      });
    });
    after(async () => ctx.close());

    it("SP-initiated redirect: signed AuthnRequest (RSA-SHA256) to the IdP, request cookie set", async () => {
      const b = new Browser(ctx);
      const res = await b.get("/sso/acme/login?return_to=/home");
      assert.equal(res.status, 302);
      const { url, xml } = authnRequestOf(res.headers.location);
      assert.equal(url.origin + url.pathname, acme.idp.ssoUrl);
      assert.equal(url.searchParams.get("SigAlg"), "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
      assert.ok(url.searchParams.get("Signature"));
      assert.match(xml, /AssertionConsumerServiceURL="https:\/\/roster.test\/sso\/acme\/acs"/);
      const cookie = (res.headers["set-cookie"] as unknown as string[]).find((c) =>
        c.startsWith("roster_sso_req="),
      )!;
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /Secure/);
      assert.match(cookie, /SameSite=None/);
    });

    it("Entra-style (assertion signed only): 302 to return_to with the roster_session cookie; session JSON", async () => {
      const userId = await addUser(acme, "Ann@Acme.test", { displayName: "Ann" });
      const b = new Browser(ctx);
      const id = await b.startLogin("acme", "?return_to=https://app.acme.test/dashboard");
      const res = await b.acs(
        "acme",
        await acme.idp.response(acme.opts({ nameId: "ann@acme.test", inResponseTo: id })),
      );
      assert.equal(res.status, 302, res.text);
      assert.equal(res.headers.location, "https://app.acme.test/dashboard");
      const cookie = (res.headers["set-cookie"] as unknown as string[]).find((c) =>
        c.startsWith("roster_session="),
      )!;
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /Secure/);
      assert.match(cookie, /SameSite=Lax/);
      const s = await b.get("/sso/acme/session");
      assert.equal(s.status, 200);
      assert.equal(s.body.user.id, userId);
      assert.equal(s.body.tenant.slug, "acme");
      const ok = await eventsOf(ctx, acme.tenantId, "sso.login_succeeded");
      assert.equal(ok.at(-1)?.userId, userId);
      assert.equal(ok.at(-1)?.matchedBy, "userName");
      await new Browser(ctx).get("/sso/acme/session", 401);
    });

    it("Okta-style (response and assertion signed) logs in; default landing page without return_to", async () => {
      await addUser(acme, "okta.user@acme.test");
      const b = new Browser(ctx);
      const id = await b.startLogin("acme");
      const res = await b.acs(
        "acme",
        await acme.idp.response(acme.opts({ nameId: "okta.user@acme.test", inResponseTo: id, sign: "both" })),
      );
      assert.equal(res.status, 302, res.text);
      assert.equal(res.headers.location, "https://roster.test/sso/acme/session");
    });

    it("encrypted assertion (for the SP encryption certificate) logs in", async () => {
      await addUser(acme, "enc@acme.test");
      const conn = await admin(ctx).get("/admin/v1/tenants/acme/saml").expect(200);
      const b = new Browser(ctx);
      const id = await b.startLogin("acme");
      const res = await b.acs(
        "acme",
        await acme.idp.response(
          acme.opts({
            nameId: "enc@acme.test",
            inResponseTo: id,
            encryptFor: conn.body.sp.encryptionCertificate,
          }),
        ),
      );
      assert.equal(res.status, 302, res.text);
      await b.get("/sso/acme/session", 200);
    });

    it("matches the primary e-mail case-insensitively when the NameID is not the userName", async () => {
      const userId = await addUser(acme, "bob.k", { emails: [{ value: "Bob.K@Acme.test", primary: true }] });
      const b = new Browser(ctx);
      const id = await b.startLogin("acme");
      const res = await b.acs(
        "acme",
        await acme.idp.response(acme.opts({ nameId: "BOB.K@ACME.TEST", inResponseTo: id })),
      );
      assert.equal(res.status, 302, res.text);
      const s = await b.get("/sso/acme/session", 200);
      assert.equal(s.body.user.id, userId);
    });

    it("JIT: creates the user (source jit, default role, mapped groups), then logs in", async () => {
      await jit.scim
        .post("/Groups", {
          schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
          displayName: "Engineering",
        })
        .expect(201);
      const b = new Browser(ctx);
      const id = await b.startLogin("jitco");
      const res = await b.acs(
        "jitco",
        await jit.idp.response(
          jit.opts({
            nameId: "new.person@jit.test",
            inResponseTo: id,
            attributes: {
              email: "new.person@jit.test",
              firstName: "New",
              groups: ["Engineering", "Unknown"],
            },
          }),
        ),
      );
      assert.equal(res.status, 302, res.text);
      const s = await b.get("/sso/jitco/session", 200);
      assert.equal(s.body.user.userName, "new.person@jit.test");
      assert.equal(s.body.user.givenName, "New");
      assert.deepEqual(s.body.roles, ["member"]);
      assert.deepEqual(s.body.groups, ["Engineering"]);
      const row = await ctx.deps.db("users").where({ id: s.body.user.id }).first();
      assert.equal(row.source, "jit");
      const created = await eventsOf(ctx, jit.tenantId, "user.created");
      assert.equal(created.at(-1)?.source, "jit");
      assert.equal((await eventsOf(ctx, jit.tenantId, "sso.login_succeeded")).at(-1)?.jit, true);
    });

    it("logout and revokeUserSessions end sessions at once", async () => {
      const userId = await addUser(acme, "carol@acme.test");
      const login = async () => {
        const b = new Browser(ctx);
        const id = await b.startLogin("acme");
        await b
          .acs("acme", await acme.idp.response(acme.opts({ nameId: "carol@acme.test", inResponseTo: id })))
          .then((r) => assert.equal(r.status, 302));
        await b.get("/sso/acme/session", 200);
        return b;
      };
      const b1 = await login();
      const token = b1.cookies.get("roster_session")!;
      await b1.postForm("/sso/acme/logout").then((r) => assert.equal(r.status, 204));
      await ctx.http.get("/sso/acme/session").set("Cookie", `roster_session=${token}`).expect(401);
      const b2 = await login();
      const n = await ctx.deps.db.transaction((trx) =>
        revokeUserSessions(trx, acme.tenantId, userId, "deprovisioned"),
      );
      assert.deepEqual(n, { sessions: 1, tokens: 0 });
      await b2.get("/sso/acme/session", 401);
    });

    it("a session of one tenant is not a session of another", async () => {
      await addUser(acme, "dave@acme.test");
      const b = new Browser(ctx);
      const id = await b.startLogin("acme");
      await b.acs("acme", await acme.idp.response(acme.opts({ nameId: "dave@acme.test", inResponseTo: id })));
      await b.get("/sso/acme/session", 200);
      await b.get("/sso/jitco/session", 401);
    });

    it("invitations pre-provision users with roles; their first login finds them", async () => {
      const inv = await admin(ctx)
        .post("/admin/v1/tenants/acme/users", {
          userName: "invited@acme.test",
          email: "invited@acme.test",
          roles: ["admin", "billing"],
        })
        .expect(201);
      assert.deepEqual(inv.body.roles, ["admin", "billing"]);
      await admin(ctx).post("/admin/v1/tenants/acme/users", { userName: "INVITED@acme.test" }).expect(409);
      await admin(ctx).post("/admin/v1/tenants/acme/users", { userName: "" }).expect(400);
      const b = new Browser(ctx);
      const id = await b.startLogin("acme");
      await b.acs(
        "acme",
        await acme.idp.response(acme.opts({ nameId: "invited@acme.test", inResponseTo: id })),
      );
      const s = await b.get("/sso/acme/session", 200);
      assert.equal(s.body.user.id, inv.body.id);
      assert.deepEqual(s.body.roles, ["admin", "billing"]);
    });

    it("a disabled connection refuses to start a login (plain HTML page)", async (test) => {
      // The tenant is shared with the other tests: enabled again afterwards, pass or fail.
      test.after(async () => void (await admin(ctx).post("/admin/v1/tenants/jitco/saml/enable").expect(200)));
      await admin(ctx).post("/admin/v1/tenants/jitco/saml/disable").expect(200);
      const res = await new Browser(ctx).get("/sso/jitco/login");
      assert.equal(res.status, 403);
      assert.match(res.headers["content-type"], /text\/html/);
      assert.match(res.text, /not enabled/);
    });
  });
}
