import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AppError } from "../../src/http/errors.js";
import { createAdminKey } from "../../src/tenants/admin-keys.js";
import { TestIdp } from "../helpers/test-idp.js";
import {
  admin,
  backends,
  createTenantWithToken,
  createTestContext,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";

// Issue 14 item 16: every string the admin API accepts answers the same 400 on SQLite and
// PostgreSQL for NUL characters, unpaired surrogates and values longer than its column; integers
// bound for 32-bit columns too (PostgreSQL answered 500 where SQLite accepted).

/** One string field of an admin API body: where to send it and its limit in characters. */
interface Field {
  name: string;
  method: "post" | "put" | "patch";
  url: string;
  body: (v: string) => Record<string, unknown>;
  /** The field as the error names it. */
  field: string;
  limit: number;
  /** A value at the limit is accepted (then read back with `stored`). */
  fits?: boolean;
  stored?: (ctx: TestContext, v: string) => Promise<unknown>;
}

let n = 0;
const uniq = () => `${process.pid}-${++n}`;

for (const backend of backends()) {
  describe(`admin API: hostile strings, limits and integers [${backend.name}]`, () => {
    let ctx: TestContext;
    let a: ReturnType<typeof admin>;
    let userId: string;
    let webhookId: string;
    before(async () => {
      ctx = await createTestContext(backend);
      a = admin(ctx);
      const { token } = await createTenantWithToken(ctx, "adm");
      userId = (await scimClient(ctx, token).post("/Users", userBody("adm-user@example.com")).expect(201))
        .body.id;
      webhookId = (
        await a
          .post("/admin/v1/tenants/adm/webhooks", { url: "https://hooks.example.com/r", events: ["*"] })
          .expect(201)
      ).body.id;
      await a.post("/admin/v1/tenants/adm/roles", { key: "editor", name: "Editor" }).expect(201);
    });
    after(async () => ctx.close());

    const T = "/admin/v1/tenants";
    const FIELDS: Field[] = [
      {
        name: "tenant name",
        method: "post",
        url: T,
        body: (v) => ({ slug: `t-${uniq()}`, name: v }),
        field: "name",
        limit: 200,
        fits: true,
        stored: async (c, v) => (await c.deps.db("tenants").where({ name: v }).first())?.name,
      },
      {
        name: "tenant rename",
        method: "patch",
        url: `${T}/adm`,
        body: (v) => ({ name: v }),
        field: "name",
        limit: 200,
      },
      {
        name: "defaultRole",
        method: "patch",
        url: `${T}/adm`,
        body: (v) => ({ settings: { defaultRole: v } }),
        field: "settings.defaultRole",
        limit: 64,
      },
      {
        name: "SCIM token name",
        method: "post",
        url: `${T}/adm/scim-tokens`,
        body: (v) => ({ name: v }),
        field: "name",
        limit: 200,
        fits: true,
      },
      {
        name: "role name",
        method: "post",
        url: `${T}/adm/roles`,
        body: (v) => ({ key: `r${++n}`, name: v }),
        field: "name",
        limit: 200,
        fits: true,
        stored: async (c, v) => (await c.deps.db("roles").where({ name: v }).first())?.name,
      },
      {
        name: "role key",
        method: "post",
        url: `${T}/adm/roles`,
        body: (v) => ({ key: v, name: "R" }),
        field: "key",
        limit: 64,
      },
      {
        name: "role rename",
        method: "patch",
        url: `${T}/adm/roles/editor`,
        body: (v) => ({ name: v }),
        field: "name",
        limit: 200,
      },
      {
        name: "mapping externalId",
        method: "post",
        url: `${T}/adm/role-mappings`,
        body: (v) => ({ externalId: v, role: "member" }),
        field: "externalId",
        limit: 512,
      },
      {
        name: "mapping groupId",
        method: "post",
        url: `${T}/adm/role-mappings`,
        body: (v) => ({ groupId: v, role: "member" }),
        field: "groupId",
        limit: 64,
      },
      {
        name: "preview externalId",
        method: "post",
        url: `${T}/adm/role-mappings/preview`,
        body: (v) => ({ add: [{ externalId: v, role: "member" }] }),
        field: "add.0.externalId",
        limit: 512,
      },
      {
        name: "webhook url",
        method: "post",
        url: `${T}/adm/webhooks`,
        body: (v) => ({ url: `https://h.example.com/${v}`, events: ["*"] }),
        field: "url",
        limit: 2048 - "https://h.example.com/".length,
      },
      {
        name: "webhook events",
        method: "post",
        url: `${T}/adm/webhooks`,
        body: (v) => ({ url: "https://h.example.com/", events: [v] }),
        field: "events.0",
        limit: 64,
      },
      {
        name: "offboard reason",
        method: "post",
        url: "",
        body: (v) => ({ reason: v }),
        field: "reason",
        limit: 500,
      },
      {
        name: "offboard requestedBy",
        method: "post",
        url: "",
        body: (v) => ({ requestedBy: v }),
        field: "requestedBy",
        limit: 256,
      },
      {
        name: "invitation userName",
        method: "post",
        url: `${T}/adm/users`,
        body: (v) => ({ userName: v }),
        field: "userName",
        limit: 512,
        fits: true,
        stored: async (c, v) => (await c.deps.db("users").where({ user_name: v }).first())?.user_name,
      },
      {
        name: "invitation givenName",
        method: "post",
        url: `${T}/adm/users`,
        body: (v) => ({ userName: `inv-${uniq()}@example.com`, givenName: v }),
        field: "givenName",
        limit: 256,
        fits: true,
        stored: async (c, v) => (await c.deps.db("users").where({ given_name: v }).first())?.given_name,
      },
      {
        name: "invitation familyName",
        method: "post",
        url: `${T}/adm/users`,
        body: (v) => ({ userName: `inv-${uniq()}@example.com`, familyName: v }),
        field: "familyName",
        limit: 256,
        fits: true,
      },
      {
        name: "invitation displayName",
        method: "post",
        url: `${T}/adm/users`,
        body: (v) => ({ userName: `inv-${uniq()}@example.com`, displayName: v }),
        field: "displayName",
        limit: 512,
        fits: true,
        stored: async (c, v) => (await c.deps.db("users").where({ display_name: v }).first())?.display_name,
      },
      {
        name: "invitation externalId",
        method: "post",
        url: `${T}/adm/users`,
        body: (v) => ({ userName: `inv-${uniq()}@example.com`, externalId: v }),
        field: "externalId",
        limit: 512,
        fits: true,
      },
      {
        name: "invitation role",
        method: "post",
        url: `${T}/adm/users`,
        body: (v) => ({ userName: `inv-${uniq()}@example.com`, roles: [v] }),
        field: "roles.0",
        limit: 64,
      },
      {
        name: "OAuth client name",
        method: "post",
        url: `${T}/adm/oauth-clients`,
        body: (v) => ({ name: v, redirectUris: ["https://app.example.com/cb"] }),
        field: "name",
        limit: 200,
        fits: true,
      },
      {
        name: "SAML idpEntityId",
        method: "put",
        url: `${T}/adm/saml`,
        body: (v) => ({ idpEntityId: v, ssoUrl: "https://idp.example.com/sso", certificates: ["x"] }),
        field: "idpEntityId",
        limit: 1024,
      },
      {
        name: "SAML attribute mapping",
        method: "put",
        url: `${T}/adm/saml`,
        body: (v) => ({ attributeMapping: { email: v } }),
        field: "attributeMapping.email",
        limit: 512,
      },
    ];

    const send = (f: Field, v: string) => {
      const url = f.url || `${T}/adm/users/${userId}/offboard`;
      return a[f.method](url, f.body(v));
    };

    for (const f of FIELDS) {
      it(`${f.name}: NUL and unpaired surrogates → 400 naming ${f.field}; over ${f.limit} characters → 400`, async () => {
        for (const bad of ["a\u0000b", "a\ud800b", "\udfff"]) {
          const res = await send(f, bad);
          assert.equal(res.status, 400, `${JSON.stringify(bad)}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.error.code, "VALIDATION_FAILED");
          assert.equal(res.body.error.details[0].field, f.field);
          assert.match(res.body.error.message, /NUL|surrogate/);
        }
        const long = await send(f, "a".repeat(f.limit + 1));
        assert.equal(long.status, 400, JSON.stringify(long.body));
        assert.equal(long.body.error.code, "VALIDATION_FAILED");
        assert.ok(
          long.body.error.details.some((d: { field: string }) => d.field === f.field),
          JSON.stringify(long.body.error.details),
        );
        if (f.fits) {
          const v = `${uniq()}${"a".repeat(f.limit)}`.slice(0, f.limit);
          const ok = await send(f, v);
          assert.ok(ok.status === 200 || ok.status === 201, JSON.stringify(ok.body));
          if (f.stored) assert.equal(await f.stored(ctx, v), v);
        }
      });
    }

    it("an invitation whose userName grows past 512 characters when lower-cased → 400, not 500", async () => {
      const res = await a.post(`${T}/adm/users`, { userName: "İ".repeat(300) });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.code, "VALIDATION_FAILED");
      assert.equal(res.body.error.details[0].field, "userName");
    });

    it("path segments and query values with %00 → 400, on every kind of route", async () => {
      for (const url of [
        `${T}/ad%00m`,
        `${T}/adm/roles/edi%00tor`,
        `${T}/adm/webhooks/%00`,
        `${T}/adm/users/${userId}%00/roles`,
        `${T}/adm/sessions?userId=a%00b`,
        `${T}/adm/events?after=1%00`,
        "/admin/v1/jobs?tenant=adm%00",
        `${T}/adm/webhooks/${webhookId}/deliveries?state=pending%00`,
      ]) {
        const res = await a.get(url);
        assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, "VALIDATION_FAILED");
      }
      const del = await a.delete(`${T}/adm/sessions/a%00`);
      assert.equal(del.status, 400);
      const off = await a.post(`${T}/adm/users/a%00b/offboard?by=userName`, {});
      assert.equal(off.status, 400);
    });

    it("SAML metadata whose entity ID or SSO URL a column cannot hold → 400 naming metadataXml", async () => {
      const cases: Array<[string, string, RegExp]> = [
        [
          "long entity ID",
          new TestIdp(`https://idp.test/${"e".repeat(1100)}`).metadataXml(),
          /entity ID is longer than 1024/,
        ],
        [
          "long SSO URL",
          new TestIdp("https://idp.test/x", `https://idp.test/${"s".repeat(2100)}`).metadataXml(),
          /SSO URL is longer than 2048/,
        ],
        [
          "&#0; in the entity ID",
          new TestIdp("https://idp.test/NUL").metadataXml().replace("/NUL", "/&#0;"),
          // Refused by the XML pre-scan (a character XML 1.0 forbids) before the column check.
          /character reference XML does not allow \(&#0;\)/,
        ],
        [
          "&#xD800; in the entity ID",
          new TestIdp("https://idp.test/SUR").metadataXml().replace("/SUR", "/&#xD800;"),
          /character reference XML does not allow \(&#xD800;\)/,
        ],
      ];
      for (const [label, metadataXml, message] of cases) {
        const res = await a.put(`${T}/adm/saml`, { metadataXml });
        assert.equal(res.status, 400, `${label}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.details[0].field, "metadataXml");
        assert.match(res.body.error.message, message);
      }
      assert.equal(await ctx.deps.db("saml_connections").first(), undefined, "nothing was stored");
      const atLimit = new TestIdp(`https://idp.test/${"e".repeat(1024 - 17)}`);
      const ok = await a.put(`${T}/adm/saml`, { metadataXml: atLimit.metadataXml() });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal((await ctx.deps.db("saml_connections").first()).idp_entity_id, atLimit.entityId);
    });

    it("admin keys (the CLI's admin-key:create --name): over 200 characters or a NUL → 400, not a database error", async () => {
      for (const name of ["k".repeat(201), "a\u0000b", "a\ud800b", "   "]) {
        await assert.rejects(createAdminKey(ctx.deps.db, name, new Date()), (e: unknown) => {
          assert.ok(e instanceof AppError, String(e));
          assert.equal(e.status, 400);
          assert.equal(e.code, "VALIDATION_FAILED");
          return true;
        });
      }
      const name = "n".repeat(200);
      const key = await createAdminKey(ctx.deps.db, name, new Date());
      assert.equal((await ctx.deps.db("admin_keys").where({ id: key.id }).first()).name, name);
    });

    it("integers for 32-bit columns: priority, job and delivery ids, cursors → 400 or 404, never 500", async () => {
      for (const priority of [2 ** 31, 2 ** 40, -(2 ** 31), 1e300]) {
        const p = await a.patch(`${T}/adm/roles/editor`, { priority });
        assert.equal(p.status, 400, JSON.stringify(p.body));
        const c = await a.post(`${T}/adm/roles`, { key: `p${++n}`, name: "P", priority });
        assert.equal(c.status, 400);
      }
      for (const id of ["2147483648", "1099511627776", "1e300", "9".repeat(30), "-1"]) {
        const retry = await a.post(`/admin/v1/jobs/${id}/retry`);
        assert.equal(retry.status, 404, `${id}: ${JSON.stringify(retry.body)}`);
        assert.equal(retry.body.error.code, "FAILED_JOB_NOT_FOUND");
        const re = await a.post(`${T}/adm/webhooks/${webhookId}/deliveries/${id}/redeliver`);
        assert.equal(re.status, 404, `${id}: ${JSON.stringify(re.body)}`);
        assert.equal(re.body.error.code, "DELIVERY_NOT_FOUND");
      }
      for (const url of [
        "/admin/v1/jobs?before=2147483648",
        `${T}/adm/webhooks/${webhookId}/deliveries?before=1099511627776`,
      ]) {
        const res = await a.get(url);
        assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.details[0].field, "before");
      }
      const inRange = await a.get("/admin/v1/jobs?before=2147483647").expect(200);
      assert.deepEqual(inRange.body.jobs.length >= 0, true);
    });
  });
}
