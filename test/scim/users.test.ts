import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  allBackends,
  createTenantWithToken,
  createTestContext,
  patchOp,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";

const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

for (const backend of allBackends()) {
  describe(`SCIM Users [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let scim: ReturnType<typeof scimClient>;
    let other: ReturnType<typeof scimClient>;
    before(async () => {
      ctx = await createTestContext(backend);
      scim = scimClient(ctx, (await createTenantWithToken(ctx, "acme")).token);
      other = scimClient(ctx, (await createTenantWithToken(ctx, "globex")).token);
    });
    after(async () => ctx.close());

    it("creates a user: 201, Location, ETag, meta, enterprise extension, no password back", async () => {
      const res = await scim
        .post(
          "/Users",
          userBody("Barbara.Jensen@Example.com", {
            externalId: "bjensen",
            name: { givenName: "Barbara", familyName: "Jensen" },
            displayName: "Babs Jensen",
            password: "t1meMa$heen",
            emails: [{ value: "bjensen@example.com", type: "work", primary: true }],
            phoneNumbers: [{ value: "555-555-8377", type: "work" }],
            [ENT]: { employeeNumber: "701984", department: "Tour Operations", manager: { value: "m-1" } },
          }),
        )
        .expect(201);
      assert.match(res.headers["content-type"], /application\/scim\+json/);
      assert.equal(res.headers.location, `https://roster.test/scim/v2/Users/${res.body.id}`);
      assert.equal(res.headers.etag, 'W/"1"');
      assert.deepEqual(res.body.schemas, ["urn:ietf:params:scim:schemas:core:2.0:User", ENT]);
      assert.equal(res.body.userName, "Barbara.Jensen@Example.com");
      assert.equal(res.body[ENT].employeeNumber, "701984");
      assert.equal(res.body.password, undefined);
      assert.equal(res.body.meta.resourceType, "User");
      assert.equal(res.body.meta.version, 'W/"1"');
      assert.equal(res.body.meta.location, res.headers.location);
      const got = await scim.get(`/Users/${res.body.id}`).expect(200);
      assert.equal(got.body.password, undefined);
      assert.equal(got.body.name.familyName, "Jensen");
    });

    it("userName is unique per tenant case-insensitively; another tenant may reuse it", async () => {
      await scim.post("/Users", userBody("casey@example.com")).expect(201);
      const dup = await scim.post("/Users", userBody("CASEY@EXAMPLE.COM")).expect(409);
      assert.equal(dup.body.scimType, "uniqueness");
      assert.equal(dup.body.status, "409");
      await other.post("/Users", userBody("casey@example.com")).expect(201);
      const ext = await scim.post("/Users", userBody("ext1@example.com", { externalId: "E1" })).expect(201);
      assert.ok(ext.body.id);
      const dupExt = await scim
        .post("/Users", userBody("ext2@example.com", { externalId: "E1" }))
        .expect(409);
      assert.equal(dupExt.body.scimType, "uniqueness");
      await scim.post("/Users", userBody("ext3@example.com", { externalId: "e1" })).expect(201);
    });

    it("32 concurrent POSTs of one userName give exactly one 201", async () => {
      const results = await Promise.all(
        Array.from({ length: 32 }, () => scim.post("/Users", userBody("race@example.com"))),
      );
      const codes = results.map((r) => r.status).sort();
      assert.equal(codes.filter((c) => c === 201).length, 1, JSON.stringify(codes));
      assert.equal(codes.filter((c) => c === 409).length, 31);
    });

    it("tenants are isolated: another tenant's id is a 404 for every verb", async () => {
      const mine = await other.post("/Users", userBody("secret@globex.com")).expect(201);
      const id = mine.body.id;
      for (const r of [
        await scim.get(`/Users/${id}`),
        await scim.put(`/Users/${id}`, userBody("x@y.com")),
        await scim.patch(`/Users/${id}`, patchOp({ op: "replace", path: "active", value: false })),
        await scim.delete(`/Users/${id}`),
      ]) {
        assert.equal(r.status, 404);
        assert.ok(!JSON.stringify(r.body).includes("secret@globex.com"));
      }
      const list = await scim.get(`/Users?filter=${encodeURIComponent(`id eq "${id}"`)}`).expect(200);
      assert.equal(list.body.totalResults, 0);
      const still = await other.get(`/Users/${id}`).expect(200);
      assert.equal(still.body.active, true);
    });

    it("PUT replaces the writable attributes; id, meta ignored; a foreign id refused", async () => {
      const u = await scim
        .post("/Users", userBody("put@example.com", { title: "Old", nickName: "nick" }))
        .expect(201);
      const put = await scim
        .put(`/Users/${u.body.id}`, {
          ...userBody("put@example.com", { title: "New" }),
          id: u.body.id,
          meta: { resourceType: "User" },
        })
        .expect(200);
      assert.equal(put.body.title, "New");
      assert.equal(put.body.nickName, undefined);
      assert.equal(put.body.meta.version, 'W/"2"');
      const bad = await scim
        .put(`/Users/${u.body.id}`, { ...userBody("put@example.com"), id: "someone-else" })
        .expect(400);
      assert.equal(bad.body.scimType, "mutability");
    });

    it("PATCH applies all operations atomically and bumps the version", async () => {
      const u = await scim
        .post("/Users", userBody("patch@example.com", { emails: [{ value: "a@example.com", type: "home" }] }))
        .expect(201);
      const res = await scim
        .patch(
          `/Users/${u.body.id}`,
          patchOp(
            { op: "Replace", path: "active", value: "False" },
            { op: "add", path: "name.givenName", value: "Pat" },
            { op: "replace", path: 'emails[type eq "work"].value', value: "pat@work.example.com" },
            { op: "Add", path: `${ENT}:manager`, value: "mgr-7" },
          ),
        )
        .expect(200);
      assert.equal(res.body.active, false);
      assert.equal(res.body.name.givenName, "Pat");
      assert.deepEqual(res.body.emails.map((e: any) => e.value).sort(), [
        "a@example.com",
        "pat@work.example.com",
      ]);
      assert.deepEqual(res.body[ENT].manager, { value: "mgr-7" });
      assert.equal(res.headers.etag, 'W/"2"');
      const failing = await scim
        .patch(
          `/Users/${u.body.id}`,
          patchOp({ op: "replace", path: "title", value: "T" }, { op: "replace", path: "nope", value: 1 }),
        )
        .expect(400);
      assert.equal(failing.body.scimType, "invalidPath");
      const after = await scim.get(`/Users/${u.body.id}`).expect(200);
      assert.equal(after.body.title, undefined, "the first operation was not applied");
      assert.equal(after.body.meta.version, 'W/"2"');
      const ro = await scim
        .patch(`/Users/${u.body.id}`, patchOp({ op: "replace", path: "id", value: "x" }))
        .expect(400);
      assert.equal(ro.body.scimType, "mutability");
      const groups = await scim
        .patch(`/Users/${u.body.id}`, patchOp({ op: "add", path: "groups", value: [{ value: "g" }] }))
        .expect(400);
      assert.equal(groups.body.scimType, "mutability");
      await scim.patch(`/Users/${u.body.id}`, patchOp()).expect(200);
      const noUserName = await scim
        .patch(`/Users/${u.body.id}`, patchOp({ op: "remove", path: "userName" }))
        .expect(400);
      assert.ok(["invalidValue", "mutability"].includes(noUserName.body.scimType));
    });

    it("ETags: If-Match mismatch → 412 on PUT, PATCH and DELETE; If-None-Match → 304", async () => {
      const u = await scim.post("/Users", userBody("etag@example.com")).expect(201);
      const id = u.body.id;
      const stale = 'W/"7"';
      await scim
        .patch(`/Users/${id}`, patchOp({ op: "replace", path: "title", value: "x" }))
        .set("If-Match", stale)
        .expect(412);
      await scim.put(`/Users/${id}`, userBody("etag@example.com")).set("If-Match", stale).expect(412);
      await scim.delete(`/Users/${id}`).set("If-Match", stale).expect(412);
      const ok = await scim
        .patch(`/Users/${id}`, patchOp({ op: "replace", path: "title", value: "x" }))
        .set("If-Match", 'W/"1"')
        .expect(200);
      assert.equal(ok.headers.etag, 'W/"2"');
      await scim.get(`/Users/${id}`).set("If-None-Match", 'W/"2"').expect(304);
      await scim.get(`/Users/${id}`).set("If-None-Match", 'W/"1"').expect(200);
      await scim.delete(`/Users/${id}`).set("If-Match", "*").expect(204);
    });

    it("DELETE answers 204, then 404; memberships go with the user", async () => {
      const u = await scim.post("/Users", userBody("gone@example.com")).expect(201);
      const g = await scim
        .post("/Groups", { displayName: "Gone Team", members: [{ value: u.body.id }] })
        .expect(201);
      await scim.delete(`/Users/${u.body.id}`).expect(204);
      await scim.get(`/Users/${u.body.id}`).expect(404);
      await scim.delete(`/Users/${u.body.id}`).expect(404);
      const group = await scim.get(`/Groups/${g.body.id}`).expect(200);
      assert.equal(group.body.members, undefined);
    });

    it("lists with filter, sort and paging: totals right, count=0 gives only the total, count is clamped", async () => {
      const t = scimClient(ctx, (await createTenantWithToken(ctx, "paging")).token);
      for (let i = 0; i < 12; i++) {
        await t
          .post(
            "/Users",
            userBody(`user${String(i).padStart(2, "0")}@example.com`, { name: { familyName: `F${11 - i}` } }),
          )
          .expect(201);
      }
      const p1 = await t.get("/Users?startIndex=1&count=5&sortBy=userName").expect(200);
      assert.equal(p1.body.totalResults, 12);
      assert.equal(p1.body.itemsPerPage, 5);
      assert.equal(p1.body.startIndex, 1);
      assert.deepEqual(p1.body.schemas, ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]);
      const p3 = await t.get("/Users?startIndex=11&count=5&sortBy=userName").expect(200);
      assert.equal(p3.body.itemsPerPage, 2);
      assert.equal(p3.body.Resources[1].userName, "user11@example.com");
      const all: string[] = [];
      for (let start = 1; start <= 12; start += 5) {
        const page = await t.get(`/Users?startIndex=${start}&count=5`).expect(200);
        all.push(...page.body.Resources.map((r: any) => r.id));
      }
      assert.equal(new Set(all).size, 12, "stable order: every user exactly once");
      const zero = await t.get("/Users?count=0").expect(200);
      assert.equal(zero.body.totalResults, 12);
      assert.equal(zero.body.Resources.length, 0);
      const big = await t.get("/Users?count=100000").expect(200);
      assert.equal(big.body.itemsPerPage, 12);
      const desc = await t.get("/Users?sortBy=name.familyName&sortOrder=descending&count=1").expect(200);
      assert.equal(desc.body.Resources[0].name.familyName, "F9");
      const filtered = await t.get(`/Users?filter=${encodeURIComponent('userName sw "USER0"')}`).expect(200);
      assert.equal(filtered.body.totalResults, 10);
      const search = await t
        .post("/Users/.search", {
          schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
          filter: 'userName eq "user03@example.com"',
          attributes: ["userName"],
        })
        .expect(200);
      assert.equal(search.body.totalResults, 1);
      assert.deepEqual(Object.keys(search.body.Resources[0]).sort(), ["id", "schemas", "userName"]);
      const bad = await t.get(`/Users?filter=${encodeURIComponent("userName eq")}`).expect(400);
      assert.equal(bad.body.scimType, "invalidFilter");
      const pw = await t.get(`/Users?filter=${encodeURIComponent('password eq "x"')}`).expect(400);
      assert.equal(pw.body.scimType, "invalidFilter");
      await t.get("/Users?startIndex=abc").expect(400);
      await t.get("/Users?sortOrder=sideways").expect(400);
    });

    it("attributes and excludedAttributes shape every response", async () => {
      const u = await scim
        .post(
          "/Users?attributes=userName,name.familyName",
          userBody("proj@example.com", { name: { givenName: "P", familyName: "Roj" }, title: "T" }),
        )
        .expect(201);
      assert.deepEqual(Object.keys(u.body).sort(), ["id", "name", "schemas", "userName"]);
      assert.deepEqual(u.body.name, { familyName: "Roj" });
      const ex = await scim.get(`/Users/${u.body.id}?excludedAttributes=name,meta,title`).expect(200);
      assert.equal(ex.body.name, undefined);
      assert.equal(ex.body.meta, undefined);
      assert.equal(ex.body.userName, "proj@example.com");
      const idOnly = await scim.get(`/Users/${u.body.id}?excludedAttributes=id`).expect(200);
      assert.equal(idOnly.body.id, u.body.id, "id is returned always");
    });

    it("refuses bad input with the right scimType and writes nothing", async () => {
      const count = async () => (await scim.get("/Users?count=0")).body.totalResults;
      const before = await count();
      const malformed = await scim
        .post("/Users")
        .set("Content-Type", "application/scim+json")
        .send('{"userName": "x"')
        .expect(400);
      assert.equal(malformed.body.scimType, "invalidSyntax");
      assert.equal(malformed.body.status, "400");
      const wrongType = await scim
        .post("/Users", userBody("wt@example.com", { active: "perhaps" }))
        .expect(400);
      assert.equal(wrongType.body.scimType, "invalidValue");
      const unknown = await scim
        .post("/Users", userBody("uk@example.com", { favouriteColour: "red" }))
        .expect(400);
      assert.equal(unknown.body.scimType, "invalidValue");
      assert.match(unknown.body.detail, /favouriteColour/);
      const noName = await scim
        .post("/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"] })
        .expect(400);
      assert.equal(noName.body.scimType, "invalidValue");
      const groups = await scim
        .post("/Users", userBody("g@example.com", { groups: [{ value: "x" }] }))
        .expect(400);
      assert.equal(groups.body.scimType, "mutability");
      const extUnknown = await scim
        .post("/Users", userBody("e@example.com", { "urn:example:custom:1.0:User": { a: 1 } }))
        .expect(400);
      assert.equal(extUnknown.body.scimType, "invalidValue");
      const huge = await scim
        .post("/Users", userBody("big@example.com", { title: "x".repeat(2 * 1024 * 1024) }))
        .expect(413);
      assert.equal(huge.body.status, "413");
      await scim.post("/Users").set("Content-Type", "application/scim+json").send("[]").expect(400);
      assert.equal(await count(), before);
      const plainJson = await scim
        .post("/Users")
        .set("Content-Type", "application/json")
        .send(JSON.stringify(userBody("json@example.com")))
        .expect(201);
      assert.ok(plainJson.body.id);
      const ghost = await scim.get("/Users/00000000-0000-0000-0000-000000000000").expect(404);
      assert.equal(ghost.body.status, "404");
    });

    it("accepts Entra's string booleans and bare-string manager on create", async () => {
      const u = await scim
        .post("/Users", userBody("entra@example.com", { active: "True", [ENT]: { manager: "boss-1" } }))
        .expect(201);
      assert.equal(u.body.active, true);
      assert.deepEqual(u.body[ENT].manager, { value: "boss-1" });
    });

    it("records every change as an event in the same transaction", async () => {
      const t = await createTenantWithToken(ctx, "events");
      const s = scimClient(ctx, t.token);
      const u = await s.post("/Users", userBody("ev@example.com")).expect(201);
      await s
        .patch(`/Users/${u.body.id}`, patchOp({ op: "replace", path: "active", value: false }))
        .expect(200);
      await s
        .patch(`/Users/${u.body.id}`, patchOp({ op: "replace", path: "active", value: true }))
        .expect(200);
      await s
        .patch(`/Users/${u.body.id}`, patchOp({ op: "replace", path: "title", value: "CTO" }))
        .expect(200);
      await s
        .patch(`/Users/${u.body.id}`, patchOp({ op: "replace", path: "title", value: "CTO" }))
        .expect(200);
      await s.delete(`/Users/${u.body.id}`).expect(204);
      await s.post("/Users", userBody("EV@example.com")).expect(201);
      await s.post("/Users", userBody("ev@example.com")).expect(409);
      const rows = await ctx.deps.db("events").where({ tenant_id: t.tenantId }).orderBy("seq");
      assert.deepEqual(
        rows.map((r: any) => r.type),
        [
          "user.created",
          "user.deactivated",
          "user.reactivated",
          "user.updated",
          "user.deleted",
          "user.created",
        ],
      );
      assert.deepEqual(
        rows.map((r: any) => Number(r.seq)),
        [1, 2, 3, 4, 5, 6],
      );
    });

    it("a database failure is a 500 SCIM error, never a 404", async () => {
      const t = await createTestContext(backend);
      try {
        const s = scimClient(t, (await createTenantWithToken(t, "broken")).token);
        const u = await s.post("/Users", userBody("b@example.com")).expect(201);
        await t.deps.db.schema.renameTable("user_emails", "user_emails_gone");
        const res = await s.get(`/Users?filter=${encodeURIComponent('emails.value eq "b@example.com"')}`);
        assert.equal(res.status, 500);
        assert.equal(res.body.status, "500");
        assert.ok(!/user_emails/.test(JSON.stringify(res.body)), "no SQL leaks to the client");
        const patch = await s.put(
          `/Users/${u.body.id}`,
          userBody("b@example.com", { emails: [{ value: "c@example.com" }] }),
        );
        assert.equal(patch.status, 500);
      } finally {
        await t.close();
      }
    });
  });
}
