import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { admin, backends, createTestContext, type TestContext } from "../helpers/context.js";
import { addUser, authnRequestOf, Browser, setupSso, type SsoTenant } from "./sso-helpers.js";

// Issue 14, item 6: the OAuth hand-off grants only what it supports, redirects only to safe
// URLs, and a malformed client credential is a 401, not a 500.

const REDIRECT = "https://app.acme.test/callback";
const UNSAFE = [
  "javascript:alert(document.cookie)",
  "data:text/html,<script>alert(1)</script>",
  "file:///etc/passwd",
  "vbscript:msgbox(1)",
  "https://*.acme.test/callback",
  "https://app.acme.test/*",
  "https://user:pw@app.acme.test/callback",
  "http://app.acme.test/callback",
  "http://10.0.0.5/callback",
];
const LOOPBACK = [
  "http://127.0.0.1:8080/cb",
  "http://127.1.2.3/cb",
  "http://localhost:3000/cb",
  "http://[::1]:9000/cb",
];

for (const backend of backends()) {
  describe(`OAuth hand-off hardening [${backend.name}]`, () => {
    let ctx: TestContext;
    let t: SsoTenant;
    let client: { clientId: string; clientSecret: string };
    before(async () => {
      ctx = await createTestContext(backend);
      t = await setupSso(ctx, "acme");
      await addUser(t, "ann@acme.test");
      client = (
        await admin(ctx)
          .post("/admin/v1/tenants/acme/oauth-clients", { name: "App", redirectUris: [REDIRECT] })
          .expect(201)
      ).body;
    });
    after(async () => ctx.close());

    const authorizeUrl = (extra: Record<string, string>) =>
      `/oauth/authorize?${new URLSearchParams({
        response_type: "code",
        client_id: client.clientId,
        redirect_uri: REDIRECT,
        state: "st",
        ...extra,
      })}`;

    async function login(scope: string) {
      const b = new Browser(ctx);
      const res = await b.get(authorizeUrl({ scope }), 302);
      const { id } = authnRequestOf(res.headers.location);
      const acs = await b.acs(
        "acme",
        await t.idp.response(t.opts({ nameId: "ann@acme.test", inResponseTo: id })),
      );
      assert.equal(acs.status, 302, acs.text);
      return new URL(acs.headers.location).searchParams.get("code")!;
    }

    it("scope without openid is invalid_scope, sent back to the client; nothing is stored or signed", async () => {
      const before = await ctx.deps.db("saml_requests").count({ n: "*" }).first();
      for (const scope of ["admin superuser", "", "profile email"]) {
        const res = await new Browser(ctx).get(authorizeUrl({ scope }), 302);
        const back = new URL(res.headers.location);
        assert.equal(back.origin + back.pathname, REDIRECT, scope);
        assert.equal(back.searchParams.get("error"), "invalid_scope", scope);
        assert.equal(back.searchParams.get("state"), "st");
      }
      const after = await ctx.deps.db("saml_requests").count({ n: "*" }).first();
      assert.equal(Number(after?.n), Number(before?.n));
    });

    it("only supported scopes are granted: the token response and introspection say so", async () => {
      const code = await login("admin openid superuser email openid");
      const basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`;
      const tok = await ctx.http
        .post("/oauth/token")
        .set("Authorization", basic)
        .type("form")
        .send({ grant_type: "authorization_code", code, redirect_uri: REDIRECT })
        .expect(200);
      assert.equal(tok.body.scope, "openid email");
      const intro = await ctx.http
        .post("/oauth/introspect")
        .set("Authorization", basic)
        .type("form")
        .send({ token: tok.body.access_token })
        .expect(200);
      assert.equal(intro.body.scope, "openid email");
      const row = await ctx.deps.db("oauth_tokens").where({ client_id: client.clientId }).first();
      assert.equal(row.scope, "openid email");
    });

    it("state and nonce are bounded (invalid_request back to the client)", async () => {
      const cases: Array<Record<string, string>> = [{ state: "s".repeat(2049) }, { nonce: "n".repeat(513) }];
      for (const extra of cases) {
        const res = await new Browser(ctx).get(authorizeUrl(extra), 302);
        assert.equal(new URL(res.headers.location).searchParams.get("error"), "invalid_request");
      }
    });

    it("redirectUris, returnUrls and defaultReturnUrl: https, or http on loopback only (400 naming the field)", async () => {
      for (const url of UNSAFE) {
        const c = await admin(ctx).post("/admin/v1/tenants/acme/oauth-clients", {
          name: "Bad",
          redirectUris: [REDIRECT, url],
        });
        assert.equal(c.status, 400, `${url}: ${c.text}`);
        assert.equal(c.body.error.code, "VALIDATION_FAILED");
        assert.equal(c.body.error.details[0].field, "redirectUris.1", url);
        const r = await admin(ctx).put("/admin/v1/tenants/acme/saml", { returnUrls: [url] });
        assert.equal(r.status, 400, `${url}: ${r.text}`);
        assert.equal(r.body.error.details[0].field, "returnUrls.0", url);
        const d = await admin(ctx).put("/admin/v1/tenants/acme/saml", { defaultReturnUrl: url });
        assert.equal(d.status, 400, `${url}: ${d.text}`);
        assert.equal(d.body.error.details[0].field, "defaultReturnUrl", url);
      }
      const ok = await admin(ctx).post("/admin/v1/tenants/acme/oauth-clients", {
        name: "Native",
        redirectUris: LOOPBACK,
      });
      assert.equal(ok.status, 201, ok.text);
      await admin(ctx).put("/admin/v1/tenants/acme/saml", { returnUrls: LOOPBACK }).expect(200);
      await admin(ctx)
        .put("/admin/v1/tenants/acme/saml", { returnUrls: [], defaultReturnUrl: null })
        .expect(200);
    });

    it("URLs saved before these rules are not followed", async () => {
      // As an older version could have stored them.
      await ctx.deps
        .db("oauth_clients")
        .where({ id: client.clientId })
        .update({ redirect_uris: JSON.stringify([REDIRECT, "javascript:alert(1)"]) });
      const res = await ctx.http.get(
        `/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: client.clientId, redirect_uri: "javascript:alert(1)" })}`,
      );
      assert.equal(res.status, 400);
      assert.equal(res.headers.location, undefined);
      const row = await ctx.deps.db("saml_connections").where({ tenant_id: t.tenantId }).first();
      const settings = JSON.parse(row.settings);
      await ctx.deps
        .db("saml_connections")
        .where({ tenant_id: t.tenantId })
        .update({
          settings: JSON.stringify({
            ...settings,
            defaultReturnUrl: "javascript:alert(1)",
            returnUrls: ["http://app.acme.test/"],
          }),
        });
      const b = new Browser(ctx);
      const refused = await b.get("/sso/acme/login?return_to=http://app.acme.test/home");
      assert.equal(refused.status, 400);
      const id = await b.startLogin("acme");
      const acs = await b.acs(
        "acme",
        await t.idp.response(t.opts({ nameId: "ann@acme.test", inResponseTo: id })),
      );
      assert.equal(acs.status, 302, acs.text);
      assert.equal(acs.headers.location, "https://roster.test/sso/acme/session");
      await ctx.deps
        .db("saml_connections")
        .where({ tenant_id: t.tenantId })
        .update({ settings: row.settings });
      await ctx.deps
        .db("oauth_clients")
        .where({ id: client.clientId })
        .update({ redirect_uris: JSON.stringify([REDIRECT]) });
    });

    it("Basic client authentication that does not decode is 401 invalid_client, never a 500", async () => {
      const cases = [
        `${client.clientId}:%E0%A4%A`, // malformed percent escape in the secret
        `%E0%A4%A:${client.clientSecret}`, // … in the client id
        `${client.clientId}${client.clientSecret}`, // no colon
        `${client.clientId}%00:${client.clientSecret}`, // NUL in the id (PostgreSQL refuses it in a query)
        "",
      ];
      for (const raw of cases)
        for (const path of ["/oauth/token", "/oauth/introspect"]) {
          const res = await ctx.http
            .post(path)
            .set("Authorization", `Basic ${Buffer.from(raw).toString("base64")}`)
            .type("form")
            .send({ grant_type: "authorization_code", code: "x", token: "x" });
          assert.equal(res.status, 401, `${path} ${raw}: ${res.text}`);
          assert.equal(res.body.error, "invalid_client");
          assert.match(res.headers["www-authenticate"], /^Basic/);
        }
      const form = await ctx.http.post("/oauth/token").type("form").send({
        grant_type: "authorization_code",
        client_id: "rst_client_\u0000",
        client_secret: "x",
        code: "x",
      });
      assert.equal(form.status, 401);
      const authorize = await ctx.http.get(
        `/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: "x\u0000", redirect_uri: REDIRECT })}`,
      );
      assert.equal(authorize.status, 400);
      assert.ok(!ctx.logs.some((l) => l.includes("URIError")), "no stack trace logged");
    });
  });
}
