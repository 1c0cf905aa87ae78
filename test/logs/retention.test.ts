import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runHousekeeping } from "../../src/jobs/housekeeping.js";
import { admin, allBackends, createTestContext, type TestContext, userBody } from "../helpers/context.js";
import { encode } from "../helpers/test-idp.js";
import { Browser, setupSso, type SsoTenant } from "../saml/sso-helpers.js";

// Issue 18: retention deletes exactly what is past its window (defaults: SCIM log 30 days,
// traces 7, events 90, audit 365), on the app's clock; the feed refuses a cursor into what was
// deleted with 410 CURSOR_EXPIRED; audit verify still passes after the oldest entries went.
const DAY = 86_400_000;

for (const backend of allBackends()) {
  describe(`retention [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let t: SsoTenant;
    const base = Date.now();
    const at = (daysAgo: number) => {
      ctx.clock.current = new Date(base - daysAgo * DAY);
    };
    before(async () => {
      ctx = await createTestContext(backend);
      // A history spread over 400 days, each kind just outside and just inside its window.
      at(400);
      t = await setupSso(ctx, "kept");
      at(366);
      await admin(ctx).patch("/admin/v1/tenants/kept", { name: "Old name" }).expect(200);
      at(364);
      await admin(ctx).patch("/admin/v1/tenants/kept", { name: "Newer name" }).expect(200);
      at(91);
      await t.scim.post("/Users", userBody("old@kept.test")).expect(201);
      at(89);
      await t.scim.post("/Users", userBody("new@kept.test")).expect(201);
      at(31);
      await t.scim.get("/Users?count=1").expect(200);
      at(29);
      await t.scim.get("/Users?count=2").expect(200);
      for (const days of [8, 6]) {
        at(days);
        const xml = await t.idp.responseXml(t.opts({ nameId: `ann${days}@kept.test`, sign: "none" }));
        assert.equal((await new Browser(ctx).acs("kept", encode(xml))).status, 403);
      }
      at(10);
      await admin(ctx).patch("/admin/v1/tenants/kept", { name: "Newest name" }).expect(200);
      at(0);
      await ctx.deps.scimLog.flush();
    });
    after(async () => ctx.close());

    /** The rows of a table by id, with their time. */
    const rows = async (table: string, id: string, time: string) =>
      (await ctx.deps.db(table).select(id, time)).map((r) => ({ id: String(r[id]), time: String(r[time]) }));
    const cutoff = (days: number) => new Date(base - days * DAY).toISOString();
    const keptOf = (all: Array<{ id: string; time: string }>, days: number) =>
      all.filter((r) => r.time >= cutoff(days)).map((r) => r.id);

    it("deletes exactly what is past each window and nothing else", async () => {
      const before = {
        scim: await rows("scim_requests", "id", "at"),
        traces: await rows("sso_traces", "ref", "created_at"),
        events: (await ctx.deps.db("events").select("tenant_id", "seq", "created_at")).map((r) => ({
          id: `${r.tenant_id}/${r.seq}`,
          time: String(r.created_at),
        })),
        audit: await rows("audit_log", "seq", "at"),
      };
      // Each kind has something on both sides of its window (else this test proves nothing).
      for (const [kind, days] of [
        ["scim", 30],
        ["traces", 7],
        ["events", 90],
        ["audit", 365],
      ] as const) {
        const kept = keptOf(before[kind], days).length;
        assert.ok(kept > 0 && kept < before[kind].length, `${kind}: ${kept} of ${before[kind].length} kept`);
      }
      const result = await runHousekeeping(ctx.deps.db, ctx.deps.now(), ctx.deps.config.retention);
      const after = {
        scim: (await rows("scim_requests", "id", "at")).map((r) => r.id),
        traces: (await rows("sso_traces", "ref", "created_at")).map((r) => r.id),
        events: (await ctx.deps.db("events").select("tenant_id", "seq")).map(
          (r) => `${r.tenant_id}/${r.seq}`,
        ),
        audit: (await rows("audit_log", "seq", "at")).map((r) => r.id),
      };
      const sorted = (a: string[]) => [...a].sort();
      assert.deepEqual(sorted(after.scim), sorted(keptOf(before.scim, 30)));
      assert.deepEqual(sorted(after.traces), sorted(keptOf(before.traces, 7)));
      assert.deepEqual(sorted(after.events), sorted(keptOf(before.events, 90)));
      assert.deepEqual(sorted(after.audit), sorted(keptOf(before.audit, 365)));
      assert.equal(result.scimRequests, before.scim.length - after.scim.length);
      assert.equal(result.audit, before.audit.length - after.audit.length);
      // The request log's resource index went with its entries.
      const orphans = await ctx.deps
        .db("scim_request_resources")
        .whereNotIn("request_id", ctx.deps.db("scim_requests").select("id"));
      assert.deepEqual(orphans, []);
      // A second run finds nothing more.
      const again = await runHousekeeping(ctx.deps.db, ctx.deps.now(), ctx.deps.config.retention);
      assert.deepEqual([again.scimRequests, again.traces, again.events, again.audit], [0, 0, 0, 0]);
    });

    it("the feed answers 410 CURSOR_EXPIRED to a cursor into deleted events, and reads on from the kept ones", async () => {
      const res = await admin(ctx).get("/admin/v1/tenants/kept/events?after=0").expect(410);
      assert.equal(res.body.error.code, "CURSOR_EXPIRED");
      assert.match(res.body.error.message, /Reconcile/);
      const { oldestKept, latest } = res.body.error.details;
      assert.ok(Number(latest) >= Number(oldestKept));
      const page = await admin(ctx).get(`/admin/v1/tenants/kept/events?after=${oldestKept}`).expect(200);
      assert.ok(page.body.events.length > 0);
      assert.ok(page.body.events.every((e: { id: string }) => Number(e.id) > Number(oldestKept)));
      await admin(ctx)
        .get(`/admin/v1/tenants/kept/events?after=${Number(oldestKept) - 1}`)
        .expect(410);
    });

    it("audit verify passes after retention, and still catches the oldest kept entry removed", async () => {
      const v = (await admin(ctx).get("/admin/v1/audit-log/verify").expect(200)).body;
      assert.equal(v.ok, true, JSON.stringify(v.brokenAt));
      const [oldest] = await ctx.deps
        .db("audit_log")
        .where({ tenant_id: t.tenantId })
        .orderBy("seq")
        .limit(1);
      await ctx.deps.db("audit_log").where({ seq: oldest.seq }).delete();
      const broken = (await admin(ctx).get("/admin/v1/audit-log/verify").expect(200)).body;
      assert.equal(broken.brokenAt.reason, "link_broken");
      await ctx.deps.db("audit_log").insert(oldest);
    });
  });
}
