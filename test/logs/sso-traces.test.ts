import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { admin, allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { encode } from "../helpers/test-idp.js";
import { addUser, Browser, setupSso, type SsoTenant } from "../saml/sso-helpers.js";

// Issue 18: a trace for every sign-in, with the fix in words, the identity claimed (unverified
// until a signature verified), the checks run, and the decoded response with secrets elided.
for (const backend of allBackends()) {
  describe(`sign-in traces [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let t: SsoTenant;
    before(async () => {
      ctx = await createTestContext(backend);
      t = await setupSso(ctx, "traced");
      await addUser(t, "ann@traced.test");
      await setupSso(ctx, "elsewhere");
    });
    after(async () => ctx.close());

    const traces = async (q = "") =>
      (await admin(ctx).get(`/admin/v1/tenants/traced/sso-traces${q}`).expect(200)).body;
    const refOf = (text: string) => /trace ([0-9A-Z]{10})/.exec(text)?.[1];

    it("a success leaves a trace: every check passed, the identity verified", async () => {
      const b = new Browser(ctx);
      const id = await b.startLogin("traced");
      const res = await b.acs(
        "traced",
        await t.idp.response(t.opts({ nameId: "ann@traced.test", inResponseTo: id })),
      );
      assert.equal(res.status, 302, res.text.slice(0, 200));
      const [trace] = (await traces("?outcome=succeeded")).traces;
      assert.equal(trace.outcome, "succeeded");
      assert.equal(trace.protocol, "saml");
      assert.ok(trace.connectionId);
      assert.deepEqual(trace.identity, { nameId: "ann@traced.test", verified: true });
      assert.ok(trace.checks.length >= 8);
      assert.ok(trace.checks.every((c: { result: string }) => c.result === "passed"));
    });

    it("a verified refusal: the fix in words, checks up to the failed one, the response decoded without certificates or signature values", async () => {
      const b = new Browser(ctx);
      const id = await b.startLogin("traced");
      const res = await b.acs(
        "traced",
        await t.idp.response(t.opts({ nameId: "nobody@traced.test", inResponseTo: id })),
      );
      assert.equal(res.status, 403);
      const ref = refOf(res.text);
      assert.ok(ref, "the refusal page shows a trace reference");
      const trace = (await admin(ctx).get(`/admin/v1/tenants/traced/sso-traces/${ref}`).expect(200)).body;
      assert.equal(trace.reason, "USER_NOT_FOUND");
      assert.match(trace.fix, /Provision the user/);
      assert.deepEqual(trace.identity, { nameId: "nobody@traced.test", verified: true });
      const byCheck = Object.fromEntries(
        trace.checks.map((c: { check: string; result: string }) => [c.check, c.result]),
      );
      assert.equal(byCheck.signature, "passed");
      assert.equal(byCheck.directory_user, "failed");
      assert.match(trace.response, /nobody@traced\.test/);
      assert.match(trace.response, /\[certificate elided, \d+ characters\]/);
      assert.match(trace.response, /\[signature value elided, \d+ characters\]/);
      // The certificate's base64 body is nowhere in the trace.
      const pem = t.idp.keys.certificate.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
      assert.ok(pem.length > 100);
      assert.ok(!trace.response.includes(pem.slice(10, 60)), "certificate body in the trace");
    });

    it("an unsigned refusal marks the identity it claims unverified; filters by outcome, reason and q", async () => {
      const b = new Browser(ctx);
      const id = await b.startLogin("traced");
      const res = await b.acs(
        "traced",
        encode(
          await t.idp.responseXml(t.opts({ nameId: "mallory@traced.test", inResponseTo: id, sign: "none" })),
        ),
      );
      assert.equal(res.status, 403);
      const ref = refOf(res.text)!;
      const [trace] = (await traces(`?q=${ref}`)).traces;
      assert.equal(trace.ref, ref);
      assert.equal(trace.reason, "SIGNATURE_MISSING");
      assert.deepEqual(trace.identity, { nameId: "mallory@traced.test", verified: false });
      const checks = Object.fromEntries(
        trace.checks.map((c: { check: string; result: string }) => [c.check, c.result]),
      );
      assert.deepEqual([checks.signature, checks.directory_user], ["failed", "not_run"]);
      const refused = (await traces("?outcome=refused")).traces;
      assert.ok(refused.every((x: { outcome: string }) => x.outcome === "refused"));
      assert.ok(refused.length >= 2);
      const byReason = (await traces("?reason=SIGNATURE_MISSING")).traces;
      assert.deepEqual(
        byReason.map((x: { ref: string }) => x.ref),
        [ref],
      );
      const byName = (await traces("?q=mallory@")).traces;
      assert.deepEqual(
        byName.map((x: { ref: string }) => x.ref),
        [ref],
      );
      assert.equal(byName[0].response, undefined, "the list carries no response");
    });

    it("pages with a cursor; another tenant's traces are not visible; bad queries are 400", async () => {
      const page = await traces("?limit=1");
      assert.equal(page.traces.length, 1);
      const next = await traces(`?limit=1&before=${page.next}`);
      assert.notEqual(next.traces[0].ref, page.traces[0].ref);
      await admin(ctx).get(`/admin/v1/tenants/elsewhere/sso-traces/${page.traces[0].ref}`).expect(404);
      assert.deepEqual(
        (await admin(ctx).get("/admin/v1/tenants/elsewhere/sso-traces").expect(200)).body.traces,
        [],
      );
      for (const q of ["outcome=maybe", "reason=lower", "before=short", "limit=0"])
        await admin(ctx).get(`/admin/v1/tenants/traced/sso-traces?${q}`).expect(400);
    });
  });
}
