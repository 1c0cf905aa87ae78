import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Roster, RosterApiError } from "../../src/client/index.js";
import {
  ADMIN_TOKEN,
  allBackends,
  createTestContext,
  eventually,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";
import { TestIdp } from "../helpers/test-idp.js";
import { close, serve } from "./helpers.js";

const SCIM_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

describe("roster/client is self-contained", () => {
  it("imports only its own files and node: built-ins (no server code, no packages)", () => {
    const dir = path.resolve(import.meta.dirname, "../../src/client");
    for (const f of readdirSync(dir)) {
      const text = readFileSync(path.join(dir, f), "utf8");
      for (const [, spec] of text.matchAll(/^(?:import|export)[^;]*?from\s+"([^"]+)"/gm))
        assert.match(spec, /^(\.\/[a-z-]+\.js|node:[a-z]+)$/, `${f} imports ${spec}`);
    }
  });
});

for (const backend of allBackends()) {
  describe(`roster/client admin API against a running Roster [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    let server: Server;
    let roster: Roster;
    before(async () => {
      ctx = await createTestContext(backend);
      await ctx.deps.driver.start();
      const s = await serve(ctx);
      server = s.server;
      roster = new Roster({ baseUrl: `${s.url}/`, adminToken: ADMIN_TOKEN });
    });
    after(async () => {
      await close(server);
      await ctx?.close();
    });

    it("tenants and SCIM tokens; errors carry the API's status and code", async () => {
      const t = await roster.tenants.create({ slug: "acme", name: "Acme" });
      assert.equal(t.slug, "acme");
      assert.deepEqual(
        (await roster.tenants.list()).map((x) => x.slug),
        ["acme"],
      );
      const patched = await roster.tenants.update("acme", {
        name: "Acme Inc",
        settings: { defaultRole: "member" },
      });
      assert.equal(patched.name, "Acme Inc");
      assert.equal((await roster.tenants.get("acme")).name, "Acme Inc");
      const exists = await roster.tenants.create({ slug: "acme", name: "Again" }).catch((e) => e);
      assert.ok(exists instanceof RosterApiError);
      assert.equal(exists.status, 409);
      assert.equal(exists.code, "TENANT_EXISTS");
      const missing = await roster.tenants.get("nope").catch((e) => e);
      assert.equal(missing.code, "TENANT_NOT_FOUND");
      assert.equal(missing.status, 404);
      const bad = await roster.tenants.create({ slug: "A B", name: "x" }).catch((e) => e);
      assert.equal(bad.code, "VALIDATION_FAILED");
      assert.equal(bad.details[0].field, "slug");
      const anon = new Roster({ baseUrl: roster["http"].baseUrl, adminToken: "wrong" });
      const unauth = await anon.tenants.list().catch((e) => e);
      assert.equal(unauth.code, "UNAUTHORIZED");

      const tok = await roster.scimTokens.create("acme", { name: "Entra" });
      assert.ok(tok.token.length > 20);
      const listed = await roster.scimTokens.list("acme");
      assert.equal(listed[0].id, tok.id);
      assert.equal((listed[0] as { token?: string }).token, undefined);
      await roster.scimTokens.revoke("acme", tok.id);
      assert.ok((await roster.scimTokens.list("acme"))[0].revokedAt);
    });

    it("roles, role mappings (and their preview), a user's roles, offboarding, revocations, sessions", async () => {
      const tok = await roster.scimTokens.create("acme", { name: "idp" });
      const scim = scimClient(ctx, tok.token);
      const user = (await scim.post("/Users", userBody("ann@acme.test")).expect(201)).body;
      await scim
        .post("/Groups", {
          schemas: [SCIM_GROUP],
          displayName: "Admins",
          externalId: "g-admins",
          members: [{ value: user.id }],
        })
        .expect(201);

      const role = await roster.roles.create("acme", { key: "auditor", name: "Auditor", priority: 50 });
      assert.equal(role.key, "auditor");
      assert.equal((await roster.roles.update("acme", "auditor", { name: "Audit" })).name, "Audit");
      assert.equal((await roster.roles.get("acme", "auditor")).name, "Audit");
      assert.deepEqual(
        (await roster.roles.list("acme")).map((r) => r.key),
        ["admin", "auditor", "member"],
      );
      const preview = await roster.roleMappings.preview("acme", {
        add: [{ externalId: "g-admins", role: "admin" }],
      });
      assert.equal(preview.usersAffected, 1);
      assert.equal(preview.gains[0].role, "admin");
      assert.equal(preview.gains[0].users[0].userName, "ann@acme.test");
      const mapping = await roster.roleMappings.create("acme", { externalId: "g-admins", role: "admin" });
      assert.equal((await roster.roleMappings.get("acme", mapping.id)).role, "admin");
      assert.equal((await roster.roleMappings.list("acme")).length, 1);
      const dup = await roster.roleMappings
        .create("acme", { externalId: "g-admins", role: "admin" })
        .catch((e) => e);
      assert.equal(dup.code, "MAPPING_EXISTS");

      await roster.userRoles.grant("acme", user.id, "auditor");
      await eventually(async () => {
        const roles = await roster.userRoles.list("acme", user.id);
        return (
          roles.some((r) => r.key === "admin" && r.source === "group") &&
          roles.some((r) => r.key === "auditor")
        );
      });
      await roster.userRoles.revoke("acme", user.id, "auditor");
      // Stored roles are recomputed by a job a moment later.
      await eventually(
        async () => !(await roster.userRoles.list("acme", user.id)).some((r) => r.key === "auditor"),
      );
      await roster.roles.delete("acme", "auditor");
      const gone = await roster.roles.get("acme", "auditor").catch((e) => e);
      assert.equal(gone.status, 404);
      await roster.roles.recompute("acme");

      const off = await roster.users.offboard("acme", "ANN@acme.test", { reason: "left" }, "userName");
      assert.equal(off.status, "offboarded");
      assert.equal(off.userId, user.id);
      assert.equal((await roster.users.offboard("acme", user.id)).status, "already_offboarded");
      const receipts = await roster.users.revocations("acme", user.id);
      assert.equal(receipts[0].trigger, "offboard");
      const unknown = await roster.users.offboard("acme", "nobody").catch((e) => e);
      assert.equal(unknown.code, "USER_NOT_FOUND");

      const sessions = await roster.sessions.list("acme", { userId: user.id, state: "all" });
      assert.deepEqual(sessions.sessions, []);
      assert.deepEqual(await roster.sessions.revokeAllOfUser("acme", user.id), {
        revoked: { sessions: 0, tokens: 0 },
      });
      await roster.roleMappings.delete("acme", mapping.id);
      assert.equal((await roster.roleMappings.list("acme")).length, 0);
    });

    it("SAML connection, presets, invitations, OAuth clients, SSO traces, jobs; request() for anything else", async () => {
      const presets = (await roster.saml.presets()) as { presets: unknown[] };
      assert.ok(JSON.stringify(presets.presets).includes("entra"));
      const idp = new TestIdp();
      const conn = await roster.saml.put("acme", {
        idpEntityId: idp.entityId,
        ssoUrl: idp.ssoUrl,
        certificates: [idp.keys.certificate],
      });
      assert.equal(conn.state, "draft");
      assert.equal((await roster.saml.get("acme")).state, "draft");
      const notTested = await roster.saml.enable("acme").catch((e) => e);
      assert.equal(notTested.code, "SAML_NOT_TESTED");
      const test = await roster.saml.test("acme");
      assert.equal((await roster.saml.getTest("acme", test.id)).status, "pending");
      assert.equal((await roster.saml.disable("acme")).state, "disabled");
      await roster.saml.rotateSpKeys("acme");
      await roster.saml.delete("acme");
      assert.equal((await roster.saml.get("acme").catch((e) => e)).status, 404);
      const invited = await roster.users.invite("acme", { userName: "bob@acme.test", roles: ["admin"] });
      assert.equal(invited.userName, "bob@acme.test");
      const client = await roster.oauthClients.create("acme", {
        name: "App",
        redirectUris: ["https://app.test/cb"],
      });
      assert.match(client.clientSecret, /^rst_cs_/);
      assert.equal((await roster.oauthClients.list("acme"))[0].clientId, client.clientId);
      await roster.oauthClients.delete("acme", client.id);
      assert.deepEqual(await roster.ssoTraces.list("acme", { verified: false, limit: 5 }), []);
      const trace = await roster.ssoTraces.get("acme", "XXXXXXXXXX").catch((e) => e);
      assert.equal(trace.status, 404);
      assert.ok(Array.isArray(await roster.jobs.list({ tenant: "acme", limit: 5 })));
      const raw = await roster.request<{ tenants: unknown[] }>("GET", "/tenants");
      assert.equal(raw.tenants.length, 1);
      await roster.tenants.delete("acme");
      assert.deepEqual(await roster.tenants.list(), []);
    });
  });
}
