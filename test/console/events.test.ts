import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { allBackends, createTestContext, eventually, type TestContext } from "../helpers/context.js";
import { startReceiver } from "../events/receiver.js";
import { tenant } from "../roles/helpers.js";
import { ConsoleClient } from "./helpers.js";

for (const backend of allBackends()) {
  describe(`console events and webhooks pages; GET …/events/recent [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    let acme: Awaited<ReturnType<typeof tenant>>;
    let globex: Awaited<ReturnType<typeof tenant>>;
    let admin: ConsoleClient;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let linkId: string;
    let globexHook: string;
    const e = "/console/t/acme/events";

    before(async () => {
      ctx = await createTestContext(backend);
      await ctx.deps.driver.start();
      receiver = await startReceiver();
      acme = await tenant(ctx, "acme");
      globex = await tenant(ctx, "globex");
      globexHook = (
        await globex.a
          .post("/admin/v1/tenants/globex/webhooks", { url: receiver.url, events: ["*"] })
          .expect(201)
      ).body.id;
      const link = await acme.a
        .post("/admin/v1/tenants/acme/setup-links", { scopes: ["events"] })
        .expect(201);
      linkId = link.body.id;
      admin = new ConsoleClient(ctx);
      assert.equal((await admin.exchange(link.body.url)).status, 303);
      await admin.get(e);
    });
    after(async () => {
      await ctx.deps.driver.stop(5000);
      await ctx.close();
      await receiver.close();
    });

    it("GET …/events/recent pages newest first, by type or prefix, and refuses bad queries", async () => {
      await acme.user("ann@acme.test");
      await acme.user("bob@acme.test");
      await acme.group("Staff");
      const base = "/admin/v1/tenants/acme/events/recent";
      const all = (await acme.a.get(`${base}?limit=2`).expect(200)).body;
      assert.equal(all.events.length, 2);
      assert.ok(Number(all.events[0].id) > Number(all.events[1].id));
      const older = (await acme.a.get(`${base}?limit=2&before=${all.next}`).expect(200)).body;
      assert.ok(Number(older.events[0].id) < Number(all.events[1].id));
      const users = (await acme.a.get(`${base}?type=user.created`).expect(200)).body.events;
      assert.deepEqual(
        users.map((x: { data: { userName: string } }) => x.data.userName),
        ["bob@acme.test", "ann@acme.test"],
      );
      const groups = (await acme.a.get(`${base}?type=group.*`).expect(200)).body.events;
      assert.ok(groups.length >= 1 && groups.every((x: { type: string }) => x.type.startsWith("group.")));
      for (const q of ["type=User", "type=%25", "before=x", "limit=0", "limit=501", "other=1"])
        assert.equal((await acme.a.get(`${base}?${q}`).expect(400)).body.error.code, "VALIDATION_FAILED", q);
      assert.deepEqual(
        (await globex.a.get("/admin/v1/tenants/globex/events/recent?type=user.created")).body.events,
        [],
      );
    });

    it("shows the event log filtered by type", async () => {
      const page = await admin.get(`${e}?type=user.created`);
      assert.equal(page.status, 200);
      assert.match(page.text, /userName: ann@acme\.test/);
      assert.doesNotMatch(page.text, /<code>group\.created<\/code>/);
    });

    it("creates an endpoint showing its secret once, lists deliveries, redelivers", async () => {
      await admin.get(`${e}/webhooks`);
      const bad = await admin.post(`${e}/webhooks`, { url: "ftp://x", events: "user.*" });
      assert.equal(bad.status, 400);
      const created = await admin.post(`${e}/webhooks`, { url: receiver.url, events: "user.*, role.*" });
      assert.equal(created.status, 200);
      const value = /<input id="webhook-secret"[^>]*value="([^"]+)"/.exec(created.text)?.[1] ?? "";
      assert.ok(value.startsWith("rst_whsec_"), "the secret is on the page");
      assert.doesNotMatch((await admin.get(`${e}/webhooks`)).text, new RegExp(value), "shown only once");
      const hook = (await acme.a.get("/admin/v1/tenants/acme/webhooks")).body.webhooks[0];
      await acme.user("cid@acme.test");
      await eventually(async () =>
        receiver.accepted().some((r) => r.event.data.userName === "cid@acme.test"),
      );
      const deliveries = await admin.get(`${e}/webhooks/${hook.id}`);
      assert.match(deliveries.text, /user\.created/);
      assert.match(deliveries.text, /HTTP 200/);
      // Redeliver one that is done: every delivery settled first (role events arrive a moment after
      // the user's), so the count below can only grow by the redelivery.
      const listDeliveries = async () =>
        (await acme.a.get(`/admin/v1/tenants/acme/webhooks/${hook.id}/deliveries`)).body.deliveries as Array<{
          id: string;
          state: string;
          eventType: string;
        }>;
      await eventually(async () => (await listDeliveries()).every((x) => x.state !== "pending"));
      const d = (await listDeliveries()).find(
        (x) => x.eventType === "user.created" && x.state === "delivered",
      )!;
      const before = receiver.accepted().length;
      assert.equal((await admin.post(`${e}/webhooks/${hook.id}/deliveries/${d.id}/redeliver`)).status, 303);
      await eventually(async () => receiver.accepted().length > before);
      assert.match((await admin.get(`${e}/webhooks/${hook.id}?state=failed`)).text, /No delivery/);
      const actions = (await acme.events("console.action")).map(
        (x) => `${x.data.action} ${x.data.actor.kind}:${x.data.actor.id}`,
      );
      assert.ok(actions.includes(`webhook.create setup_link:${linkId}`));
      assert.ok(actions.includes(`webhook.redeliver setup_link:${linkId}`));
      assert.ok(!JSON.stringify(await acme.events()).includes(value), "no event carries the secret");
      assert.equal((await admin.post(`${e}/webhooks/${hook.id}/delete`)).status, 303);
      assert.equal((await acme.a.get("/admin/v1/tenants/acme/webhooks")).body.webhooks.length, 0);
    });

    it("never reaches another tenant's endpoints or events", async () => {
      const [gd] = (await globex.a.get(`/admin/v1/tenants/globex/webhooks/${globexHook}/deliveries`)).body
        .deliveries;
      for (const url of [
        `${e}/webhooks/${globexHook}`,
        "/console/t/globex/events",
        "/console/t/globex/events/webhooks",
      ])
        assert.equal((await admin.get(url)).status, 404, url);
      await admin.get(e);
      for (const url of [
        `${e}/webhooks/${globexHook}/delete`,
        `${e}/webhooks/${globexHook}/deliveries/${gd?.id ?? 1}/redeliver`,
        "/console/t/globex/events/webhooks",
        `/console/t/globex/events/webhooks/${globexHook}/delete`,
      ])
        assert.equal((await admin.post(url, { url: receiver.url, events: "*" })).status, 404, url);
      assert.equal((await globex.a.get("/admin/v1/tenants/globex/webhooks")).body.webhooks.length, 1);
      assert.doesNotMatch((await admin.get(e)).text, /globex/);
    });

    it("refuses every action without the CSRF token", async () => {
      const hook = (
        await acme.a.post("/admin/v1/tenants/acme/webhooks", { url: receiver.url, events: ["*"] })
      ).body;
      for (const url of [
        `${e}/webhooks`,
        `${e}/webhooks/${hook.id}/delete`,
        `${e}/webhooks/${hook.id}/deliveries/1/redeliver`,
      ])
        assert.equal((await admin.post(url, { url: receiver.url, events: "*" }, false)).status, 403, url);
      assert.equal((await acme.a.get("/admin/v1/tenants/acme/webhooks")).body.webhooks.length, 1);
    });
  });
}
