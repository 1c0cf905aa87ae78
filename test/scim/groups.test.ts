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
      await scim
        .patch(
          `/Groups/${g}`,
          patchOp({ op: "Add", path: "members", value: [{ value: users[0] }, { value: users[1] }] }),
        )
        .expect(204);
      await scim
        .patch(`/Groups/${g}`, patchOp({ op: "add", path: "members", value: [{ value: users[0] }] }))
        .expect(204);
      assert.deepEqual(await memberIds(g), [users[0], users[1]].sort());
      await scim
        .patch(`/Groups/${g}`, patchOp({ op: "Remove", path: `members[value eq "${users[0]}"]` }))
        .expect(204);
      await scim
        .patch(`/Groups/${g}`, patchOp({ op: "remove", path: "members", value: [{ value: users[5] }] }))
        .expect(204);
      assert.deepEqual(await memberIds(g), [users[1]]);
      await scim
        .patch(
          `/Groups/${g}`,
          patchOp({ op: "replace", path: "members", value: [{ value: users[2] }, { value: users[3] }] }),
        )
        .expect(204);
      assert.deepEqual(await memberIds(g), [users[2], users[3]].sort());
      const withBody = await scim
        .patch(
          `/Groups/${g}?excludedAttributes=members`,
          patchOp({ op: "replace", value: { displayName: "Deltas 2" } }),
        )
        .expect(200);
      assert.equal(withBody.body.displayName, "Deltas 2");
      assert.equal(withBody.body.members, undefined);
      await scim.patch(`/Groups/${g}`, patchOp({ op: "remove", path: "members" })).expect(204);
      assert.deepEqual(await memberIds(g), []);
      // Exactly one event per real change, in order: none for the re-add or the non-member removal.
      const rows = await ctx.deps
        .db("events")
        .where({ tenant_id: tenantId })
        .whereIn("type", ["group.user_added", "group.user_removed"])
        .orderBy("seq");
      const name = (id: string) => `u${users.indexOf(id)}`;
      assert.deepEqual(
        rows
          .map((r: any) => ({ type: r.type, ...JSON.parse(r.data) }))
          .filter((e: any) => e.groupId === g)
          .map((e: any) => `${e.type.replace("group.user_", "")} ${name(e.userId)}`),
        [
          "added u0",
          "added u1",
          "removed u0",
          "removed u1",
          "added u2",
          "added u3",
          "removed u2",
          "removed u3",
        ],
      );
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
