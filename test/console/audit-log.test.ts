import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TENANT_AREAS } from "../../src/console/areas.js";
import { createOperatorLink } from "../../src/console/links.js";
import { createAdminKey } from "../../src/tenants/admin-keys.js";
import { admin, allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { ConsoleClient } from "./helpers.js";

// Issue 18: every admin action, from the admin API, the CLI AND the console, is in the hash-chained
// audit log; the console's actor appears as the setup link, the directory user or the credential
// the operator signed in with, never with a secret.

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  matchers?: Array<(p: string) => false | { path: string }>;
}

/** Where a nested router is mounted: Express 5 keeps no mount path, so ask what it matches. */
const MOUNTS = ["/console", "/operator", "/t/:slug", ...TENANT_AREAS.map((a) => `/${a.path}`)];
function mountOf(layer: Layer): string {
  for (const m of MOUNTS) {
    const hit = layer.matchers?.[0]?.(`${m.replace(":slug", "acme")}/x`);
    if (hit && hit.path === m.replace(":slug", "acme")) return m;
  }
  return "";
}

/** Every POST route under /console, as its full path pattern. */
function consolePosts(app: { router: { stack: Layer[] } }): string[] {
  const out: string[] = [];
  const visit = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route?.methods.post) out.push(`${prefix}${layer.route.path === "/" ? "" : layer.route.path}`);
      else if (Array.isArray(layer.handle?.stack)) visit(layer.handle.stack, prefix + mountOf(layer));
    }
  };
  visit(app.router.stack, "");
  return out.filter((p) => p.startsWith("/console/")).sort();
}

/**
 * Every console POST and what it records in the audit log (`console.<action>`), or why it records
 * nothing. A new console POST fails the walk below until it is listed here; the tests further
 * down check the recording itself, one action per area.
 */
const CONSOLE_POSTS: Record<string, string> = {
  "/console/sign-in": "console.sign_in.admin_key",
  "/console/link": "console.sign_in.link",
  "/console/setup": "console.sign_in.setup_link",
  "/console/sign-out": "none: ends the caller's own session",
  "/console/operator/tenants": "console.tenant.create",
  "/console/operator/tenants/:slug": "console.tenant.settings",
  "/console/operator/tenants/:slug/delete": "console.tenant.delete",
  "/console/operator/admin-keys": "console.admin_key.create",
  "/console/operator/admin-keys/:id/revoke": "console.admin_key.revoke",
  "/console/operator/jobs/:id/retry": "console.job.retry",
  "/console/operator/tenants/:slug/setup-links": "console.setup_link.create",
  "/console/operator/tenants/:slug/setup-links/:id/revoke": "console.setup_link.revoke",
  "/console/t/:slug/scim/tokens": "console.scim.token.create",
  "/console/t/:slug/scim/tokens/:id/revoke": "console.scim.token.revoke",
  "/console/t/:slug/domains": "console.domain.add",
  "/console/t/:slug/domains/verify": "console.domain.verify",
  "/console/t/:slug/domains/delete": "console.domain.delete",
  "/console/t/:slug/domains/policy": "console.sso_policy.require_on / require_off",
  "/console/t/:slug/domains/break-glass": "console.sso_policy.break_glass",
  "/console/t/:slug/domains/arm": "console.break_glass.arm",
  "/console/t/:slug/domains/disarm": "console.break_glass.disarm",
  "/console/t/:slug/events/webhooks": "console.webhook.create",
  "/console/t/:slug/events/webhooks/:id/delete": "console.webhook.delete",
  "/console/t/:slug/events/webhooks/:id/deliveries/:deliveryId/redeliver": "console.webhook.redeliver",
  "/console/t/:slug/members/invite": "console.member.invite",
  "/console/t/:slug/members/:id/roles": "console.member.role.grant",
  "/console/t/:slug/members/:id/roles/remove": "console.member.role.remove",
  "/console/t/:slug/members/:id/sessions/:sessionId/revoke": "console.member.session.revoke",
  "/console/t/:slug/members/:id/offboard": "console.member.offboard",
  "/console/t/:slug/roles/roles": "console.role.create",
  "/console/t/:slug/roles/roles/:key": "console.role.update",
  "/console/t/:slug/roles/roles/:key/delete": "console.role.delete",
  "/console/t/:slug/roles/mappings/preview": "none: a read (shows the preview, changes nothing)",
  "/console/t/:slug/roles/mappings": "console.role_mapping.create",
  "/console/t/:slug/roles/mappings/:id/preview-remove": "none: a read (shows the preview, changes nothing)",
  "/console/t/:slug/roles/mappings/:id/delete": "console.role_mapping.delete",
  "/console/t/:slug/sso/idp": "console.sso.idp.save",
  "/console/t/:slug/sso/test": "console.sso.test.start",
  "/console/t/:slug/sso/enable": "console.sso.enable",
  "/console/t/:slug/sso/disable": "console.sso.disable",
  "/console/t/:slug/sso/provisioning": "console.sso.provisioning",
  "/console/t/:slug/sso/oidc": "console.sso.oidc.save",
  "/console/t/:slug/sso/oidc/test": "console.sso.oidc.test.start",
  "/console/t/:slug/sso/oidc/enable": "console.sso.oidc.enable",
  "/console/t/:slug/sso/oidc/disable": "console.sso.oidc.disable",
};

