import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BullmqDriver } from "../../src/jobs/bullmq-driver.js";
import { type RedisServer, startRedis, stopRedis } from "../helpers/redis-server.js";
import { startReceiver } from "../events/receiver.js";
import {
  allBackends,
  createTestContext,
  eventually,
  patchOp,
  settlesWithin,
  skipUnless,
  type TestContext,
} from "../helpers/context.js";
import { Browser, setupSso, type SsoTenant } from "../saml/sso-helpers.js";

for (const backend of allBackends()) {
  const skip = skipUnless(...(backend.name === "postgres" ? (["postgres"] as const) : []), "redis");
  describe(`revocation while Redis is down [${backend.name}] [redis]`, { skip }, () => {
    let ctx: TestContext;
    // A private redis-server on a free port, so stopping it disturbs nothing else on the machine.
    let redis: RedisServer;
    let sso: SsoTenant;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    before(async () => {
      redis = await startRedis();
      ctx = await createTestContext(backend, {
        redis: true,
        env: { REDIS_URL: `redis://127.0.0.1:${redis.port}` },
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
        undefined,
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
      // Redis stays down until the answer is back: a request that waited for it would hang here.
      const deprovisioned = await settlesWithin(
        sso.scim.patch(`/Users/${userId}`, patchOp({ op: "replace", path: "active", value: false })),
        "the deprovisioning request while Redis is down",
      );
      assert.equal(deprovisioned.status, 200, deprovisioned.text);
      await browser.get("/sso/acme/session", 401);
      // The job cannot run without Redis. Signal: a relay pass that started after the change
      // has tried to hand the job over and failed; the job is still in the outbox and the
      // receipt shows the revocation under way.
      await assert.rejects(
        (ctx.deps.driver as BullmqDriver).relayOnce(),
        /timed out|Connection|ECONNREFUSED/,
      );
      const revokeJobs = await ctx.deps.db("jobs").where({ name: "revoke-access" }).select("state");
      assert.ok(revokeJobs.length > 0, "the revoke-access job is in the outbox");
      assert.ok(
        revokeJobs.every((j: any) => j.state !== "done"),
        JSON.stringify(revokeJobs),
      );
      const during = (await admin(`/admin/v1/tenants/acme/users/${userId}/revocations`).expect(200)).body
        .revocations[0];
      assert.equal(during.status, "in_progress");
      assert.equal(during.sessionsRevoked, 1);
      assert.equal(during.rolesStrippedAt, null);
      assert.equal(receiver.accepted().length, 0);

      redis = await startRedis(redis.port);
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
