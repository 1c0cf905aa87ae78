import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createSession } from "../../src/access/sessions.js";
import { allBackends, createTestContext, patchOp, type TestContext } from "../helpers/context.js";
import { tenant } from "../roles/helpers.js";

type Listed = { id: string; userName: string; status: string; email: string | null };

for (const backend of allBackends()) {
  describe(`members list and member detail [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let t: Awaited<ReturnType<typeof tenant>>;
    let other: Awaited<ReturnType<typeof tenant>>;
    const ids: Record<string, string> = {};
    const base = "/admin/v1/tenants/acme/users";

    before(async () => {
      ctx = await createTestContext(backend);
      t = await tenant(ctx, "acme");
      other = await tenant(ctx, "other");
      const people: Array<[string, Record<string, unknown>]> = [
        [
          "ann.lee@acme.test",
          { displayName: "Ann Lee", emails: [{ value: "Ann.Lee@acme.test", primary: true }] },
        ],
        [
          "Bob@acme.test",
          { displayName: "Robert Stone", emails: [{ value: "bob@acme.test" }, { value: "rs@home.example" }] },
        ],
        ["carl@acme.test", { displayName: "Carl Zed" }],
        ["a_b@acme.test", {}],
        ["a%b@acme.test", {}],
        ["dora@acme.test", { displayName: "Ännie Dora" }],
        ["zoe@acme.test", {}],
      ];
      for (const [userName, extra] of people) ids[userName] = await t.user(userName, extra);
      // Deactivated by the IdP, and invited by hand (never signed in).
      await t.scim
        .patch(`/Users/${ids["carl@acme.test"]}`, patchOp({ op: "replace", path: "active", value: false }))
        .expect(200);
      ids.invited = (
        await t.a.post(base, { userName: "ivy@acme.test", email: "ivy@acme.test" }).expect(201)
      ).body.id;
      ids.signedIn = (await t.a.post(base, { userName: "ian@acme.test" }).expect(201)).body.id;
      await createSession(ctx.deps.db, {
        tenantId: t.tenantId,
        userId: ids.signedIn,
        nameId: null,
        sessionIndex: null,
        ttlMs: 60_000,
        now: ctx.clock.now(),
      });
      ids.otherUser = await other.user("ann.other@acme.test", { displayName: "Ann Other" });
    });
    after(() => ctx.close());

    const list = async (query: string) =>
      (await t.a.get(`${base}?${query}`).expect(200)).body as { users: Listed[]; next: string | null };
    const names = (users: Listed[]) => users.map((u) => u.userName);

    it("lists in case-insensitive userName order, page by page with the next cursor", async () => {
      const all: string[] = [];
      let cursor: string | null = "";
      let pages = 0;
      while (cursor !== null) {
        const page = await list(`limit=3${cursor ? `&cursor=${cursor}` : ""}`);
        assert.ok(page.users.length <= 3);
        all.push(...names(page.users));
        cursor = page.next;
        pages++;
      }
      assert.deepEqual(all, [
        "a%b@acme.test",
        "a_b@acme.test",
        "ann.lee@acme.test",
        "Bob@acme.test",
        "carl@acme.test",
        "dora@acme.test",
        "ian@acme.test",
        "ivy@acme.test",
        "zoe@acme.test",
      ]);
      assert.equal(pages, 3);
      // Exactly one page: no cursor.
      assert.equal((await list("limit=9")).next, null);
    });

    it("searches userName, displayName and any e-mail by case-insensitive prefix", async () => {
      assert.deepEqual(names((await list("q=ANN")).users), ["ann.lee@acme.test"]);
      assert.deepEqual(names((await list("q=robert")).users), ["Bob@acme.test"]);
      assert.deepEqual(names((await list("q=rs%40home")).users), ["Bob@acme.test"]);
      assert.deepEqual(names((await list("q=bob")).users), ["Bob@acme.test"]);
      assert.deepEqual(names((await list("q=%C3%A4nnie")).users), ["dora@acme.test"]);
      // A prefix, not a substring: "lee" is inside userName and displayName but starts neither.
      assert.deepEqual(names((await list("q=lee")).users), []);
      assert.deepEqual(names((await list("q=zz")).users), []);
      // Search results page like the list: the cursor continues after the last match shown.
      const first = await list("q=a&limit=2");
      assert.deepEqual(names(first.users), ["a%b@acme.test", "a_b@acme.test"]);
      const second = await list(`q=a&limit=2&cursor=${first.next}`);
      assert.deepEqual(names(second.users), ["ann.lee@acme.test"]);
      assert.equal(second.next, null);
    });

    it("takes LIKE wildcards in the search literally", async () => {
      assert.deepEqual(names((await list("q=a_")).users), ["a_b@acme.test"]);
      assert.deepEqual(names((await list("q=a%25")).users), ["a%b@acme.test"]);
    });

    it("filters by status: active, deactivated, invited (never signed in)", async () => {
      const deactivated = await list("status=deactivated");
      assert.deepEqual(names(deactivated.users), ["carl@acme.test"]);
      assert.equal(deactivated.users[0]!.status, "deactivated");
      const invited = await list("status=invited");
      assert.deepEqual(names(invited.users), ["ivy@acme.test"]);
      assert.equal(invited.users[0]!.email, "ivy@acme.test");
      const active = names((await list("status=active")).users);
      assert.ok(active.includes("ian@acme.test"), "an invited user who signed in is active");
      assert.ok(!active.includes("ivy@acme.test") && !active.includes("carl@acme.test"));
      assert.equal(active.length, 7);
      // Filters combine with search and paging.
      assert.deepEqual(names((await list("status=active&q=a")).users), [
        "a%b@acme.test",
        "a_b@acme.test",
        "ann.lee@acme.test",
      ]);
      const first = await list("status=active&limit=2");
      assert.deepEqual(names((await list(`status=active&limit=2&cursor=${first.next}`)).users), [
        "ann.lee@acme.test",
        "Bob@acme.test",
      ]);
    });

    it("never lists or shows another tenant's users", async () => {
      assert.ok(!names((await list("q=ann")).users).includes("ann.other@acme.test"));
      const res = await t.a.get(`${base}/${ids.otherUser}`).expect(404);
      assert.equal(res.body.error.code, "USER_NOT_FOUND");
      assert.deepEqual(names((await other.a.get("/admin/v1/tenants/other/users").expect(200)).body.users), [
        "ann.other@acme.test",
      ]);
      assert.equal(
        (await t.a.get("/admin/v1/tenants/nope/users").expect(404)).body.error.code,
        "TENANT_NOT_FOUND",
      );
    });

    it("shows a member with attributes, status and groups (direct and through nesting)", async () => {
      const engineering = await t.group("Engineering", [ids["ann.lee@acme.test"]!]);
      const parent = await t.group("Everyone");
      await t.scim
        .patch(`/Groups/${parent}`, patchOp({ op: "add", path: "members", value: [{ value: engineering }] }))
        .expect(204);
      const res = await t.a.get(`${base}/${ids["ann.lee@acme.test"]}`).expect(200);
      assert.equal(res.body.userName, "ann.lee@acme.test");
      assert.equal(res.body.displayName, "Ann Lee");
      assert.equal(res.body.status, "active");
      assert.equal(res.body.attributes.emails[0].value, "Ann.Lee@acme.test");
      assert.deepEqual(res.body.groups, [
        { id: engineering, displayName: "Engineering", direct: true },
        { id: parent, displayName: "Everyone", direct: false },
      ]);
      assert.equal((await t.a.get(`${base}/${ids.invited}`).expect(200)).body.status, "invited");
      assert.equal((await t.a.get(`${base}/nope`).expect(404)).body.error.code, "USER_NOT_FOUND");
    });

    it("an invitation's explicit role is a manual grant the role sync keeps", async () => {
      await ctx.deps.driver.start();
      const id = (await t.a.post(base, { userName: "boss@acme.test", roles: ["admin"] }).expect(201)).body.id;
      const plain = (await t.a.post(base, { userName: "plain@acme.test" }).expect(201)).body.id;
      await t.waitKeys(id, "admin");
      await t.waitKeys(plain, "member");
      assert.deepEqual(
        (await t.roles(id)).map((r) => `${r.key}:${r.source}`),
        ["admin:manual"],
      );
      assert.deepEqual(
        (await t.roles(plain)).map((r) => `${r.key}:${r.source}`),
        ["member:default"],
      );
      await ctx.deps.driver.stop(5000);
    });

    it("refuses bad queries with 400 VALIDATION_FAILED naming the field", async () => {
      for (const [query, field] of [
        ["status=gone", "status"],
        ["limit=0", "limit"],
        ["limit=201", "limit"],
        ["limit=x", "limit"],
        ["cursor=%21%21", "cursor"],
        ["cursor=Zm9v_", "cursor"],
        [`q=${"x".repeat(513)}`, "q"],
        ["sort=name", "sort"],
        ["q=a&q=b", "q"],
      ] as const) {
        const res = await t.a.get(`${base}?${query}`).expect(400);
        assert.equal(res.body.error.code, "VALIDATION_FAILED", query);
        assert.equal(res.body.error.details[0].field, field, query);
      }
      assert.equal((await t.a.get(`${base}?q=a%00`)).status, 400);
    });
  });
}
