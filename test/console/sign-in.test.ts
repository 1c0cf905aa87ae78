import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createOperatorLink } from "../../src/console/links.js";
import { createAdminKey, revokeAdminKey } from "../../src/tenants/admin-keys.js";
import { hashSecret } from "../../src/tenants/secrets.js";
import { admin, allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { ConsoleClient } from "./helpers.js";

for (const backend of allBackends()) {
  describe(`console sign-in [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    before(async () => {
      ctx = await createTestContext(backend);
      await admin(ctx).post("/admin/v1/tenants", { slug: "acme", name: "Acme" }).expect(201);
      await admin(ctx).post("/admin/v1/tenants", { slug: "globex", name: "Globex" }).expect(201);
    });
    after(() => ctx.close());

    it("console:link signs an operator in once; the cookie is HttpOnly, SameSite=Strict, Secure", async () => {
      const link = await createOperatorLink(ctx.deps);
      assert.match(link.url, /^https:\/\/roster\.test\/console\/link\?token=rst_link_/);
      const row = await ctx.deps.db("console_links").where({ id: link.id }).first();
      assert.ok(!JSON.stringify(row).includes(new URL(link.url).searchParams.get("token")!), "stored hashed");
      const b = new ConsoleClient(ctx);
      const res = await b.exchange(link.url);
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, "/console/operator/tenants");
      const cookie = (res.headers["set-cookie"] as unknown as string[]).find((c) =>
        c.startsWith("roster_console="),
      )!;
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      assert.match(cookie, /Secure/);
      assert.match(cookie, /Path=\/console/);
      const page = await b.get("/console/operator/tenants");
      assert.equal(page.status, 200);
      assert.match(page.headers["content-security-policy"], /script-src 'self'/);
      assert.match(page.headers["content-security-policy"], /frame-ancestors 'none'/);
      // Single use: a second exchange (another browser) is refused.
      const again = await new ConsoleClient(ctx).exchange(link.url);
      assert.equal(again.status, 410);
    });

    it("console:link expires after 10 minutes", async () => {
      const link = await createOperatorLink(ctx.deps);
      ctx.clock.advance(10 * 60_000 + 1000);
      const res = await new ConsoleClient(ctx).exchange(link.url);
      assert.equal(res.status, 410);
      assert.match(res.text, /already used, has expired or was revoked/);
    });

    it("the admin key form exchanges a key for a session; a wrong key or a missing form token is refused", async () => {
      const b = new ConsoleClient(ctx);
      await b.get("/console/sign-in");
      assert.equal((await b.post("/console/sign-in", { key: "rst_admin_nope" })).status, 401);
      assert.equal((await b.post("/console/sign-in", { key: ctx.adminToken, _csrf: "forged" })).status, 403);
      const ok = await b.post("/console/sign-in", { key: ctx.adminToken });
      assert.equal(ok.status, 303);
      assert.equal((await b.get("/console/operator/health")).status, 200);
      const key = await admin(ctx).get("/admin/v1/tenants");
      assert.equal(key.status, 200);
    });

    it("revoking the admin key ends the console sessions made with it", async () => {
      const key = await createAdminKey(ctx.deps.db, "ops", ctx.clock.now());
      const b = new ConsoleClient(ctx);
      await b.get("/console/sign-in");
      assert.equal((await b.post("/console/sign-in", { key: key.token })).status, 303);
      assert.equal((await b.get("/console/operator/tenants")).status, 200);
      await revokeAdminKey(ctx.deps.db, key.id, ctx.clock.now());
      assert.equal((await b.get("/console/operator/tenants")).status, 303);
    });

    it("a session made with ROSTER_ADMIN_TOKEN ends when the configured token changes", async () => {
      const b = new ConsoleClient(ctx);
      await b.get("/console/sign-in");
      assert.equal((await b.post("/console/sign-in", { key: ctx.adminToken })).status, 303);
      assert.equal((await b.get("/console/operator/tenants")).status, 200);
      const row = await ctx.deps
        .db("console_sessions")
        .where({ token_hash: hashSecret(b.cookies.get("roster_console")!) })
        .first();
      assert.match(row.credential_fingerprint, /^[0-9a-f]{64}$/);
      assert.ok(
        !JSON.stringify(row).includes(ctx.deps.adminTokenHash!),
        "neither the token nor its hash is kept",
      );
      const configured = ctx.deps.adminTokenHash;
      ctx.deps.adminTokenHash = hashSecret("rotated-admin-token-0123456789"); // ROSTER_ADMIN_TOKEN changed
      try {
        const res = await b.get("/console/operator/tenants");
        assert.equal(res.status, 303);
        assert.equal(res.headers.location, "/console/sign-in");
        const revoked = await ctx.deps.db("console_sessions").where({ id: row.id }).first();
        assert.equal(revoked.revoked_reason, "admin_token_changed");
      } finally {
        ctx.deps.adminTokenHash = configured;
      }
      // Revoked for good: the old token coming back does not revive it.
      assert.equal((await b.get("/console/operator/tenants")).status, 303);
    });

    it("an idle session ends after 30 minutes", async () => {
      const b = new ConsoleClient(ctx);
      await b.exchange((await createOperatorLink(ctx.deps)).url);
      assert.equal((await b.get("/console/operator/tenants")).status, 200);
      ctx.clock.advance(31 * 60_000);
      const res = await b.get("/console/operator/tenants");
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, "/console/sign-in");
    });

    it("sign-out ends the session", async () => {
      const b = new ConsoleClient(ctx);
      await b.exchange((await createOperatorLink(ctx.deps)).url);
      await b.get("/console/operator/tenants");
      const saved = b.cookieHeader();
      assert.equal((await b.post("/console/sign-out")).status, 303);
      const res = await ctx.http.get("/console/operator/tenants").set("Cookie", saved);
      assert.equal(res.status, 303);
    });

    it("setup links: 201 with the URL once, single exchange, scopes limit the pages, revoke kills its sessions", async () => {
      const a = admin(ctx);
      const bad = await a.post("/admin/v1/tenants/acme/setup-links", { scopes: ["nope"] });
      assert.equal(bad.status, 400);
      const badUrl = await a.post("/admin/v1/tenants/acme/setup-links", {
        scopes: ["sso"],
        returnUrl: "javascript:alert(1)",
      });
      assert.equal(badUrl.status, 400);
      const created = await a.post("/admin/v1/tenants/acme/setup-links", {
        scopes: ["sso"],
        returnUrl: "https://app.example/settings",
      });
      assert.equal(created.status, 201);
      assert.deepEqual(Object.keys(created.body).sort(), ["expiresAt", "id", "returnUrl", "scopes", "url"]);
      assert.deepEqual(created.body.scopes, ["sso"]);
      const expires = new Date(created.body.expiresAt).getTime() - ctx.clock.now().getTime();
      assert.equal(expires, 4320 * 60_000);
      const list = await a.get("/admin/v1/tenants/acme/setup-links").expect(200);
      assert.equal(list.body.setupLinks[0].id, created.body.id);
      assert.equal(list.body.setupLinks[0].url, undefined, "the URL is shown once");

      const b = new ConsoleClient(ctx);
      const res = await b.exchange(created.body.url);
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, "/console/t/acme/sso");
      const sso = await b.get("/console/t/acme/sso");
      assert.equal(sso.status, 200);
      assert.match(sso.text, /href="https:\/\/app\.example\/settings"/);
      assert.equal((await b.get("/console/t/acme/scim")).status, 403, "scope not granted");
      assert.equal((await b.get("/console/t/globex/sso")).status, 404, "another tenant");
      assert.equal((await b.get("/console/operator/tenants")).status, 404, "operator pages");
      assert.equal((await new ConsoleClient(ctx).exchange(created.body.url)).status, 410, "single exchange");

      await a.delete(`/admin/v1/tenants/acme/setup-links/${created.body.id}`).expect(204);
      const after = await b.get("/console/t/acme/sso");
      assert.equal(after.status, 303, "the session made from the link died with it");
      const listed = await a.get("/admin/v1/tenants/acme/setup-links").expect(200);
      assert.ok(listed.body.setupLinks[0].revokedAt);
      // Another tenant's link id through this tenant: not found.
      await a.delete(`/admin/v1/tenants/globex/setup-links/${created.body.id}`).expect(404);
    });

    it("an operator creates a setup link in the console; it is shown once and opens the tenant's pages", async () => {
      const op = new ConsoleClient(ctx);
      await op.exchange((await createOperatorLink(ctx.deps)).url);
      await op.get("/console/operator/tenants/acme/setup-links");
      const none = await op.post("/console/operator/tenants/acme/setup-links", { expiresInMinutes: "60" });
      assert.equal(none.status, 400);
      assert.match(none.text, /class="field-error"/);
      const made = await op.post("/console/operator/tenants/acme/setup-links", {
        scope_scim: "on",
        expiresInMinutes: "60",
      });
      assert.equal(made.status, 200);
      const url = /value="(https:\/\/roster\.test\/console\/setup\?token=[^"]+)"/.exec(made.text)?.[1];
      assert.ok(url, "the URL is shown once");
      const again = await op.get("/console/operator/tenants/acme/setup-links");
      assert.ok(!again.text.includes(url!), "and not again");
      const admin2 = new ConsoleClient(ctx);
      const res = await admin2.exchange(url!.replace(/&amp;/g, "&"));
      assert.equal(res.headers.location, "/console/t/acme/scim");
      assert.equal((await admin2.get("/console/t/acme/scim")).status, 200);
      const id = /setup-links\/([0-9a-f-]{36})\/revoke/.exec(again.text)?.[1];
      await op.get("/console/operator/tenants/acme/setup-links");
      assert.equal((await op.post(`/console/operator/tenants/acme/setup-links/${id}/revoke`)).status, 303);
      assert.equal((await admin2.get("/console/t/acme/scim")).status, 303, "its session ended");
    });

    it("a revoked setup link cannot be exchanged", async () => {
      const a = admin(ctx);
      const created = await a.post("/admin/v1/tenants/acme/setup-links", { scopes: ["scim"] }).expect(201);
      await a.delete(`/admin/v1/tenants/acme/setup-links/${created.body.id}`).expect(204);
      assert.equal((await new ConsoleClient(ctx).exchange(created.body.url)).status, 410);
    });

    it("a form field with a NUL is a 400 on both databases, and nothing is stored", async () => {
      const a = admin(ctx);
      const created = await a.post("/admin/v1/tenants/globex/setup-links", { scopes: ["scim"] }).expect(201);
      const b = new ConsoleClient(ctx);
      await b.exchange(created.body.url);
      await b.get("/console/t/globex/scim");
      const tenant = await ctx.deps.db("tenants").where({ slug: "globex" }).first();
      const before = (await ctx.deps.db("scim_tokens").where({ tenant_id: tenant.id })).length;
      // (An unpaired surrogate cannot arrive in a form: UTF-8 encoding turns it into U+FFFD.)
      const res = await b.post("/console/t/globex/scim/tokens", { name: "a\u0000b" });
      assert.equal(res.status, 400, res.text);
      assert.match(res.text, /NUL/);
      assert.equal((await ctx.deps.db("scim_tokens").where({ tenant_id: tenant.id })).length, before);
    });

    it("console actions are events naming the actor, never a secret", async () => {
      const a = admin(ctx);
      const created = await a.post("/admin/v1/tenants/globex/setup-links", { scopes: ["scim"] }).expect(201);
      const b = new ConsoleClient(ctx);
      await b.exchange(created.body.url);
      await b.get("/console/t/globex/scim");
      const made = await b.post("/console/t/globex/scim/tokens", { name: "Okta" });
      assert.equal(made.status, 200);
      const token = /value="(rst_scim_[^"]+)"/.exec(made.text)?.[1];
      assert.ok(token, "the new token is shown once");
      const tenant = await ctx.deps.db("tenants").where({ slug: "globex" }).first();
      const events = await ctx.deps.db("events").where({ tenant_id: tenant.id, type: "console.action" });
      const actions = events.map((e: any) => JSON.parse(e.data));
      const create = actions.find((x: any) => x.action === "scim.token.create");
      assert.deepEqual(create.actor, { kind: "setup_link", id: created.body.id });
      assert.ok(!JSON.stringify(events).includes(token!), "no secret in events");
      assert.ok(!JSON.stringify(events).includes("rst_link_"), "no link secret in events");
    });
  });
}
