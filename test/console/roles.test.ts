import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { tenant } from "../roles/helpers.js";
import { ConsoleClient } from "./helpers.js";

for (const backend of allBackends()) {
  describe(`console groups and roles pages [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let acme: Awaited<ReturnType<typeof tenant>>;
    let globex: Awaited<ReturnType<typeof tenant>>;
    let admin: ConsoleClient;
    let linkId: string;
    const ids: Record<string, string> = {};
    const r = "/console/t/acme/roles";

    before(async () => {
      ctx = await createTestContext(backend);
      await ctx.deps.driver.start();
      acme = await tenant(ctx, "acme");
      globex = await tenant(ctx, "globex");
      for (const n of ["ann", "bob", "cid"]) ids[n] = await acme.user(`${n}@acme.test`);
      ids.staff = await acme.group("Staff", [ids.ann!, ids.bob!]);
      ids.eve = await globex.user("eve@globex.test");
      ids.globexGroup = await globex.group("Globex admins", [ids.eve!]);
      ids.globexMapping = (
        await globex.a
          .post("/admin/v1/tenants/globex/role-mappings", { groupId: ids.globexGroup, role: "admin" })
          .expect(201)
      ).body.id;
      const link = await acme.a.post("/admin/v1/tenants/acme/setup-links", { scopes: ["roles"] }).expect(201);
      linkId = link.body.id;
      admin = new ConsoleClient(ctx);
      assert.equal((await admin.exchange(link.body.url)).status, 303);
      await admin.get(r);
    });
    after(async () => {
      await ctx.deps.driver.stop(5000);
      await ctx.close();
    });

    const actions = async () =>
      (await acme.events("console.action")).map(
        (e) => `${e.data.action} ${e.data.actor.kind}:${e.data.actor.id}`,
      );

    it("creates, renames, re-prioritises and deletes a role", async () => {
      const bad = await admin.post(`${r}/roles`, { key: "bad key!", name: "" });
      assert.equal(bad.status, 400);
      assert.match(bad.text, /f-key-error/);
      assert.equal(
        (await admin.post(`${r}/roles`, { key: "auditor", name: "Auditor", priority: "50" })).status,
        303,
      );
      assert.equal(
        (await admin.post(`${r}/roles/auditor`, { name: "Internal auditor", priority: "60" })).status,
        303,
      );
      const role = (await acme.a.get("/admin/v1/tenants/acme/roles/auditor").expect(200)).body;
      assert.equal(role.name, "Internal auditor");
      assert.equal(role.priority, 60);
      assert.equal((await admin.post(`${r}/roles/auditor/delete`, { confirm: "nope" })).status, 400);
      await acme.a.get("/admin/v1/tenants/acme/roles/auditor").expect(200);
      assert.equal((await admin.post(`${r}/roles/auditor/delete`, { confirm: "auditor" })).status, 303);
      await acme.a.get("/admin/v1/tenants/acme/roles/auditor").expect(404);
      const list = await actions();
      for (const a of ["role.create", "role.update", "role.delete"])
        assert.ok(list.includes(`${a} setup_link:${linkId}`), a);
    });

    it("previews a new mapping (who gains, counts, names) before saving it", async () => {
      const preview = await admin.post(`${r}/mappings/preview`, { groupId: ids.staff!, role: "admin" });
      assert.equal(preview.status, 200);
      assert.match(
        preview.text,
        /2 members<\/strong> gain <code>admin<\/code>: ann@acme\.test, bob@acme\.test/,
      );
      assert.match(preview.text, /2 members<\/strong> lose <code>member<\/code>/);
      assert.equal(
        (await acme.a.get("/admin/v1/tenants/acme/role-mappings")).body.roleMappings.length,
        0,
        "nothing saved yet",
      );
      assert.equal((await admin.post(`${r}/mappings`, { groupId: ids.staff!, role: "admin" })).status, 303);
      await acme.waitKeys(ids.ann!, "admin");
      await acme.waitKeys(ids.cid!, "member");
      const page = await admin.get(r);
      assert.match(page.text, /Staff/);
    });

    it("previews removing a mapping (who loses) before removing it", async () => {
      const [mapping] = (await acme.a.get("/admin/v1/tenants/acme/role-mappings")).body.roleMappings;
      const preview = await admin.post(`${r}/mappings/${mapping.id}/preview-remove`);
      assert.equal(preview.status, 200);
      assert.match(preview.text, /2 members<\/strong> lose <code>admin<\/code>/);
      assert.equal((await admin.post(`${r}/mappings/${mapping.id}/delete`)).status, 303);
      await acme.waitKeys(ids.ann!, "member");
      const list = await actions();
      assert.ok(list.includes(`role_mapping.create setup_link:${linkId}`));
      assert.ok(list.includes(`role_mapping.delete setup_link:${linkId}`));
    });

    it("never reaches another tenant's groups, mappings or roles", async () => {
      const state = async () =>
        JSON.stringify([
          (await globex.a.get("/admin/v1/tenants/globex/role-mappings")).body,
          (await globex.a.get("/admin/v1/tenants/globex/roles")).body,
        ]);
      const before = await state();
      assert.equal((await admin.get("/console/t/globex/roles")).status, 404);
      for (const [url, form] of [
        [`${r}/mappings/preview`, { groupId: ids.globexGroup!, role: "admin" }],
        [`${r}/mappings`, { groupId: ids.globexGroup!, role: "member" }],
        [`${r}/mappings/${ids.globexMapping}/preview-remove`, {}],
        [`${r}/mappings/${ids.globexMapping}/delete`, {}],
        ["/console/t/globex/roles/roles", { key: "x", name: "X" }],
        ["/console/t/globex/roles/roles/admin", { name: "Pwned" }],
        ["/console/t/globex/roles/roles/member/delete", { confirm: "member" }],
        ["/console/t/globex/roles/mappings/preview", { groupId: ids.globexGroup!, role: "member" }],
        [`/console/t/globex/roles/mappings/${ids.globexMapping}/delete`, {}],
      ] as const)
        assert.equal((await admin.post(url, form)).status, 404, url);
      assert.equal(await state(), before);
    });

    it("refuses every action without the CSRF token", async () => {
      for (const url of [
        `${r}/roles`,
        `${r}/roles/member`,
        `${r}/roles/admin/delete`,
        `${r}/mappings/preview`,
        `${r}/mappings`,
      ])
        assert.equal(
          (
            await admin.post(
              url,
              { key: "k", name: "n", confirm: "admin", groupId: ids.staff!, role: "admin" },
              false,
            )
          ).status,
          403,
          url,
        );
      await acme.a.get("/admin/v1/tenants/acme/roles/admin").expect(200);
      assert.equal((await acme.a.get("/admin/v1/tenants/acme/role-mappings")).body.roleMappings.length, 0);
    });
  });
}
