import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { admin, allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { addUser, Browser, setupSso, type SsoTenant } from "../saml/sso-helpers.js";
import { ConsoleClient } from "./helpers.js";

// Issue 18, Console: the Logs area shows the SCIM request log and the sign-in traces through the
// admin use cases, read-only, escaped, per tenant, behind the "events" scope.
for (const backend of allBackends()) {
  describe(`console logs: SCIM requests and sign-in traces [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let acme: SsoTenant;
    let globex: SsoTenant;
    let c: ConsoleClient;
    let annId: string;
    let refusedRef: string;
    let globexRef: string;
    const L = "/console/t/acme/logs";

    const refuse = async (t: SsoTenant, nameId: string) => {
      const b = new Browser(ctx);
      const id = await b.startLogin(t.slug);
      const res = await b.acs(t.slug, await t.idp.response(t.opts({ nameId, inResponseTo: id })));
      assert.equal(res.status, 403);
      return /trace ([0-9A-Z]{10})/.exec(res.text)![1];
    };

    before(async () => {
      ctx = await createTestContext(backend);
      acme = await setupSso(ctx, "acme");
      globex = await setupSso(ctx, "globex");
      annId = await addUser(acme, "ann@acme.test", { displayName: "<b>Ann</b>" });
      await acme.scim.get("/Users/no-such-user").expect(404);
      await addUser(globex, "gus@globex.test");
      const b = new Browser(ctx);
      const id = await b.startLogin("acme");
      const ok = await b.acs(
        "acme",
        await acme.idp.response(acme.opts({ nameId: "ann@acme.test", inResponseTo: id })),
      );
      assert.equal(ok.status, 302);
      refusedRef = await refuse(acme, "nobody@acme.test");
      globexRef = await refuse(globex, "nobody@globex.test");
      const link = await admin(ctx)
        .post("/admin/v1/tenants/acme/setup-links", { scopes: ["events"] })
        .expect(201);
      c = new ConsoleClient(ctx);
      assert.equal((await c.exchange(link.body.url)).status, 303);
    });
    after(async () => ctx.close());

    it("lists SCIM requests newest first, filtered by status and method, paged by cursor", async () => {
      const all = await c.get(L);
      assert.equal(all.status, 200);
      assert.match(all.text, /href="\/console\/t\/acme\/logs"[^>]*>Logs</);
      const paths = [...all.text.matchAll(/<code>([^<]*\/Users[^<]*)<\/code>/g)].map((m) => m[1]);
      assert.ok(paths.length >= 2, all.text.slice(0, 300));
      assert.match(paths[0], /no-such-user/, "newest first");
      assert.doesNotMatch(all.text, /gus@globex|globex\.test/);
      const errors = await c.get(`${L}?status=4xx`);
      assert.match(errors.text, /no-such-user/);
      assert.doesNotMatch(errors.text, /<td>201<\/td>/);
      const posts = await c.get(`${L}?method=POST`);
      assert.match(posts.text, /<td>201<\/td>/);
      assert.doesNotMatch(posts.text, /no-such-user/);
      // A hand-edited filter is ignored, never a 500.
      assert.equal((await c.get(`${L}?status=%3Cx%3E&method=TRACE&before=abc`)).status, 200);
      // Cursor paging: the use case's `next` of a one-row page is the link to older entries.
      const api = (await admin(ctx).get("/admin/v1/tenants/acme/scim-requests?limit=1").expect(200)).body;
      const older = await c.get(`${L}?before=${api.next}`);
      assert.equal(older.status, 200);
      assert.doesNotMatch(older.text, new RegExp(`/logs/scim/${api.requests[0].id}"`));
    });

    it("shows one SCIM request: fields, the member it touched, its bodies escaped as text", async () => {
      const api = (await admin(ctx).get("/admin/v1/tenants/acme/scim-requests?method=POST").expect(200)).body;
      const id = api.requests.at(-1).id;
      const page = await c.get(`${L}/scim/${id}`);
      assert.equal(page.status, 200);
      assert.match(page.text, new RegExp(`href="/console/t/acme/members/${annId}"`));
      assert.match(page.text, /&lt;b>Ann&lt;\/b>|&lt;b&gt;Ann&lt;\/b&gt;/);
      assert.doesNotMatch(page.text, /<b>Ann<\/b>/);
      assert.match(page.text, /Response body/);
    });

    it("lists sign-in traces by outcome and reason; a trace shows its checks, the fix and the member", async () => {
      const S = `${L}/sign-ins`;
      const all = await c.get(S);
      assert.equal(all.status, 200);
      assert.match(all.text, new RegExp(refusedRef));
      assert.doesNotMatch(all.text, new RegExp(globexRef));
      const refused = await c.get(`${S}?outcome=refused`);
      assert.match(refused.text, new RegExp(refusedRef));
      assert.doesNotMatch(refused.text, /<code>OK<\/code>/);
      const ok = await c.get(`${S}?reason=OK`);
      assert.match(ok.text, /<code>OK<\/code>/);
      assert.doesNotMatch(ok.text, new RegExp(refusedRef));
      const trace = await c.get(`${S}/${refusedRef}`);
      assert.equal(trace.status, 200);
      assert.match(trace.text, /USER_NOT_FOUND/);
      assert.match(trace.text, /Provision the user/);
      assert.match(trace.text, /directory_user/);
      assert.match(trace.text, /href="\/console\/t\/acme\/members\?q=nobody%40acme.test"/);
      assert.match(trace.text, /signature value elided/);
      assert.match(trace.text, /&lt;/, "the response is escaped text");
    });

    it("another tenant's request id or trace ref is not found; another tenant's pages too", async () => {
      const g = (await admin(ctx).get("/admin/v1/tenants/globex/scim-requests").expect(200)).body;
      assert.equal((await c.get(`${L}/scim/${g.requests[0].id}`)).status, 404);
      assert.equal((await c.get(`${L}/scim/not-an-id`)).status, 404);
      assert.equal((await c.get(`${L}/sign-ins/${globexRef}`)).status, 404);
      assert.equal((await c.get(`${L}/sign-ins/x`)).status, 404);
      assert.equal((await c.get("/console/t/globex/logs")).status, 404);
      assert.equal((await c.get(`/console/t/globex/logs/sign-ins/${globexRef}`)).status, 404);
    });

    it("needs the events scope", async () => {
      const link = await admin(ctx)
        .post("/admin/v1/tenants/acme/setup-links", { scopes: ["members"] })
        .expect(201);
      const m = new ConsoleClient(ctx);
      await m.exchange(link.body.url);
      assert.equal((await m.get(L)).status, 403);
      assert.equal((await m.get(`${L}/sign-ins/${refusedRef}`)).status, 403);
      assert.doesNotMatch((await m.get("/console/t/acme/members")).text, /\/logs"/);
    });
  });
}
