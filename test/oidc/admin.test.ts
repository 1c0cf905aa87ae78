import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  admin,
  allBackends,
  createTenantWithToken,
  createTestContext,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";
import { ForgeOp, signingKey, TestOp } from "../helpers/test-op.js";
import { Browser } from "../saml/sso-helpers.js";
import { oidcLogin, redirectUri, refusalCode } from "./oidc-helpers.js";

for (const backend of allBackends()) {
  describe(`OpenID Connect connections: admin API, test before enable [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    let op: TestOp;
    let forge: ForgeOp;
    before(async () => {
      ctx = await createTestContext(backend);
      op = await TestOp.start([
        { clientId: "roster", clientSecret: "secret-0123456789", redirectUris: [redirectUri("life-co")] },
      ]);
      forge = await ForgeOp.start("ES256");
      forge.claims = { email: "ann@acme.test", email_verified: true };
      op.account("ann", { email: "ann@acme.test", email_verified: true, groups: ["eng"] });
    });
    after(async () => {
      await op?.close();
      await forge?.close();
      await ctx?.close();
    });

    it("validates the connection and names the field", async () => {
      await createTenantWithToken(ctx, "valid-co");
      const a = admin(ctx);
      const put = (body: Record<string, unknown>) => a.put("/admin/v1/tenants/valid-co/oidc", body);
      const field = (r: { body: any }) => r.body.error?.details?.[0]?.field;
      let r = await put({ preset: "okta", issuer: op.issuer, clientSecret: "x" });
      assert.equal(r.status, 400);
      assert.equal(field(r), "clientId");
      r = await put({ preset: "google", issuer: op.issuer, clientId: "c", clientSecret: "s" });
      assert.equal(field(r), "domains");
      r = await put({
        preset: "entra",
        issuer: "https://login.microsoftonline.com/common/v2.0",
        clientId: "c",
        clientSecret: "s",
      });
      assert.equal(field(r), "issuer");
      r = await put({
        preset: "okta",
        issuer: "http://127.0.0.1:9/nothing",
        clientId: "c",
        clientSecret: "s",
      });
      assert.equal(r.status, 400);
      assert.equal(field(r), "issuer");
      assert.match(r.body.error.message, /discovery failed/);
      r = await put({ preset: "okta", issuer: `${op.issuer}/`, clientId: "c", clientSecret: "s" });
      assert.equal(field(r), "issuer", "a discovery document naming another issuer string is refused");
      r = await put({
        preset: "custom",
        issuer: op.issuer,
        clientId: "c",
        clientSecret: "s",
        scopes: ["email"],
      });
      assert.equal(field(r), "scopes");
      r = await put({ preset: "custom", issuer: op.issuer, clientId: "c", clientSecret: "s", bogus: 1 });
      assert.equal(r.status, 400);
      assert.equal((await a.get("/admin/v1/tenants/valid-co/oidc")).status, 404, "no partial write");
    });

    it("refuses loopback issuers unless private networks are allowed (the metadata-URL SSRF rules)", async () => {
      const strict = await createTestContext(backend, { env: { ROSTER_WEBHOOK_ALLOW_PRIVATE: "false" } });
      try {
        await createTenantWithToken(strict, "ssrf-co");
        const r = await admin(strict).put("/admin/v1/tenants/ssrf-co/oidc", {
          issuer: op.issuer,
          clientId: "c",
          clientSecret: "s",
        });
        assert.equal(r.status, 400);
        assert.match(r.body.error.message, /https URL|loopback/);
        const r2 = await admin(strict).put("/admin/v1/tenants/ssrf-co/oidc", {
          issuer: "https://127.0.0.1:1/",
          clientId: "c",
          clientSecret: "s",
        });
        assert.match(r2.body.error.message, /loopback, private or link-local/);
      } finally {
        await strict.close();
      }
    });

    it("draft → test (report with every check) → enable; changes need a new test", async () => {
      const { token } = await createTenantWithToken(ctx, "life-co");
      const a = admin(ctx);
      const put = await a.put("/admin/v1/tenants/life-co/oidc", {
        type: "oidc",
        name: "Okta (staff)",
        preset: "okta",
        issuer: op.issuer,
        clientId: "roster",
        clientSecret: "secret-0123456789",
        domains: ["acme.test"],
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.state, "draft");
      assert.equal(put.body.redirectUri, redirectUri("life-co"));
      assert.equal(put.body.type, "oidc");
      assert.deepEqual(put.body.scopes, ["openid", "email", "profile"]);
      assert.equal(
        (await a.post("/admin/v1/tenants/life-co/oidc/enable")).body.error.code,
        "OIDC_NOT_TESTED",
      );
      assert.equal(
        refusalCode((await new Browser(ctx).get("/sso/life-co/oidc/login")).text),
        "SSO_NOT_ENABLED",
      );

      // A test with nobody in the directory (manual provisioning): the configuration passed, the
      // directory match is a warning (test → enable → provision is the product's order).
      const t1 = await a.post("/admin/v1/tenants/life-co/oidc/test");
      assert.equal(t1.status, 201);
      const testPath = new URL(t1.body.loginUrl).pathname + new URL(t1.body.loginUrl).search;
      const page = await oidcLogin(new Browser(ctx), "life-co", op, "ann", `?test=${t1.body.id}`);
      assert.equal(page.status, 200);
      assert.match(page.text, /Not in the directory yet/);
      assert.ok(testPath.endsWith(`?test=${t1.body.id}`));
      const r1 = (await a.get(`/admin/v1/tenants/life-co/oidc/test/${t1.body.id}`)).body;
      assert.equal(r1.status, "succeeded");
      assert.equal(r1.report.outcome, "success");
      assert.equal(r1.report.status, "not_found");
      assert.deepEqual(
        r1.report.checks.map((c: any) => `${c.check}:${c.status}`),
        [
          "discovery:passed",
          "jwks:passed",
          "token_exchange:passed",
          "signature:passed",
          "claims:passed",
          "directory:warning",
        ],
      );
      assert.equal(r1.report.warnings[0].code, "USER_NOT_FOUND");
      assert.match(r1.report.warnings[0].message, /under manual provisioning this person will be refused/);
      assert.match(r1.report.warnings[0].hint, /jit|provision/);
      assert.equal((await a.get("/admin/v1/tenants/life-co/oidc")).body.state, "tested");
      assert.equal((await new Browser(ctx).get("/sso/life-co/session")).status, 401, "a test logs no one in");

      assert.equal((await scimClient(ctx, token).post("/Users", userBody("ann@acme.test"))).status, 201);
      const t2 = await a.post("/admin/v1/tenants/life-co/oidc/test");
      assert.equal(
        (await oidcLogin(new Browser(ctx), "life-co", op, "ann", `?test=${t2.body.id}`)).status,
        200,
      );
      const r2 = (await a.get(`/admin/v1/tenants/life-co/oidc/test/${t2.body.id}`)).body;
      assert.equal(r2.status, "succeeded", JSON.stringify(r2.report));
      assert.ok(r2.report.checks.every((c: any) => c.status === "passed"));
      assert.deepEqual(r2.report.warnings, []);
      assert.equal(r2.report.user.userName, "ann@acme.test");
      assert.deepEqual(r2.report.mapped.groups, [], "groups only with the groups scope (Okta)");
      assert.equal(r2.report.claims.email, "ann@acme.test");
      // The test link is single use.
      assert.equal(
        refusalCode((await new Browser(ctx).get(`/sso/life-co/oidc/login?test=${t2.body.id}`)).text),
        "UNKNOWN_TEST",
      );

      assert.equal((await a.get("/admin/v1/tenants/life-co/oidc")).body.state, "tested");
      // Asking for the groups scope is a change: tested again, and the groups claim arrives.
      const scoped = await a.put("/admin/v1/tenants/life-co/oidc", {
        scopes: ["openid", "email", "profile", "groups"],
      });
      assert.equal(scoped.body.state, "draft");
      const t3 = await a.post("/admin/v1/tenants/life-co/oidc/test");
      await oidcLogin(new Browser(ctx), "life-co", op, "ann", `?test=${t3.body.id}`);
      const r3 = (await a.get(`/admin/v1/tenants/life-co/oidc/test/${t3.body.id}`)).body;
      assert.deepEqual(r3.report.mapped.groups, ["eng"]);
      const enabled = await a.post("/admin/v1/tenants/life-co/oidc/enable");
      assert.equal(enabled.status, 200);
      assert.equal(enabled.body.state, "enabled");
      assert.equal((await oidcLogin(new Browser(ctx), "life-co", op, "ann")).status, 302);

      const changed = await a.put("/admin/v1/tenants/life-co/oidc", { sessionHours: 4 });
      assert.equal(changed.body.configVersion, scoped.body.configVersion + 1);
      assert.equal(changed.body.testedSinceLastChange, false);
      assert.equal(changed.body.state, "enabled", "a change never locks people out");
      const same = await a.put("/admin/v1/tenants/life-co/oidc", { sessionHours: 4 });
      assert.equal(same.body.configVersion, changed.body.configVersion, "no change, no new version");

      assert.equal((await a.post("/admin/v1/tenants/life-co/oidc/disable")).body.state, "disabled");
      assert.equal(
        refusalCode((await new Browser(ctx).get("/sso/life-co/oidc/login")).text),
        "SSO_NOT_ENABLED",
      );
    });

    it("a failed signature stops the report at its check, with the fix (ES256 provider)", async () => {
      await createTenantWithToken(ctx, "sig-co");
      const a = admin(ctx);
      assert.equal(
        (
          await a.put("/admin/v1/tenants/sig-co/oidc", {
            issuer: forge.issuer,
            clientId: "roster-forge",
            clientSecret: "s",
          })
        ).status,
        200,
      );
      const attacker = await signingKey("ES256");
      forge.mint = async (r, f) => {
        const real = f.key;
        f.key = { ...attacker, kid: real.kid };
        try {
          return await f.valid(r);
        } finally {
          f.key = real;
        }
      };
      const t = await a.post("/admin/v1/tenants/sig-co/oidc/test");
      await oidcLogin(new Browser(ctx), "sig-co", forge, "", `?test=${t.body.id}`);
      const r = (await a.get(`/admin/v1/tenants/sig-co/oidc/test/${t.body.id}`)).body;
      assert.equal(r.report.code, "ID_TOKEN_SIGNATURE_INVALID");
      assert.deepEqual(
        r.report.checks.map((c: any) => c.status),
        ["passed", "passed", "passed", "failed", "skipped", "skipped"],
      );
      assert.ok(r.report.checks[3].hint);
      forge.mint = (r2, f) => f.valid(r2);
    });

    it("Entra groups: read when sent; an overage (_claim_names) leaves them unknown, not empty", async () => {
      const tid = "3f2b8c1e-5a4d-4e7b-9c0a-1d2e3f4a5b6c";
      const { token } = await createTenantWithToken(ctx, "groups-co");
      const a = admin(ctx);
      const put = await a.put("/admin/v1/tenants/groups-co/oidc", {
        preset: "entra",
        issuer: forge.issuer,
        entraTenantId: tid,
        clientId: "roster-forge",
        clientSecret: "s",
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(
        (await scimClient(ctx, token).post("/Users", userBody("ann@acme.test", { externalId: "oid-ann" })))
          .status,
        201,
      );
      const report = async (claims: Record<string, unknown>) => {
        forge.claims = { preferred_username: "ann@acme.test", oid: "oid-ann", tid, ...claims };
        const t = await a.post("/admin/v1/tenants/groups-co/oidc/test");
        await oidcLogin(new Browser(ctx), "groups-co", forge, "", `?test=${t.body.id}`);
        return (await a.get(`/admin/v1/tenants/groups-co/oidc/test/${t.body.id}`)).body.report;
      };
      const sent = await report({ groups: ["g-1", "g-2"] });
      assert.equal(sent.outcome, "success", JSON.stringify(sent));
      assert.deepEqual(sent.mapped.groups, ["g-1", "g-2"]);
      assert.equal(sent.mapped.groupsUnknown, false);
      assert.equal(sent.user.matchedBy, "immutableId:externalId");
      const overage = await report({
        _claim_names: { groups: "src1" },
        _claim_sources: { src1: { endpoint: "https://graph.microsoft.com/v1.0/users/x/getMemberObjects" } },
      });
      assert.deepEqual(overage.mapped.groups, []);
      assert.equal(overage.mapped.groupsUnknown, true);
      forge.claims = { email: "ann@acme.test", email_verified: true };
    });

    it("keeps tenants apart: another tenant's test, connection and presets", async () => {
      await createTenantWithToken(ctx, "peer-co");
      const a = admin(ctx);
      const t = await a.post("/admin/v1/tenants/life-co/oidc/test");
      assert.equal((await a.get(`/admin/v1/tenants/peer-co/oidc/test/${t.body.id}`)).status, 404);
      assert.equal((await a.post("/admin/v1/tenants/peer-co/oidc/test")).status, 404);
      assert.equal((await a.delete("/admin/v1/tenants/peer-co/oidc")).status, 404);
      assert.equal((await a.get("/admin/v1/tenants/life-co/oidc")).status, 200, "untouched");
      const presets = await a.get("/admin/v1/oidc/presets");
      assert.deepEqual(
        presets.body.presets.map((p: any) => p.key),
        ["google", "entra", "okta", "custom"],
      );
      assert.equal((await a.delete("/admin/v1/tenants/sig-co/oidc")).status, 204);
      assert.equal(
        refusalCode((await new Browser(ctx).get("/sso/sig-co/oidc/login")).text),
        "NOT_CONFIGURED",
      );
    });
  });
}
