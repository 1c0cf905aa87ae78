import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { finishRevocations } from "../../src/access/jobs.js";
import { syncUserRoles } from "../../src/roles/sync.js";
import { allBackends, createTestContext, eventually, patchOp, type TestContext } from "../helpers/context.js";
import { startReceiver } from "../events/receiver.js";
import { tenant, variants } from "../roles/helpers.js";
import { authnRequestOf, Browser, setupSso, type SsoTenant } from "../saml/sso-helpers.js";

const REDIRECT = "https://app.acme.test/callback";

for (const v of variants()) {
  describe(`access revocation: deprovisioning, offboarding, receipts [${v.label}]`, { skip: v.skip }, () => {
    let ctx: TestContext;
    let sso: SsoTenant;
    let t: Awaited<ReturnType<typeof tenant>>;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let client: { clientId: string; clientSecret: string };
    let staff: string;
    before(async () => {
      ctx = await createTestContext(v.backend, { redis: v.redis });
      await ctx.deps.driver.start();
      sso = await setupSso(ctx, "acme");
      t = await tenant(ctx, "other");
      // setupSso made the tenant; bind the roles helpers to it through its own SCIM client.
      receiver = await startReceiver();
      const a = t.a;
      await a
        .post("/admin/v1/tenants/acme/webhooks", {
          url: receiver.url,
          events: ["user.*", "access.*", "session.*"],
        })
        .expect(201);
      client = (
        await a
          .post("/admin/v1/tenants/acme/oauth-clients", { name: "App", redirectUris: [REDIRECT] })
          .expect(201)
      ).body;
      staff = (
        await sso.scim
          .post("/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Staff" })
          .expect(201)
      ).body.id;
      await a.post("/admin/v1/tenants/acme/role-mappings", { groupId: staff, role: "admin" }).expect(201);
    });
    after(async () => {
      await ctx.close();
      await receiver.close();
    });

    const acme = "/admin/v1/tenants/acme";
    // Wait until no job of the context is due (helpers of any tenant wait for all).
    const settle = () => t.settle();
    const roleKeys = async (userId: string) =>
      ((await t.a.get(`${acme}/users/${userId}/roles`).expect(200)).body.roles as Array<{ key: string }>)
        .map((r) => r.key)
        .sort()
        .join(",");

    /** A directory user in Staff (role admin), logged in through the test IdP, with an OAuth token. */
    async function loggedInUser(userName: string) {
      const res = await sso.scim
        .post("/Users", {
          schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
          userName,
          externalId: `ext-${userName}`,
          active: true,
        })
        .expect(201);
      const userId = res.body.id as string;
      await sso.scim
        .patch(`/Groups/${staff}`, patchOp({ op: "add", path: "members", value: [{ value: userId }] }))
        .expect(204);
      const browser = new Browser(ctx);
      const verifier = randomBytes(32).toString("base64url");
      const q = new URLSearchParams({
        response_type: "code",
        client_id: client.clientId,
        redirect_uri: REDIRECT,
        scope: "openid profile",
        code_challenge: createHash("sha256").update(verifier).digest("base64url"),
        code_challenge_method: "S256",
      });
      const authz = await browser.get(`/oauth/authorize?${q}`, 302);
      const { id } = authnRequestOf(authz.headers.location);
      const acs = await browser.acs(
        "acme",
        await sso.idp.response(sso.opts({ nameId: userName, inResponseTo: id })),
      );
      assert.equal(acs.status, 302, acs.text);
      const code = new URL(acs.headers.location).searchParams.get("code")!;
      const tok = await ctx.http
        .post("/oauth/token")
        .set("Authorization", basic())
        .type("form")
        .send({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier })
        .expect(200);
      await settle();
      assert.equal(await roleKeys(userId), "admin");
      await browser.get("/sso/acme/session", 200);
      assert.equal((await introspect(tok.body.access_token)).active, true);
      return { userId, browser, accessToken: tok.body.access_token as string };
    }

    const basic = () =>
      `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`;
    const introspect = async (token: string) =>
      (
        await ctx.http
          .post("/oauth/introspect")
          .set("Authorization", basic())
          .type("form")
          .send({ token })
          .expect(200)
      ).body;

    /** Everything a deprovisioning must end, checked right after the trigger's response. */
    async function assertAccessEnded(u: Awaited<ReturnType<typeof loggedInUser>>) {
      await u.browser.get("/sso/acme/session", 401);
      assert.deepEqual(await introspect(u.accessToken), { active: false });
      await ctx.http.get("/oauth/userinfo").set("Authorization", `Bearer ${u.accessToken}`).expect(401);
    }

    /** The receipt once every step is done: roles stripped, every endpoint acknowledged. */
    async function completeReceipt(userId: string, trigger: string) {
      return eventually(
        async () => {
          ctx.deps.driver.poke();
          const res = await t.a.get(`${acme}/users/${userId}/revocations`).expect(200);
          const r = res.body.revocations[0];
          return r?.trigger === trigger && r.status === "complete" ? r : undefined;
        },
        20_000,
        `a complete ${trigger} receipt`,
      );
    }

    function assertReceipt(r: any, trigger: string, userId: string) {
      assert.equal(r.trigger, trigger);
      assert.equal(r.userId, userId);
      assert.equal(r.sessionsRevoked, 1);
      assert.equal(r.tokensRevoked, 1);
      assert.deepEqual(
        r.roles.map((x: any) => x.key),
        ["admin"],
      );
      assert.ok(r.requestId);
      assert.ok(r.requestedAt <= r.sessionsRevokedAt);
      assert.ok(r.sessionsRevokedAt <= r.rolesStrippedAt);
      assert.ok(r.webhooks.length >= 2, JSON.stringify(r.webhooks));
      for (const w of r.webhooks) {
        assert.equal(w.state, "delivered");
        assert.ok(w.acknowledgedAt >= r.sessionsRevokedAt);
      }
      assert.ok(r.completedAt >= r.rolesStrippedAt);
      assert.equal(r.totalMs, new Date(r.completedAt).getTime() - new Date(r.requestedAt).getTime());
    }

    /**
     * Restore the shared tenant's settings once this test ends, pass or fail, so a failure here
     * never changes what the next test sees.
     */
    const restoreAfter = (
      test: { after(fn: () => Promise<void>): void },
      settings: Record<string, unknown>,
    ) => test.after(async () => void (await t.a.patch(acme, { settings }).expect(200)));

    const received = (userId: string, type: string) =>
      eventually(
        async () => receiver.accepted().find((x) => x.event.type === type && x.event.data.userId === userId),
        20_000,
        `${type} at the receiver`,
      );

    it('SCIM PATCH active "False" (Entra): sessions and tokens refused at once; roles stripped; webhooks; receipt', async () => {
      const u = await loggedInUser("patch@acme.test");
      await sso.scim
        .patch(`/Users/${u.userId}`, patchOp({ op: "Replace", path: "active", value: "False" }))
        .expect(200);
      await assertAccessEnded(u);
      const receipt = await completeReceipt(u.userId, "scim.patch");
      assertReceipt(receipt, "scim.patch", u.userId);
      assert.equal(receipt.actor.kind, "scim_token");
      assert.equal(await roleKeys(u.userId), "");
      const revoked = await received(u.userId, "access.revoked");
      assert.deepEqual(revoked.event.data.roles, ["admin"]);
      assert.equal(revoked.event.data.revocationId, receipt.id);
      assert.equal((await received(u.userId, "user.deactivated")).event.data.revocationId, receipt.id);
      // A fresh SAML login is refused by the directory gate from the same moment.
      const b = new Browser(ctx);
      const id = await b.startLogin("acme");
      const again = await b.acs(
        "acme",
        await sso.idp.response(sso.opts({ nameId: "patch@acme.test", inResponseTo: id })),
      );
      assert.equal(again.status, 403, again.text);
      assert.match(again.text, /Reference: USER_INACTIVE/);
    });

    it("SCIM PUT active false and SCIM DELETE each revoke with their own receipt", async () => {
      const put = await loggedInUser("put@acme.test");
      await sso.scim
        .put(`/Users/${put.userId}`, {
          schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
          userName: "put@acme.test",
          externalId: "ext-put@acme.test",
          active: false,
        })
        .expect(200);
      await assertAccessEnded(put);
      assertReceipt(await completeReceipt(put.userId, "scim.put"), "scim.put", put.userId);

      const del = await loggedInUser("delete@acme.test");
      await sso.scim.delete(`/Users/${del.userId}`).expect(204);
      await assertAccessEnded(del);
      // The receipt outlives the user: that is when an auditor asks for it.
      const r = await completeReceipt(del.userId, "scim.delete");
      assertReceipt(r, "scim.delete", del.userId);
      assert.equal((await received(del.userId, "access.revoked")).event.data.trigger, "scim.delete");
    });

    it("offboarding API: by id, userName or externalId; idempotent; 404 for unknown or another tenant's user", async () => {
      const u = await loggedInUser("leaver@acme.test");
      const first = await t.a
        .post(`${acme}/users/LEAVER@acme.test/offboard?by=userName`, {
          reason: "left the company",
          requestedBy: "hr-bot",
        })
        .expect(200);
      assert.equal(first.body.status, "offboarded");
      assert.equal(first.body.userId, u.userId);
      assert.equal(first.body.revocation.sessionsRevoked, 1);
      await assertAccessEnded(u);
      const r = await completeReceipt(u.userId, "offboard");
      assertReceipt(r, "offboard", u.userId);
      assert.equal(r.reason, "left the company");
      assert.equal(r.requestedBy, "hr-bot");
      assert.equal(r.actor.kind, "admin_token");
      const twice = await t.a.post(`${acme}/users/ext-leaver@acme.test/offboard?by=externalId`).expect(200);
      assert.equal(twice.body.status, "already_offboarded");
      assert.equal(twice.body.revocation.id, r.id);
      const thrice = await t.a.post(`${acme}/users/${u.userId}/offboard`, {}).expect(200);
      assert.equal(thrice.body.status, "already_offboarded");
      assert.equal(
        (await t.a.get(`${acme}/users/${u.userId}/revocations`).expect(200)).body.revocations.length,
        1,
      );

      const missing = await t.a.post(`${acme}/users/nobody@acme.test/offboard?by=userName`).expect(404);
      assert.equal(missing.body.error.code, "USER_NOT_FOUND");
      await t.a.post(`${acme}/users/00000000-0000-4000-8000-000000000000/offboard`).expect(404);
      const theirs = await t.user("theirs@other.test");
      await t.a.post(`${acme}/users/${theirs}/offboard`).expect(404);
      await t.a.get(`${acme}/users/${theirs}/revocations`).expect(404);
      const bad = await t.a.post(`${acme}/users/${u.userId}/offboard?by=email`).expect(400);
      assert.equal(bad.body.error.code, "VALIDATION_FAILED");
      await t.a.post(`${acme}/users/${u.userId}/offboard`, { reason: 42 }).expect(400);
    });

    it("reactivation restores group roles, not old sessions; manual roles only when the tenant says so", async (test) => {
      const u = await loggedInUser("back@acme.test");
      await t.a.put(`${acme}/users/${u.userId}/roles/member`).expect(204);
      await sso.scim
        .patch(`/Users/${u.userId}`, patchOp({ op: "replace", path: "active", value: false }))
        .expect(200);
      await completeReceipt(u.userId, "scim.patch");
      assert.equal(await roleKeys(u.userId), "");
      await sso.scim
        .patch(`/Users/${u.userId}`, patchOp({ op: "replace", path: "active", value: true }))
        .expect(200);
      await settle();
      assert.equal(await roleKeys(u.userId), "admin"); // the group role; the manual one stayed gone
      await u.browser.get("/sso/acme/session", 401);
      assert.deepEqual(await introspect(u.accessToken), { active: false });
      const [r] = (await t.a.get(`${acme}/users/${u.userId}/revocations`).expect(200)).body.revocations;
      assert.ok(r.reactivatedAt);

      restoreAfter(test, { restoreManualRolesOnReactivation: false });
      await t.a.patch(acme, { settings: { restoreManualRolesOnReactivation: true } }).expect(200);
      await t.a.put(`${acme}/users/${u.userId}/roles/member`).expect(204);
      await settle();
      await sso.scim
        .patch(`/Users/${u.userId}`, patchOp({ op: "replace", path: "active", value: false }))
        .expect(200);
      await settle();
      await sso.scim
        .patch(`/Users/${u.userId}`, patchOp({ op: "replace", path: "active", value: true }))
        .expect(200);
      await settle();
      assert.equal(await roleKeys(u.userId), "admin,member");
    });

    it("flapping active while membership PATCHes race: the final state is the IdP's final state", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++)
        ids.push(
          (
            await sso.scim
              .post("/Users", {
                schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
                userName: `flap${i}@acme.test`,
              })
              .expect(201)
          ).body.id,
        );
      const ops: Array<Promise<unknown>> = [];
      for (let round = 0; round < 5; round++) {
        for (const id of ids) {
          ops.push(
            sso.scim.patch(
              `/Users/${id}`,
              patchOp({ op: "replace", path: "active", value: round % 2 === 1 }),
            ),
          );
          ops.push(
            sso.scim.patch(
              `/Groups/${staff}`,
              patchOp({
                op: round % 2 ? "remove" : "add",
                path: round % 2 ? `members[value eq "${id}"]` : "members",
                value: round % 2 ? undefined : [{ value: id }],
              }),
            ),
          );
        }
      }
      const results = (await Promise.all(ops)) as Array<{ status: number }>;
      for (const r of results) assert.ok([200, 204].includes(r.status), `status ${r.status}`);
      // Final IdP state, sent last and in order: active, in Staff.
      for (const id of ids) {
        await sso.scim
          .patch(`/Users/${id}`, patchOp({ op: "replace", path: "active", value: true }))
          .expect(200);
        await sso.scim
          .patch(`/Groups/${staff}`, patchOp({ op: "add", path: "members", value: [{ value: id }] }))
          .expect(204);
      }
      await settle();
      for (const id of ids) assert.equal(await roleKeys(id), "admin", `roles of ${id}`);
      // And the other way round: inactive, out of Staff → nothing.
      for (const id of ids) {
        await sso.scim
          .patch(`/Users/${id}`, patchOp({ op: "replace", path: "active", value: false }))
          .expect(200);
      }
      await settle();
      for (const id of ids) assert.equal(await roleKeys(id), "", `roles of ${id}`);
      // Every receipt completes (roles step ran, each webhook acknowledged), however the race went.
      // A stream whose lease another run held looks again a second later: let the test clock move.
      for (const id of ids)
        await eventually(
          async () => {
            ctx.clock.advance(1100);
            ctx.deps.driver.poke();
            const list = (await t.a.get(`${acme}/users/${id}/revocations`).expect(200)).body.revocations;
            return list.length > 0 && list.every((r: any) => r.status === "complete");
          },
          20_000,
          `receipts of ${id} to complete`,
        );
    });

    it("admin session list and DELETE end a person's sessions by hand (and say so in the feed)", async () => {
      const u = await loggedInUser("sessions@acme.test");
      const list = await t.a.get(`${acme}/sessions?userId=${u.userId}`).expect(200);
      assert.equal(list.body.sessions.length, 1);
      assert.equal(list.body.sessions[0].live, true);
      const all = await t.a.get(`${acme}/sessions?limit=1`).expect(200);
      assert.equal(all.body.sessions.length, 1);
      assert.ok(all.body.next);
      await t.a.get(`${acme}/sessions?limit=1&cursor=${encodeURIComponent(all.body.next)}`).expect(200);
      await t.a.get(`${acme}/sessions?limit=0`).expect(400);
      await t.a.delete(`${acme}/sessions/00000000-0000-4000-8000-000000000000`).expect(404);
      await t.a.delete(`${acme}/sessions`).expect(400);
      const del = await t.a.delete(`${acme}/sessions?userId=${u.userId}`).expect(200);
      assert.deepEqual(del.body.revoked, { sessions: 1, tokens: 1 });
      await assertAccessEnded(u);
      assert.equal(
        (await t.a.get(`${acme}/sessions?userId=${u.userId}`).expect(200)).body.sessions.length,
        0,
      );
      assert.equal(
        (await t.a.get(`${acme}/sessions?userId=${u.userId}&state=all`).expect(200)).body.sessions[0]
          .revokedReason,
        "admin",
      );
      const ev = (await t.a.get(`${acme}/events?limit=1000`).expect(200)).body.events.filter(
        (e: any) => e.type === "session.revoked" && e.data.userId === u.userId,
      );
      assert.equal(ev.length, 1);
      assert.equal(ev[0].data.actor.kind, "admin_token");
      // One session by id: it and the OAuth tokens issued under it.
      const w = await loggedInUser("single@acme.test");
      const [sid] = (await t.a.get(`${acme}/sessions?userId=${w.userId}`).expect(200)).body.sessions;
      const one = await t.a.delete(`${acme}/sessions/${sid.id}`).expect(200);
      assert.deepEqual(one.body.revoked, { sessions: 1, tokens: 1 });
      await assertAccessEnded(w);
      // Another tenant's session is not this tenant's to list or end.
      const other = await t.a.get(`/admin/v1/tenants/other/sessions?state=all`).expect(200);
      assert.equal(other.body.sessions.length, 0);
      await t.a.delete(`/admin/v1/tenants/other/sessions/${list.body.sessions[0].id}`).expect(404);
    });

    it("policy `delete`: a deprovisioned user is deleted after the grace period, unless reactivated", async (test) => {
      restoreAfter(test, { deprovisionPolicy: "suspend" });
      await t.a.patch(acme, { settings: { deprovisionPolicy: "delete", deleteGraceDays: 2 } }).expect(200);
      const gone = await loggedInUser("grace@acme.test");
      const kept = await loggedInUser("kept@acme.test");
      for (const u of [gone, kept])
        await sso.scim
          .patch(`/Users/${u.userId}`, patchOp({ op: "replace", path: "active", value: false }))
          .expect(200);
      await sso.scim
        .patch(`/Users/${kept.userId}`, patchOp({ op: "replace", path: "active", value: true }))
        .expect(200);
      await settle();
      await sso.scim.get(`/Users/${gone.userId}`).expect(200); // the IdP still finds it during the grace period
      // A longer grace period set meanwhile holds the purge until it ends.
      await t.a.patch(acme, { settings: { deprovisionPolicy: "delete", deleteGraceDays: 3 } }).expect(200);
      ctx.clock.advance(2 * 86_400_000 + 1000);
      await settle();
      await sso.scim.get(`/Users/${gone.userId}`).expect(200);
      ctx.clock.advance(86_400_000);
      await settle();
      await sso.scim.get(`/Users/${gone.userId}`).expect(404);
      await sso.scim.get(`/Users/${kept.userId}`).expect(200);
      const [r] = (await t.a.get(`${acme}/users/${gone.userId}/revocations`).expect(200)).body.revocations;
      assert.equal(r.trigger, "policy.delete");
      assert.equal(r.actor.kind, "system");
    });

    it("policy `delete`: deactivated, reactivated and deactivated again, purged at the end of the second grace", async (test) => {
      restoreAfter(test, { deprovisionPolicy: "suspend" });
      await t.a.patch(acme, { settings: { deprovisionPolicy: "delete", deleteGraceDays: 2 } }).expect(200);
      const u = await loggedInUser("twice@acme.test");
      const setActive = (value: boolean) =>
        sso.scim.patch(`/Users/${u.userId}`, patchOp({ op: "replace", path: "active", value })).expect(200);
      await setActive(false);
      await settle();
      ctx.clock.advance(86_400_000);
      await setActive(true);
      await setActive(false); // its purge coalesces into the first one, due a day earlier
      await settle();
      ctx.clock.advance(86_400_000 + 1000);
      await settle();
      await sso.scim.get(`/Users/${u.userId}`).expect(200); // one day of the second grace left
      ctx.clock.advance(86_400_000);
      await settle();
      await sso.scim.get(`/Users/${u.userId}`).expect(404);
    });

    it("switching to `delete` schedules users deprovisioned before the switch, from their own deprovisioning", async (test) => {
      restoreAfter(test, { deprovisionPolicy: "suspend" });
      const early = await loggedInUser("early@acme.test");
      const back = await loggedInUser("returned@acme.test");
      for (const [u, active] of [
        [early, false],
        [back, false],
        [back, true],
      ] as const)
        await sso.scim
          .patch(`/Users/${u.userId}`, patchOp({ op: "replace", path: "active", value: active }))
          .expect(200);
      await settle();
      ctx.clock.advance(86_400_000);
      await t.a.patch(acme, { settings: { deprovisionPolicy: "delete", deleteGraceDays: 3 } }).expect(200);
      await settle();
      await sso.scim.get(`/Users/${early.userId}`).expect(200); // one day of three has passed
      ctx.clock.advance(2 * 86_400_000 + 1000);
      await settle();
      await sso.scim.get(`/Users/${early.userId}`).expect(404);
      await sso.scim.get(`/Users/${back.userId}`).expect(200);
    });
  });
}

