import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { admin, backends, createTestContext, eventually, type TestContext } from "../helpers/context.js";
import { encode } from "../helpers/test-idp.js";
import { startReceiver } from "../events/receiver.js";
import { addUser, authnRequestOf, Browser, setupSso, type SsoTenant } from "./sso-helpers.js";

// Issue 14, item 2: anonymous posts to an ACS wrote without bound (a 467 KB post became a 700 KB
// event, delivered to the tenant's webhooks signed with its secret), and every anonymous GET of
// the login page stored a request row and made an RSA signature.

for (const backend of backends()) {
  describe(`what an anonymous caller can make Roster store is bounded [${backend.name}]`, () => {
    let ctx: TestContext;
    let t: SsoTenant;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    before(async () => {
      receiver = await startReceiver();
      ctx = await createTestContext(backend);
      t = await setupSso(ctx, "acme");
      await addUser(t, "ann@acme.test");
      await admin(ctx)
        .post("/admin/v1/tenants/acme/webhooks", { url: receiver.url, events: ["*"] })
        .expect(201);
      await ctx.deps.driver.start();
    });
    after(async () => {
      await ctx.close();
      await receiver.close();
    });

    const count = async (table: string, where: Record<string, unknown> = { tenant_id: t.tenantId }) =>
      Number((await ctx.deps.db(table).where(where).count({ n: "*" }).first())?.n);
    // Background role syncs write events of their own: count the refusal ones.
    const refusedEvents = () => count("events", { tenant_id: t.tenantId, type: "sso.login_refused" });
    const refusedDeliveries = () =>
      count("webhook_deliveries", { tenant_id: t.tenantId, event_type: "sso.login_refused" });
    const refusals = async (reason: string, verified: boolean) => {
      const metric = await ctx.deps.metrics.registry.getSingleMetric("roster_sso_refusals_total")!.get();
      const v = metric.values.find(
        (x) => x.labels.reason === reason && x.labels.verified === String(verified),
      );
      return v?.value ?? 0;
    };
    const storedSize = (row: any) =>
      String(row.message).length + String(row.details).length + String(row.name_id ?? "").length;

    it("a 467 KB unsigned post adds no event, no webhook delivery and one row of at most a few KB", async () => {
      const events = await refusedEvents();
      const deliveries = await refusedDeliveries();
      const before = await refusals("IDP_STATUS", false);
      const b = new Browser(ctx);
      const id = await b.startLogin("acme");
      const xml = (
        await t.idp.responseXml(t.opts({ nameId: "ann@acme.test", inResponseTo: id, sign: "none" }))
      ).replace(
        '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>',
        `<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"/><samlp:StatusMessage>${"Pay at evil.example!".repeat(18_000)}</samlp:StatusMessage>`,
      );
      const saml = encode(xml);
      assert.ok(saml.length > 450 * 1024, `${saml.length}`);
      const res = await b.acs("acme", saml);
      assert.equal(res.status, 403);
      assert.match(res.text, /Reference: IDP_STATUS/);
      assert.ok(res.text.length < 4096, `the page carries ${res.text.length} characters`);
      assert.equal(await refusedEvents(), events, "no event");
      assert.equal(await refusedDeliveries(), deliveries, "no delivery");
      const row = await ctx.deps
        .db("sso_traces")
        .where({ tenant_id: t.tenantId })
        .orderBy("seq", "desc")
        .first();
      assert.equal(row.reason, "IDP_STATUS");
      assert.equal(Boolean(row.verified), false);
      assert.ok(storedSize(row) < 4096, `${storedSize(row)} characters stored`);
      assert.match(JSON.parse(row.details).statusMessage, /… \(360000 characters\)$/);
      assert.equal(await refusals("IDP_STATUS", false), before + 1);

      // An unsigned assertion claiming a 300,000-character NameID: the same.
      const b2 = new Browser(ctx);
      const id2 = await b2.startLogin("acme");
      const huge = await b2.acs(
        "acme",
        await t.idp.response(t.opts({ nameId: "x".repeat(300_000), inResponseTo: id2, sign: "none" })),
      );
      assert.match(huge.text, /Reference: SIGNATURE_MISSING/);
      const row2 = await ctx.deps
        .db("sso_traces")
        .where({ tenant_id: t.tenantId })
        .orderBy("seq", "desc")
        .first();
      assert.equal(row2.reason, "SIGNATURE_MISSING");
      assert.ok(storedSize(row2) < 4096, `${storedSize(row2)} characters stored`);
      assert.match(row2.name_id, /^x+… \(300000 characters\)$/);
      assert.ok(row2.name_id.length <= 256);
      assert.equal(await refusedEvents(), events, "no event");
      assert.equal(await refusedDeliveries(), deliveries, "no delivery");
    });

    it("unverified refusals keep only the newest 100 per tenant", async () => {
      const events = await refusedEvents();
      for (let i = 0; i < 110; i++) {
        const res = await new Browser(ctx).acs("acme", encode(`<x>${i}</x>`));
        assert.match(res.text, /Reference: NOT_A_RESPONSE/);
      }
      assert.equal(await count("sso_traces", { tenant_id: t.tenantId, verified: false }), 100);
      assert.equal(await refusedEvents(), events);
      const list = await admin(ctx)
        .get("/admin/v1/tenants/acme/sso-traces?verified=false&limit=200")
        .expect(200);
      assert.equal(list.body.traces.length, 100);
      assert.equal(list.body.traces[0].reason, "NOT_A_RESPONSE");
      assert.equal(list.body.traces[0].verified, false);
    });

    it("a refusal after the signature verified is still an event, delivered, with truncated strings", async () => {
      const nameId = `${"n".repeat(400)}@acme.test`;
      const b = new Browser(ctx);
      const id = await b.startLogin("acme");
      const res = await b.acs("acme", await t.idp.response(t.opts({ nameId, inResponseTo: id })));
      assert.equal(res.status, 403);
      assert.match(res.text, /Reference: USER_NOT_FOUND · trace ([0-9A-Z]{10})/);
      const ref = /trace ([0-9A-Z]{10})/.exec(res.text)![1];
      const got = await eventually(
        async () => receiver.accepted().find((r) => r.event.type === "sso.login_refused"),
        10_000,
        "the sso.login_refused delivery",
      );
      assert.equal(got.event.data.reason, "USER_NOT_FOUND");
      assert.equal(got.event.data.trace, ref);
      for (const value of [got.event.data.nameId, got.event.data.details.nameId]) {
        assert.match(value, /^n+… \(410 characters\)$/);
        assert.ok(value.length <= 256);
      }
      // Nothing was delivered for the unverified refusals above.
      assert.deepEqual(
        receiver
          .accepted()
          .filter((r) => r.event.type === "sso.login_refused")
          .map((r) => r.event.data.reason),
        ["USER_NOT_FOUND"],
      );
      const trace = await admin(ctx).get(`/admin/v1/tenants/acme/sso-traces/${ref}`).expect(200);
      assert.equal(trace.body.verified, true);
      assert.equal(trace.body.reason, "USER_NOT_FOUND");
    });

    it("signed values longer than Roster stores are refused by name, never a database error", async () => {
      const jit = await setupSso(ctx, "jitco", { provisioning: "jit" });
      const cases = [
        { nameId: `${"j".repeat(600)}@jitco.test` }, // a JIT userName of 611 characters (column: 512)
        { nameId: "ann@jitco.test", assertionId: `_${"a".repeat(300)}` }, // replay key and SessionIndex (256)
      ];
      for (const extra of cases) {
        const b = new Browser(ctx);
        const id = await b.startLogin("jitco");
        const res = await b.acs("jitco", await jit.idp.response(jit.opts({ inResponseTo: id, ...extra })));
        assert.equal(res.status, 403, res.text.slice(0, 300));
        assert.match(res.text, /Reference: INVALID/);
        assert.match(res.text, /longer than accepted/);
      }
    });

    it("traces are the tenant's own; bad queries are 400", async () => {
      await setupSso(ctx, "other");
      const [mine] = (await admin(ctx).get("/admin/v1/tenants/acme/sso-traces?limit=1").expect(200)).body
        .traces;
      await admin(ctx).get(`/admin/v1/tenants/other/sso-traces/${mine.ref}`).expect(404);
      assert.deepEqual(
        (await admin(ctx).get("/admin/v1/tenants/other/sso-traces").expect(200)).body.traces,
        [],
      );
      const bad = await admin(ctx).get("/admin/v1/tenants/acme/sso-traces?limit=0").expect(400);
      assert.equal(bad.body.error.details[0].field, "limit");
      await admin(ctx).get("/admin/v1/tenants/acme/sso-traces?verified=maybe").expect(400);
    });

    it("a post to an unknown workspace is counted, nothing stored", async () => {
      const before = await refusals("UNKNOWN_TENANT", false);
      const traces = await count("sso_traces", {});
      const res = await new Browser(ctx).acs("nosuch", encode("<x/>"));
      assert.equal(res.status, 404);
      assert.equal(await refusals("UNKNOWN_TENANT", false), before + 1);
      // A NUL byte never reaches a query (PostgreSQL refuses it: that was a 500): the URL guard
      // refuses it in any path before routing.
      assert.equal((await new Browser(ctx).acs("%00", encode("<x/>"))).status, 400);
      for (const path of ["/sso/%00/login", "/sso/%00/metadata", "/sso/a%00b/session"])
        assert.equal((await ctx.http.get(path)).status, 400, path);
      assert.equal(await count("sso_traces", {}), traces);
    });

    it("a failed test's report is bounded too", async () => {
      const started = await admin(ctx).post("/admin/v1/tenants/acme/saml/test").expect(201);
      const b = new Browser(ctx);
      const login = await b.get(
        new URL(started.body.loginUrl).pathname + new URL(started.body.loginUrl).search,
        302,
      );
      const { id } = authnRequestOf(login.headers.location);
      const xml = (await t.idp.responseXml(t.opts({ nameId: "ann@acme.test", inResponseTo: id }))).replace(
        `Destination="${t.acsUrl}"`,
        `Destination="https://${"d".repeat(100_000)}.test/"`,
      );
      const res = await b.acs("acme", encode(xml));
      assert.equal(res.status, 400);
      const row = await ctx.deps.db("saml_tests").where({ id: started.body.id }).first();
      assert.ok(String(row.report).length < 4096, `${String(row.report).length} characters`);
      assert.match(JSON.parse(row.report).received, /… \(100014 characters\)$/);
    });
  });

  describe(`pending sign-ins are bounded per tenant and per browser [${backend.name}]`, () => {
    let ctx: TestContext;
    let t: SsoTenant;
    before(async () => {
      ctx = await createTestContext(backend, { env: { ROSTER_SSO_MAX_PENDING_LOGINS: "12" } });
      t = await setupSso(ctx, "acme");
      await addUser(t, "ann@acme.test");
    });
    after(async () => ctx.close());

    const pending = async () =>
      Number(
        (
          await ctx.deps
            .db("saml_requests")
            .where({ tenant_id: t.tenantId })
            .whereNull("consumed_at")
            .count({ n: "*" })
            .first()
        )?.n,
      );

    it("one browser keeps its 10 newest; the oldest gives way, the newest still completes", async () => {
      const b = new Browser(ctx);
      const ids: string[] = [];
      for (let i = 0; i < 15; i++) {
        ids.push(await b.startLogin("acme"));
        ctx.clock.advance(1000);
      }
      assert.equal(await pending(), 10);
      const oldest = await b.acs(
        "acme",
        await t.idp.response(t.opts({ nameId: "ann@acme.test", inResponseTo: ids[0] })),
      );
      assert.match(oldest.text, /Reference: UNKNOWN_REQUEST/);
      const newest = await b.acs(
        "acme",
        await t.idp.response(t.opts({ nameId: "ann@acme.test", inResponseTo: ids[14] })),
      );
      assert.equal(newest.status, 302, newest.text);
    });

    it("a tenant's pending sign-ins stop at the limit: 503 with Retry-After, nothing stored or signed; expired ones make room", async () => {
      for (let i = await pending(); i < 12; i++) await new Browser(ctx).startLogin("acme");
      assert.equal(await pending(), 12);
      const res = await new Browser(ctx).get("/sso/acme/login");
      assert.equal(res.status, 503);
      assert.equal(res.headers["retry-after"], "60");
      assert.equal(res.headers.location, undefined, "no AuthnRequest was built (nor signed)");
      assert.match(res.text, /Reference: TOO_MANY_PENDING_LOGINS/);
      assert.equal(await pending(), 12);
      // OAuth authorize says so to the client (RFC 6749 §4.1.2.1).
      const redirect = "https://app.acme.test/cb";
      const c = await admin(ctx)
        .post("/admin/v1/tenants/acme/oauth-clients", { name: "App", redirectUris: [redirect] })
        .expect(201);
      const auth = await new Browser(ctx).get(
        `/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: c.body.clientId, redirect_uri: redirect, scope: "openid", state: "s" })}`,
        302,
      );
      assert.equal(new URL(auth.headers.location).searchParams.get("error"), "temporarily_unavailable");
      // Ten minutes later the pending requests have expired: they are purged to make room.
      ctx.clock.advance(11 * 60_000);
      await new Browser(ctx).startLogin("acme");
      assert.equal(await pending(), 1);
      assert.equal(
        Number(
          (await ctx.deps.db("saml_requests").where({ tenant_id: t.tenantId }).count({ n: "*" }).first())?.n,
        ) <= 2,
        true,
      );
    });
  });
}
