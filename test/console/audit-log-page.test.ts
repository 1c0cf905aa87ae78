import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  admin,
  allBackends,
  createTenantWithToken,
  createTestContext,
  type TestContext,
} from "../helpers/context.js";
import { ConsoleClient } from "./helpers.js";

// Issue 18, Console: the operator's Audit log page lists every tenant's entries through the use
// case of GET /admin/v1/audit-log, with the verify result of …/audit-log/verify on top.
for (const backend of allBackends()) {
  describe(`console operator audit log page [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let op: ConsoleClient;
    const P = "/console/operator/audit-log";

    before(async () => {
      ctx = await createTestContext(backend);
      await createTenantWithToken(ctx, "acme");
      await createTenantWithToken(ctx, "globex");
      await admin(ctx)
        .post("/admin/v1/tenants/acme/setup-links", { scopes: ["events"] })
        .expect(201);
      await admin(ctx)
        .post("/admin/v1/tenants/globex/setup-links", { scopes: ["members"] })
        .expect(201);
      op = new ConsoleClient(ctx);
      await op.get("/console/sign-in");
      await op.post("/console/sign-in", { key: ctx.adminToken });
    });
    after(async () => ctx.close());

    it("lists entries across tenants newest first, filtered by tenant and action, with verify on top", async () => {
      const all = await op.get(P);
      assert.equal(all.status, 200);
      assert.match(all.text, /href="\/console\/operator\/audit-log"[^>]*>Audit log</);
      // Verifying reads every chain: only on request.
      assert.doesNotMatch(all.text, /intact/);
      assert.match(all.text, /Verify the hash chains now/);
      assert.match((await op.get(`${P}?verify=1`)).text, /intact/);
      const seqs = [...all.text.matchAll(/<tr><td>(\d+)<\/td>/g)].map((m) => Number(m[1]));
      assert.ok(seqs.length >= 2, all.text.slice(-2000));
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => b - a),
        "newest first",
      );
      assert.match(all.text, /<td>acme<\/td>/);
      assert.match(all.text, /<td>globex<\/td>/);
      const acme = await op.get(`${P}?tenant=acme`);
      assert.match(acme.text, /<td>acme<\/td>/);
      assert.doesNotMatch(acme.text, /<td>globex<\/td>/);
      const api = (await admin(ctx).get("/admin/v1/audit-log?tenant=globex").expect(200)).body.entries;
      const action = api[0].action as string;
      const byAction = await op.get(`${P}?action=${encodeURIComponent(action)}`);
      const actions = [...byAction.text.matchAll(/<td><code>([^<]+)<\/code><\/td>/g)].map((m) => m[1]);
      assert.ok(actions.length >= 1 && actions.every((a) => a === action), actions.join());
      assert.equal((await op.get(`${P}?tenant=nope`)).status, 404);
      assert.equal((await op.get(`${P}?tenant=%3Cx%3E&action=%3Cb%3E&before=x`)).status, 200);
    });

    it("shows a broken chain when an entry was altered", async () => {
      const [first] = await ctx.deps.db("audit_log").orderBy("seq", "asc").limit(1);
      await ctx.deps.db("audit_log").where({ seq: first.seq }).update({ action: "tampered" });
      const page = await op.get(`${P}?verify=1`);
      assert.match(page.text, /broken/);
      assert.match(page.text, /no longer matches its hash/);
    });

    it("is the operator's only: a tenant session is refused", async () => {
      const link = await admin(ctx)
        .post("/admin/v1/tenants/acme/setup-links", { scopes: ["events"] })
        .expect(201);
      const t = new ConsoleClient(ctx);
      await t.exchange(link.body.url);
      const res = await t.get(P);
      assert.ok([403, 404].includes(res.status), String(res.status));
      assert.doesNotMatch(res.text, /Audit entries/);
    });
  });
}
