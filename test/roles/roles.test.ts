import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createTestContext, patchOp, type TestContext } from "../helpers/context.js";
import { tenant, variants } from "./helpers.js";

for (const v of variants()) {
  describe(`roles: CRUD, mappings, nesting, manual and default roles [${v.label}]`, { skip: v.skip }, () => {
    let ctx: TestContext;
    before(async () => {
      ctx = await createTestContext(v.backend, { redis: v.redis });
      await ctx.deps.driver.start();
    });
    after(async () => ctx.close());

    it("starts every tenant with admin and member, and manages roles by key", async () => {
      const t = await tenant(ctx, "r-crud");
      const list = (await t.a.get(`${t.base}/roles`).expect(200)).body.roles;
      assert.deepEqual(
        list.map((r: any) => r.key),
        ["admin", "member"],
      );
      const created = await t.a.post(`${t.base}/roles`, { key: "auditor", name: "Auditor", priority: 50 });
      assert.equal(created.status, 201);
      assert.equal(created.body.key, "auditor");
      await t.a.post(`${t.base}/roles`, { key: "auditor", name: "Again" }).expect(409);
      const bad = await t.a.post(`${t.base}/roles`, { key: "no spaces", name: "x", extra: 1 }).expect(400);
      assert.equal(bad.body.error.code, "VALIDATION_FAILED");
      const patched = await t.a.patch(`${t.base}/roles/auditor`, { name: "Auditors" }).expect(200);
      assert.equal(patched.body.name, "Auditors");
      await t.a.delete(`${t.base}/roles/member`).expect(409); // the default role
      await t.a.delete(`${t.base}/roles/auditor`).expect(204);
      await t.a.get(`${t.base}/roles/auditor`).expect(404);
      // Seeded once: a deleted starting role is not re-created on the next read.
      await t.a.delete(`${t.base}/roles/admin`).expect(204);
      const again = (await t.a.get(`${t.base}/roles`).expect(200)).body.roles;
      assert.deepEqual(
        again.map((r: any) => r.key),
        ["member"],
      );
    });

    it("gives the default role to a user no mapping covers, and maps groups by id or externalId", async () => {
      const t = await tenant(ctx, "r-map");
      const alice = await t.user("alice@example.com");
      await t.waitKeys(alice, "member");
      assert.deepEqual(await t.roles(alice), [{ key: "member", name: "Member", source: "default" }]);
      const eng = await t.group("Engineering", [alice], { externalId: "aad-eng" });
      const m = await t.a.post(`${t.base}/role-mappings`, { groupId: eng, role: "admin" }).expect(201);
      assert.equal(m.body.groupId, eng);
      assert.equal(m.body.role, "admin");
      await t.waitKeys(alice, "admin");
      const [r] = await t.roles(alice);
      assert.deepEqual(r, {
        key: "admin",
        name: "Administrator",
        source: "group",
        groupId: eng,
        mappingId: m.body.id,
      });
      // Same pair again, by externalId: 409; a displayName alone is not a way to name a group.
      await t.a.post(`${t.base}/role-mappings`, { externalId: "aad-eng", role: "admin" }).expect(409);
      const byName = await t.a.post(`${t.base}/role-mappings`, { displayName: "Engineering", role: "admin" });
      assert.equal(byName.status, 400);
      await t.a.post(`${t.base}/role-mappings`, { groupId: "nope", role: "admin" }).expect(404);
      await t.a.post(`${t.base}/role-mappings`, { groupId: eng, role: "ghost" }).expect(404);
      const byExt = await t.a
        .post(`${t.base}/role-mappings`, { externalId: "aad-eng", role: "member" })
        .expect(201);
      await t.waitKeys(alice, "admin,member");
      // Renaming the group changes nothing: the mapping holds its id.
      await t.scim
        .patch(`/Groups/${eng}`, patchOp({ op: "replace", path: "displayName", value: "Eng" }))
        .expect(204);
      assert.equal((await t.a.get(`${t.base}/role-mappings/${byExt.body.id}`).expect(200)).body.groupId, eng);
      assert.equal((await t.a.get(`${t.base}/role-mappings`).expect(200)).body.roleMappings.length, 2);
      await t.a.delete(`${t.base}/role-mappings/${m.body.id}`).expect(204);
      await t.a.delete(`${t.base}/role-mappings/${byExt.body.id}`).expect(204);
      await t.a.get(`${t.base}/role-mappings/${m.body.id}`).expect(404);
      await t.waitKeys(alice, "member");
      await t.settle();
      // The last deletion only changed the reason for member (group → default): no event.
      const assigned = (await t.events("role.assigned")).filter((e) => e.data.userId === alice);
      const revoked = (await t.events("role.revoked")).filter((e) => e.data.userId === alice);
      assert.deepEqual(
        assigned.map((e) => e.data.role),
        ["member", "admin", "member"],
      );
      assert.deepEqual(
        revoked.map((e) => e.data.role),
        ["member", "admin"],
      );
    });

    it("moves the default role when the tenant's defaultRole setting changes", async () => {
      const t = await tenant(ctx, "r-default");
      await t.a.post(`${t.base}/roles`, { key: "viewer", name: "Viewer" }).expect(201);
      const plain = await t.user("plain@example.com");
      const mapped = await t.user("mapped@example.com");
      const eng = await t.group("Eng", [mapped]);
      await t.a.post(`${t.base}/role-mappings`, { groupId: eng, role: "admin" }).expect(201);
      await t.waitKeys(plain, "member");
      await t.waitKeys(mapped, "admin");
      await t.a.patch(t.base, { settings: { defaultRole: "viewer" } }).expect(200);
      await t.waitKeys(plain, "viewer");
      assert.deepEqual(await t.roles(plain), [{ key: "viewer", name: "Viewer", source: "default" }]);
      await t.settle();
      assert.equal(await t.keys(mapped), "admin");
      const revoked = (await t.events("role.revoked")).filter((e) => e.data.userId === plain);
      assert.deepEqual(
        revoked.map((e) => e.data.role),
        ["member"],
      );
      // A change of another setting recomputes nothing: no role-sync job is even enqueued (a
      // spurious recompute would record no event, its result being the same).
      const syncJobs = async () =>
        (
          await ctx.deps
            .db("jobs")
            .where({ tenant_id: t.tenantId })
            .whereIn("name", ["sync-roles", "sync-roles-urgent"])
        )
          .map((j: any) => j.id)
          .sort();
      const jobsBefore = await syncJobs();
      const before = (await t.events()).length;
      await t.a.patch(t.base, { settings: { deprovisionPolicy: "delete" } }).expect(200);
      await t.settle();
      assert.deepEqual(await syncJobs(), jobsBefore);
      assert.deepEqual(
        (await t.events()).slice(before).map((e) => [e.type, e.data]),
        [],
      );
    });

    it("refuses a defaultRole that names no role, and keeps concurrent settings changes", async () => {
      const t = await tenant(ctx, "r-default-check");
      const bad = await t.a.patch(t.base, { settings: { defaultRole: "viewer" } }).expect(400);
      assert.equal(bad.body.error.code, "VALIDATION_FAILED");
      assert.equal(bad.body.error.details[0].field, "settings.defaultRole");
      assert.equal((await t.a.get(t.base).expect(200)).body.settings.defaultRole, "member");
      // A new tenant has only the starting roles.
      const early = await t.a
        .post("/admin/v1/tenants", { slug: "r-default-new", name: "x", settings: { defaultRole: "viewer" } })
        .expect(400);
      assert.equal(early.body.error.details[0].field, "settings.defaultRole");
      await t.a.get("/admin/v1/tenants/r-default-new").expect(404);
      await t.a
        .post("/admin/v1/tenants", { slug: "r-default-new", name: "x", settings: { defaultRole: "admin" } })
        .expect(201);
      // Two PATCHes of different settings at once: neither is lost.
      await t.a.post(`${t.base}/roles`, { key: "viewer", name: "Viewer" }).expect(201);
      await Promise.all([
        t.a.patch(t.base, { settings: { defaultRole: "viewer" } }).expect(200),
        t.a.patch(t.base, { settings: { deprovisionPolicy: "delete", deleteGraceDays: 7 } }).expect(200),
        t.a.patch(t.base, { name: "Renamed" }).expect(200),
      ]);
      const after = (await t.a.get(t.base).expect(200)).body;
      assert.equal(after.name, "Renamed");
      assert.deepEqual(
        [after.settings.defaultRole, after.settings.deprovisionPolicy, after.settings.deleteGraceDays],
        ["viewer", "delete", 7],
      );
      await t.a.delete(`${t.base}/roles/viewer`).expect(409);
    });

    it("counts nested groups: a member of a child group is a member of the parent", async () => {
      const t = await tenant(ctx, "r-nest");
      const bob = await t.user("bob@example.com");
      const carol = await t.user("carol@example.com");
      const child = await t.group("Child", [bob]);
      const middle = await t.group("Middle", [child]);
      const parent = await t.group("Parent", [middle, carol]);
      await t.a.post(`${t.base}/role-mappings`, { groupId: parent, role: "admin" }).expect(201);
      await t.waitKeys(bob, "admin");
      await t.waitKeys(carol, "admin");
      const [r] = await t.roles(bob);
      assert.equal(r.groupId, parent);
      // Cut the chain in the middle: bob loses the role, carol keeps it.
      await t.scim
        .patch(`/Groups/${middle}`, patchOp({ op: "remove", path: `members[value eq "${child}"]` }))
        .expect(204);
      await t.waitKeys(bob, "member");
      await t.scim
        .patch(`/Groups/${middle}`, patchOp({ op: "add", path: "members", value: [{ value: child }] }))
        .expect(204);
      await t.waitKeys(bob, "admin");
      // Deleting the middle group also cuts the path.
      await t.scim.delete(`/Groups/${middle}`).expect(204);
      await t.waitKeys(bob, "member");
      assert.equal(await t.keys(carol), "admin");
    });

    it("keeps manual roles apart, strips every role from inactive users and restores on reactivation", async () => {
      const t = await tenant(ctx, "r-manual");
      await ctx.deps
        .db("tenants")
        .where({ id: t.tenantId })
        .update({
          settings: JSON.stringify({ restoreManualRolesOnReactivation: true }),
        });
      const dan = await t.user("dan@example.com");
      await t.waitKeys(dan, "member");
      await t.a.put(`${t.base}/users/${dan}/roles/admin`).expect(204);
      await t.a.put(`${t.base}/users/${dan}/roles/admin`).expect(204); // idempotent
      await t.waitKeys(dan, "admin");
      assert.deepEqual(await t.roles(dan), [{ key: "admin", name: "Administrator", source: "manual" }]);
      await t.a.put(`${t.base}/users/${dan}/roles/ghost`).expect(404);
      await t.a.put(`${t.base}/users/nobody/roles/admin`).expect(404);
      await t.scim
        .patch(`/Users/${dan}`, patchOp({ op: "replace", path: "active", value: false }))
        .expect(200);
      await t.waitKeys(dan, "");
      await t.scim
        .patch(`/Users/${dan}`, patchOp({ op: "replace", path: "active", value: true }))
        .expect(200);
      await t.waitKeys(dan, "admin");
      await t.a.delete(`${t.base}/users/${dan}/roles/admin`).expect(204);
      await t.waitKeys(dan, "member");
      // Without the restore setting, deactivation forgets manual roles.
      await ctx.deps.db("tenants").where({ id: t.tenantId }).update({ settings: "{}" });
      await t.a.put(`${t.base}/users/${dan}/roles/admin`).expect(204);
      await t.waitKeys(dan, "admin");
      await t.scim
        .patch(`/Users/${dan}`, patchOp({ op: "replace", path: "active", value: false }))
        .expect(200);
      await t.waitKeys(dan, "");
      await t.scim
        .patch(`/Users/${dan}`, patchOp({ op: "replace", path: "active", value: true }))
        .expect(200);
      await t.waitKeys(dan, "member");
    });

    it("POST …/roles/recompute answers 202 and brings every user's stored roles back to what the rules give", async () => {
      const t = await tenant(ctx, "r-recompute");
      const ann = await t.user("ann@example.com");
      const bob = await t.user("bob@example.com");
      const eng = await t.group("Eng", [ann]);
      const mapping = await t.a.post(`${t.base}/role-mappings`, { groupId: eng, role: "admin" }).expect(201);
      await t.waitKeys(ann, "admin");
      await t.waitKeys(bob, "member");
      await t.settle();
      // The stored roles drift (a lost write, a restored backup): ann lost hers, bob holds one no rule gives.
      const adminRole = (await t.a.get(`${t.base}/roles/admin`).expect(200)).body;
      await ctx.deps.db("user_roles").where({ tenant_id: t.tenantId, user_id: ann }).delete();
      await ctx.deps.db("user_roles").insert({
        tenant_id: t.tenantId,
        user_id: bob,
        role_id: adminRole.id,
        source: "group",
        ref: mapping.body.id,
        group_id: eng,
        assigned_at: ctx.deps.now().toISOString(),
      });
      assert.deepEqual([await t.keys(ann), await t.keys(bob)], ["", "admin,member"]);
      const eventsBefore = (await t.events()).length;
      const res = await t.a.post(`${t.base}/roles/recompute`).expect(202);
      assert.deepEqual(res.body, { accepted: true });
      await t.settle();
      assert.deepEqual([await t.keys(ann), await t.keys(bob)], ["admin", "member"]);
      assert.deepEqual(
        (await t.events())
          .slice(eventsBefore)
          .map((e) => [e.type, e.data.userId === ann ? "ann" : "bob", e.data.role])
          .sort(),
        [
          ["role.assigned", "ann", "admin"],
          ["role.revoked", "bob", "admin"],
        ],
      );
      // Again, with nothing drifted: no change, no event.
      await t.a.post(`${t.base}/roles/recompute`).expect(202);
      await t.settle();
      assert.equal((await t.events()).length, eventsBefore + 2);
      await t.a.post("/admin/v1/tenants/r-nobody/roles/recompute").expect(404);
    });

    it("previews a mapping change without saving anything", async () => {
      const t = await tenant(ctx, "r-preview");
      const users = [];
      for (let i = 0; i < 5; i++) users.push(await t.user(`p${i}@example.com`));
      const sales = await t.group("Sales", users.slice(0, 3));
      const ops = await t.group("Ops", users.slice(2));
      const existing = await t.a.post(`${t.base}/role-mappings`, { groupId: ops, role: "admin" }).expect(201);
      await t.settle();
      const before = (await t.events()).length;
      const p = await t.a
        .post(`${t.base}/role-mappings/preview`, {
          add: [{ groupId: sales, role: "admin" }],
          remove: [existing.body.id],
        })
        .expect(200);
      // Sales members gain admin and lose the default; ops-only members lose admin, fall back to member.
      assert.equal(p.body.usersAffected, 4);
      const gains = Object.fromEntries(p.body.gains.map((g: any) => [g.role, g.count]));
      const losses = Object.fromEntries(p.body.losses.map((g: any) => [g.role, g.count]));
      assert.deepEqual(gains, { admin: 2, member: 2 });
      assert.deepEqual(losses, { admin: 2, member: 2 });
      assert.ok(p.body.gains[0].users[0].userName.endsWith("@example.com"));
      const whole = await t.a
        .post(`${t.base}/role-mappings/preview`, { mappings: [{ groupId: sales, role: "admin" }] })
        .expect(200);
      assert.deepEqual(whole.body.gains, p.body.gains);
      await t.a.post(`${t.base}/role-mappings/preview`, { mappings: [], add: [] }).expect(400);
      assert.equal((await t.a.get(`${t.base}/role-mappings`)).body.roleMappings.length, 1);
      assert.equal((await t.events()).length, before);
      assert.equal(await t.keys(users[0]), "member");
    });
  });
}
