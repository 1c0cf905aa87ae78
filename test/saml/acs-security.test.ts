import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { generateKeyAndCertificate } from "../../src/sso/saml/x509.js";
import { allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { encode, type ResponseOptions } from "../helpers/test-idp.js";
import { addUser, Browser, eventsOf, setupSso, type SsoTenant } from "./sso-helpers.js";

const VICTIM = "victim@acme.test";

for (const backend of allBackends()) {
  describe(`SAML ACS refuses forged and malformed responses [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    let t: SsoTenant;
    let idpInit: SsoTenant;
    const attacker = generateKeyAndCertificate({ commonName: "Attacker" });

    before(async () => {
      ctx = await createTestContext(backend);
      t = await setupSso(ctx, "acme");
      idpInit = await setupSso(ctx, "idpinit", {
        allowIdpInitiated: true,
        returnUrls: ["https://app.idpinit.test/"],
      });
      await addUser(t, VICTIM);
      await addUser(idpInit, VICTIM);
      await addUser(t, "gone@acme.test", { active: false });
    });
    after(async () => ctx.close());

    type Res = { status: number; text: string; headers: Record<string, any> };
    /** The tenant's refusal events so far, oldest first. */
    const refusals = () => eventsOf(ctx, t.tenantId, "sso.login_refused");

    /** Post to the ACS, noting how many refusals were recorded before (an old one must not pass for this one). */
    async function posted(post: () => Promise<Res>) {
      const before = {
        events: (await refusals()).length,
        traces: (await ctx.deps.db("sso_traces").where({ tenant_id: t.tenantId })).length,
      };
      return { res: await post(), before };
    }

    /** Start a login in a fresh browser and post what `make` builds for its request id. */
    async function attempt(make: (id: string) => Promise<string> | string, browser = new Browser(ctx)) {
      const id = await browser.startLogin("acme");
      const saml = await make(id);
      const { res, before } = await posted(() => browser.acs("acme", saml));
      return { res, before, browser, id };
    }

    const valid = (id: string, extra: Partial<ResponseOptions> = {}) =>
      t.opts({ nameId: VICTIM, inResponseTo: id, ...extra });

    async function assertRefused(
      attempted: { res: Res; before: { events: number; traces: number } },
      code: string,
      status = 403,
    ) {
      const { res } = attempted;
      assert.equal(res.status, status, res.text);
      assert.match(res.headers["content-type"], /text\/html/);
      assert.ok(
        !String(res.headers["set-cookie"] ?? "").includes("roster_session=rst_"),
        "no session cookie",
      );
      assert.ok(res.text.includes(`Reference: ${code}`), `expected ${code} in ${res.text}`);
      assert.ok(!/SAMLResponse|&lt;saml|<saml|PHNhbWw/.test(res.text), "never shows raw SAML");
      // Every refusal is traced, exactly once per attempt (a stale trace or event must not pass
      // for this one); only a refusal after a signature verified is also an event (issue 14 item 2).
      const traces = await ctx.deps.db("sso_traces").where({ tenant_id: t.tenantId }).orderBy("seq", "asc");
      assert.equal(traces.length, attempted.before.traces + 1, "one trace for this attempt");
      const trace = traces.at(-1);
      assert.equal(trace.reason, code);
      assert.ok(res.text.includes(`trace ${trace.ref}`), "the page shows the trace reference");
      const refused = await refusals();
      assert.equal(refused.length, attempted.before.events + (trace.verified ? 1 : 0));
      assert.deepEqual(
        refused.filter((e) => e.trace === trace.ref).map((e) => e.reason),
        trace.verified ? [code] : [],
      );
    }

    it("unsigned", async () => {
      const { res, before } = await attempt(async (id) => t.idp.response(valid(id, { sign: "none" })));
      await assertRefused({ res, before }, "SIGNATURE_MISSING");
    });

    it("signed by another key", async () => {
      const { res, before } = await attempt(async (id) => t.idp.response(valid(id, { signer: attacker })));
      await assertRefused({ res, before }, "SIGNATURE_INVALID");
    });

    it("response signed but assertion not", async () => {
      const { res, before } = await attempt(async (id) => t.idp.response(valid(id, { sign: "response" })));
      await assertRefused({ res, before }, "SIGNATURE_MISSING");
    });

    it("XML signature wrapping: forged assertion beside, around or instead of the signed one", async () => {
      const forgedFor = (id: string) =>
        t.idp.assertionXml(valid(id, { nameId: "admin@acme.test", assertionId: "_forged" }));
      const variants: Array<(id: string) => string> = [
        // XSW1/2: forged assertion first, signed original after it.
        (id) => t.idp.wrap(valid(id), forgedFor(id) + t.idp.sign(t.idp.assertionXml(valid(id)), "Assertion")),
        // XSW3: signed original moved into Extensions, forged one in its place.
        (id) =>
          t.idp.wrap(
            valid(id),
            `<samlp:Extensions>${t.idp.sign(t.idp.assertionXml(valid(id)), "Assertion")}</samlp:Extensions>${forgedFor(id)}`,
          ),
        // XSW4: signed original nested inside the forged assertion.
        (id) => {
          const signed = t.idp.sign(t.idp.assertionXml(valid(id)), "Assertion");
          return t.idp.wrap(
            valid(id),
            forgedFor(id).replace("</saml:Assertion>", `${signed}</saml:Assertion>`),
          );
        },
        // XSW with the same ID: a forged copy carrying the signed assertion's ID.
        (id) => {
          const signed = t.idp.sign(t.idp.assertionXml(valid(id, { assertionId: "_same" })), "Assertion");
          const forged = t.idp.assertionXml(valid(id, { nameId: "admin@acme.test", assertionId: "_same" }));
          return t.idp.wrap(valid(id), forged + signed);
        },
      ];
      for (const make of variants) {
        const { res, before } = await attempt(async (id) => encode(make(id)));
        await assertRefused({ res, before }, "ASSERTION_COUNT");
      }
      // Forged content swapped into a signed assertion (signature kept) fails the digest.
      const { res, before } = await attempt(async (id) =>
        encode((await t.idp.responseXml(valid(id))).replace(`>${VICTIM}<`, ">admin@acme.test<")),
      );
      await assertRefused({ res, before }, "SIGNATURE_INVALID");
    });

    it("comment injection in the NameID", async () => {
      const { res, before } = await attempt(async (id) =>
        t.idp.response(valid(id, { nameId: "x", nameIdXml: "victim@acme.test<!---->.evil.test" })),
      );
      await assertRefused({ res, before }, "COMMENT");
    });

    it("processing instructions splitting signed text (signed as one value, read as another), unsigned attributes", async () => {
      // xml-crypto's C14N renders a PI's data as text; textContent skips it. Signed for
      // `victim@acme.test.evil.test`, the NameID would read `victim@acme.test`.
      for (const split of [
        "victim@acme.test<?x .evil.test?>",
        "<?p x?>victim@acme.test",
        "victim@acme.test<?x?>",
      ]) {
        const { res, before } = await attempt(async (id) =>
          encode(
            (await t.idp.responseXml(valid(id, { nameId: "victim@acme.test.evil.test" }))).replace(
              ">victim@acme.test.evil.test<",
              `>${split}<`,
            ),
          ),
        );
        await assertRefused({ res, before }, "MARKUP_NOT_ALLOWED");
      }
      // An attribute named like a namespace declaration is left out of the signed form.
      const unsigned = await attempt(async (id) =>
        encode(
          (await t.idp.responseXml(valid(id))).replace("<saml:NameID ", '<saml:NameID xmlnsRole="admin" '),
        ),
      );
      await assertRefused(unsigned, "MARKUP_NOT_ALLOWED");
      // An XML declaration before the root is not inside the response: accepted.
      const ok = await attempt(async (id) =>
        encode(`<?xml version="1.0" encoding="UTF-8"?>${await t.idp.responseXml(valid(id))}`),
      );
      assert.equal(ok.res.status, 302, ok.res.text);
    });

    it("an unsolicited assertion wrapped into this browser's login, and one without NotOnOrAfter", async () => {
      let r = await attempt(async (id) =>
        encode(
          t.idp.wrap(
            valid(id),
            t.idp.sign(t.idp.assertionXml(valid(id, { subjectInResponseTo: "" })), "Assertion"),
          ),
        ),
      );
      await assertRefused(r, "UNKNOWN_REQUEST");
      r = await attempt(async (id) =>
        encode(
          t.idp.wrap(
            valid(id),
            t.idp.sign(
              t.idp.assertionXml(valid(id)).replace(/ NotOnOrAfter="[^"]+" Recipient=/, " Recipient="),
              "Assertion",
            ),
          ),
        ),
      );
      await assertRefused(r, "INVALID");
    });

    it("two assertions, each signed", async () => {
      const { res, before } = await attempt(async (id) => {
        const one = t.idp.sign(t.idp.assertionXml(valid(id)), "Assertion");
        const two = t.idp.sign(t.idp.assertionXml(valid(id)), "Assertion");
        return encode(t.idp.wrap(valid(id), one + two));
      });
      await assertRefused({ res, before }, "ASSERTION_COUNT");
    });

    it("expired, and not yet valid (beyond 2 minutes of skew)", async () => {
      // Times from the app's clock (the ACS reads it), never the machine's: a slow run moves the latter.
      const now = ctx.clock.now().getTime();
      const past = new Date(now - 20 * 60_000);
      let r = await attempt(async (id) =>
        t.idp.response(valid(id, { now: past, notOnOrAfter: new Date(now - 5 * 60_000) })),
      );
      await assertRefused(r, "EXPIRED");
      const future = new Date(now + 10 * 60_000);
      r = await attempt(async (id) => t.idp.response(valid(id, { now: future, notBefore: future })));
      await assertRefused(r, "NOT_YET_VALID");
    });

    it("wrong audience, recipient, destination and issuer", async () => {
      let r = await attempt(async (id) =>
        t.idp.response(valid(id, { audience: "https://other.example/sp" })),
      );
      await assertRefused(r, "AUDIENCE_MISMATCH");
      r = await attempt(async (id) =>
        t.idp.response(valid(id, { recipient: "https://roster.test/sso/other/acs" })),
      );
      await assertRefused(r, "RECIPIENT_MISMATCH");
      r = await attempt(async (id) =>
        t.idp.response(valid(id, { destination: "https://roster.test/sso/other/acs" })),
      );
      await assertRefused(r, "DESTINATION_MISMATCH");
      r = await attempt(async (id) => t.idp.response(valid(id, { destination: null })));
      await assertRefused(r, "DESTINATION_MISMATCH");
      r = await attempt(async (id) =>
        t.idp.response(valid(id, { assertionIssuer: "https://evil.example/idp" })),
      );
      await assertRefused(r, "ISSUER_MISMATCH");
      r = await attempt(async (id) => t.idp.response(valid(id, { issuer: "https://evil.example/idp" })));
      await assertRefused(r, "ISSUER_MISMATCH");
    });

    it("unknown InResponseTo, and InResponseTo from another browser", async () => {
      const r = await attempt(async () => t.idp.response(valid("_never_issued")));
      await assertRefused(r, "UNKNOWN_REQUEST");
      const alice = new Browser(ctx);
      const id = await alice.startLogin("acme");
      const mallory = new Browser(ctx);
      await mallory.startLogin("acme");
      const fromMallory = await t.idp.response(valid(id));
      await assertRefused(await posted(() => mallory.acs("acme", fromMallory)), "OTHER_BROWSER");
      const fromNobody = await t.idp.response(valid(id));
      await assertRefused(await posted(() => new Browser(ctx).acs("acme", fromNobody)), "OTHER_BROWSER");
      // The rightful browser can still complete its login.
      const ok = await alice.acs("acme", await t.idp.response(valid(id)));
      assert.equal(ok.status, 302, ok.text);
    });

    it("a replayed assertion (same request, or IdP-initiated) is refused", async () => {
      const b = new Browser(ctx);
      const id = await b.startLogin("acme");
      const saml = await t.idp.response(valid(id));
      assert.equal((await b.acs("acme", saml)).status, 302);
      await assertRefused(await posted(() => b.acs("acme", saml)), "UNKNOWN_REQUEST");
      const init = await idpInit.idp.response(idpInit.opts({ nameId: VICTIM }));
      const first = await new Browser(ctx).acs("idpinit", init);
      assert.equal(first.status, 302, first.text);
      const before = (await eventsOf(ctx, idpInit.tenantId, "sso.login_refused")).length;
      const again = await new Browser(ctx).acs("idpinit", init);
      assert.equal(again.status, 403);
      assert.match(again.text, /Reference: REPLAY/);
      const refused = await eventsOf(ctx, idpInit.tenantId, "sso.login_refused");
      assert.deepEqual(
        refused.slice(before).map((e) => e.reason),
        ["REPLAY"],
      );
    });

    it("IdP-initiated is refused unless allowed; then RelayState cannot redirect off the allow-list", async () => {
      const unsolicited = await t.idp.response(t.opts({ nameId: VICTIM }));
      await assertRefused(
        await posted(() => new Browser(ctx).acs("acme", unsolicited)),
        "IDP_INITIATED_NOT_ALLOWED",
      );
      for (const relay of [
        "https://evil.example/steal",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
      ]) {
        const res = await new Browser(ctx).acs(
          "idpinit",
          await idpInit.idp.response(idpInit.opts({ nameId: VICTIM })),
          relay,
        );
        assert.equal(res.status, 302, res.text);
        assert.equal(res.headers.location, "https://roster.test/sso/idpinit/session");
      }
      const ok = await new Browser(ctx).acs(
        "idpinit",
        await idpInit.idp.response(idpInit.opts({ nameId: VICTIM })),
        "https://app.idpinit.test/welcome",
      );
      assert.equal(ok.headers.location, "https://app.idpinit.test/welcome");
    });

    it("open redirect through return_to is refused before the IdP is contacted", async () => {
      for (const to of [
        "https://evil.example/",
        "//evil.example/x",
        "https://roster.test.evil.example/",
        "/\\evil.example",
      ]) {
        const res = await new Browser(ctx).get(`/sso/acme/login?return_to=${encodeURIComponent(to)}`);
        assert.equal(res.status, 400, to);
        assert.match(res.text, /RETURN_URL_NOT_ALLOWED/);
      }
    });

    it("DOCTYPE / XXE, refused before parsing", async () => {
      const { res, before } = await attempt(async (id) => {
        const xml = await t.idp.responseXml(valid(id));
        return encode(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${xml}`);
      });
      await assertRefused({ res, before }, "DOCTYPE", 400);
    });

    it("SHA-1 signatures", async () => {
      const { res, before } = await attempt(async (id) => t.idp.response(valid(id, { sha1: true })));
      await assertRefused({ res, before }, "WEAK_ALGORITHM");
    });

    it("a tampered attribute breaks the signature", async () => {
      const { res, before } = await attempt(async (id) =>
        encode(
          (await t.idp.responseXml(valid(id, { attributes: { role: "user" } }))).replace(">user<", ">admin<"),
        ),
      );
      await assertRefused({ res, before }, "SIGNATURE_INVALID");
    });

    it("an inactive user is refused: 'Your access to {tenant} has been revoked'", async () => {
      const { res, before } = await attempt(async (id) =>
        t.idp.response(valid(id, { nameId: "gone@acme.test" })),
      );
      await assertRefused({ res, before }, "USER_INACTIVE");
      assert.match(res.text, /Your access to Tenant acme has been revoked/);
    });

    it("an unknown user without JIT is refused with the provisioning hint", async () => {
      const { res, before } = await attempt(async (id) =>
        t.idp.response(valid(id, { nameId: "stranger@acme.test" })),
      );
      await assertRefused({ res, before }, "USER_NOT_FOUND");
      assert.match(res.text, /User not found: ask your administrator to provision you/);
      const row = await ctx.deps
        .db("users")
        .where({ tenant_id: t.tenantId, user_name_norm: "stranger@acme.test" })
        .first();
      assert.equal(row, undefined);
    });

    it("refusal pages escape what the response carried", async () => {
      // The page shows the IdP's StatusMessage (IDP_STATUS): markup there must arrive as text.
      const r = await attempt(async (id) =>
        t.idp.response(
          valid(id, {
            status: {
              code: "urn:oasis:names:tc:SAML:2.0:status:Responder",
              message: `<script>alert(1)</script><img src=x onerror="alert('2')">`,
            },
          }),
        ),
      );
      await assertRefused(r, "IDP_STATUS");
      assert.ok(
        r.res.text.includes(
          "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(&#39;2&#39;)&quot;&gt;",
        ),
        r.res.text,
      );
      assert.ok(!r.res.text.includes("<script>"), "no raw script element");
      assert.ok(!r.res.text.includes("<img"), "no raw img element");
    });
  });
}
