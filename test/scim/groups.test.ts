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

const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

for (const backend of allBackends()) {
  describe(`SCIM Groups and memberships [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let scim: ReturnType<typeof scimClient>;
    let tenantId: string;
    const users: string[] = [];
    before(async () => {
      ctx = await createTestContext(backend);
      const t = await createTenantWithToken(ctx, "acme");
      tenantId = t.tenantId;
      scim = scimClient(ctx, t.token);
      for (let i = 0; i < 6; i++)
        users.push(
          (
            await scim
              .post("/Users", userBody(`m${i}@example.com`, { displayName: `Member ${i}` }))
              .expect(201)
          ).body.id,
        );
    });
    after(async () => ctx.close());

    const memberIds = async (id: string) =>
      ((await scim.get(`/Groups/${id}`).expect(200)).body.members ?? []).map((m: any) => m.value).sort();

    it("creates a group with members in the body (Okta) and renders them with display and $ref", async () => {
      const res = await scim
        .post("/Groups", {
          schemas: [GROUP],
          displayName: "Sales",
          members: [{ value: users[0] }, { value: users[1], type: "User" }],
        })
        .expect(201);
      assert.equal(res.headers.location, `https://roster.test/scim/v2/Groups/${res.body.id}`);
      const m = res.body.members.find((x: any) => x.value === users[0]);
      assert.deepEqual(m, {
        value: users[0],
        $ref: `https://roster.test/scim/v2/Users/${users[0]}`,
        display: "Member 0",
        type: "User",
      });
      const u = await scim.get(`/Users/${users[0]}`).expect(200);
      assert.deepEqual(
        u.body.groups.map((g: any) => [g.value, g.display]),
        [[res.body.id, "Sales"]],
      );
    });

    it("displayName is unique per tenant case-insensitively", async () => {
      await scim.post("/Groups", { schemas: [GROUP], displayName: "Unique Team" }).expect(201);
      const dup = await scim.post("/Groups", { schemas: [GROUP], displayName: "unique team" }).expect(409);
      assert.equal(dup.body.scimType, "uniqueness");
    });

    it("PATCH members as row deltas: add, re-add, remove, remove a non-member, replace", async () => {
      const g = (await scim.post("/Groups", { schemas: [GROUP], displayName: "Deltas" }).expect(201)).body.id;
      // Exactly one event per real change: none for the re-add or the non-member removal. Within
      // one PATCH the order of its events is the database's, so each PATCH's are compared sorted.
      const name = (id: string) => `u${users.indexOf(id)}`;
      let checked = 0;
      const newEvents = async () => {
        const rows = (
          await ctx.deps
            .db("events")
            .where({ tenant_id: tenantId })
            .whereIn("type", ["group.user_added", "group.user_removed"])
            .orderBy("seq")
        )
          .map((r: any) => ({ type: r.type, ...JSON.parse(r.data) }))
          .filter((e: any) => e.groupId === g);
        const fresh = rows.slice(checked);
        checked = rows.length;
        return fresh.map((e: any) => `${e.type.replace("group.user_", "")} ${name(e.userId)}`).sort();
      };
      await scim
        .patch(
          `/Groups/${g}`,
          patchOp({ op: "Add", path: "members", value: [{ value: users[0] }, { value: users[1] }] }),
        )
        .expect(204);
      assert.deepEqual(await newEvents(), ["added u0", "added u1"]);
      await scim
        .patch(`/Groups/${g}`, patchOp({ op: "add", path: "members", value: [{ value: users[0] }] }))
        .expect(204);
      assert.deepEqual(await newEvents(), []);
      assert.deepEqual(await memberIds(g), [users[0], users[1]].sort());
      await scim
        .patch(`/Groups/${g}`, patchOp({ op: "Remove", path: `members[value eq "${users[0]}"]` }))
        .expect(204);
      assert.deepEqual(await newEvents(), ["removed u0"]);
      await scim
        .patch(`/Groups/${g}`, patchOp({ op: "remove", path: "members", value: [{ value: users[5] }] }))
        .expect(204);
      assert.deepEqual(await newEvents(), []);
      assert.deepEqual(await memberIds(g), [users[1]]);
      await scim
        .patch(
          `/Groups/${g}`,
          patchOp({ op: "replace", path: "members", value: [{ value: users[2] }, { value: users[3] }] }),
        )
        .expect(204);
      assert.deepEqual(await newEvents(), ["added u2", "added u3", "removed u1"]);
      assert.deepEqual(await memberIds(g), [users[2], users[3]].sort());
      const withBody = await scim
        .patch(
          `/Groups/${g}?excludedAttributes=members`,
          patchOp({ op: "replace", value: { displayName: "Deltas 2" } }),
        )
        .expect(200);
      assert.equal(withBody.body.displayName, "Deltas 2");
      assert.equal(withBody.body.members, undefined);
      assert.deepEqual(await newEvents(), []);
      await scim.patch(`/Groups/${g}`, patchOp({ op: "remove", path: "members" })).expect(204);
      assert.deepEqual(await newEvents(), ["removed u2", "removed u3"]);
      assert.deepEqual(await memberIds(g), []);
    });

    it("refuses unknown members and another tenant's users, changing nothing", async () => {
      const foreign = scimClient(ctx, (await createTenantWithToken(ctx, "globex")).token);
      const theirs = (await foreign.post("/Users", userBody("x@globex.com")).expect(201)).body.id;
      const g = (
        await scim
          .post("/Groups", { schemas: [GROUP], displayName: "Guarded", members: [{ value: users[4] }] })
          .expect(201)
      ).body.id;
      const res = await scim
        .patch(
          `/Groups/${g}`,
          patchOp({ op: "add", path: "members", value: [{ value: users[5] }, { value: theirs }] }),
        )
        .expect(400);
      assert.equal(res.body.scimType, "invalidValue");
      assert.deepEqual(await memberIds(g), [users[4]]);
      await scim
        .post("/Groups", { schemas: [GROUP], displayName: "Bad", members: [{ value: "nope" }] })
        .expect(400);
      await scim
        .post("/Groups", { schemas: [GROUP], displayName: "Bad", members: [{ valu: "nope" }] })
        .expect(400);
    });

    it("stores nested groups and refuses cycles with 400", async () => {
      const parent = (await scim.post("/Groups", { schemas: [GROUP], displayName: "Parent" }).expect(201))
        .body.id;
      const child = (
        await scim
          .post("/Groups", { schemas: [GROUP], displayName: "Child", members: [{ value: users[0] }] })
          .expect(201)
      ).body.id;
      await scim
        .patch(
          `/Groups/${parent}`,
          patchOp({ op: "add", path: "members", value: [{ value: child, type: "Group" }] }),
        )
        .expect(204);
      const p = await scim.get(`/Groups/${parent}`).expect(200);
      assert.deepEqual(
        p.body.members.map((m: any) => [m.value, m.type]),
        [[child, "Group"]],
      );
      const cycle = await scim
        .patch(`/Groups/${child}`, patchOp({ op: "add", path: "members", value: [{ value: parent }] }))
        .expect(400);
      assert.equal(cycle.body.scimType, "invalidValue");
      const self = await scim
        .patch(`/Groups/${child}`, patchOp({ op: "add", path: "members", value: [{ value: child }] }))
        .expect(400);
      assert.equal(self.body.scimType, "invalidValue");
      await scim.delete(`/Groups/${child}`).expect(204);
      const after = await scim.get(`/Groups/${parent}`).expect(200);
      assert.equal(after.body.members, undefined, "a deleted group leaves its parents");
    });

    it("PUT replaces attributes and the member set; excludedAttributes=members skips them", async () => {
      const g = (
        await scim
          .post("/Groups", { schemas: [GROUP], displayName: "Put Team", members: [{ value: users[0] }] })
          .expect(201)
      ).body.id;
      const put = await scim
        .put(`/Groups/${g}`, {
          schemas: [GROUP],
          displayName: "Put Team 2",
          externalId: "ext-g",
          members: [{ value: users[1] }, { value: users[2] }],
        })
        .expect(200);
      assert.equal(put.body.displayName, "Put Team 2");
      assert.deepEqual(put.body.members.map((m: any) => m.value).sort(), [users[1], users[2]].sort());
      const lean = await scim.get(`/Groups/${g}?excludedAttributes=members`).expect(200);
      assert.equal(lean.body.members, undefined);
      assert.equal(lean.body.externalId, "ext-g");
    });

    it("answers Entra's membership check filter", async () => {
      const g = (
        await scim
          .post("/Groups", { schemas: [GROUP], displayName: "Checked", members: [{ value: users[3] }] })
          .expect(201)
      ).body.id;
      const q = (u: string) => encodeURIComponent(`id eq "${g}" and members[value eq "${u}"]`);
      const yes = await scim.get(`/Groups?filter=${q(users[3])}&excludedAttributes=members`).expect(200);
      assert.equal(yes.body.totalResults, 1);
      assert.equal(yes.body.Resources[0].members, undefined);
      const no = await scim.get(`/Groups?filter=${q(users[4])}&excludedAttributes=members`).expect(200);
      assert.equal(no.body.totalResults, 0);
      const byName = await scim
        .get(`/Groups?filter=${encodeURIComponent('displayName eq "checked"')}`)
        .expect(200);
      assert.equal(byName.body.totalResults, 1);
    });

    it("POST /Groups/.search: filter, projection, paging and sorting from the body, this tenant only", async () => {
      const foreign = scimClient(ctx, (await createTenantWithToken(ctx, "search-other")).token);
      await foreign.post("/Groups", { schemas: [GROUP], displayName: "Search Beta" }).expect(201);
      const ids: Record<string, string> = {};
      for (const [name, members] of [
        ["Search Gamma", [users[0]]],
        ["Search Alpha", [users[0], users[1]]],
        ["Search Beta", []],
      ] as const)
        ids[name] = (
          await scim
            .post("/Groups", {
              schemas: [GROUP],
              displayName: name,
              members: members.map((value) => ({ value })),
            })
            .expect(201)
        ).body.id;
      const search = (body: Record<string, unknown>) =>
        scim.post("/Groups/.search", {
          schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
          ...body,
        });
      const page = await search({
        filter: 'displayName sw "search "',
        sortBy: "displayName",
        sortOrder: "descending",
        startIndex: 2,
        count: 1,
        attributes: ["displayName", "members"],
      }).expect(200);
      assert.deepEqual(page.body.schemas, ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]);
      assert.deepEqual([page.body.totalResults, page.body.startIndex, page.body.itemsPerPage], [3, 2, 1]);
      const [beta] = page.body.Resources;
      assert.equal(beta.id, ids["Search Beta"]);
      assert.deepEqual(Object.keys(beta).sort(), ["displayName", "id", "schemas"]); // no members to show; id always returned
      const byMember = await search({
        filter: `members[value eq "${users[1]}"] and displayName sw "Search"`,
        excludedAttributes: ["members"],
      }).expect(200);
      assert.deepEqual(
        byMember.body.Resources.map((g: any) => [g.id, g.members]),
        [[ids["Search Alpha"], undefined]],
      );
      const all = await search({ filter: 'displayName sw "Search"', sortBy: "displayName" }).expect(200);
      assert.deepEqual(
        all.body.Resources.map((g: any) => g.displayName),
        ["Search Alpha", "Search Beta", "Search Gamma"],
      );
      const badFilter = await search({ filter: 'displayName eq "x" and' }).expect(400);
      assert.equal(badFilter.body.scimType, "invalidFilter");
      const notObject = await scim.post("/Groups/.search", ["filter"]).expect(400);
      assert.equal(notObject.body.scimType, "invalidSyntax");
    });

    it("If-Match on Groups: a stale version is refused with 412 on PATCH, PUT and DELETE and changes nothing", async () => {
      const created = await scim
        .post("/Groups", { schemas: [GROUP], displayName: "Versioned", members: [{ value: users[0] }] })
        .expect(201);
      const g = created.body.id;
      const stale = created.headers.etag as string;
      assert.equal(stale, created.body.meta.version);
      await scim
        .patch(`/Groups/${g}`, patchOp({ op: "add", path: "members", value: [{ value: users[1] }] }))
        .expect(204);
      const current = (await scim.get(`/Groups/${g}`).expect(200)).headers.etag as string;
      assert.notEqual(current, stale);
      const refusedPatch = await scim
        .patch(`/Groups/${g}`, patchOp({ op: "add", path: "members", value: [{ value: users[2] }] }))
        .set("If-Match", stale)
        .expect(412);
      assert.deepEqual(refusedPatch.body.schemas, ["urn:ietf:params:scim:api:messages:2.0:Error"]);
      await scim
        .put(`/Groups/${g}`, { schemas: [GROUP], displayName: "Versioned 2", members: [] })
        .set("If-Match", stale)
        .expect(412);
      await scim.delete(`/Groups/${g}`).set("If-Match", stale).expect(412);
      const unchanged = await scim.get(`/Groups/${g}`).expect(200);
      assert.equal(unchanged.headers.etag, current);
      assert.equal(unchanged.body.displayName, "Versioned");
      assert.deepEqual(await memberIds(g), [users[0], users[1]].sort());
      await scim.get(`/Groups/${g}`).set("If-None-Match", current).expect(304);
      // The current version (or any, "*") goes through.
      const patched = await scim
        .patch(`/Groups/${g}`, patchOp({ op: "add", path: "members", value: [{ value: users[2] }] }))
        .set("If-Match", current)
        .expect(204);
      const next = patched.headers.etag as string;
      assert.ok(next && next !== current);
      await scim
        .put(`/Groups/${g}`, { schemas: [GROUP], displayName: "Versioned 2", members: [] })
        .set("If-Match", next)
        .expect(200);
      await scim.delete(`/Groups/${g}`).set("If-Match", "*").expect(204);
      await scim.get(`/Groups/${g}`).expect(404);
    });

    it("renaming a group onto a name another group holds (any case) is a 409 that changes nothing", async () => {
      await scim.post("/Groups", { schemas: [GROUP], displayName: "Rename Taken" }).expect(201);
      const mine = await scim.post("/Groups", { schemas: [GROUP], displayName: "Rename Mine" }).expect(201);
      const id = mine.body.id;
      const eventsBefore = await ctx.deps
        .db("events")
        .where({ tenant_id: tenantId })
        .count({ n: "*" })
        .first();
      const viaPatch = await scim
        .patch(`/Groups/${id}`, patchOp({ op: "replace", path: "displayName", value: "RENAME TAKEN" }))
        .expect(409);
      assert.equal(viaPatch.body.scimType, "uniqueness");
      const viaNoPath = await scim
        .patch(`/Groups/${id}`, patchOp({ op: "replace", value: { displayName: "rename taken" } }))
        .expect(409);
      assert.equal(viaNoPath.body.scimType, "uniqueness");
      const viaPut = await scim
        .put(`/Groups/${id}`, { schemas: [GROUP], displayName: "Rename taken" })
        .expect(409);
      assert.equal(viaPut.body.scimType, "uniqueness");
      const after = await scim.get(`/Groups/${id}`).expect(200);
      assert.equal(after.body.displayName, "Rename Mine");
      assert.equal(after.body.meta.version, mine.body.meta.version);
      assert.deepEqual(
        await ctx.deps.db("events").where({ tenant_id: tenantId }).count({ n: "*" }).first(),
        eventsBefore,
      );
      // Its own name in another case is not taken.
      await scim
        .patch(`/Groups/${id}`, patchOp({ op: "replace", path: "displayName", value: "RENAME MINE" }))
        .expect(204);
    });

    it("concurrent member PATCHes on one group lose nothing", async () => {
      const g = (await scim.post("/Groups", { schemas: [GROUP], displayName: "Busy" }).expect(201)).body.id;
      const extra: string[] = [];
      for (let i = 0; i < 20; i++)
        extra.push((await scim.post("/Users", userBody(`busy${i}@example.com`)).expect(201)).body.id);
      const results = await Promise.all(
        extra.map((id) =>
          scim.patch(`/Groups/${g}`, patchOp({ op: "add", path: "members", value: [{ value: id }] })),
        ),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        extra.map(() => 204),
      );
      assert.deepEqual(await memberIds(g), [...extra].sort());
      const removals = await Promise.all(
        extra
          .slice(0, 10)
          .map((id) =>
            scim.patch(`/Groups/${g}`, patchOp({ op: "remove", path: `members[value eq "${id}"]` })),
          ),
      );
      assert.ok(removals.every((r) => r.status === 204));
      assert.deepEqual(await memberIds(g), extra.slice(10).sort());
      const version = (await scim.get(`/Groups/${g}`)).body.meta.version;
      assert.equal(version, 'W/"31"');
    });
  });
}
