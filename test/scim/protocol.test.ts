import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  allBackends,
  createTenantWithToken,
  createTestContext,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";

const BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

for (const backend of allBackends()) {
  describe(`SCIM discovery, search, bulk and edges [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let scim: ReturnType<typeof scimClient>;
    before(async () => {
      ctx = await createTestContext(backend);
      scim = scimClient(ctx, (await createTenantWithToken(ctx, "acme")).token);
    });
    after(async () => ctx.close());

    it("ServiceProviderConfig tells the truth", async () => {
      const res = await scim.get("/ServiceProviderConfig").expect(200);
      assert.match(res.headers["content-type"], /application\/scim\+json/);
      assert.equal(res.body.patch.supported, true);
      assert.deepEqual(res.body.bulk, { supported: true, maxOperations: 1000, maxPayloadSize: 1048576 });
      assert.deepEqual(res.body.filter, { supported: true, maxResults: 1000 });
      assert.equal(res.body.sort.supported, true);
      assert.equal(res.body.etag.supported, true);
      assert.equal(res.body.changePassword.supported, false);
      assert.equal(res.body.authenticationSchemes[0].type, "oauthbearertoken");
    });

    it("ResourceTypes and Schemas describe User (with Enterprise) and Group", async () => {
      const rt = await scim.get("/ResourceTypes").expect(200);
      assert.deepEqual(
        rt.body.Resources.map((r: any) => r.id),
        ["User", "Group"],
      );
      const user = await scim.get("/ResourceTypes/User").expect(200);
      assert.equal(
        user.body.schemaExtensions[0].schema,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
      );
      await scim.get("/ResourceTypes/Printer").expect(404);
      const schemas = await scim.get("/Schemas").expect(200);
      assert.equal(schemas.body.totalResults, 3);
      const us = await scim.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").expect(200);
      const pw = us.body.attributes.find((a: any) => a.name === "password");
      assert.equal(pw.returned, "never");
      assert.equal(us.body.attributes.find((a: any) => a.name === "userName").caseExact, false);
    });

    it("/Me answers 501; unknown SCIM paths answer a SCIM 404", async () => {
      const me = await scim.get("/Me").expect(501);
      assert.equal(me.body.status, "501");
      await scim.post("/Me", userBody("me@example.com")).expect(501);
      const none = await scim.get("/Printers").expect(404);
      assert.deepEqual(none.body.schemas, ["urn:ietf:params:scim:api:messages:2.0:Error"]);
    });

    it("POST /.search at the root returns users then groups, paged as one list", async () => {
      const t = scimClient(ctx, (await createTenantWithToken(ctx, "root-search")).token);
      for (const n of ["a", "b", "c"]) await t.post("/Users", userBody(`${n}@example.com`)).expect(201);
      for (const n of ["G1", "G2"]) await t.post("/Groups", { displayName: n }).expect(201);
      const all = await t
        .post("/.search", { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], count: 10 })
        .expect(200);
      assert.equal(all.body.totalResults, 5);
      assert.deepEqual(
        all.body.Resources.map((r: any) => r.meta.resourceType),
        ["User", "User", "User", "Group", "Group"],
      );
      const page = await t.post("/.search", { startIndex: 3, count: 2 }).expect(200);
      assert.deepEqual(
        page.body.Resources.map((r: any) => r.meta.resourceType),
        ["User", "Group"],
      );
      const named = await t.post("/.search", { filter: 'displayName eq "G2"' }).expect(200);
      assert.equal(named.body.totalResults, 1);
    });

    it("Bulk: bulkId references, per-operation status, failOnErrors", async () => {
      const res = await scim
        .post("/Bulk", {
          schemas: [BULK],
          Operations: [
            { method: "POST", path: "/Users", bulkId: "u1", data: userBody("bulk1@example.com") },
            { method: "POST", path: "/Users", bulkId: "u2", data: userBody("bulk2@example.com") },
            {
              method: "POST",
              path: "/Groups",
              bulkId: "g1",
              data: { displayName: "Bulk Team", members: [{ value: "bulkId:u1" }, { value: "bulkId:u2" }] },
            },
            {
              method: "PATCH",
              path: "/Users/bulkId:u2",
              data: {
                schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                Operations: [{ op: "replace", path: "active", value: false }],
              },
            },
            { method: "POST", path: "/Users", bulkId: "dup", data: userBody("bulk1@example.com") },
            { method: "DELETE", path: "/Users/bulkId:u1" },
          ],
        })
        .expect(200);
      const ops = res.body.Operations;
      assert.deepEqual(
        ops.map((o: any) => o.status),
        ["201", "201", "201", "200", "409", "204"],
      );
      assert.equal(ops[4].response.scimType, "uniqueness");
      assert.match(ops[0].location, /\/scim\/v2\/Users\//);
      const groupId = ops[2].location.split("/").pop();
      const g = await scim.get(`/Groups/${groupId}`).expect(200);
      assert.equal(g.body.members.length, 1, "u1 was deleted, so only u2 remains");
      const stop = await scim
        .post("/Bulk", {
          schemas: [BULK],
          failOnErrors: 1,
          Operations: [
            { method: "POST", path: "/Users", bulkId: "x", data: { userName: 5 } },
            { method: "POST", path: "/Users", bulkId: "y", data: userBody("never@example.com") },
          ],
        })
        .expect(200);
      assert.equal(stop.body.Operations.length, 1);
      await scim
        .get(`/Users?filter=${encodeURIComponent('userName eq "never@example.com"')}`)
        .expect(200)
        .then((r) => assert.equal(r.body.totalResults, 0));
      const tooMany = await scim.post("/Bulk", {
        schemas: [BULK],
        Operations: Array.from({ length: 1001 }, () => ({ method: "DELETE", path: "/Users/x" })),
      });
      assert.equal(tooMany.status, 413);
      await scim.post("/Bulk", { Operations: [] }).expect(400);
      const badRef = await scim
        .post("/Bulk", { schemas: [BULK], Operations: [{ method: "DELETE", path: "/Users/bulkId:nope" }] })
        .expect(200);
      assert.equal(badRef.body.Operations[0].status, "400");
    });

    it("Bulk: a malformed request is refused whole (400, the right scimType) before any operation runs", async () => {
      const t = scimClient(ctx, (await createTenantWithToken(ctx, "bulk-checks")).token);
      const first = { method: "POST", path: "/Users", bulkId: "first", data: userBody("first@bulk.test") };
      const refused: Array<[string, unknown, string, RegExp]> = [
        ["not an object", [first], "invalidSyntax", /schemas/],
        ["no BulkRequest schema", { Operations: [first] }, "invalidSyntax", /schemas/],
        ["another schema", { schemas: ["urn:x"], Operations: [first] }, "invalidSyntax", /schemas/],
        ["Operations missing", { schemas: [BULK] }, "invalidSyntax", /Operations/],
        [
          "Operations not an array",
          { schemas: [BULK], Operations: { 0: first } },
          "invalidSyntax",
          /Operations/,
        ],
        [
          "failOnErrors 0",
          { schemas: [BULK], failOnErrors: 0, Operations: [first] },
          "invalidValue",
          /failOnErrors/,
        ],
        [
          "failOnErrors 1.5",
          { schemas: [BULK], failOnErrors: 1.5, Operations: [first] },
          "invalidValue",
          /failOnErrors/,
        ],
        [
          "failOnErrors a string",
          { schemas: [BULK], failOnErrors: "1", Operations: [first] },
          "invalidValue",
          /failOnErrors/,
        ],
        [
          "an operation that is not an object",
          { schemas: [BULK], Operations: [first, "DELETE /Users/x"] },
          "invalidSyntax",
          /Operations\[1\]/,
        ],
        [
          "an operation without a method",
          { schemas: [BULK], Operations: [first, { path: "/Users/x" }] },
          "invalidSyntax",
          /Operations\[1\]/,
        ],
        [
          "an operation without a path",
          { schemas: [BULK], Operations: [first, { method: "DELETE" }] },
          "invalidSyntax",
          /Operations\[1\]/,
        ],
        [
          "a POST without a bulkId",
          {
            schemas: [BULK],
            Operations: [first, { method: "POST", path: "/Users", data: userBody("x@bulk.test") }],
          },
          "invalidSyntax",
          /bulkId/,
        ],
        [
          "a bulkId used twice",
          { schemas: [BULK], Operations: [first, { ...first, data: userBody("again@bulk.test") }] },
          "invalidSyntax",
          /bulkId first/,
        ],
      ];
      for (const [what, body, scimType, detail] of refused) {
        const res = await t.post("/Bulk", body);
        assert.equal(res.status, 400, `${what}: ${res.text}`);
        assert.deepEqual(res.body.schemas, ["urn:ietf:params:scim:api:messages:2.0:Error"], what);
        assert.equal(res.body.scimType, scimType, what);
        assert.match(res.body.detail, detail, what);
      }
      // Nothing of any refused request was written, though each began with a valid POST.
      assert.equal((await t.get("/Users").expect(200)).body.totalResults, 0);
    });

    it("Bulk: operations Roster cannot route, and stale versions, fail alone with their own status", async () => {
      const t = scimClient(ctx, (await createTenantWithToken(ctx, "bulk-ops")).token);
      const user = (await t.post("/Users", userBody("versioned@bulk.test")).expect(201)).body;
      const res = await t
        .post("/Bulk", {
          schemas: [BULK],
          Operations: [
            { method: "GET", path: `/Users/${user.id}` },
            { method: "POST", path: `/Users/${user.id}`, bulkId: "p", data: userBody("p@bulk.test") },
            { method: "PUT", path: "/Users", data: userBody("q@bulk.test") },
            { method: "DELETE", path: "/Printers/1" },
            { method: "DELETE", path: `/Users/${user.id}`, version: 'W/"99"' },
            { method: "POST", path: "/Users", bulkId: "ok", data: userBody("ok@bulk.test") },
            { method: "DELETE", path: `/Users/${user.id}`, version: user.meta.version },
          ],
        })
        .expect(200);
      const ops = res.body.Operations;
      assert.deepEqual(
        ops.map((o: any) => [o.status, o.response?.scimType]),
        [
          ["400", "invalidValue"],
          ["400", "invalidValue"],
          ["400", "invalidValue"],
          ["400", "invalidValue"],
          ["412", undefined],
          ["201", undefined],
          ["204", undefined],
        ],
      );
      assert.equal(ops[5].bulkId, "ok");
      const names = (await t.get("/Users").expect(200)).body.Resources.map((u: any) => u.userName);
      assert.deepEqual(names, ["ok@bulk.test"]);
    });

    it("refuses requests without a valid token before reading the body", async () => {
      const res = await ctx.http
        .post("/scim/v2/Users")
        .set("Content-Type", "application/scim+json")
        .send("{not json")
        .expect(401);
      assert.equal(res.headers["www-authenticate"], 'Bearer realm="scim"');
    });
  });
}
