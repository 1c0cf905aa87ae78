import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isPrivateAddress } from "../../src/http/network.js";
import { createTestContext, type TestContext } from "../helpers/context.js";
import { tenant, variants } from "../roles/helpers.js";

for (const v of variants({ redis: false })) {
  describe(`event feed and webhook endpoints [${v.label}]`, { skip: v.skip }, () => {
    let ctx: TestContext;
    before(async () => {
      ctx = await createTestContext(v.backend);
    });
    after(async () => ctx.close());

    it("pages through the feed in order with a cursor, per tenant", async () => {
      const t = await tenant(ctx, "f-feed");
      const other = await tenant(ctx, "f-other");
      for (let i = 0; i < 7; i++) await t.user(`feed${i}@example.com`);
      await other.user("elsewhere@example.com");
      const seen: any[] = [];
      let cursor = "0";
      for (let page = 0; page < 10; page++) {
        const r = await t.a.get(`${t.base}/events?after=${cursor}&limit=3`).expect(200);
        seen.push(...r.body.events);
        if (r.body.events.length === 0) {
          assert.equal(r.body.next, cursor); // nothing new: poll again with the same cursor
          break;
        }
        cursor = r.body.next;
      }
      assert.deepEqual(
        seen.map((e) => e.id),
        ["1", "2", "3", "4", "5", "6", "7"],
      );
      assert.deepEqual(Object.keys(seen[0]).sort(), ["createdAt", "data", "id", "tenant", "type"]);
      assert.equal(seen[0].type, "user.created");
      assert.equal(seen[0].tenant, "f-feed");
      assert.equal(seen[0].data.userName, "feed0@example.com");
      const from5 = await t.a.get(`${t.base}/events?after=5`).expect(200);
      assert.deepEqual(
        from5.body.events.map((e: any) => e.id),
        ["6", "7"],
      );
      const bad = await t.a.get(`${t.base}/events?after=abc&limit=0`).expect(400);
      assert.equal(bad.body.error.code, "VALIDATION_FAILED");
      await t.a.get("/admin/v1/tenants/nope/events").expect(404);
    });

    it("manages webhook endpoints; the secret is shown once", async () => {
      const t = await tenant(ctx, "f-hooks");
      const created = await t.a
        .post(`${t.base}/webhooks`, { url: "http://127.0.0.1:9/x", events: ["user.deactivated", "role.*"] })
        .expect(201);
      assert.match(created.body.secret, /^rst_whsec_/);
      assert.equal(created.body.active, true);
      const id = created.body.id;
      const got = await t.a.get(`${t.base}/webhooks/${id}`).expect(200);
      assert.equal(got.body.secret, undefined);
      assert.equal((await t.a.get(`${t.base}/webhooks`).expect(200)).body.webhooks.length, 1);
      const patched = await t.a
        .patch(`${t.base}/webhooks/${id}`, { events: ["*"], active: false })
        .expect(200);
      assert.deepEqual(patched.body.events, ["*"]);
      const rotated = await t.a
        .post(`${t.base}/webhooks/${id}/rotate-secret`, { graceSeconds: 60 })
        .expect(200);
      assert.notEqual(rotated.body.secret, created.body.secret);
      assert.ok(rotated.body.previousSecretExpiresAt);
      for (const body of [
        { url: "ftp://example.com/x", events: ["*"] },
        { url: "not a url", events: ["*"] },
        { url: "http://example.com", events: [] },
        { url: "http://example.com", events: ["Bad Type"] },
      ])
        await t.a.post(`${t.base}/webhooks`, body).expect(400);
      await t.a.delete(`${t.base}/webhooks/${id}`).expect(204);
      await t.a.get(`${t.base}/webhooks/${id}`).expect(404);
    });

    it("refuses loopback, private and link-local targets unless the operator allows them", async () => {
      const strict = await createTestContext(v.backend, { env: { ROSTER_WEBHOOK_ALLOW_PRIVATE: "false" } });
      try {
        const t = await tenant(strict, "f-ssrf");
        for (const url of [
          "http://127.0.0.1:8080/x",
          "http://localhost/x",
          "http://10.1.2.3/x",
          "http://169.254.169.254/latest/meta-data",
          "http://[::1]/x",
          "http://[::ffff:192.168.1.1]/x",
        ]) {
          const r = await t.a.post(`${t.base}/webhooks`, { url, events: ["*"] });
          assert.equal(r.status, 400, url);
          assert.equal(r.body.error.code, "INVALID_WEBHOOK_URL");
        }
      } finally {
        await strict.close();
      }
      for (const ip of ["172.16.0.1", "192.168.0.10", "100.64.1.1", "fd00::1", "fe80::1", "0.0.0.0"])
        assert.equal(isPrivateAddress(ip), true, ip);
      for (const ip of ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
        assert.equal(isPrivateAddress(ip), false, ip);
    });
  });
}
