import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { admin, allBackends, createTestContext, type TestContext, userBody } from "../helpers/context.js";
import { TestOp } from "../helpers/test-op.js";
import { type OidcTenant, redirectUri, setupOidc } from "../oidc/oidc-helpers.js";
import { Browser } from "../saml/sso-helpers.js";
import { ConsoleClient } from "./helpers.js";

const SECRET = "secret-acme-0123456789";

// The SSO page's OpenID Connect choices (issue 17: "the console offers OIDC providers in its
// picker"), against oidc-provider on loopback: save → test (report on the page) → enable.
for (const backend of allBackends()) {
  describe(`console SSO page: OpenID Connect [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let op: TestOp;
    let c: ConsoleClient;
    let acmeId: string;
    let globex: OidcTenant;
    let globexTestId: string;
    before(async () => {
      ctx = await createTestContext(backend);
      op = await TestOp.start(
        ["acme", "globex"].map((s) => ({
          clientId: `roster-${s}`,
          clientSecret: `secret-${s}-0123456789`,
          redirectUris: [redirectUri(s)],
        })),
      );
      op.account("ann", { email: "ann@acme.test", email_verified: true, name: "Ann" });
      op.account("stranger", { email: "stranger@acme.test", email_verified: true });
      globex = await setupOidc(
        ctx,
        "globex",
        {
          preset: "okta",
          issuer: op.issuer,
          clientId: "roster-globex",
          clientSecret: "secret-globex-0123456789",
        },
        { enable: false },
      );
      globexTestId = (await admin(ctx).post("/admin/v1/tenants/globex/oidc/test").expect(201)).body.id;
      const acme = await setupOidc(
        ctx,
        "acme",
        { preset: "okta", issuer: op.issuer, clientId: "x" },
        { enable: false },
      );
      acmeId = acme.tenantId;
      await admin(ctx).delete("/admin/v1/tenants/acme/oidc").expect(204);
      await acme.scim.post("/Users", userBody("ann@acme.test")).expect(201);
      const link = await admin(ctx)
        .post("/admin/v1/tenants/acme/setup-links", { scopes: ["sso"] })
        .expect(201);
      c = new ConsoleClient(ctx);
      assert.equal((await c.exchange(link.body.url)).status, 303);
    });
    after(async () => {
      await op.close();
      await ctx.close();
    });

    const events = async () =>
      (await ctx.deps.db("events").where({ tenant_id: acmeId, type: "console.action" })).map((e: any) =>
        JSON.parse(e.data),
      );
    const oidcRow = async (tenantId: string) =>
      ctx.deps.db("oidc_connections").where({ tenant_id: tenantId }).first();

    it("the picker offers the OpenID Connect providers beside the SAML ones", async () => {
      const page = await c.get("/console/t/acme/sso");
      assert.equal(page.status, 200);
      for (const name of [
        "Google Workspace (OpenID Connect)",
        "Microsoft Entra ID (OpenID Connect)",
        "Okta (OpenID Connect)",
        "Custom OpenID Connect",
        "Custom SAML",
      ])
        assert.ok(page.text.includes(name), name);
      const google = await c.get("/console/t/acme/sso?provider=google-oidc");
      assert.match(google.text, /Authorized redirect URIs/);
      assert.match(google.text, /value="https:\/\/roster\.test\/sso\/acme\/oidc\/callback"/);
      assert.match(google.text, /data-copy="oidc-redirect-uri"/);
      assert.match(google.text, /name="domains"/);
      assert.doesNotMatch(google.text, /name="requireEmailVerified"/, "Google never turns it off");
      const entra = await c.get("/console/t/acme/sso?provider=entra-oidc");
      assert.match(entra.text, /Directory \(tenant\) ID/);
      assert.match(entra.text, /name="requireEmailVerified"/);
    });

    it("the admin API's validation errors land beside their fields", async () => {
      await c.get("/console/t/acme/sso?provider=custom-oidc");
      const res = await c.post("/console/t/acme/sso/oidc", {
        provider: "custom-oidc",
        issuer: "not a url",
        clientId: "",
        clientSecret: "",
      });
      assert.equal(res.status, 400);
      assert.match(res.text, /id="f-issuer-error"[^>]*>[^<]*absolute URL/);
      const google = await c.post("/console/t/acme/sso/oidc", {
        provider: "google-oidc",
        clientId: "id",
        clientSecret: "s",
        domains: "not a domain",
      });
      assert.equal(google.status, 400);
      assert.match(google.text, /id="f-domains-error"/);
      const entra = await c.post("/console/t/acme/sso/oidc", {
        provider: "entra-oidc",
        entraTenantId: "common",
        clientId: "id",
        clientSecret: "s",
      });
      assert.equal(entra.status, 400);
      assert.match(entra.text, /id="f-entraTenantId-error"/);
      assert.equal(await oidcRow(acmeId), undefined, "nothing saved");
    });

    it("save → Enable refused → test fails with reason and fix → test passes → Enable", async () => {
      await c.get("/console/t/acme/sso?provider=custom-oidc");
      const saved = await c.post("/console/t/acme/sso/oidc", {
        provider: "custom-oidc",
        issuer: op.issuer,
        clientId: "roster-acme",
        clientSecret: SECRET,
        _emailVerifiedShown: "1",
        requireEmailVerified: "on",
      });
      assert.equal(saved.status, 303, saved.text);
      const page = await c.get(saved.headers.location);
      assert.match(page.text, /Set\. Leave empty to keep it/);
      assert.ok(!page.text.includes(SECRET), "the secret is never shown back");
      assert.match(page.text, /<button type="submit" disabled aria-describedby="enable-hint">Enable OpenID/);
      const refused = await c.post("/console/t/acme/sso/oidc/enable", { provider: "custom-oidc" });
      assert.match(refused.text, /Run a passing test first/);
      assert.equal((await oidcRow(acmeId)).state, "draft");

      const runTest = async (account: string) => {
        const start = await ctx.http
          .post("/console/t/acme/sso/oidc/test")
          .set("Cookie", c.cookieHeader())
          .set("x-console-fetch", "1")
          .type("form")
          .send({ _csrf: c.csrf, provider: "custom-oidc" });
        assert.equal(start.status, 200, start.text);
        const b = new Browser(ctx);
        const login = await b.get(
          new URL(start.body.loginUrl).pathname + new URL(start.body.loginUrl).search,
          302,
        );
        const back = await op.login(login.headers.location, account);
        await b.get(back.pathname + back.search);
        const id = new URL(start.body.reportUrl, "https://x").searchParams.get("test")!;
        return { id, page: await c.get(start.body.reportUrl) };
      };
      // Someone not in the directory yet: the configuration works, the directory check warns
      // (the product story tests before anyone is provisioned).
      const warned = await runTest("stranger");
      assert.match(warned.page.text, /Test passed/);
      assert.match(
        warned.page.text,
        /The person is in the directory and active<\/strong>: Passed, with a warning<p>Note: Not in the directory yet/,
      );
      assert.match(warned.page.text, /What to do: /);
      const passed = await runTest("ann");
      assert.match(passed.page.text, /Test passed/);
      const fragment = await c.get(`/console/t/acme/sso/oidc/test/${passed.id}`);
      assert.match(fragment.text, /data-final/);
      assert.doesNotMatch(fragment.text, /Failed|with a warning/);
      const enabled = await c.post("/console/t/acme/sso/oidc/enable", { provider: "custom-oidc" });
      assert.equal(enabled.status, 303);
      const after = await c.get(enabled.headers.location);
      assert.match(after.text, /<dd id="sign-in-uses">OpenID Connect<\/dd>/);
      assert.equal((await oidcRow(acmeId)).state, "enabled");

      const actions = (await events()).map((e: any) => [e.action, e.actor.kind]);
      for (const a of ["sso.oidc.save", "sso.oidc.test.start", "sso.oidc.enable"])
        assert.ok(
          actions.some(([x, k]) => x === a && k === "setup_link"),
          `${a} names the actor`,
        );
    });

    it("provisioning preferences do not need a new test: the enabled connection stays tested", async () => {
      const before = await oidcRow(acmeId);
      assert.equal(before.state, "enabled");
      await c.get("/console/t/acme/sso?provider=custom-oidc");
      const res = await c.post("/console/t/acme/sso/provisioning", {
        provisioning: "jit",
        defaultRole: "member",
      });
      assert.equal(res.status, 303);
      const row = await oidcRow(acmeId);
      assert.equal(JSON.parse(row.settings).provisioning, "jit");
      assert.equal(Number(row.config_version), Number(before.config_version));
      const view = (await admin(ctx).get("/admin/v1/tenants/acme/oidc").expect(200)).body;
      assert.equal(view.testedSinceLastChange, true);
      assert.equal(view.state, "enabled");
    });

    it("another tenant's connection and tests are out of reach", async () => {
      const before = JSON.stringify(await oidcRow(globex.tenantId));
      for (const url of [
        "/console/t/globex/sso?provider=okta-oidc",
        `/console/t/globex/sso/oidc/test/${globexTestId}`,
        `/console/t/acme/sso/oidc/test/${globexTestId}`,
      ])
        assert.equal((await c.get(url)).status, 404, url);
      const own = await c.get(`/console/t/acme/sso?provider=custom-oidc&test=${globexTestId}`);
      assert.equal(own.status, 200);
      assert.ok(!own.text.includes(globexTestId));
      for (const url of ["oidc", "oidc/test", "oidc/enable", "oidc/disable"])
        assert.equal(
          (
            await c.post(`/console/t/globex/sso/${url}`, {
              provider: "okta-oidc",
              issuer: op.issuer,
              clientId: "stolen",
              clientSecret: "stolen",
            })
          ).status,
          404,
          url,
        );
      assert.equal(JSON.stringify(await oidcRow(globex.tenantId)), before);
    });

    it("every OpenID Connect action without the CSRF token is refused", async () => {
      const before = JSON.stringify(await oidcRow(acmeId));
      for (const url of ["oidc", "oidc/test", "oidc/enable", "oidc/disable"]) {
        const form = { provider: "custom-oidc", clientId: "changed" };
        assert.equal((await c.post(`/console/t/acme/sso/${url}`, form, false)).status, 403, url);
        assert.equal(
          (await c.post(`/console/t/acme/sso/${url}`, { ...form, _csrf: "x".repeat(43) })).status,
          403,
        );
      }
      assert.equal(JSON.stringify(await oidcRow(acmeId)), before);
    });

    it("Disable is always there and the state shows it", async () => {
      await c.get("/console/t/acme/sso?provider=custom-oidc");
      const res = await c.post("/console/t/acme/sso/oidc/disable", { provider: "custom-oidc" });
      assert.equal(res.status, 303);
      const page = await c.get(res.headers.location);
      assert.match(page.text, /OpenID Connect sign-in is disabled/);
      assert.match(page.text, /<dd id="sign-in-uses">neither/);
      assert.ok((await events()).some((e: any) => e.action === "sso.oidc.disable"));
    });
  });
}