for (const backend of allBackends()) {
  describe(`revoke-access job ordering [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    before(async () => {
      // No driver: the test runs the jobs itself, in the order it wants.
      ctx = await createTestContext(backend);
    });
    after(async () => ctx.close());

    it("reactivated before the job ran: roles that still apply stay and access.revoked names none", async () => {
      const t = await tenant(ctx, "order");
      const g = await t.group("Staff");
      await t.a.post(`${t.base}/role-mappings`, { groupId: g, role: "admin" }).expect(201);
      const userId = await t.user("ann@order.test");
      await t.scim
        .patch(`/Groups/${g}`, patchOp({ op: "add", path: "members", value: [{ value: userId }] }))
        .expect(204);
      await syncUserRoles(ctx.deps, t.tenantId, [userId]);
      await t.scim
        .patch(`/Users/${userId}`, patchOp({ op: "replace", path: "active", value: false }))
        .expect(200);
      await t.scim
        .patch(`/Users/${userId}`, patchOp({ op: "replace", path: "active", value: true }))
        .expect(200);
      await syncUserRoles(ctx.deps, t.tenantId, [userId]);
      const [pending] = (await t.a.get(`${t.base}/users/${userId}/revocations`).expect(200)).body.revocations;
      assert.equal(pending.status, "in_progress");
      assert.deepEqual(
        pending.roles.map((r: any) => r.key),
        ["admin"],
      );
      assert.equal(await finishRevocations(ctx.deps, t.tenantId), 1);
      assert.equal(await finishRevocations(ctx.deps, t.tenantId), 0); // a retry finds it done
      assert.equal(await t.keys(userId), "admin");
      const announced = await t.events("access.revoked");
      assert.equal(announced.length, 1);
      assert.deepEqual(announced[0].data.roles, []);
      const [done] = (await t.a.get(`${t.base}/users/${userId}/revocations`).expect(200)).body.revocations;
      assert.deepEqual(done.roles, []);
      assert.ok(done.reactivatedAt && done.rolesStrippedAt);
      assert.equal((await t.events("role.revoked")).length, 0);
    });
  });
}
