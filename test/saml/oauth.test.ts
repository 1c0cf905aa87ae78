import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createLocalJWKSet, jwtVerify } from "jose";
import { revokeUserSessions } from "../../src/access/sessions.js";
import { savePolicy } from "../../src/sso/policy-store.js";
import {
  admin,
  allBackends,
  createTenantWithToken,
  createTestContext,
  type TestContext,
} from "../helpers/context.js";
import { addUser, authnRequestOf, Browser, setupSso, type SsoTenant } from "./sso-helpers.js";

const REDIRECT = "https://app.acme.test/callback";

for (const backend of allBackends()) {
  describe(`OAuth 2.0 / OIDC hand-off [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let t: SsoTenant;
    let client: { clientId: string; clientSecret: string };
    let userId: string;
    before(async () => {
      ctx = await createTestContext(backend);
      t = await setupSso(ctx, "acme");
      userId = await addUser(t, "ann@acme.test", {
        displayName: "Ann A",
        emails: [{ value: "ann@acme.test", primary: true }],
      });
      await t.scim
        .post("/Groups", {
          schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
          displayName: "Staff",
          members: [{ value: userId }],
        })
        .expect(201);
      const res = await admin(ctx)
        .post("/admin/v1/tenants/acme/oauth-clients", { name: "App", redirectUris: [REDIRECT] })
        .expect(201);
      client = res.body;
      assert.match(client.clientSecret, /^rst_cs_/);
      const list = await admin(ctx).get("/admin/v1/tenants/acme/oauth-clients").expect(200);
      assert.equal(list.body.clients[0].clientSecret, undefined);
    });
    after(async () => ctx.close());

    const basic = () =>
      `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`;

    /** authorize → IdP → ACS → redirect_uri with a code; returns the code and the browser. */
    async function authorize(verifier: string, b = new Browser(ctx)) {
      const challenge = createHash("sha256").update(verifier).digest("base64url");
      const q = new URLSearchParams({
        response_type: "code",
        client_id: client.clientId,
        redirect_uri: REDIRECT,
        scope: "openid profile email",
        state: "st-1",
        nonce: "n-1",
        code_challenge: challenge,
        code_challenge_method: "S256",
      });
      const res = await b.get(`/oauth/authorize?${q}`, 302);
      const { id } = authnRequestOf(res.headers.location);
      const acs = await b.acs(
        "acme",
        await t.idp.response(t.opts({ nameId: "ann@acme.test", inResponseTo: id })),
      );
      assert.equal(acs.status, 302, acs.text);
      const back = new URL(acs.headers.location);
      assert.equal(back.origin + back.pathname, REDIRECT);
      assert.equal(back.searchParams.get("state"), "st-1");
      return { code: back.searchParams.get("code")!, browser: b };
    }

    const token = (form: Record<string, string>, auth = basic()) =>
      ctx.http.post("/oauth/token").set("Authorization", auth).type("form").send(form);

    it("authorize → IdP → ACS → code → token (PKCE) → id_token → userinfo → introspect", async () => {
      const verifier = randomBytes(32).toString("base64url");
      const { code, browser } = await authorize(verifier);
      const res = await token({
        grant_type: "authorization_code",
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.token_type, "Bearer");
      assert.equal(res.headers["cache-control"], "no-store");
      const discovery = await ctx.http.get("/.well-known/openid-configuration").expect(200);
      assert.equal(discovery.body.jwks_uri, "https://roster.test/oauth/jwks");
      const jwks = await ctx.http.get("/oauth/jwks").expect(200);
      const { payload, protectedHeader } = await jwtVerify(res.body.id_token, createLocalJWKSet(jwks.body), {
        issuer: "https://roster.test",
        audience: client.clientId,
      });
      assert.equal(protectedHeader.alg, "RS256");
      assert.ok(protectedHeader.kid);
      assert.equal(payload.sub, userId);
      assert.equal(payload.nonce, "n-1");
      assert.equal(payload.tenant, "acme");
      assert.equal(payload.email, "ann@acme.test");
      const info = await ctx.http
        .get("/oauth/userinfo")
        .set("Authorization", `Bearer ${res.body.access_token}`)
        .expect(200);
      assert.equal(info.body.sub, userId);
      assert.equal(info.body.tenant.slug, "acme");
      assert.deepEqual(info.body.groups, ["Staff"]);
      assert.deepEqual(info.body.roles, []);
      // Issue 16: what the application enforces SSO with.
      assert.equal(payload.sso_required, false);
      assert.deepEqual(payload.amr, ["fed"]);
      assert.equal(info.body.sso_required, false);
      assert.deepEqual(info.body.amr, ["fed"]);
      await savePolicy(
        ctx.deps.db,
        { tenantId: t.tenantId, requireSso: true, breakGlass: ["it@acme.test"], updatedAt: null },
        ctx.clock.now().toISOString(),
      );
      const required = await ctx.http
        .get("/oauth/userinfo")
        .set("Authorization", `Bearer ${res.body.access_token}`)
        .expect(200);
      assert.equal(required.body.sso_required, true);
      await savePolicy(
        ctx.deps.db,
        { tenantId: t.tenantId, requireSso: false, breakGlass: [], updatedAt: null },
        ctx.clock.now().toISOString(),
      );
      const intro = await ctx.http
        .post("/oauth/introspect")
        .set("Authorization", basic())
        .type("form")
        .send({ token: res.body.access_token })
        .expect(200);
      assert.equal(intro.body.active, true);
      assert.equal(intro.body.sub, userId);
      assert.equal(intro.body.client_id, client.clientId);
      // With a live session, authorize skips the IdP and answers with a code at once.
      const again = await browser.get(
        `/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: client.clientId, redirect_uri: REDIRECT })}`,
        302,
      );
      assert.ok(new URL(again.headers.location).searchParams.get("code"));
      // Revocation (the deprovisioning path) ends the token at once.
      await ctx.deps.db.transaction((trx) => revokeUserSessions(trx, t.tenantId, userId, "deprovisioned"));
      const dead = await ctx.http
        .post("/oauth/introspect")
        .set("Authorization", basic())
        .type("form")
        .send({ token: res.body.access_token })
        .expect(200);
      assert.deepEqual(dead.body, { active: false });
      await ctx.http
        .get("/oauth/userinfo")
        .set("Authorization", `Bearer ${res.body.access_token}`)
        .expect(401);
    });

    it("a code is single use (reuse revokes its token), PKCE and redirect_uri must match", async () => {
      const verifier = randomBytes(32).toString("base64url");
      const { code } = await authorize(verifier);
      const bad = await token({
        grant_type: "authorization_code",
        code,
        redirect_uri: REDIRECT,
        code_verifier: "x".repeat(43),
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error, "invalid_grant");
      const { code: code2 } = await authorize(verifier);
      const wrongUri = await token({
        grant_type: "authorization_code",
        code: code2,
        redirect_uri: "https://app.acme.test/other",
        code_verifier: verifier,
      });
      assert.equal(wrongUri.body.error, "invalid_grant");
      const { code: code3 } = await authorize(verifier);
      const ok = await token({
        grant_type: "authorization_code",
        code: code3,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
      assert.equal(ok.status, 200);
      const reuse = await token({
        grant_type: "authorization_code",
        code: code3,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
      assert.equal(reuse.body.error, "invalid_grant");
      const intro = await ctx.http
        .post("/oauth/introspect")
        .set("Authorization", basic())
        .type("form")
        .send({ token: ok.body.access_token });
      assert.equal(intro.body.active, false);
    });

    it("a code expires after 60 s; an access token after an hour (userinfo 401, introspection inactive)", async () => {
      const verifier = randomBytes(32).toString("base64url");
      const exchange = (code: string) =>
        token({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier });
      const { code: late } = await authorize(verifier);
      ctx.clock.advance(60_000);
      const expired = await exchange(late);
      assert.equal(expired.status, 400);
      assert.deepEqual(
        [expired.body.error, expired.body.error_description],
        ["invalid_grant", "Authorization code expired"],
      );
      const { code } = await authorize(verifier);
      ctx.clock.advance(59_000);
      const ok = await exchange(code);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.expires_in, 3600);
      const access = ok.body.access_token as string;
      const userinfo = () => ctx.http.get("/oauth/userinfo").set("Authorization", `Bearer ${access}`);
      const introspect = async () =>
        (
          await ctx.http
            .post("/oauth/introspect")
            .set("Authorization", basic())
            .type("form")
            .send({ token: access })
        ).body;
      ctx.clock.advance(3_600_000 - 1000);
      await userinfo().expect(200);
      assert.equal((await introspect()).active, true);
      ctx.clock.advance(1000);
      await userinfo().expect(401);
      assert.deepEqual(await introspect(), { active: false });
    });

    it("deleting a client refuses it at once and ends the tokens issued to it", async () => {
      const other = (
        await admin(ctx)
          .post("/admin/v1/tenants/acme/oauth-clients", { name: "Doomed", redirectUris: [REDIRECT] })
          .expect(201)
      ).body as { clientId: string; clientSecret: string };
      const otherBasic = `Basic ${Buffer.from(`${other.clientId}:${other.clientSecret}`).toString("base64")}`;
      // A token issued to it, and a code it has not exchanged yet.
      const verifier = randomBytes(32).toString("base64url");
      const codeFor = async () => {
        const q = new URLSearchParams({
          response_type: "code",
          client_id: other.clientId,
          redirect_uri: REDIRECT,
          code_challenge: createHash("sha256").update(verifier).digest("base64url"),
          code_challenge_method: "S256",
        });
        const b = new Browser(ctx);
        const { id } = authnRequestOf((await b.get(`/oauth/authorize?${q}`, 302)).headers.location);
        const acs = await b.acs(
          "acme",
          await t.idp.response(t.opts({ nameId: "ann@acme.test", inResponseTo: id })),
        );
        assert.equal(acs.status, 302, acs.text);
        return new URL(acs.headers.location).searchParams.get("code")!;
      };
      const form = (code: string) => ({
        grant_type: "authorization_code",
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
      const issued = await token(form(await codeFor()), otherBasic).expect(200);
      const pending = await codeFor();
      const access = issued.body.access_token as string;
      await ctx.http.get("/oauth/userinfo").set("Authorization", `Bearer ${access}`).expect(200);

      const clients = await admin(ctx).get("/admin/v1/tenants/acme/oauth-clients").expect(200);
      const row = clients.body.clients.find((c: any) => c.clientId === other.clientId);
      await admin(ctx).delete(`/admin/v1/tenants/acme/oauth-clients/${row.id}`).expect(204);
      await admin(ctx).delete(`/admin/v1/tenants/acme/oauth-clients/${row.id}`).expect(404);
      // The client itself: no new logins, no exchange of the code it still holds, no introspection.
      const authorizeAgain = await ctx.http.get(
        `/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: other.clientId, redirect_uri: REDIRECT })}`,
      );
      assert.equal(authorizeAgain.status, 400);
      const exchanged = await token(form(pending), otherBasic);
      assert.deepEqual([exchanged.status, exchanged.body.error], [401, "invalid_client"]);
      await ctx.http
        .post("/oauth/introspect")
        .set("Authorization", otherBasic)
        .type("form")
        .send({ token: access })
        .expect(401);
      // Its tokens end with it: userinfo refuses them, and introspection by another client of the tenant says inactive.
      await ctx.http.get("/oauth/userinfo").set("Authorization", `Bearer ${access}`).expect(401);
      const seen = await ctx.http
        .post("/oauth/introspect")
        .set("Authorization", basic())
        .type("form")
        .send({ token: access })
        .expect(200);
      assert.deepEqual(seen.body, { active: false });
      // Another tenant cannot delete this tenant's client.
      await createTenantWithToken(ctx, "other-co");
      await admin(ctx).delete(`/admin/v1/tenants/other-co/oauth-clients/${client.clientId}`).expect(404);
      assert.equal(
        (await admin(ctx).get("/admin/v1/tenants/acme/oauth-clients").expect(200)).body.clients.find(
          (c: any) => c.clientId === client.clientId,
        ).revokedAt,
        null,
      );
    });

    it("client authentication, registered redirect URIs and S256-only PKCE", async () => {
      const wrong = await token(
        { grant_type: "authorization_code", code: "x" },
        `Basic ${Buffer.from(`${client.clientId}:nope`).toString("base64")}`,
      );
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error, "invalid_client");
      await ctx.http.post("/oauth/introspect").type("form").send({ token: "x" }).expect(401);
      const unregistered = await ctx.http.get(
        `/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: client.clientId, redirect_uri: "https://evil.example/cb" })}`,
      );
      assert.equal(unregistered.status, 400);
      assert.match(unregistered.headers["content-type"], /text\/html/);
      const plain = await ctx.http.get(
        `/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: client.clientId, redirect_uri: REDIRECT, code_challenge: "a".repeat(43), code_challenge_method: "plain", state: "s" })}`,
      );
      assert.equal(plain.status, 302);
      const u = new URL(plain.headers.location);
      assert.equal(u.searchParams.get("error"), "invalid_request");
      assert.equal(u.searchParams.get("state"), "s");
    });
  });
}
