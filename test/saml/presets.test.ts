import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { admin, allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { addUser, Browser, setupSso } from "./sso-helpers.js";

/** The OneLogin and JumpCloud presets (docs/idp field names: /work/shared/notes/idp-setup.md §4, §5). */
for (const backend of allBackends()) {
  describe(`SAML presets onelogin and jumpcloud [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    before(async () => {
      ctx = await createTestContext(backend);
    });
    after(async () => ctx.close());

    const cases = [
      {
        preset: "onelogin",
        name: "OneLogin",
        toIdp: /Audience \(EntityID\)/,
        acs: /ACS \(Consumer\) URL/,
        from: /SAML 2\.0 Endpoint/,
      },
      { preset: "jumpcloud", name: "JumpCloud", toIdp: /SP Entity ID/, acs: /ACS URLs/, from: /IDP URL/ },
    ];
    for (const c of cases) {
      it(`${c.preset}: accepted, its attribute names and the IdP's own field names; a sign-in through it works`, async () => {
        const t = await setupSso(ctx, c.preset, { preset: c.preset });
        const conn = await admin(ctx).get(`/admin/v1/tenants/${c.preset}/saml`).expect(200);
        assert.equal(conn.body.preset, c.preset);
        assert.deepEqual(conn.body.settings.attributeMapping, {
          email: "email",
          givenName: "firstName",
          familyName: "lastName",
          groups: "groups",
        });
        assert.match(conn.body.instructions.toIdp.spEntityId, c.toIdp);
        assert.match(conn.body.instructions.toIdp.acsUrl, c.acs);
        assert.match(conn.body.instructions.fromIdp.ssoUrl, c.from);
        const presets = await admin(ctx).get("/admin/v1/saml/presets").expect(200);
        assert.equal(presets.body.presets.find((p: { key: string }) => p.key === c.preset).name, c.name);

        const userId = await addUser(t, `ann@${c.preset}.test`);
        const b = new Browser(ctx);
        const id = await b.startLogin(c.preset);
        const res = await b.acs(
          c.preset,
          await t.idp.response(
            t.opts({
              nameId: `ann@${c.preset}.test`,
              inResponseTo: id,
              attributes: {
                email: `ann@${c.preset}.test`,
                firstName: "Ann",
                lastName: "A",
                groups: ["Staff"],
              },
            }),
          ),
        );
        assert.equal(res.status, 302, res.text);
        const session = await b.get(`/sso/${c.preset}/session`, 200);
        assert.equal(session.body.user.id, userId);
      });
    }
  });
}
