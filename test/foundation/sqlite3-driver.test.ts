import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  createTenantWithToken,
  createTestContext,
  patchOp,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";

// The default SQLite driver is better-sqlite3; ROSTER_SQLITE_DRIVER=sqlite3 must work the same.
describe("the sqlite3 driver runs the same directory [sqlite]", () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext({ name: "sqlite" }, { env: { ROSTER_SQLITE_DRIVER: "sqlite3" } });
  });
  after(async () => ctx.close());

  it("provisions, groups, filters, patches and deletes", async () => {
    assert.equal(ctx.deps.db.client.config.client, "sqlite3");
    const s = scimClient(ctx, (await createTenantWithToken(ctx, "drv")).token);
    const u = await s
      .post("/Users", userBody("d@example.com", { emails: [{ value: "d@example.com" }] }))
      .expect(201);
    const g = await s.post("/Groups", { displayName: "D", members: [{ value: u.body.id }] }).expect(201);
    const found = await s
      .get(`/Users?filter=${encodeURIComponent('emails.value eq "D@EXAMPLE.COM"')}`)
      .expect(200);
    assert.equal(found.body.totalResults, 1);
    await s
      .patch(`/Users/${u.body.id}`, patchOp({ op: "replace", path: "active", value: false }))
      .expect(200);
    await s
      .patch(`/Groups/${g.body.id}`, patchOp({ op: "remove", path: `members[value eq "${u.body.id}"]` }))
      .expect(204);
    await s.delete(`/Users/${u.body.id}`).expect(204);
    const events = await ctx.deps.db("events").orderBy("seq").pluck("type");
    assert.deepEqual(events, [
      "user.created",
      "group.created",
      "group.user_added",
      "user.deactivated",
      "group.user_removed",
      "user.deleted",
    ]);
  });
});
