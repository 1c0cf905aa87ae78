import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { checkCertificateExpiry } from "../../src/sso/saml/jobs.js";
import { generateKeyAndCertificate, selfSignedCertificate } from "../../src/sso/saml/x509.js";
import {
  admin,
  allBackends,
  createTenantWithToken,
  createTestContext,
  type TestContext,
} from "../helpers/context.js";
import { TestIdp } from "../helpers/test-idp.js";
import { authnRequestOf, Browser, eventsOf, type SsoTenant } from "./sso-helpers.js";

const DAY = 86_400_000;

/** A certificate that expires `days` after `now` (the app's clock, which the checks read). */
function certExpiringIn(days: number, now: Date): string {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return selfSignedCertificate(privateKey, publicKey, {
    commonName: `expires in ${days}`,
    notBefore: new Date(now.getTime() - 400 * DAY),
    notAfter: new Date(now.getTime() + days * DAY),
  });
}

for (const backend of allBackends()) {
  describe(`SAML connection admin API [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let a: ReturnType<typeof admin>;
    const idp = new TestIdp();
    before(async () => {
      ctx = await createTestContext(backend);
      a = admin(ctx);
      for (const slug of ["acme", "meta", "url", "bad", "exp"]) await createTenantWithToken(ctx, slug);
    });
    after(async () => ctx.close());

    it("PUT from fields → draft connection with SP side, certificate expiry, presets' instructions", async () => {
      const res = await a
        .put("/admin/v1/tenants/acme/saml", {
          preset: "entra",
          idpEntityId: idp.entityId,
          ssoUrl: idp.ssoUrl,
          certificates: [idp.keys.certificate],
        })
        .expect(200);
      assert.equal(res.body.state, "draft");
      assert.equal(res.body.sp.entityId, "https://roster.test/sso/acme");
      assert.equal(res.body.sp.acsUrl, "https://roster.test/sso/acme/acs");
      assert.match(res.body.sp.signingCertificate, /BEGIN CERTIFICATE/);
      assert.ok(res.body.idp.certificates[0].daysUntilExpiry > 3000);
      assert.match(res.body.idp.certificates[0].fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      assert.equal(res.body.settings.provisioning, "manual");
      assert.equal(res.body.settings.allowIdpInitiated, false);
      assert.match(res.body.settings.attributeMapping.email, /emailaddress$/);
      assert.match(res.body.instructions.toIdp.acsUrl, /Reply URL/);
      const got = await a.get("/admin/v1/tenants/acme/saml").expect(200);
      assert.equal(got.body.id, res.body.id);
      const presets = await a.get("/admin/v1/saml/presets").expect(200);
      assert.deepEqual(presets.body.presets.map((p: any) => p.key).sort(), [
        "custom",
        "entra",
        "google",
        "jumpcloud",
        "okta",
        "onelogin",
      ]);
    });

    it("SP metadata XML: entity ID, ACS, signing and encryption certificates", async () => {
      const res = await ctx.http.get("/sso/acme/metadata").expect(200);
      assert.match(res.headers["content-type"], /samlmetadata\+xml/);
      assert.match(res.text, /entityID="https:\/\/roster.test\/sso\/acme"/);
      assert.match(res.text, /Location="https:\/\/roster.test\/sso\/acme\/acs"/);
      assert.match(res.text, /use="signing"/);
      assert.match(res.text, /use="encryption"/);
      await ctx.http.get("/sso/nope/metadata").expect(404);
    });

    it("validation at save names the field: PEM, key size, expiry with the date, missing URL", async () => {
      const bad = async (body: Record<string, unknown>, field: string, message: RegExp) => {
        const res = await a.put("/admin/v1/tenants/bad/saml", body).expect(400);
        assert.equal(res.body.error.details[0].field, field, JSON.stringify(res.body));
        assert.match(res.body.error.details[0].message, message);
      };
      const base = { idpEntityId: "https://idp", ssoUrl: "https://idp/sso" };
      await bad({ ...base, certificates: ["not a cert"] }, "certificates.0", /parseable PEM/);
      const small = generateKeyAndCertificate({ commonName: "small", bits: 1024 });
      await bad({ ...base, certificates: [small.certificate] }, "certificates.0", /1024 bits/);
      const expired = certExpiringIn(-3, ctx.clock.now());
      await bad({ ...base, certificates: [expired] }, "certificates.0", /expired on \d{4}-\d\d-\d\dT/);
      await bad({ idpEntityId: "https://idp", certificates: [idp.keys.certificate] }, "ssoUrl", /required/);
      await bad({ metadataXml: "<x/>" }, "metadataXml", /EntityDescriptor/);
      await bad({ metadataXml: '<!DOCTYPE x [<!ENTITY a "b">]><x/>' }, "metadataXml", /DOCTYPE/);
      await bad({ provisioning: "sometimes" }, "provisioning", /./);
      await bad({}, "metadataXml", /a new connection needs/);
    });

    it("PUT from metadata XML and from a metadata URL (size-limited, redirects re-checked)", async () => {
      const meta = await a
        .put("/admin/v1/tenants/meta/saml", { metadataXml: idp.metadataXml(), preset: "okta" })
        .expect(200);
      assert.equal(meta.body.idp.entityId, idp.entityId);
      assert.equal(meta.body.idp.ssoUrl, idp.ssoUrl);
      const server = http.createServer((req, res) => {
        if (req.url === "/redirect") return res.writeHead(302, { location: "/metadata" }).end();
        if (req.url === "/huge") return res.end("x".repeat(2 * 1024 * 1024));
        res.setHeader("content-type", "application/xml").end(idp.metadataXml());
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const res = await a
          .put("/admin/v1/tenants/url/saml", { metadataUrl: `${base}/redirect` })
          .expect(200);
        assert.equal(res.body.idp.metadataUrl, `${base}/redirect`);
        assert.equal(res.body.idp.entityId, idp.entityId);
        const huge = await a.put("/admin/v1/tenants/url/saml", { metadataUrl: `${base}/huge` }).expect(400);
        assert.match(huge.body.error.message, /too large \(more than 1 MB\)/);
        // Without the private-network allowance: https only, and never loopback.
        const strict = await createTestContext(backend, { env: { ROSTER_WEBHOOK_ALLOW_PRIVATE: "false" } });
        try {
          await createTenantWithToken(strict, "ss");
          const http1 = await admin(strict)
            .put("/admin/v1/tenants/ss/saml", { metadataUrl: `${base}/metadata` })
            .expect(400);
          assert.match(http1.body.error.message, /https/);
          const loop = await admin(strict)
            .put("/admin/v1/tenants/ss/saml", { metadataUrl: "https://127.0.0.1:1/m" })
            .expect(400);
          assert.match(
            loop.body.error.message,
            /loopback, private or link-local address: refused unless ROSTER_WEBHOOK_ALLOW_PRIVATE=true/,
          );
        } finally {
          await strict.close();
        }
      } finally {
        server.close();
      }
    });

    it("enable needs a successful test since the last change (409 otherwise); the report says why", async () => {
      await a.post("/admin/v1/tenants/acme/saml/enable").expect(409);
      const t: SsoTenant = {
        slug: "acme",
        tenantId: "",
        idp,
        acsUrl: "https://roster.test/sso/acme/acs",
        entityId: "https://roster.test/sso/acme",
        scim: undefined as never,
        // Responses are built on the app's clock, as the ACS checks them.
        opts: (extra) => ({
          acsUrl: "https://roster.test/sso/acme/acs",
          audience: "https://roster.test/sso/acme",
          now: ctx.clock.now(),
          ...extra,
        }),
      };
      const runTest = async (build: (id: string) => Promise<string>) => {
        const started = await a.post("/admin/v1/tenants/acme/saml/test").expect(201);
        assert.match(started.body.loginUrl, /^https:\/\/roster.test\/sso\/acme\/login\?test=/);
        const b = new Browser(ctx);
        const login = await b.get(
          new URL(started.body.loginUrl).pathname + new URL(started.body.loginUrl).search,
          302,
        );
        const res = await b.acs("acme", await build(authnRequestOf(login.headers.location).id));
        assert.ok(
          !String(res.headers["set-cookie"] ?? "").includes("roster_session="),
          "a test logs no one in",
        );
        return (await a.get(`/admin/v1/tenants/acme/saml/test/${started.body.id}`).expect(200)).body;
      };
      // Wrong audience: both sides in the report.
      let report = await runTest((id) =>
        idp.response(t.opts({ nameId: "x", inResponseTo: id, audience: "https://wrong/sp" })),
      );
      assert.equal(report.status, "failed");
      assert.equal(report.report.code, "AUDIENCE_MISMATCH");
      assert.equal(report.report.expected, "https://roster.test/sso/acme");
      assert.deepEqual(report.report.received, ["https://wrong/sp"]);
      // Unknown certificate: fingerprints expected vs received.
      const other = generateKeyAndCertificate({ commonName: "other" });
      report = await runTest((id) => idp.response(t.opts({ nameId: "x", inResponseTo: id, signer: other })));
      assert.equal(report.report.code, "SIGNATURE_INVALID");
      assert.equal(report.report.expectedFingerprints.length, 1);
      assert.notEqual(report.report.receivedFingerprints[0], report.report.expectedFingerprints[0]);
      // Clock skew: by how much.
      report = await runTest((id) =>
        idp.response(
          t.opts({
            nameId: "x",
            inResponseTo: id,
            now: new Date(ctx.clock.now().getTime() - 3_600_000),
            notOnOrAfter: new Date(ctx.clock.now().getTime() - 600_000),
          }),
        ),
      );
      assert.equal(report.report.code, "EXPIRED");
      assert.ok(report.report.skewSeconds >= 500, JSON.stringify(report));
      // Nobody in the directory (manual provisioning): the configuration passed; the directory
      // match is a warning with the JIT hint (test → enable → provision is the product's order).
      await a.post("/admin/v1/tenants/acme/saml/enable").expect(409);
      report = await runTest((id) => idp.response(t.opts({ nameId: "nobody@acme.test", inResponseTo: id })));
      assert.equal(report.status, "succeeded", JSON.stringify(report));
      assert.equal(report.report.status, "not_found");
      assert.equal(report.report.warnings[0].check, "directory");
      assert.equal(report.report.warnings[0].code, "USER_NOT_FOUND");
      assert.match(report.report.warnings[0].hint, /jit/);
      // Success: NameID, attributes, the matched user, status and roles.
      await a
        .post("/admin/v1/tenants/acme/users", { userName: "tester@acme.test", roles: ["admin"] })
        .expect(201);
      report = await runTest((id) =>
        idp.response(
          t.opts({
            nameId: "tester@acme.test",
            inResponseTo: id,
            attributes: {
              "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": "tester@acme.test",
            },
          }),
        ),
      );
      assert.equal(report.status, "succeeded", JSON.stringify(report));
      assert.equal(report.report.nameId, "tester@acme.test");
      assert.equal(report.report.user.userName, "tester@acme.test");
      assert.equal(report.report.status, "active");
      assert.deepEqual(report.report.roles, ["admin"]);
      assert.equal(report.report.mapped.email, "tester@acme.test");
      assert.equal((await a.get("/admin/v1/tenants/acme/saml")).body.state, "tested");
      const enabled = await a.post("/admin/v1/tenants/acme/saml/enable").expect(200);
      assert.equal(enabled.body.state, "enabled");
      // A change needs a new test before enabling again.
      await a.put("/admin/v1/tenants/acme/saml", { allowIdpInitiated: true }).expect(200);
      await a.post("/admin/v1/tenants/acme/saml/disable").expect(200);
      await a.post("/admin/v1/tenants/acme/saml/enable").expect(409);
      // An unchanged PUT is not a change.
      const v = (await a.get("/admin/v1/tenants/acme/saml")).body.configVersion;
      await a.put("/admin/v1/tenants/acme/saml", { allowIdpInitiated: true }).expect(200);
      assert.equal((await a.get("/admin/v1/tenants/acme/saml")).body.configVersion, v);
    });

    it("SP keys rotate; DELETE removes the connection", async () => {
      const before = (await a.get("/admin/v1/tenants/meta/saml")).body;
      const rotated = await a.post("/admin/v1/tenants/meta/saml/sp-keys/rotate").expect(200);
      assert.notEqual(rotated.body.sp.signingCertificate, before.sp.signingCertificate);
      assert.notEqual(rotated.body.sp.encryptionCertificate, before.sp.encryptionCertificate);
      await a.delete("/admin/v1/tenants/meta/saml").expect(204);
      await a.get("/admin/v1/tenants/meta/saml").expect(404);
      await a.delete("/admin/v1/tenants/meta/saml").expect(404);
    });

    it("the daily job emits sso.certificate_expiring at 30/7/1 days and sso.certificate_expired, once each", async () => {
      const soon = certExpiringIn(20, ctx.clock.now());
      const res = await a
        .put("/admin/v1/tenants/exp/saml", {
          idpEntityId: "https://idp.exp",
          ssoUrl: "https://idp.exp/sso",
          certificates: [soon],
        })
        .expect(200);
      // 19 when the certificate's notAfter (whole seconds) fell just short of the 20th day.
      assert.ok([19, 20].includes(res.body.idp.certificates[0].daysUntilExpiry));
      const tenantId = (await a.get("/admin/v1/tenants/exp")).body.id;
      const at = (days: number) => ({
        db: ctx.deps.db,
        now: () => new Date(ctx.clock.now().getTime() + days * DAY),
      });
      await checkCertificateExpiry(at(0));
      await checkCertificateExpiry(at(0));
      let expiring = await eventsOf(ctx, tenantId, "sso.certificate_expiring");
      assert.deepEqual(
        expiring.map((e) => e.threshold),
        [30],
      );
      await checkCertificateExpiry(at(14));
      await checkCertificateExpiry(at(19.5));
      expiring = await eventsOf(ctx, tenantId, "sso.certificate_expiring");
      assert.deepEqual(
        expiring.map((e) => e.threshold),
        [30, 7, 1],
      );
      await checkCertificateExpiry(at(21));
      await checkCertificateExpiry(at(22));
      const expired = await eventsOf(ctx, tenantId, "sso.certificate_expired");
      assert.equal(expired.length, 1);
      assert.equal(expired[0].fingerprint, res.body.idp.certificates[0].fingerprintSha256);
      const job = await ctx.deps.db("jobs").where({ name: "sso-certificate-expiry" }).first();
      assert.ok(job, "saving a connection schedules the daily check");
    });
  });
}
