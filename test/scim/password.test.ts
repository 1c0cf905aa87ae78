import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as m0008 from "../../migrations/0008-input-hardening.js";
import {
  backends,
  createTenantWithToken,
  createTestContext,
  patchOp,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";

// Issue 14 item 1: a password an IdP sends is accepted and discarded, on every path and in every
// form; nothing of it reaches the users row, the event log or the logs. Each case reads the row.
const CORE = "urn:ietf:params:scim:schemas:core:2.0:User";
const BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

let serial = 0;
/** A secret no other value in the database can contain by accident. */
const secret = () => `S3cret-${process.pid}-${++serial}-${Math.random().toString(36).slice(2)}`;

for (const backend of backends()) {
  describe(`SCIM passwords are never stored [${backend.name}]`, () => {
    let ctx: TestContext;
    let scim: ReturnType<typeof scimClient>;
    let tenantId: string;
    before(async () => {
      ctx = await createTestContext(backend);
      const t = await createTenantWithToken(ctx, "pw");
      tenantId = t.tenantId;
      scim = scimClient(ctx, t.token);
    });
    after(async () => ctx.close());

    /** The user's row as stored, and proof that the secret is nowhere in the database's text. */
    async function assertNotStored(id: string, value: string) {
      const row = await ctx.deps.db("users").where({ tenant_id: tenantId, id }).first();
      assert.ok(row, "user row exists");
      const resource = JSON.parse(row.resource);
      const keys = Object.keys(resource).filter((k) => /password/i.test(k));
      assert.deepEqual(keys, [], `password keys in users.resource: ${row.resource}`);
      assert.ok(!JSON.stringify(row).includes(value), `secret in the users row: ${JSON.stringify(row)}`);
      const events = await ctx.deps.db("events").where({ tenant_id: tenantId }).select("data");
      assert.ok(!JSON.stringify(events).includes(value), "secret in the event log");
      assert.ok(!ctx.logs.join("").includes(value), "secret in the logs");
    }

    async function create(name: string, extra: Record<string, unknown> = {}) {
      const res = await scim.post("/Users", userBody(`${name}@pw.test`, extra)).expect(201);
      return res.body.id as string;
    }

    it("POST with a bare password: 201, not stored", async () => {
      const pw = secret();
      const id = await create("post-bare", { password: pw });
      await assertNotStored(id, pw);
    });

    it("POST with the key in another casing: 201, not stored", async () => {
      const pw = secret();
      const id = await create("post-case", { PassWord: pw });
      await assertNotStored(id, pw);
    });

    it("POST with the URN-qualified key: 201, not stored", async () => {
      const pw = secret();
      const id = await create("post-urn", { [`${CORE}:password`]: pw });
      await assertNotStored(id, pw);
    });

    it("POST with the password inside a core schema object: 201, not stored", async () => {
      const pw = secret();
      const id = await create("post-core-object", { [CORE]: { password: pw } });
      await assertNotStored(id, pw);
    });

    it("PUT with a bare and with a URN-qualified password: 200, not stored", async () => {
      const id = await create("put");
      const a = secret();
      await scim.put(`/Users/${id}`, userBody("put@pw.test", { password: a })).expect(200);
      await assertNotStored(id, a);
      const b = secret();
      await scim.put(`/Users/${id}`, userBody("put@pw.test", { [`${CORE}:Password`]: b })).expect(200);
      await assertNotStored(id, b);
    });

    for (const path of [
      "password",
      "PASSWORD",
      "Password",
      `${CORE}:password`,
      `${CORE.toUpperCase()}:PASSWORD`,
    ]) {
      for (const op of ["replace", "add", "Replace"]) {
        it(`PATCH ${op} path ${path}: 200, not stored`, async () => {
          const id = await create(
            `patch-${op}-${path.length}-${path.charCodeAt(path.length - 1)}-${++serial}`,
          );
          const pw = secret();
          const res = await scim.patch(`/Users/${id}`, patchOp({ op, path, value: pw })).expect(200);
          assert.equal(res.body.password, undefined);
          await assertNotStored(id, pw);
        });
      }
    }

    for (const [label, value] of [
      ["bare key", (pw: string) => ({ password: pw })],
      ["capitalised key", (pw: string) => ({ Password: pw })],
      ["URN-qualified key", (pw: string) => ({ [`${CORE}:password`]: pw })],
      ["core schema object", (pw: string) => ({ [CORE]: { password: pw } })],
    ] as const) {
      it(`PATCH without a path, ${label} in the value object: 200, not stored`, async () => {
        const id = await create(`nopath-${label.replace(/\W/g, "")}`);
        const pw = secret();
        await scim
          .patch(`/Users/${id}`, patchOp({ op: "replace", value: { displayName: "Changed", ...value(pw) } }))
          .expect(200);
        await assertNotStored(id, pw);
        const row = await ctx.deps.db("users").where({ id }).first();
        assert.equal(row.display_name, "Changed", "the rest of the operation still applies");
      });
    }

    it("a PATCH that only sets a password is a no-op: no new version, no event", async () => {
      const id = await create("noop");
      const before = await ctx.deps.db("users").where({ id }).first();
      const events = await ctx.deps.db("events").where({ tenant_id: tenantId }).count({ n: "*" });
      const pw = secret();
      const res = await scim.patch(`/Users/${id}`, patchOp({ op: "replace", path: "password", value: pw }));
      assert.equal(res.status, 200);
      assert.equal(res.headers.etag, `W/"${before.version}"`);
      const after = await ctx.deps.db("events").where({ tenant_id: tenantId }).count({ n: "*" });
      assert.equal(Number(after[0].n), Number(events[0].n));
      await assertNotStored(id, pw);
    });

    it("a password that is not a string is still refused (400 invalidValue)", async () => {
      const res = await scim.post("/Users", userBody("badpw@pw.test", { password: 42 })).expect(400);
      assert.equal(res.body.scimType, "invalidValue");
      const id = await create("badpw-patch");
      const p = await scim.patch(`/Users/${id}`, patchOp({ op: "replace", path: "password", value: ["x"] }));
      assert.equal(p.status, 400);
      assert.equal(p.body.scimType, "invalidValue");
    });

    it("Bulk POST and PATCH with passwords: not stored", async () => {
      const a = secret();
      const b = secret();
      const res = await scim
        .post("/Bulk", {
          schemas: [BULK],
          Operations: [
            {
              method: "POST",
              bulkId: "u1",
              path: "/Users",
              data: userBody("bulk@pw.test", { password: a, [`${CORE}:password`]: a }),
            },
            {
              method: "PATCH",
              path: "/Users/bulkId:u1",
              data: patchOp(
                { op: "replace", path: `${CORE}:password`, value: b },
                { op: "add", value: { password: b } },
              ),
            },
          ],
        })
        .expect(200);
      assert.deepEqual(
        res.body.Operations.map((o: { status: string }) => o.status),
        ["201", "200"],
      );
      const id = res.body.Operations[0].location.split("/").pop();
      await assertNotStored(id, a);
      await assertNotStored(id, b);
    });

    it("ServiceProviderConfig keeps changePassword unsupported", async () => {
      const res = await scim.get("/ServiceProviderConfig").expect(200);
      assert.equal(res.body.changePassword.supported, false);
    });

    it("migration 0008 removes passwords stored by earlier versions, and nothing else", async () => {
      const id = await create("legacy", { displayName: "Legacy", title: "password manager" });
      const row = await ctx.deps.db("users").where({ id }).first();
      const pw = secret();
      const legacy = { ...JSON.parse(row.resource), password: pw, [`${CORE}:Password`]: pw };
      await ctx.deps
        .db("users")
        .where({ id })
        .update({ resource: JSON.stringify(legacy) });
      // Run 0008 itself again (later migrations exist: rolling back only the last would not reach it).
      await m0008.up(ctx.deps.db);
      const after = await ctx.deps.db("users").where({ id }).first();
      assert.deepEqual(JSON.parse(after.resource), JSON.parse(row.resource));
      assert.equal(after.version, row.version, "the visible document did not change: same version");
      await assertNotStored(id, pw);
    });
  });
}
