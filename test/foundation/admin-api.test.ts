import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createAdminKey, listAdminKeys, revokeAdminKey } from "../../src/tenants/admin-keys.js";
import { admin, allBackends, createTestContext, type TestContext } from "../helpers/context.js";

for (const backend of allBackends()) {
  describe(`admin API: tenants and SCIM tokens [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    before(async () => {
      ctx = await createTestContext(backend);
    });
    after(async () => ctx.close());

    it("refuses requests without or with a wrong admin token", async () => {
      const none = await ctx.http.get("/admin/v1/tenants").expect(401);
      assert.equal(none.body.error.code, "UNAUTHORIZED");
      assert.match(none.headers["www-authenticate"], /^Bearer/);
      await ctx.http.get("/admin/v1/tenants").set("Authorization", "Bearer nope").expect(401);
      await ctx.http.get("/admin/v1/tenants").set("Authorization", `Basic ${ctx.adminToken}`).expect(401);
    });

    it("creates, reads, lists, updates and deletes a tenant", async () => {
      const a = admin(ctx);
      const created = await a.post("/admin/v1/tenants", { slug: "acme", name: "Acme Inc" }).expect(201);
      assert.equal(created.body.slug, "acme");
      assert.equal(created.body.name, "Acme Inc");
      assert.equal(created.body.settings.defaultRole, "member");
      const got = await a.get("/admin/v1/tenants/acme").expect(200);
      assert.equal(got.body.id, created.body.id);
      const list = await a.get("/admin/v1/tenants").expect(200);
      assert.deepEqual(
        list.body.tenants.map((t: any) => t.slug),
        ["acme"],
      );
      const patched = await a
        .patch("/admin/v1/tenants/acme", { name: "Acme Corp", settings: { deprovisionPolicy: "delete" } })
        .expect(200);
      assert.equal(patched.body.name, "Acme Corp");
      assert.equal(patched.body.settings.deprovisionPolicy, "delete");
      assert.equal(patched.body.settings.defaultRole, "member");
      await a.delete("/admin/v1/tenants/acme").expect(204);
      const gone = await a.get("/admin/v1/tenants/acme").expect(404);
      assert.equal(gone.body.error.code, "TENANT_NOT_FOUND");
    });

    it("validates slugs and refuses duplicates with 409", async () => {
      const a = admin(ctx);
      for (const slug of ["A", "a", "-abc", "abc-", "has space", "UPPER", "x".repeat(64), "émile"]) {
        const r = await a.post("/admin/v1/tenants", { slug, name: "x" }).expect(400);
        assert.equal(r.body.error.code, "VALIDATION_FAILED");
        assert.equal(r.body.error.details[0].field, "slug");
      }
      await a.post("/admin/v1/tenants", { slug: "dup-co", name: "x" }).expect(201);
      const dup = await a.post("/admin/v1/tenants", { slug: "dup-co", name: "y" }).expect(409);
      assert.equal(dup.body.error.code, "TENANT_EXISTS");
      await a.post("/admin/v1/tenants", { slug: "a1", name: "two chars" }).expect(201);
    });

    it("answers bad input with a 4xx naming the problem", async () => {
      const a = admin(ctx);
      const unknown = await a
        .post("/admin/v1/tenants", { slug: "bad-in", name: "x", colour: "red" })
        .expect(400);
      assert.match(unknown.body.error.message, /colour/);
      assert.equal(unknown.body.error.details[0].field, "colour");
      const wrongType = await a.post("/admin/v1/tenants", { slug: "bad-in", name: 42 }).expect(400);
      assert.equal(wrongType.body.error.details[0].field, "name");
      const malformed = await ctx.http
        .post("/admin/v1/tenants")
        .set("Authorization", `Bearer ${ctx.adminToken}`)
        .set("Content-Type", "application/json")
        .send('{"slug": "x",')
        .expect(400);
      assert.equal(malformed.body.error.code, "INVALID_JSON");
      const huge = await ctx.http
        .post("/admin/v1/tenants")
        .set("Authorization", `Bearer ${ctx.adminToken}`)
        .set("Content-Type", "application/json")
        .send(JSON.stringify({ slug: "big", name: "x".repeat(10 * 1024 * 1024) }))
        .expect(413);
      assert.equal(huge.body.error.code, "PAYLOAD_TOO_LARGE");
      const notObject = await ctx.http
        .post("/admin/v1/tenants")
        .set("Authorization", `Bearer ${ctx.adminToken}`)
        .set("Content-Type", "application/json")
        .send("[1,2]")
        .expect(400);
      assert.equal(notObject.body.error.code, "VALIDATION_FAILED");
      await a.get("/admin/v1/tenants/nobody").expect(404);
      await a.post("/admin/v1/tenants/nobody/scim-tokens", { name: "x" }).expect(404);
      assert.equal(
        (await a.get("/admin/v1/tenants")).body.tenants.some((t: any) => t.slug === "big"),
        false,
      );
    });

    it("an admin key works until it is revoked, and is refused from the very next request", async () => {
      // The functions `npm run cli -- admin-key:create/revoke` call, on this database.
      const key = await createAdminKey(ctx.deps.db, "ops", ctx.deps.now());
      const other = await createAdminKey(ctx.deps.db, "backup", ctx.deps.now());
      const as = (token: string) => ctx.http.get("/admin/v1/tenants").set("Authorization", `Bearer ${token}`);
      await as(key.token).expect(200);
      assert.equal(await revokeAdminKey(ctx.deps.db, key.id, ctx.deps.now()), true);
      const refused = await as(key.token).expect(401);
      assert.equal(refused.body.error.code, "UNAUTHORIZED");
      await admin(ctx).post("/admin/v1/tenants", { slug: "with-revoked", name: "x" }).expect(201);
      await ctx.http
        .delete("/admin/v1/tenants/with-revoked")
        .set("Authorization", `Bearer ${key.token}`)
        .expect(401);
      assert.equal(await revokeAdminKey(ctx.deps.db, key.id, ctx.deps.now()), false, "already revoked");
      // Only that key: the other one and ROSTER_ADMIN_TOKEN still work.
      await as(other.token).expect(200);
      await as(ctx.adminToken).expect(200);
      const listed = await listAdminKeys(ctx.deps.db);
      assert.deepEqual(listed.map((k) => [k.name, k.revokedAt !== null]).sort(), [
        ["backup", false],
        ["ops", true],
      ]);
    });

    it("issues SCIM tokens shown once, lists them without secrets, revokes them at once", async () => {
      const a = admin(ctx);
      await a.post("/admin/v1/tenants", { slug: "tok", name: "Tokens" }).expect(201);
      const t1 = await a.post("/admin/v1/tenants/tok/scim-tokens", { name: "Entra ID" }).expect(201);
      assert.match(t1.body.token, /^rst_scim_[A-Za-z0-9_-]{43}$/);
      assert.equal(t1.body.prefix, t1.body.token.slice(0, 13));
      assert.deepEqual(Object.keys(t1.body).sort(), [
        "createdAt",
        "expiresAt",
        "id",
        "name",
        "prefix",
        "token",
      ]);
      const t2 = await a.post("/admin/v1/tenants/tok/scim-tokens", { name: "Okta" }).expect(201);
      // Both live at once: rotation with overlap.
      for (const t of [t1, t2]) {
        await ctx.http
          .get("/scim/v2/ServiceProviderConfig")
          .set("Authorization", `Bearer ${t.body.token}`)
          .expect(200);
      }
      const list = await a.get("/admin/v1/tenants/tok/scim-tokens").expect(200);
      assert.equal(list.body.scimTokens.length, 2);
      const serialized = JSON.stringify(list.body);
      assert.ok(!serialized.includes(t1.body.token) && !serialized.includes(t2.body.token));
      assert.ok(
        list.body.scimTokens.every((t: any) => "lastUsedAt" in t && !("token" in t) && !("tokenHash" in t)),
      );
      assert.ok(list.body.scimTokens.find((t: any) => t.id === t1.body.id).lastUsedAt);

      await a.delete(`/admin/v1/tenants/tok/scim-tokens/${t1.body.id}`).expect(204);
      const refused = await ctx.http
        .get("/scim/v2/ServiceProviderConfig")
        .set("Authorization", `Bearer ${t1.body.token}`)
        .expect(401);
      assert.equal(refused.body.status, "401");
      assert.deepEqual(refused.body.schemas, ["urn:ietf:params:scim:api:messages:2.0:Error"]);
      assert.match(refused.headers["www-authenticate"], /^Bearer/);
      await ctx.http
        .get("/scim/v2/ServiceProviderConfig")
        .set("Authorization", `Bearer ${t2.body.token}`)
        .expect(200);
      const after = await a.get("/admin/v1/tenants/tok/scim-tokens").expect(200);
      assert.ok(after.body.scimTokens.find((t: any) => t.id === t1.body.id).revokedAt);
      await a.delete("/admin/v1/tenants/tok/scim-tokens/00000000-0000-0000-0000-000000000000").expect(404);
    });

    it("refuses expired tokens and validates expiresAt", async () => {
      const a = admin(ctx);
      await a.post("/admin/v1/tenants", { slug: "exp", name: "Expiring" }).expect(201);
      const past = await a
        .post("/admin/v1/tenants/exp/scim-tokens", { name: "x", expiresAt: "2001-01-01T00:00:00Z" })
        .expect(400);
      assert.equal(past.body.error.details[0].field, "expiresAt");
      await a.post("/admin/v1/tenants/exp/scim-tokens", { name: "x", expiresAt: "tomorrow" }).expect(400);
      const soon = new Date(ctx.clock.now().getTime() + 60_000).toISOString();
      const tok = await a
        .post("/admin/v1/tenants/exp/scim-tokens", { name: "x", expiresAt: soon })
        .expect(201);
      await ctx.http
        .get("/scim/v2/ServiceProviderConfig")
        .set("Authorization", `Bearer ${tok.body.token}`)
        .expect(200);
      ctx.clock.advance(61_000);
      await ctx.http
        .get("/scim/v2/ServiceProviderConfig")
        .set("Authorization", `Bearer ${tok.body.token}`)
        .expect(401);
    });

    it("a tenant's token does not survive its tenant", async () => {
      const a = admin(ctx);
      await a.post("/admin/v1/tenants", { slug: "gone", name: "Gone" }).expect(201);
      const tok = await a.post("/admin/v1/tenants/gone/scim-tokens", { name: "x" }).expect(201);
      await a.delete("/admin/v1/tenants/gone").expect(204);
      await ctx.http
        .get("/scim/v2/ServiceProviderConfig")
        .set("Authorization", `Bearer ${tok.body.token}`)
        .expect(401);
    });

    it("never writes tokens to the log", async () => {
      const a = admin(ctx);
      await a.post("/admin/v1/tenants", { slug: "logs", name: "Logs" }).expect(201);
      const tok = await a.post("/admin/v1/tenants/logs/scim-tokens", { name: "x" }).expect(201);
      await ctx.http
        .get("/scim/v2/ServiceProviderConfig")
        .set("Authorization", `Bearer ${tok.body.token}`)
        .expect(200);
      await ctx.http
        .get("/scim/v2/ServiceProviderConfig")
        .set("Authorization", "Bearer rst_scim_wrongwrongwrong")
        .expect(401);
      const all = ctx.logs.join("");
      assert.ok(all.length > 0, "requests were logged");
      assert.ok(!all.includes(tok.body.token), "SCIM token in logs");
      assert.ok(!all.includes(ctx.adminToken), "admin token in logs");
      assert.ok(!all.includes("rst_scim_wrongwrongwrong"), "refused token in logs");
      assert.ok(
        ctx.logs.every((l) => JSON.parse(l)),
        "every line is JSON",
      );
      assert.ok(
        ctx.logs.some((l) => JSON.parse(l).reqId),
        "request id on request lines",
      );
    });
  });
}
