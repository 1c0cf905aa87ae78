import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  backends,
  createTenantWithToken,
  createTestContext,
  patchOp,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";

// Issue 14 item 10: a PATCH whose path is the enterprise extension URN may carry the extension's
// own "schemas" inside its value object; it names the schema and is ignored, for add and replace.
const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

for (const backend of backends()) {
  describe(`SCIM PATCH of the enterprise extension as a whole [${backend.name}]`, () => {
    let ctx: TestContext;
    let scim: ReturnType<typeof scimClient>;
    before(async () => {
      ctx = await createTestContext(backend);
      scim = scimClient(ctx, (await createTenantWithToken(ctx, "ext")).token);
    });
    after(async () => ctx.close());

    for (const [i, op] of ["add", "replace", "Replace"].entries()) {
      it(`${op} with path = the extension URN and "schemas" in the value: 200, schemas ignored`, async () => {
        const created = await scim
          .post("/Users", userBody(`ext-${i}-${op}@example.com`, { [ENT]: { department: "Sales" } }))
          .expect(201);
        const id = created.body.id;
        const res = await scim
          .patch(
            `/Users/${id}`,
            patchOp({
              op,
              path: ENT,
              value: { schemas: [ENT], employeeNumber: "701984", manager: { value: "m-1" } },
            }),
          )
          .expect(200);
        assert.deepEqual(res.body[ENT], {
          department: "Sales",
          employeeNumber: "701984",
          manager: { value: "m-1" },
        });
        assert.deepEqual(res.body.schemas, ["urn:ietf:params:scim:schemas:core:2.0:User", ENT]);
        const row = await ctx.deps.db("users").where({ id }).first();
        const stored = JSON.parse(row.resource)[ENT];
        assert.equal(stored.schemas, undefined, "schemas is not stored as an attribute");
        assert.equal(stored.employeeNumber, "701984");
      });
    }

    it("the same in a no-path value object, with the key in another casing", async () => {
      const id = (await scim.post("/Users", userBody("ext-nopath@example.com")).expect(201)).body.id;
      const res = await scim
        .patch(
          `/Users/${id}`,
          patchOp({ op: "add", value: { [ENT]: { Schemas: [ENT], costCenter: "4130" } } }),
        )
        .expect(200);
      assert.deepEqual(res.body[ENT], { costCenter: "4130" });
    });

    it("an unknown attribute in the extension value is still refused (400 invalidPath)", async () => {
      const id = (await scim.post("/Users", userBody("ext-bad@example.com")).expect(201)).body.id;
      const res = await scim
        .patch(`/Users/${id}`, patchOp({ op: "add", path: ENT, value: { schemas: [ENT], shoeSize: 9 } }))
        .expect(400);
      assert.equal(res.body.scimType, "invalidPath");
    });
  });
}
