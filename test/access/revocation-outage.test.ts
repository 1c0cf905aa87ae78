import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { startRedis, stopRedis } from "../helpers/redis-server.js";
import { startReceiver } from "../events/receiver.js";
import {
  backends,
  createTestContext,
  eventually,
  patchOp,
  type TestContext,
  testRedisUrl,
} from "../helpers/context.js";
import { Browser, setupSso, type SsoTenant } from "../saml/sso-helpers.js";

// A private redis-server on its own port, so stopping it disturbs nothing else on the machine.
const PORT = 16_900 + Math.floor(Math.random() * 500);

for (const backend of testRedisUrl() ? backends() : []) {
  describe(`revocation while Redis is down [${backend.name}] [redis]`, () => {
    let ctx: TestContext;
    let redis: ChildProcess;
    let sso: SsoTenant;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    before(async () => {
      redis = await startRedis(PORT);
      ctx = await createTestContext(backend, {
        redis: true,
        env: { REDIS_URL: `redis://127.0.0.1:${PORT}` },
      });
      await ctx.deps.driver.start();
      sso = await setupSso(ctx, "acme");
      receiver = await startReceiver();
    });
    after(async () => {
      await ctx.close();
      await stopRedis(redis);
      await receiver.close();
    });

    const admin = (path: string) => ctx.http.get(path).set("Authorization", `Bearer ${ctx.adminToken}`);
    const roleKeys = async (userId: string) =>
      (
        (await admin(`/admin/v1/tenants/acme/users/${userId}/roles`).expect(200)).body.roles as Array<{
          key: string;
        }>
      )
        .map((r) => r.key)
        .join(",");

    it("sessions die at once regardless; roles are stripped and the webhook delivered once Redis is back", async () => {
      await ctx.http
        .post("/admin/v1/tenants/acme/webhooks")
        .set("Authorization", `Bearer ${ctx.adminToken}`)
        .send({ url: receiver.url, events: ["access.revoked"] })
        .expect(201);
      const userId = (
        await sso.scim
          .post("/Users", {
            schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
            userName: "ann@acme.test",
          })
          .expect(201)
      ).body.id;
      await eventually(
        async () => {
          ctx.deps.driver.poke();
          return (await roleKeys(userId)) === "member";
        },
        15_000,
        "the default role",
      );
      const browser = new Browser(ctx);
      const id = await browser.startLogin("acme");
      const login = await browser.acs(
        "acme",
        await sso.idp.response(sso.opts({ nameId: "ann@acme.test", inResponseTo: id })),
      );
      assert.equal(login.status, 302, login.text);
      await browser.get("/sso/acme/session", 200);

      await stopRedis(redis);
      const t0 = Date.now();
      await sso.scim
        .patch(`/Users/${userId}`, patchOp({ op: "replace", path: "active", value: false }))
        .expect(200);
      assert.ok(Date.now() - t0 < 2000, "the deprovisioning request does not wait for Redis");
      await browser.get("/sso/acme/session", 401);
      // The job cannot run without Redis: the receipt shows the revocation under way.
      await new Promise((r) => setTimeout(r, 300));
      const during = (await admin(`/admin/v1/tenants/acme/users/${userId}/revocations`).expect(200)).body
        .revocations[0];
      assert.equal(during.status, "in_progress");
      assert.equal(during.sessionsRevoked, 1);
      assert.equal(during.rolesStrippedAt, null);
      assert.equal(receiver.accepted().length, 0);

      redis = await startRedis(PORT);
      const done = await eventually(
        async () => {
          ctx.clock.advance(60_000); // leases of jobs handed to the dead Redis run out
          ctx.deps.driver.poke();
          const r = (await admin(`/admin/v1/tenants/acme/users/${userId}/revocations`).expect(200)).body
            .revocations[0];
          return r.status === "complete" ? r : undefined;
        },
        60_000,
        "the receipt to complete after the outage",
      );
      assert.ok(done.rolesStrippedAt);
      assert.equal(await roleKeys(userId), "");
      const got = receiver.accepted().filter((x) => x.event.type === "access.revoked");
      assert.ok(got.length >= 1);
      assert.deepEqual(got[0].event.data.roles, ["member"]);
      await browser.get("/sso/acme/session", 401);
    });
  });
}
