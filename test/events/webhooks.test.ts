import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { verifySignature } from "../../src/events/signature.js";
import { createTestContext, eventually, patchOp, type TestContext } from "../helpers/context.js";
import { tenant, variants } from "../roles/helpers.js";
import { startReceiver } from "./receiver.js";

for (const v of variants()) {
  describe(`webhook delivery: signatures, retries, order, redelivery [${v.label}]`, { skip: v.skip }, () => {
    let ctx: TestContext;
    let rx: Awaited<ReturnType<typeof startReceiver>>;
    before(async () => {
      ctx = await createTestContext(v.backend, { redis: v.redis });
      rx = await startReceiver();
      await ctx.deps.driver.start();
    });
    after(async () => {
      await ctx.close();
      await rx.close();
    });

    /** Move the test clock on (past retry backoffs) until the condition holds. */
    const waitWithClock = (fn: () => boolean | Promise<boolean>, what: string, stepMs = 0) =>
      eventually(
        async () => {
          ctx.clock.advance(stepMs);
          ctx.deps.driver.poke();
          return fn();
        },
        30_000,
        what,
      );

    it("POSTs the event envelope signed with the endpoint's secret", async () => {
      const t = await tenant(ctx, "w-sign");
      const hook = await t.a.post(`${t.base}/webhooks`, { url: rx.url, events: ["user.*"] }).expect(201);
      const u = await t.user("signed@example.com");
      const got = await waitWithClock(
        () => rx.accepted().some((r) => r.event.tenant === "w-sign"),
        "the delivery",
      ).then(() => rx.accepted().find((r) => r.event.tenant === "w-sign")!);
      assert.equal(got.event.type, "user.created");
      assert.equal(got.event.data.userId, u);
      assert.deepEqual(Object.keys(got.event).sort(), ["createdAt", "data", "id", "tenant", "type"]);
      const header = String(got.headers["roster-signature"]);
      assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
      const t0 = Number(/t=(\d+)/.exec(header)![1]);
      assert.equal(verifySignature(hook.body.secret, header, got.body, t0), true);
      assert.equal(verifySignature("rst_whsec_wrong", header, got.body, t0), false);
      assert.equal(verifySignature(hook.body.secret, header, `${got.body} `, t0), false);
      // A replay ten minutes later is stale.
      assert.equal(verifySignature(hook.body.secret, header, got.body, t0 + 600), false);
      // role.* was not subscribed: only user events arrived.
      assert.ok(
        rx.received.filter((r) => r.event.tenant === "w-sign").every((r) => r.event.type.startsWith("user.")),
      );
    });

    it("signs with both secrets during a rotation's grace period", async () => {
      const t = await tenant(ctx, "w-rotate");
      const hook = await t.a
        .post(`${t.base}/webhooks`, { url: rx.url, events: ["user.created"] })
        .expect(201);
      const rotated = await t.a.post(`${t.base}/webhooks/${hook.body.id}/rotate-secret`, {}).expect(200);
      await t.user("rotate@example.com");
      await waitWithClock(() => rx.accepted().some((r) => r.event.tenant === "w-rotate"), "the delivery");
      const got = rx.accepted().find((r) => r.event.tenant === "w-rotate")!;
      const header = String(got.headers["roster-signature"]);
      assert.equal(header.split(",").filter((p) => p.startsWith("v1=")).length, 2);
      const t0 = Number(/t=(\d+)/.exec(header)![1]);
      assert.equal(verifySignature(hook.body.secret, header, got.body, t0), true);
      assert.equal(verifySignature(rotated.body.secret, header, got.body, t0), true);
    });

    it("stops signing with the old secret when the rotation's grace period ends", async () => {
      const t = await tenant(ctx, "w-grace");
      const hook = await t.a
        .post(`${t.base}/webhooks`, { url: rx.url, events: ["user.created"] })
        .expect(201);
      const rotated = await t.a
        .post(`${t.base}/webhooks/${hook.body.id}/rotate-secret`, { graceSeconds: 60 })
        .expect(200);
      assert.equal(
        rotated.body.previousSecretExpiresAt,
        new Date(ctx.clock.now().getTime() + 60_000).toISOString(),
      );
      /** The delivery of user.created for this user, and the v1 values of its signature header. */
      const deliveryOf = async (userName: string) => {
        await t.user(userName);
        await waitWithClock(
          () => rx.accepted().some((r) => r.event.data.userName === userName),
          `the delivery for ${userName}`,
        );
        const got = rx.accepted().find((r) => r.event.data.userName === userName)!;
        const header = String(got.headers["roster-signature"]);
        const t0 = Number(/t=(\d+)/.exec(header)![1]);
        const valid = (secret: string) => verifySignature(secret, header, got.body, t0);
        return { v1: header.split(",").filter((p) => p.startsWith("v1=")).length, valid };
      };
      const during = await deliveryOf("during@example.com");
      assert.deepEqual(
        [during.v1, during.valid(rotated.body.secret), during.valid(hook.body.secret)],
        [2, true, true],
      );
      ctx.clock.advance(60_000);
      const after = await deliveryOf("after@example.com");
      assert.deepEqual(
        [after.v1, after.valid(rotated.body.secret), after.valid(hook.body.secret)],
        [1, true, false],
      );
    });

    it("an inactive endpoint is sent nothing: neither new events nor the deliveries it had pending", async () => {
      const t = await tenant(ctx, "w-inactive");
      const quiet = await startReceiver();
      try {
        // Created inactive, and paused before anything happened: no delivery is even recorded.
        const off = await t.a
          .post(`${t.base}/webhooks`, { url: quiet.url, events: ["*"], active: false })
          .expect(201);
        assert.equal(off.body.active, false);
        // Paused with deliveries pending (its receiver was failing): they are not sent either.
        quiet.state.status = 500;
        const paused = await t.a
          .post(`${t.base}/webhooks`, { url: quiet.url, events: ["user.*"] })
          .expect(201);
        const on = await t.a.post(`${t.base}/webhooks`, { url: rx.url, events: ["*"] }).expect(201);
        const early = await t.user("early@example.com");
        await waitWithClock(() => quiet.received.length > 0, "the failing endpoint's first attempt");
        await t.a.patch(`${t.base}/webhooks/${paused.body.id}`, { active: false }).expect(200);
        quiet.state.status = 200;
        const tried = quiet.received.length;
        await t.scim
          .patch(`/Users/${early}`, patchOp({ op: "replace", path: "active", value: false }))
          .expect(200);
        await t.user("later@example.com");
        // The active endpoint beside them gets every event: the deliveries ran. Then the clock
        // passes every retry (an hour at most) and no job is left due.
        // Every event recorded so far (role syncs add theirs a moment later: read them each time,
        // a snapshot taken before them would never equal what arrives).
        await waitWithClock(async () => {
          const ids = (await t.events()).map((e) => e.id);
          const got = new Set(
            rx
              .accepted()
              .filter((r) => r.event.tenant === "w-inactive")
              .map((r) => r.event.id),
          );
          return got.size === ids.length && ids.every((id) => got.has(id));
        }, "every event at the active endpoint");
        ctx.clock.advance(3_600_000);
        await t.settle();
        assert.equal(quiet.received.length, tried, "nothing more reached the paused endpoint");
        assert.ok(quiet.received.every((r) => r.status === 500));
        const deliveries = async (id: string) =>
          (await t.a.get(`${t.base}/webhooks/${id}/deliveries`).expect(200)).body.deliveries;
        assert.deepEqual(await deliveries(off.body.id), []);
        assert.ok((await deliveries(paused.body.id)).every((d: any) => d.state === "pending"));
        assert.ok((await deliveries(on.body.id)).every((d: any) => d.state === "delivered"));
      } finally {
        await quiet.close();
      }
    });

    it("delivers every event once, in order per user, after the receiver was down", async () => {
      const t = await tenant(ctx, "w-down");
      rx.state.status = 500;
      const hook = await t.a.post(`${t.base}/webhooks`, { url: rx.url, events: ["*"] }).expect(201);
      const users: string[] = [];
      for (let i = 0; i < 4; i++) users.push(await t.user(`down${i}@example.com`));
      const g = await t.group("Down", users);
      await t.a.post(`${t.base}/role-mappings`, { groupId: g, role: "admin" }).expect(201);
      await t.scim
        .patch(`/Users/${users[0]}`, patchOp({ op: "replace", path: "active", value: false }))
        .expect(200);
      await t.settle();
      // A few rounds of failures with backoff, then the receiver recovers.
      await waitWithClock(
        () => rx.received.filter((r) => r.event.tenant === "w-down" && r.status === 500).length >= 30,
        "failed attempts",
        5_000,
      );
      rx.state.status = 200;
      const all = (await t.events()).map((e) => e.id);
      await waitWithClock(
        () =>
          new Set(
            rx
              .accepted()
              .filter((r) => r.event.tenant === "w-down")
              .map((r) => r.event.id),
          ).size === all.length,
        "every event delivered",
        30_000,
      );
      // Delivery is at-least-once; the receiver deduplicates by event id (the contract). This test
      // jumps the clock, so a lease can expire under an in-flight delivery and repeat it: count
      // first acceptances, and require that any repeat is of an id already accepted.
      const firstSeen = new Set<string>();
      const accepted = rx.accepted().filter((r) => {
        if (r.event.tenant !== "w-down" || firstSeen.has(r.event.id)) return false;
        firstSeen.add(r.event.id);
        return true;
      });
      assert.equal(accepted.length, all.length, "each event accepted once after deduplication by id");
      assert.deepEqual([...firstSeen].sort(), [...all].sort());
      const byStream = new Map<string, number[]>();
      for (const r of accepted) {
        const key = r.event.data.userId ?? r.event.data.groupId ?? "tenant";
        byStream.set(key, [...(byStream.get(key) ?? []), Number(r.event.id)]);
      }
      for (const [key, ids] of byStream)
        assert.deepEqual(
          ids,
          [...ids].sort((a, b) => a - b),
          `order for ${key}`,
        );
      const deliveries = await t.a.get(`${t.base}/webhooks/${hook.body.id}/deliveries?limit=500`).expect(200);
      assert.equal(deliveries.body.deliveries.length, all.length);
      const d = deliveries.body.deliveries.find((x: any) => x.attempts > 1);
      assert.equal(d.state, "delivered");
      assert.equal(d.attemptLog.length, d.attempts);
      assert.equal(d.attemptLog[0].status, 500);
      assert.equal(d.attemptLog.at(-1).status, 200);
    });

    it("lists deliveries and redelivers one on request", async () => {
      const t = await tenant(ctx, "w-redeliver");
      const hook = await t.a
        .post(`${t.base}/webhooks`, { url: rx.url, events: ["user.created"] })
        .expect(201);
      await t.user("again@example.com");
      const list = await eventually(async () => {
        ctx.deps.driver.poke();
        const r = await t.a.get(`${t.base}/webhooks/${hook.body.id}/deliveries`).expect(200);
        return r.body.deliveries[0]?.state === "delivered" && r.body.deliveries;
      });
      const before = rx.accepted().filter((r) => r.event.tenant === "w-redeliver").length;
      const again = await t.a
        .post(`${t.base}/webhooks/${hook.body.id}/deliveries/${list[0].id}/redeliver`)
        .expect(202);
      assert.equal(again.body.state, "pending");
      await waitWithClock(
        () => rx.accepted().filter((r) => r.event.tenant === "w-redeliver").length === before + 1,
        "the redelivery",
      );
      await t.a.post(`${t.base}/webhooks/${hook.body.id}/deliveries/999999/redeliver`).expect(404);
    });
  });
}
