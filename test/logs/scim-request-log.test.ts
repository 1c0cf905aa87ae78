import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  admin,
  allBackends,
  createTenantWithToken,
  createTestContext,
  patchOp,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";
import { databaseText } from "../helpers/db-text.js";

// Issue 18: the SCIM request log. Every request of a tenant is recorded with what it touched and
// produced; bodies of writes are kept redacted and cut, bodies of reads not at all.
const ENTRA_UA = "Azure-AD-SCIM-Provisioning/1.0";
const CORE = "urn:ietf:params:scim:schemas:core:2.0:User";

for (const backend of allBackends()) {
  describe(`SCIM request log [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let a: ReturnType<typeof admin>;
    let scim: ReturnType<typeof scimClient>;
    let other: ReturnType<typeof scimClient>;
    before(async () => {
      ctx = await createTestContext(backend);
      a = admin(ctx);
      scim = scimClient(ctx, (await createTenantWithToken(ctx, "logged")).token);
      other = scimClient(ctx, (await createTenantWithToken(ctx, "elsewhere")).token);
    });
    after(async () => ctx.close());

    const list = async (query = "") =>
      (await a.get(`/admin/v1/tenants/logged/scim-requests${query}`).expect(200)).body;
    const one = async (id: string) =>
      (await a.get(`/admin/v1/tenants/logged/scim-requests/${id}`).expect(200)).body;

    it("a create is logged with its token, client, status, resource, events and redacted bodies", async () => {
      const pw = `Pw-${Math.random().toString(36).slice(2)}`;
      const created = await scim
        .post("/Users", userBody("ada@logged.test", { password: pw, displayName: "Ada" }))
        .set("User-Agent", ENTRA_UA)
        .set("X-Request-Id", "req-create-ada")
        .expect(201);
      const { requests } = await list("?method=POST");
      const entry = requests.find((r: { requestId: string }) => r.requestId === "req-create-ada");
      assert.ok(entry, "the create is in the log");
      assert.equal(entry.status, 201);
      assert.equal(entry.path, "/scim/v2/Users");
      assert.equal(entry.tokenName, "test");
      assert.equal(entry.userAgent, ENTRA_UA);
      assert.equal(entry.subject, "ada@logged.test");
      assert.deepEqual(entry.resourceIds, [created.body.id]);
      const events = await ctx.deps.db("events").where({ type: "user.created" }).select("seq", "data");
      const seq = events.find((e) => JSON.stringify(e.data).includes(created.body.id))!.seq;
      assert.deepEqual(entry.eventIds, [Number(seq)]);
      assert.ok(entry.durationMs >= 0);
      assert.equal(entry.requestBody, undefined, "the list carries no bodies");
      const full = await one(entry.id);
      assert.equal(full.requestBody.password, "[redacted]");
      assert.equal(full.requestBody.userName, "ada@logged.test");
      assert.equal(full.responseBody.id, created.body.id);
    });

    it("a password set by PATCH is nowhere in the log or the database", async () => {
      const created = await scim.post("/Users", userBody("pw@logged.test")).expect(201);
      const secrets = [1, 2, 3, 4, 5, 6].map((i) => `Secret${i}-${Math.random().toString(36).slice(2)}`);
      await scim
        .patch(
          `/Users/${created.body.id}`,
          patchOp(
            { op: "replace", path: "password", value: secrets[0] },
            { op: "replace", path: `${CORE}:password`, value: secrets[1] },
            { op: "replace", value: { PassWord: secrets[2], displayName: "Pat" } },
            // Keys in another case, as the PATCH engine accepts them (RFC 7643 §2.1).
            { Op: "Replace", Path: "password", Value: secrets[4] },
          ),
        )
        .expect(200);
      // A Bulk PATCH carries it one level deeper.
      await scim
        .post("/Bulk", {
          schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
          Operations: [
            {
              method: "PATCH",
              path: `/Users/${created.body.id}`,
              data: patchOp({ op: "replace", path: "password", value: secrets[3] }),
            },
            {
              method: "PATCH",
              path: `/Users/${created.body.id}`,
              data: patchOp({ OP: "replace", PATH: "Password", VALUE: secrets[5] }),
            },
          ],
        })
        .expect(200);
      const { requests } = await list(`?resource=${created.body.id}&method=PATCH`);
      assert.equal(requests.length, 1);
      const full = await one(requests[0].id);
      assert.equal(full.requestBody.Operations[0].value, "[redacted]");
      assert.equal(full.requestBody.Operations[1].value, "[redacted]");
      assert.deepEqual(full.requestBody.Operations[2].value, { PassWord: "[redacted]", displayName: "Pat" });
      assert.equal(full.requestBody.Operations[3].Value, "[redacted]");
      await ctx.deps.scimLog.flush();
      const text = await databaseText(ctx.deps.db);
      for (const s of secrets) {
        assert.ok(!text.includes(s), `secret ${s} stored`);
        assert.ok(!ctx.logs.join("").includes(s), `secret ${s} in the logs`);
      }
    });

    it("reads are logged without bodies and found by the userName they looked up", async () => {
      const filter = encodeURIComponent('userName eq "Lookup@Logged.test"');
      await scim.get(`/Users?filter=${filter}`).expect(200);
      const { requests } = await list("?q=lookup@logged");
      assert.equal(requests.length, 1);
      assert.equal(requests[0].method, "GET");
      const full = await one(requests[0].id);
      assert.equal(full.requestBody, null);
      assert.equal(full.responseBody, null);
    });

    it("errors carry scimType and detail, and filter by status class", async () => {
      await scim.post("/Users", userBody("dup@logged.test")).expect(201);
      await scim.post("/Users", userBody("dup@logged.test")).expect(409);
      await scim.get("/Users/no-such-user").expect(404);
      const { requests } = await list("?status=4xx");
      assert.ok(requests.length >= 2);
      assert.ok(requests.every((r: { status: number }) => r.status >= 400 && r.status < 500));
      const conflict = requests.find((r: { status: number }) => r.status === 409);
      assert.equal(conflict.scimType, "uniqueness");
      assert.match(conflict.detail, /already in use/);
      const notFound = (await list("?status=404")).requests;
      assert.equal(notFound.length, 1);
      assert.match(notFound[0].detail, /not found/i);
      // A body that is not JSON is logged too (refused before any route ran).
      await scim
        .post("/Users", undefined)
        .set("Content-Type", "application/scim+json")
        .send("{not json")
        .expect(400);
      const invalid = (await list("?status=400")).requests[0];
      assert.equal(invalid.scimType, "invalidSyntax");
    });

    it("a group PATCH lists the group and the members it added, and the events", async () => {
      const u = await scim.post("/Users", userBody("member@logged.test")).expect(201);
      const g = await scim.post("/Groups", { displayName: "Logged group" }).expect(201);
      await scim
        .patch(`/Groups/${g.body.id}`, patchOp({ op: "add", path: "members", value: [{ value: u.body.id }] }))
        .expect(204);
      const byUser = (await list(`?resource=${u.body.id}`)).requests;
      const patch = byUser.find((r: { method: string }) => r.method === "PATCH");
      assert.ok(patch, "the group PATCH is found by the member it added");
      assert.ok(patch.resourceIds.includes(g.body.id));
      const added = await ctx.deps.db("events").where({ type: "group.user_added" }).select("seq");
      assert.deepEqual(
        patch.eventIds,
        added.map((e) => Number(e.seq)),
      );
    });

    it("long values and long member lists are cut", async () => {
      const long = "x".repeat(5000);
      const g = await scim
        .post("/Groups", { displayName: "Big", externalId: long.slice(0, 200), description: long })
        .expect((r) => assert.ok(r.status < 500));
      const members = Array.from({ length: 120 }, (_, i) => ({ value: `missing-${i}` }));
      await scim.post("/Groups", { displayName: "Many", members });
      const { requests } = await list("?method=POST&limit=5");
      const full = await one(requests[0].id);
      const kept = full.requestBody.members as unknown[];
      assert.equal(kept.length, 51);
      assert.equal(kept[50], "…(+70 more)");
      if (g.status === 201) {
        const big = await one(requests[1].id);
        assert.ok(JSON.stringify(big.requestBody).length < 1000, "the 5,000-character value was cut");
      }
    });

    it("pages newest first with a cursor", async () => {
      for (const n of [1, 2, 3]) await scim.get(`/Users?count=${n}`).expect(200);
      const first = await list("?method=GET&limit=2");
      assert.equal(first.requests.length, 2);
      assert.ok(Number(first.requests[0].id) > Number(first.requests[1].id));
      assert.ok(first.next);
      const second = await list(`?method=GET&limit=2&before=${first.next}`);
      assert.ok(second.requests.every((r: { id: string }) => Number(r.id) < Number(first.next)));
      const newer = await list(`?method=GET&after=${second.requests[0].id}`);
      assert.ok(newer.requests.some((r: { id: string }) => r.id === first.requests[0].id));
    });

    it("another tenant's log is not visible and bad queries are 400", async () => {
      await other.get("/Users").set("X-Request-Id", "req-elsewhere").expect(200);
      const mine = (await list("?limit=200")).requests;
      assert.ok(!mine.some((r: { requestId: string }) => r.requestId === "req-elsewhere"));
      const theirs = (await a.get("/admin/v1/tenants/elsewhere/scim-requests").expect(200)).body.requests;
      const id = theirs.find((r: { requestId: string }) => r.requestId === "req-elsewhere").id;
      await a.get(`/admin/v1/tenants/logged/scim-requests/${id}`).expect(404);
      await a.get(`/admin/v1/tenants/logged/scim-requests/not-a-number`).expect(404);
      for (const q of ["status=abc", "limit=0", "method=TRACE", "before=yesterday", "nope=1"])
        await a.get(`/admin/v1/tenants/logged/scim-requests?${q}`).expect(400);
      await a.get("/admin/v1/tenants/nobody/scim-requests").expect(404);
    });
  });

  describe(`SCIM request log modes [${backend.name}]`, { skip: backend.skip }, () => {
    for (const mode of ["errors", "off"] as const) {
      it(`ROSTER_SCIM_LOG=${mode}`, async () => {
        const ctx = await createTestContext(backend, { env: { ROSTER_SCIM_LOG: mode } });
        try {
          const scim = scimClient(ctx, (await createTenantWithToken(ctx, "modes")).token);
          await scim.post("/Users", userBody("ok@modes.test")).expect(201);
          await scim.get("/Users/missing").expect(404);
          const { requests } = (await admin(ctx).get("/admin/v1/tenants/modes/scim-requests").expect(200))
            .body;
          assert.deepEqual(
            requests.map((r: { status: number }) => r.status),
            mode === "errors" ? [404] : [],
          );
        } finally {
          await ctx.close();
        }
      });
    }
  });
}