describe("every console POST is accounted for in the audit log", () => {
  it("the console's POST routes are exactly those listed with the audit action they record", async () => {
    const ctx = await createTestContext({ name: "sqlite" });
    try {
      const posts = consolePosts(ctx.app as unknown as { router: { stack: Layer[] } });
      assert.ok(posts.length >= 40, `the walk found the console's POST routes (${posts.length})`);
      assert.deepEqual(
        posts.filter((p) => !(p in CONSOLE_POSTS)),
        [],
        "console POST routes not listed: record them with recordConsoleAction and list them here",
      );
      assert.deepEqual(
        Object.keys(CONSOLE_POSTS).filter((k) => !posts.includes(k)),
        [],
        "listed console POST routes that no longer exist",
      );
    } finally {
      await ctx.close();
    }
  });
});

for (const backend of allBackends()) {
  describe(`console actions in the audit log [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let a: ReturnType<typeof admin>;
    before(async () => {
      ctx = await createTestContext(backend);
      a = admin(ctx);
      await a.post("/admin/v1/tenants", { slug: "acme", name: "Acme" }).expect(201);
    });
    after(() => ctx.close());

    const tenantLog = async (slug: string, q = "") =>
      (await a.get(`/admin/v1/tenants/${slug}/audit-log${q}`).expect(200)).body.entries;
    const operatorLog = async (q = "") => (await a.get(`/admin/v1/audit-log${q}`).expect(200)).body.entries;
    const setupSession = async (scopes: string[]) => {
      const link = await a.post("/admin/v1/tenants/acme/setup-links", { scopes }).expect(201);
      const b = new ConsoleClient(ctx);
      assert.equal((await b.exchange(link.body.url)).status, 303);
      return { b, linkId: link.body.id as string, url: link.body.url as string };
    };

    it("a setup link's SCIM token create and revoke are recorded with actor setup_link, never the token", async () => {
      const { b, linkId, url } = await setupSession(["scim"]);
      await b.get("/console/t/acme/scim");
      const made = await b.post("/console/t/acme/scim/tokens", { name: "Okta" });
      assert.equal(made.status, 200);
      const token = /value="(rst_scim_[^"]+)"/.exec(made.text)?.[1];
      assert.ok(token, "the token is shown once");
      const requestId = made.headers["x-request-id"];
      const tokenId = (await a.get("/admin/v1/tenants/acme/scim-tokens").expect(200)).body.scimTokens.find(
        (t: { name: string }) => t.name === "Okta",
      ).id;
      await b.get("/console/t/acme/scim");
      assert.equal((await b.post(`/console/t/acme/scim/tokens/${tokenId}/revoke`)).status, 303);

      const [created] = await tenantLog("acme", "?action=console.scim.token.create");
      assert.ok(created, "the creation is in the tenant's audit log");
      assert.deepEqual(created.actor, { kind: "setup_link", id: linkId, name: null });
      assert.deepEqual(created.tenant, { id: created.tenant.id, slug: "acme" });
      assert.deepEqual(created.target, { type: "scim.token", id: tokenId });
      assert.equal(created.requestId, requestId);
      assert.ok(created.sourceIp, "the source address");
      assert.deepEqual(created.changes, [{ field: "name", new: "Okta" }]);
      const [revoked] = await tenantLog("acme", "?action=console.scim.token.revoke");
      assert.deepEqual(revoked.actor, { kind: "setup_link", id: linkId, name: null });
      assert.equal(revoked.target.id, tokenId);
      // The session's sign-in is recorded too.
      assert.equal((await tenantLog("acme", "?action=console.sign_in.setup_link")).length >= 1, true);

      const all = JSON.stringify(await operatorLog("?limit=500"));
      assert.ok(!all.includes(token!), "no SCIM token in the audit log");
      assert.ok(!all.includes(new URL(url).searchParams.get("token")!), "no link secret");
      assert.ok(!all.includes(b.csrf), "no CSRF token");
      // The console.action events stay as they were.
      const events = await ctx.deps.db("events").where({ type: "console.action" });
      assert.ok(events.some((e: { data: string }) => JSON.parse(e.data).action === "scim.token.create"));
    });

    it("an operator's admin key creation is in the operator chain, naming the key it signed in with", async () => {
      const ops = await createAdminKey(ctx.deps.db, "ops", ctx.clock.now());
      const b = new ConsoleClient(ctx);
      await b.get("/console/sign-in");
      assert.equal((await b.post("/console/sign-in", { key: ops.token })).status, 303);
      await b.get("/console/operator/admin-keys");
      const made = await b.post("/console/operator/admin-keys", { name: "robot" });
      assert.equal(made.status, 200);
      const secret = /(rst_admin_[A-Za-z0-9_-]+)/.exec(made.text)?.[1];
      assert.ok(secret, "the new key is shown once");
      const [entry] = await operatorLog("?action=console.admin_key.create");
      assert.deepEqual(entry.actor, { kind: "admin_key", id: ops.id, name: "ops" });
      assert.equal(entry.tenant, null);
      assert.equal(entry.chain, "operator");
      assert.deepEqual(entry.changes, [{ field: "name", new: "robot" }]);
      assert.ok(entry.target.id, "the new key's id");
      const [signIn] = await operatorLog("?action=console.sign_in.admin_key");
      assert.deepEqual(signIn.actor, { kind: "admin_key", id: ops.id, name: "ops" });
      const all = JSON.stringify(await operatorLog("?limit=500"));
      assert.ok(!all.includes(secret!) && !all.includes(ops.token), "no admin key secret in the log");
    });

    it("ROSTER_ADMIN_TOKEN and console:link operators appear as admin_token and cli", async () => {
      const t = new ConsoleClient(ctx);
      await t.get("/console/sign-in");
      assert.equal((await t.post("/console/sign-in", { key: ctx.adminToken })).status, 303);
      await t.get("/console/operator/tenants/acme");
      assert.equal(
        (
          await t.post("/console/operator/tenants/acme", {
            name: "Acme Corp",
            defaultRole: "member",
            consoleRoles: "",
          })
        ).status,
        303,
      );
      const [settings] = await tenantLog("acme", "?action=console.tenant.settings");
      assert.deepEqual(settings.actor, { kind: "admin_token", id: null, name: "ROSTER_ADMIN_TOKEN" });

      const link = await createOperatorLink(ctx.deps);
      const l = new ConsoleClient(ctx);
      await l.exchange(link.url);
      await l.get("/console/operator/tenants");
      assert.equal(
        (await l.post("/console/operator/tenants", { slug: "initech", name: "Initech" })).status,
        303,
      );
      const [created] = await tenantLog("initech", "?action=console.tenant.create");
      assert.deepEqual(created.actor, { kind: "cli", id: link.id, name: "console:link" });
      assert.ok(!JSON.stringify(await operatorLog("?limit=500")).includes(ctx.adminToken));
    });

    it("each console area's actions are recorded (roles, members, domains, webhooks, SSO, setup links)", async () => {
      const { b, linkId } = await setupSession(["roles", "members", "sso", "events"]);
      const post = async (page: string, url: string, form: Record<string, string>) => {
        await b.get(page);
        const res = await b.post(url, form);
        assert.ok(res.status < 400, `${url}: ${res.status}`);
      };
      await post("/console/t/acme/roles", "/console/t/acme/roles/roles", { key: "auditor", name: "Auditor" });
      await post("/console/t/acme/members/invite", "/console/t/acme/members/invite", {
        userName: "ann@acme.test",
      });
      await post("/console/t/acme/domains", "/console/t/acme/domains", { domain: "acme-audit.test" });
      await post("/console/t/acme/events/webhooks", "/console/t/acme/events/webhooks", {
        url: "https://hooks.acme-audit.test/in?token=hook-secret-123",
        events: "user.*",
      });
      await post("/console/t/acme/sso", "/console/t/acme/sso/provisioning", {
        provisioning: "jit",
        defaultRole: "member",
      });
      const op = new ConsoleClient(ctx);
      await op.exchange((await createOperatorLink(ctx.deps)).url);
      await op.get("/console/operator/tenants/acme/setup-links");
      assert.equal(
        (
          await op.post("/console/operator/tenants/acme/setup-links", {
            scope_sso: "on",
            expiresInMinutes: "60",
          })
        ).status,
        200,
      );

      const entries = await tenantLog("acme", "?limit=500");
      const byAction = (action: string) => entries.find((e: { action: string }) => e.action === action);
      for (const action of [
        "console.role.create",
        "console.member.invite",
        "console.domain.add",
        "console.webhook.create",
        "console.sso.provisioning",
      ]) {
        assert.ok(byAction(action), `${action} is in the audit log`);
        assert.deepEqual(byAction(action).actor, { kind: "setup_link", id: linkId, name: null }, action);
      }
      assert.equal(byAction("console.setup_link.create").actor.kind, "cli");
      const hook = byAction("console.webhook.create");
      assert.deepEqual(
        hook.changes.find((c: { field: string }) => c.field === "url"),
        { field: "url", new: "[secret]" },
        "a URL (which may carry a token) is masked",
      );
      assert.ok(!JSON.stringify(entries).includes("hook-secret-123"));
    });

    it("the chains with console entries still verify", async () => {
      const v = (await a.get("/admin/v1/audit-log/verify").expect(200)).body;
      assert.equal(v.ok, true, JSON.stringify(v.brokenAt));
      assert.ok(v.entries >= 10, `${v.entries} entries verified`);
    });
  });
}
