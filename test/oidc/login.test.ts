import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { admin, allBackends, createTestContext, type TestContext, userBody } from "../helpers/context.js";
import { TestOp } from "../helpers/test-op.js";
import { Browser, eventsOf } from "../saml/sso-helpers.js";
import { type OidcTenant, oidcLogin, redirectUri, refusalCode, setupOidc } from "./oidc-helpers.js";

const SLUGS = ["okta-co", "google-co", "entra-co", "other-co"];
const ENTRA_TID = "3f2b8c1e-5a4d-4e7b-9c0a-1d2e3f4a5b6c";

for (const backend of allBackends()) {
  describe(`OpenID Connect login through a real provider [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let op: TestOp;
    let okta: OidcTenant;
    let google: OidcTenant;
    let entra: OidcTenant;
    before(async () => {
      ctx = await createTestContext(backend);
      op = await TestOp.start(
        SLUGS.map((s) => ({
          clientId: `roster-${s}`,
          clientSecret: `secret-${s}-0123456789`,
          redirectUris: [redirectUri(s)],
        })),
      );
      const conn = (s: string) => ({
        issuer: op.issuer,
        clientId: `roster-${s}`,
        clientSecret: `secret-${s}-0123456789`,
      });
      okta = await setupOidc(ctx, "okta-co", { preset: "okta", ...conn("okta-co") });
      google = await setupOidc(ctx, "google-co", {
        preset: "google",
        domains: ["acme.test"],
        ...conn("google-co"),
      });
      entra = await setupOidc(ctx, "entra-co", {
        preset: "entra",
        entraTenantId: ENTRA_TID,
        ...conn("entra-co"),
      });
      op.account("ann", {
        email: "ann@acme.test",
        email_verified: true,
        name: "Ann Smith",
        hd: "acme.test",
        groups: ["eng"],
      });
      op.account("unverified", { email: "ann@acme.test", email_verified: false, hd: "acme.test" });
      op.account("no-hd", { email: "ann@acme.test", email_verified: true });
      op.account("other-hd", { email: "ann@acme.test", email_verified: true, hd: "evil.test" });
      op.account("nobody", { email: "nobody@acme.test", email_verified: true, hd: "acme.test" });
      op.account("gone", { email: "gone@acme.test", email_verified: true, hd: "acme.test" });
      op.account("entra-ann", { preferred_username: "ann@acme.test", oid: "oid-ann", tid: ENTRA_TID });
      op.account("entra-foreign", {
        preferred_username: "ann@acme.test",
        oid: "oid-ann",
        tid: "00000000-0000-4000-8000-000000000000",
      });
      for (const t of [okta, google, entra]) {
        (await t.scim.post("/Users", userBody("ann@acme.test", { externalId: "oid-ann" }))).status === 201 ||
          assert.fail("scim");
        const gone = await t.scim.post("/Users", userBody("gone@acme.test"));
        await t.scim.patch(`/Users/${gone.body.id}`, {
          schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
          Operations: [{ op: "replace", path: "active", value: false }],
        });
      }
    });
    after(async () => {
      await op?.close();
      await ctx?.close();
    });

    it("logs a directory user in (Okta preset): session, profile, event", async () => {
      const b = new Browser(ctx);
      const res = await oidcLogin(b, "okta-co", op, "ann");
      assert.equal(res.status, 302, res.text);
      assert.equal(res.headers.location, "https://roster.test/sso/okta-co/session");
      const session = await b.get("/sso/okta-co/session", 200);
      assert.equal(session.body.user.userName, "ann@acme.test");
      assert.equal(session.body.tenant.slug, "okta-co");
      const [ev] = await eventsOf(ctx, okta.tenantId, "sso.login_succeeded");
      assert.equal(ev.protocol, "oidc");
      assert.equal(ev.matchedBy, "userName");
    });

    it("logout ends the session and follows a same-origin return_to for an OpenID Connect tenant", async () => {
      const b = new Browser(ctx);
      assert.equal((await oidcLogin(b, "okta-co", op, "ann")).status, 302);
      const out = await b.postForm("/sso/okta-co/logout", { return_to: "/signed-out" });
      assert.equal(out.status, 303);
      assert.equal(out.headers.location, "/signed-out");
      assert.equal((await b.get("/sso/okta-co/session")).status, 401);
    });

    it("the authorization request uses PKCE S256, state and nonce, and a bound cookie", async () => {
      const b = new Browser(ctx);
      const start = await b.get("/sso/okta-co/oidc/login", 302);
      const u = new URL(start.headers.location);
      assert.equal(u.origin, op.issuer);
      assert.equal(u.searchParams.get("code_challenge_method"), "S256");
      assert.match(u.searchParams.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
      assert.match(u.searchParams.get("state") ?? "", /^oidc_[A-Za-z0-9_-]{43}$/);
      assert.match(u.searchParams.get("nonce") ?? "", /^[A-Za-z0-9_-]{43}$/);
      assert.equal(u.searchParams.get("redirect_uri"), redirectUri("okta-co"));
      assert.match(
        String(start.headers["set-cookie"]),
        /roster_sso_req=[^;]+; Path=\/sso\/; Max-Age=600; HttpOnly; Secure/,
      );
    });

    it("refuses an unverified e-mail (EMAIL_NOT_VERIFIED), as a verified refusal event", async () => {
      const res = await oidcLogin(new Browser(ctx), "okta-co", op, "unverified");
      assert.equal(res.status, 403);
      assert.equal(refusalCode(res.text), "EMAIL_NOT_VERIFIED");
      const refused = await eventsOf(ctx, okta.tenantId, "sso.login_refused");
      assert.equal(refused.at(-1)?.reason, "EMAIL_NOT_VERIFIED");
    });

    it("refuses unknown and deactivated directory users", async () => {
      assert.equal(
        refusalCode((await oidcLogin(new Browser(ctx), "okta-co", op, "nobody")).text),
        "USER_NOT_FOUND",
      );
      assert.equal(
        refusalCode((await oidcLogin(new Browser(ctx), "okta-co", op, "gone")).text),
        "USER_INACTIVE",
      );
    });

    it("Google: hd must name one of the connection's domains", async () => {
      assert.equal((await oidcLogin(new Browser(ctx), "google-co", op, "ann")).status, 302);
      assert.equal(
        refusalCode((await oidcLogin(new Browser(ctx), "google-co", op, "no-hd")).text),
        "HOSTED_DOMAIN_MISMATCH",
      );
      assert.equal(
        refusalCode((await oidcLogin(new Browser(ctx), "google-co", op, "other-hd")).text),
        "HOSTED_DOMAIN_MISMATCH",
      );
      assert.equal(
        refusalCode((await oidcLogin(new Browser(ctx), "google-co", op, "unverified")).text),
        "EMAIL_NOT_VERIFIED",
      );
    });

    it("Entra: matches the immutable oid to externalId; a token of another tid is refused", async () => {
      const b = new Browser(ctx);
      const res = await oidcLogin(b, "entra-co", op, "entra-ann");
      assert.equal(res.status, 302, res.text);
      const [ev] = await eventsOf(ctx, entra.tenantId, "sso.login_succeeded");
      assert.equal(ev.matchedBy, "immutableId:externalId");
      assert.equal(
        refusalCode((await oidcLogin(new Browser(ctx), "entra-co", op, "entra-foreign")).text),
        "ENTRA_TENANT_MISMATCH",
      );
    });

    it("never returns the client secret and stores it encrypted", async () => {
      const got = await admin(ctx).get("/admin/v1/tenants/okta-co/oidc");
      assert.equal(got.status, 200);
      assert.ok(!JSON.stringify(got.body).includes("secret-okta-co-0123456789"));
      assert.equal(got.body.clientSecretSet, true);
      const row = await ctx.deps.db("oidc_connections").where({ tenant_id: okta.tenantId }).first();
      assert.match(row.client_secret, /^enc:v1:/);
      assert.ok(!row.client_secret.includes("secret-okta-co"));
    });

    it("keeps tenants apart: a callback carried to another tenant is refused, admin reads are per tenant", async () => {
      const b = new Browser(ctx);
      const start = await b.get("/sso/okta-co/oidc/login", 302);
      const back = await op.login(start.headers.location, "ann");
      const res = await b.get(`/sso/google-co/oidc/callback${back.search}`);
      assert.equal(res.status, 403);
      assert.equal(refusalCode(res.text), "STATE_MISMATCH");
      await admin(ctx).post("/admin/v1/tenants", { slug: "other-co", name: "Other" });
      assert.equal((await admin(ctx).get("/admin/v1/tenants/other-co/oidc")).status, 404);
      const session = await new Browser(ctx).get("/sso/okta-co/session");
      assert.equal(session.status, 401);
    });
  });
}
