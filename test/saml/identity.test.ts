/**
 * Who a SAML login is (matching by the immutable id before the renameable userName or e-mail,
 * and refusing an e-mail two people share), and which keys it is checked with while they change:
 * two IdP certificates during a rollover, and Roster's own SP keys after a rotation.
 */
import assert from "node:assert/strict";
import { verify } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { generateKeyAndCertificate } from "../../src/sso/saml/x509.js";
import { admin, allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { TestIdp } from "../helpers/test-idp.js";
import { addUser, Browser, eventsOf, setupSso, type SsoTenant } from "./sso-helpers.js";

/** Is the HTTP-Redirect binding's signature of this AuthnRequest URL (SAML bindings §3.4.4.1) by this certificate? */
function redirectSignedBy(location: string, certificate: string): boolean {
  const query = new URL(location).search.slice(1);
  const raw = new Map(query.split("&").map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]));
  const signed = ["SAMLRequest", "RelayState", "SigAlg"]
    .filter((k) => raw.has(k))
    .map((k) => `${k}=${raw.get(k)}`)
    .join("&");
  const signature = Buffer.from(decodeURIComponent(raw.get("Signature") ?? ""), "base64");
  return verify("RSA-SHA256", Buffer.from(signed), certificate, signature);
}

for (const backend of allBackends()) {
  describe(`SAML identity and keys: immutable ids, ambiguity, certificate rollover, SP key rotation [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    before(async () => {
      ctx = await createTestContext(backend);
    });
    after(async () => ctx.close());

    /** An SP-initiated login of `nameId` (with attributes) on tenant `t`; the ACS answer and the browser. */
    async function login(t: SsoTenant, nameId: string, extra: Record<string, unknown> = {}) {
      const b = new Browser(ctx);
      const id = await b.startLogin(t.slug);
      const res = await b.acs(t.slug, await t.idp.response(t.opts({ nameId, inResponseTo: id, ...extra })));
      return { res, b };
    }
    const loggedInAs = async (t: SsoTenant, nameId: string, extra: Record<string, unknown> = {}) => {
      const { res, b } = await login(t, nameId, extra);
      assert.equal(res.status, 302, res.text);
      return (await b.get(`/sso/${t.slug}/session`, 200)).body.user.id as string;
    };
    const lastLogin = async (t: SsoTenant) => (await eventsOf(ctx, t.tenantId, "sso.login_succeeded")).at(-1);

    it("matches the immutable id attribute against externalId before the NameID and e-mail", async () => {
      const t = await setupSso(ctx, "immutable", { attributeMapping: { id: "oid", email: "mail" } });
      const ann = await addUser(t, "ann@immutable.test", { externalId: "oid-ann" });
      const bob = await addUser(t, "bob@immutable.test", {
        externalId: "oid-bob",
        emails: [{ value: "bob@immutable.test", primary: true }],
      });
      const walkIn = await addUser(t, "walkin@immutable.test");
      // Renamed at the IdP: the NameID no longer names anyone, the id still does.
      assert.equal(
        await loggedInAs(t, "ann.renamed@immutable.test", { attributes: { oid: "oid-ann" } }),
        ann,
      );
      assert.equal((await lastLogin(t))?.matchedBy, "immutableId:externalId");
      // The id wins over a NameID and an e-mail that name someone else.
      assert.equal(
        await loggedInAs(t, "bob@immutable.test", {
          attributes: { oid: "oid-ann", mail: "bob@immutable.test" },
        }),
        ann,
      );
      assert.equal(await loggedInAs(t, "bob@immutable.test", { attributes: { oid: "oid-bob" } }), bob);
      // Without the attribute, the NameID: a user provisioned without an externalId still signs in.
      assert.equal(await loggedInAs(t, "walkin@immutable.test"), walkIn);
      assert.equal((await lastLogin(t))?.matchedBy, "userName");
    });

    it("matches the immutable id against Roster's own id when idField is id", async () => {
      const t = await setupSso(ctx, "rosterid", {
        attributeMapping: { id: "rosterId" },
        matching: { idField: "id" },
      });
      const cat = await addUser(t, "cat@rosterid.test");
      assert.equal(await loggedInAs(t, "someone.else@rosterid.test", { attributes: { rosterId: cat } }), cat);
      assert.equal((await lastLogin(t))?.matchedBy, "immutableId:id");
    });

    it("refuses a login whose e-mail two directory users share (AMBIGUOUS_USER), and signs no one in", async () => {
      const t = await setupSso(ctx, "ambiguous");
      for (const userName of ["dana.one", "dana.two"])
        await addUser(t, userName, { emails: [{ value: "Dana@Ambiguous.test", primary: true }] });
      const before = (await eventsOf(ctx, t.tenantId, "sso.login_refused")).length;
      const { res, b } = await login(t, "dana@ambiguous.test");
      assert.equal(res.status, 403, res.text);
      assert.match(res.text, /Reference: AMBIGUOUS_USER/);
      assert.equal(b.cookies.has("roster_session"), false);
      const refused = (await eventsOf(ctx, t.tenantId, "sso.login_refused")).slice(before);
      assert.deepEqual(
        refused.map((e) => [e.reason, e.details.matchedBy]),
        [["AMBIGUOUS_USER", "primaryEmail"]],
      );
      // The userName is unique: a NameID that is one still signs that person in.
      await loggedInAs(t, "dana.one");
    });

    it("accepts either IdP certificate during a rollover, then only the one kept", async () => {
      const oldIdp = new TestIdp();
      const t = await setupSso(ctx, "rollover", {}, oldIdp);
      const newIdp = new TestIdp(
        oldIdp.entityId,
        oldIdp.ssoUrl,
        generateKeyAndCertificate({ commonName: "New IdP key" }),
      );
      await addUser(t, "eve@rollover.test");
      const signedBy = (idp: TestIdp): SsoTenant => ({ ...t, idp });
      const put = (certificates: string[]) =>
        admin(ctx)
          .put("/admin/v1/tenants/rollover/saml", {
            idpEntityId: oldIdp.entityId,
            ssoUrl: oldIdp.ssoUrl,
            certificates,
          })
          .expect(200);
      const during = await put([oldIdp.keys.certificate, newIdp.keys.certificate]);
      assert.equal(during.body.state, "enabled", "a rollover never locks people out");
      assert.equal(during.body.idp.certificates.length, 2);
      await loggedInAs(signedBy(oldIdp), "eve@rollover.test");
      await loggedInAs(signedBy(newIdp), "eve@rollover.test");
      await put([newIdp.keys.certificate]);
      await loggedInAs(signedBy(newIdp), "eve@rollover.test");
      const { res } = await login(signedBy(oldIdp), "eve@rollover.test");
      assert.equal(res.status, 403, res.text);
      assert.match(res.text, /Reference: SIGNATURE_INVALID/);
    });

    it("after an SP key rotation: requests are signed with the new key, assertions encrypted for the new certificate only", async () => {
      const t = await setupSso(ctx, "rotate");
      await addUser(t, "finn@rotate.test");
      const a = admin(ctx);
      const was = (await a.get("/admin/v1/tenants/rotate/saml").expect(200)).body.sp;
      const startedBy = async () =>
        (await new Browser(ctx).get("/sso/rotate/login", 302)).headers.location as string;
      assert.equal(redirectSignedBy(await startedBy(), was.signingCertificate), true);
      const rotated = await a.post("/admin/v1/tenants/rotate/saml/sp-keys/rotate").expect(200);
      assert.equal(rotated.body.state, "enabled");
      const now = rotated.body.sp;
      const location = await startedBy();
      assert.equal(redirectSignedBy(location, now.signingCertificate), true);
      assert.equal(redirectSignedBy(location, was.signingCertificate), false);
      // The metadata the IdP re-reads carries the new certificates, not the old ones.
      const metadata = (await ctx.http.get("/sso/rotate/metadata").expect(200)).text.replace(/\s/g, "");
      const body = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, "");
      assert.ok(
        metadata.includes(body(now.signingCertificate)) && metadata.includes(body(now.encryptionCertificate)),
      );
      assert.ok(
        !metadata.includes(body(was.signingCertificate)) &&
          !metadata.includes(body(was.encryptionCertificate)),
      );
      // Plain and newly encrypted assertions log in; one still encrypted for the old certificate cannot be read.
      await loggedInAs(t, "finn@rotate.test");
      await loggedInAs(t, "finn@rotate.test", { encryptFor: now.encryptionCertificate });
      const { res } = await login(t, "finn@rotate.test", { encryptFor: was.encryptionCertificate });
      assert.equal(res.status, 403, res.text);
      assert.match(res.text, /Reference: DECRYPTION_FAILED/);
    });
  });
}
