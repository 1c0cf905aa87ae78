import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { markTested } from "../../src/sso/saml/connection-store.js";
import {
  admin,
  allBackends,
  createTenantWithToken,
  createTestContext,
  type TestContext,
} from "../helpers/context.js";
import { TestIdp } from "../helpers/test-idp.js";
import { ConsoleClient } from "./helpers.js";

// Provisioning preferences (JIT/manual, default role) are not what a test login proves: saving
// them in the console keeps an enabled SAML connection tested (no new configuration version).
for (const backend of allBackends()) {
  describe(`console provisioning preferences [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let tenantId: string;
    const idp = new TestIdp();
    before(async () => {
      ctx = await createTestContext(backend);
      tenantId = (await createTenantWithToken(ctx, "acme")).tenantId;
      const put = await admin(ctx)
        .put("/admin/v1/tenants/acme/saml", {
          idpEntityId: idp.entityId,
          ssoUrl: idp.ssoUrl,
          certificates: [idp.keys.certificate],
        })
        .expect(200);
      await markTested(
        ctx.deps.db,
        tenantId,
        put.body.id,
        put.body.configVersion,
        ctx.clock.now().toISOString(),
      );
      await admin(ctx).post("/admin/v1/tenants/acme/saml/enable").expect(200);
    });
    after(() => ctx.close());

    it("saving JIT and the default role keeps the SAML connection enabled and tested", async () => {
      const link = await admin(ctx)
        .post("/admin/v1/tenants/acme/setup-links", { scopes: ["sso"] })
        .expect(201);
      const c = new ConsoleClient(ctx);
      await c.exchange(link.body.url);
      await c.get("/console/t/acme/sso");
      const res = await c.post("/console/t/acme/sso/provisioning", {
        provisioning: "jit",
        defaultRole: "member",
      });
      assert.equal(res.status, 303);
      const view = (await admin(ctx).get("/admin/v1/tenants/acme/saml").expect(200)).body;
      assert.equal(view.settings.provisioning, "jit");
      assert.equal(view.state, "enabled");
      assert.equal(view.testedSinceLastChange, true);
      const page = await c.get("/console/t/acme/sso");
      assert.match(page.text, /The last test of these settings passed/);
    });

    it("a tenant session cannot make a console role the default role (every member would get the console)", async () => {
      const link = await admin(ctx)
        .post("/admin/v1/tenants/acme/setup-links", { scopes: ["sso"] })
        .expect(201);
      const c = new ConsoleClient(ctx);
      await c.exchange(link.body.url);
      await c.get("/console/t/acme/sso");
      const res = await c.post("/console/t/acme/sso/provisioning", {
        provisioning: "jit",
        defaultRole: "admin",
      });
      assert.equal(res.status, 400, res.text);
      assert.match(res.text, /may use this console/);
      const tenant = (await admin(ctx).get("/admin/v1/tenants/acme").expect(200)).body;
      assert.equal(tenant.settings.defaultRole, "member");
    });

    it("PUT …/saml keeps its contract: provisioning there is a change that needs a new test", async () => {
      const view = (
        await admin(ctx).put("/admin/v1/tenants/acme/saml", { provisioning: "manual" }).expect(200)
      ).body;
      assert.equal(view.testedSinceLastChange, false);
    });
  });
}
