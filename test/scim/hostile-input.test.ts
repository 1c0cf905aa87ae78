import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  GROUP_LIMITS,
  SCIM_MULTI_VALUE_LIMIT,
  SCIM_STRING_LIMIT,
  USER_LIMITS,
} from "../../src/directory/limits.js";
import { type AttributeDef, SCHEMAS } from "../../src/scim/schema-info.js";
import {
  backends,
  createTenantWithToken,
  createTestContext,
  patchOp,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";

// Issue 14 item 16 / issue 20: hostile characters and over-long values in every SCIM string
// attribute and filter answer the same precise 400 on SQLite and PostgreSQL (PostgreSQL refused
// NUL and over-long column values with a 500 where SQLite stored them), and the limits hold
// exactly: a value at the limit is stored whole on both.
const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/** A writable string attribute of a User: where it goes in a body and its limit. */
interface StringAttr {
  /** Display path: userName, name.givenName, emails.type, <ENT>:manager.value … */
  label: string;
  /** The body fragment holding `v` at this attribute (merged into a User body). */
  fragment: (v: string) => Record<string, unknown>;
  /** PATCH path and value that set it. */
  patch: (v: string) => { path: string; value: unknown };
  limit: number;
  /** How to read it back from the stored document (undefined: not stored, e.g. password). */
  read?: (doc: any) => unknown;
}

const writable = (a: AttributeDef) => a.mutability === "readWrite" || a.mutability === "writeOnly";
const isString = (a: AttributeDef) => ["string", "reference", "binary"].includes(a.type);
const userLimit = (label: string) => (USER_LIMITS as Record<string, number>)[label] ?? SCIM_STRING_LIMIT;

/** Every writable string attribute and sub-attribute of User and the enterprise extension. */
function userStringAttributes(): StringAttr[] {
  const out: StringAttr[] = [
    {
      label: "externalId",
      fragment: (v) => ({ externalId: v }),
      patch: (v) => ({ path: "externalId", value: v }),
      limit: USER_LIMITS.externalId,
      read: (d) => d.externalId,
    },
  ];
  for (const [schema, wrap] of [
    [USER, (o: Record<string, unknown>) => o],
    [ENT, (o: Record<string, unknown>) => ({ [ENT]: o })],
  ] as const) {
    const prefix = schema === ENT ? `${ENT}:` : "";
    const within = (d: any) => (schema === ENT ? d[ENT] : d);
    for (const a of SCHEMAS[schema].attributes) {
      if (!writable(a) || a.name === "userName") continue;
      if (isString(a)) {
        out.push({
          label: `${prefix}${a.name}`,
          fragment: (v) => wrap({ [a.name]: v }),
          patch: (v) => ({ path: `${prefix}${a.name}`, value: v }),
          limit: userLimit(a.name),
          read: a.mutability === "writeOnly" ? undefined : (d) => within(d)?.[a.name],
        });
        continue;
      }
      for (const sub of a.subAttributes ?? []) {
        if (!isString(sub) || !writable(sub)) continue;
        const label = `${a.name}.${sub.name}`;
        // A multi-valued item needs its "value" to become an e-mail row (and a column check).
        const hasValue = (a.subAttributes ?? []).some((x) => x.name === "value");
        const item = (v: string) => ({
          ...(sub.name === "value" || !hasValue ? {} : { value: "v@example.com" }),
          [sub.name]: v,
        });
        out.push({
          label: `${prefix}${label}`,
          fragment: (v) => wrap({ [a.name]: a.multiValued ? [item(v)] : { [sub.name]: v } }),
          patch: (v) => ({
            path: `${prefix}${a.name}`,
            value: a.multiValued ? [item(v)] : { [sub.name]: v },
          }),
          limit: userLimit(label),
          read: (d) => {
            const x = within(d)?.[a.name];
            return a.multiValued ? x?.[0]?.[sub.name] : x?.[sub.name];
          },
        });
      }
    }
  }
  return out;
}

const ATTRS = userStringAttributes();
let unique = 0;
const nextName = () => `u${process.pid}-${++unique}@example.com`;

for (const backend of backends()) {
  describe(`SCIM hostile strings and limits, every User attribute [${backend.name}]`, () => {
    let ctx: TestContext;
    let scim: ReturnType<typeof scimClient>;
    let tenantId: string;
    before(async () => {
      ctx = await createTestContext(backend);
      const t = await createTenantWithToken(ctx, "hostile");
      tenantId = t.tenantId;
      scim = scimClient(ctx, t.token);
    });
    after(async () => ctx.close());

    const userCount = async () =>
      Number((await ctx.deps.db("users").where({ tenant_id: tenantId }).count({ n: "*" }))[0].n);

    async function refused(res: { status: number; body: any }, scimType: string, mention?: string) {
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.status, "400");
      assert.equal(res.body.scimType, scimType, res.body.detail);
      if (mention) assert.ok(res.body.detail.includes(mention), `'${mention}' in: ${res.body.detail}`);
    }

    it("the list covers every writable string attribute of User and the enterprise extension", () => {
      const labels = ATTRS.map((a) => a.label);
      for (const expected of [
        "name.givenName",
        "emails.type",
        "addresses.postalCode",
        "x509Certificates.value",
        "password",
        `${ENT}:manager.value`,
        `${ENT}:employeeNumber`,
        "profileUrl",
      ])
        assert.ok(labels.includes(expected), expected);
      assert.equal(labels.length, 51, labels.join(" "));
    });

    it("userName: NUL, unpaired surrogates and over-long values are 400 invalidValue; 512 characters fit", async () => {
      const before = await userCount();
      for (const bad of [
        "ann\u0000@example.com",
        "ann\ud800@example.com",
        "\udc00ann@example.com",
        "\ud83d",
      ]) {
        await refused(await scim.post("/Users", userBody(bad)), "invalidValue", "userName");
      }
      await refused(await scim.post("/Users", userBody("a".repeat(513))), "invalidValue", "512");
      // Lower-cased, 512 × "İ" (U+0130) is 1,024 characters: the normalised column could not hold it.
      await refused(await scim.post("/Users", userBody("İ".repeat(512))), "invalidValue", "512");
      assert.equal(await userCount(), before, "nothing was written");
      const name = `${"b".repeat(500)}@ex.io`.slice(0, 512);
      const ok = await scim.post("/Users", userBody(name)).expect(201);
      const row = await ctx.deps.db("users").where({ id: ok.body.id }).first();
      assert.equal(row.user_name, name);
      // Characters are code points (what PostgreSQL's varchar counts): 512 emoji are 1,024 UTF-16 units.
      const emoji = "😀".repeat(512);
      const e = await scim.post("/Users", userBody(emoji)).expect(201);
      assert.equal((await ctx.deps.db("users").where({ id: e.body.id }).first()).user_name, emoji);
      await refused(await scim.post("/Users", userBody(`${emoji}x`)), "invalidValue", "512");
    });

    it("a userName of 257–512 characters can be deactivated (PATCH and PUT), offboarded and deleted", async () => {
      for (const [i, length] of [257, 400, 512].entries()) {
        const name = `${String(i).repeat(length - 7)}@ex.com`;
        const id = (await scim.post("/Users", userBody(name)).expect(201)).body.id;
        await scim
          .patch(`/Users/${id}`, patchOp({ op: "replace", path: "active", value: "False" }))
          .expect(200);
        const receipt = await ctx.deps.db("revocations").where({ tenant_id: tenantId, user_id: id }).first();
        assert.equal(receipt.user_name, name);
        await scim.patch(`/Users/${id}`, patchOp({ op: "replace", path: "active", value: true })).expect(200);
        await scim.put(`/Users/${id}`, userBody(name, { active: false })).expect(200);
        await scim.delete(`/Users/${id}`).expect(204);
        assert.equal(
          Number((await ctx.deps.db("revocations").where({ user_id: id }).count({ n: "*" }))[0].n),
          3,
          "three receipts (PATCH, PUT, DELETE), each holding the whole userName",
        );
      }
    });

    for (const attr of ATTRS) {
      it(`${attr.label}: NUL, unpaired surrogates, over ${attr.limit} characters → 400; at the limit → stored whole`, async () => {
        const before = await userCount();
        for (const bad of ["x\u0000y", "x\ud800y", "x\udfffy"]) {
          const res = await scim.post("/Users", userBody(nextName(), attr.fragment(bad)));
          await refused(res, "invalidValue", attr.label.split(".")[0].replace(`${ENT}:`, ""));
        }
        const long = "z".repeat(attr.limit + 1);
        await refused(
          await scim.post("/Users", userBody(nextName(), attr.fragment(long))),
          "invalidValue",
          String(attr.limit),
        );
        assert.equal(await userCount(), before, "no user was created");

        const atLimit = "y".repeat(attr.limit);
        const created = await scim.post("/Users", userBody(nextName(), attr.fragment(atLimit))).expect(201);
        const id = created.body.id;
        const row = await ctx.deps.db("users").where({ tenant_id: tenantId, id }).first();
        if (attr.read)
          assert.equal(attr.read({ ...JSON.parse(row.resource), externalId: row.external_id }), atLimit);

        // The same through PATCH: refused, the row untouched.
        for (const bad of ["p\u0000q", "p\udbffq", "w".repeat(attr.limit + 1)]) {
          const res = await scim.patch(`/Users/${id}`, patchOp({ op: "replace", ...attr.patch(bad) }));
          await refused(res, "invalidValue");
        }
        const after = await ctx.deps.db("users").where({ tenant_id: tenantId, id }).first();
        assert.equal(after.version, row.version);
        assert.equal(after.resource, row.resource);
      });
    }

    it(`a multi-valued attribute holds at most ${SCIM_MULTI_VALUE_LIMIT} values (was minutes of CPU, then a 500)`, async () => {
      const emails = (n: number, tag: string) =>
        Array.from({ length: n }, (_, i) => ({ value: `${tag}${i}@example.com`, type: "work" }));
      await refused(
        await scim.post("/Users", userBody(nextName(), { emails: emails(SCIM_MULTI_VALUE_LIMIT + 1, "a") })),
        "invalidValue",
        String(SCIM_MULTI_VALUE_LIMIT),
      );
      const ok = await scim.post(
        "/Users",
        userBody(nextName(), { emails: emails(SCIM_MULTI_VALUE_LIMIT, "b") }),
      );
      assert.equal(ok.status, 201);
      const rows = await ctx.deps.db("user_emails").where({ user_id: ok.body.id }).count({ n: "*" });
      assert.equal(Number(rows[0].n), SCIM_MULTI_VALUE_LIMIT);
      // One more through PATCH add (appends): refused, nothing changed.
      const res = await scim.patch(
        `/Users/${ok.body.id}`,
        patchOp({ op: "add", path: "emails", value: emails(1, "c") }),
      );
      await refused(res, "invalidValue", String(SCIM_MULTI_VALUE_LIMIT));
      const big = Array.from({ length: 15_000 }, (_, i) => ({ value: `r${i}` }));
      await refused(await scim.post("/Users", userBody(nextName(), { roles: big })), "invalidValue");
    });

    it("keys holding NUL or surrogates, and a PATCH path with one, are refused", async () => {
      const res = await scim.post("/Users", {
        schemas: [USER],
        "user\u0000Name": "k@example.com",
        userName: "k@example.com",
      });
      await refused(res, "invalidValue");
      const id = (await scim.post("/Users", userBody(nextName())).expect(201)).body.id;
      await refused(
        await scim.patch(`/Users/${id}`, patchOp({ op: "replace", path: "title\u0000", value: "x" })),
        "invalidPath",
      );
      await refused(
        await scim.patch(
          `/Users/${id}`,
          patchOp({ op: "replace", path: 'emails[type eq "w\\u0000"].value', value: "x" }),
        ),
        "invalidFilter",
      );
      await refused(
        await scim.patch(`/Users/${id}`, patchOp({ op: "replace", value: { "\ud800": "x" } })),
        "invalidValue",
      );
    });

    it("ids in the path: %00 is 400, a very long id is 404, on every method", async () => {
      for (const resource of ["Users", "Groups"]) {
        const replacement =
          resource === "Users" ? userBody("x@example.com") : { schemas: [GROUP], displayName: "x" };
        for (const [method, body] of [
          ["get", undefined],
          ["put", replacement],
          ["patch", patchOp({ op: "replace", path: "displayName", value: "x" })],
          ["delete", undefined],
        ] as const) {
          const bad = await (scim as any)[method](`/${resource}/abc%00def`, body);
          await refused(bad, "invalidValue", "NUL");
          const long = await (scim as any)[method](`/${resource}/${"d".repeat(4000)}`, body);
          assert.equal(long.status, 404, `${method} ${resource}: ${JSON.stringify(long.body)}`);
        }
      }
    });

    it("Bulk: a NUL anywhere refuses the request; an over-long value fails its operation only", async () => {
      const bulk = (Operations: unknown[]) => ({
        schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        Operations,
      });
      const before = await userCount();
      const nul = await scim.post(
        "/Bulk",
        bulk([
          { method: "POST", bulkId: "a", path: "/Users", data: userBody(nextName()) },
          { method: "POST", bulkId: "b\u0000", path: "/Users", data: userBody(nextName()) },
        ]),
      );
      await refused(nul, "invalidValue", "Operations.1.bulkId");
      assert.equal(await userCount(), before);
      const res = await scim
        .post(
          "/Bulk",
          bulk([
            {
              method: "POST",
              bulkId: "a",
              path: "/Users",
              data: userBody(nextName(), { displayName: "d".repeat(70_000) }),
            },
            { method: "POST", bulkId: "b", path: "/Users", data: userBody(nextName()) },
          ]),
        )
        .expect(200);
      assert.deepEqual(
        res.body.Operations.map((o: any) => [o.status, o.response?.scimType]),
        [
          ["400", "invalidValue"],
          ["201", undefined],
        ],
      );
    });
  });

  describe(`SCIM hostile strings and limits, Groups [${backend.name}]`, () => {
    let ctx: TestContext;
    let scim: ReturnType<typeof scimClient>;
    before(async () => {
      ctx = await createTestContext(backend);
      scim = scimClient(ctx, (await createTenantWithToken(ctx, "hostile-groups")).token);
    });
    after(async () => ctx.close());

    const group = (displayName: string, extra: Record<string, unknown> = {}) => ({
      schemas: [GROUP],
      displayName,
      ...extra,
    });

    for (const [label, fragment, limit] of [
      ["displayName", (v: string) => ({ displayName: v }), GROUP_LIMITS.displayName],
      [
        "externalId",
        (v: string) => ({ displayName: `g-${++unique}`, externalId: v }),
        GROUP_LIMITS.externalId,
      ],
    ] as const) {
      it(`${label}: NUL, surrogates, over ${limit} characters → 400 on POST, PUT and PATCH; ${limit} fit`, async () => {
        for (const bad of ["g\u0000", "g\ud800", "g".repeat(limit + 1)]) {
          const res = await scim.post("/Groups", { ...group(`base-${++unique}`), ...fragment(bad) });
          assert.equal(res.status, 400, JSON.stringify(res.body));
          assert.equal(res.body.scimType, "invalidValue");
        }
        const atLimit = "h".repeat(limit - 6) + String(100000 + ++unique);
        const ok = await scim
          .post("/Groups", { ...group(`base-${++unique}`), ...fragment(atLimit) })
          .expect(201);
        const row = await ctx.deps.db("groups").where({ id: ok.body.id }).first();
        assert.equal(label === "displayName" ? row.display_name : row.external_id, atLimit);
        for (const bad of ["g\u0000", "i".repeat(limit + 1)]) {
          const put = await scim.put(`/Groups/${ok.body.id}`, {
            ...group(`base-${++unique}`),
            ...fragment(bad),
          });
          assert.equal(put.status, 400, JSON.stringify(put.body));
          const patch = await scim.patch(
            `/Groups/${ok.body.id}`,
            patchOp({ op: "replace", path: label, value: bad }),
          );
          assert.equal(patch.status, 400, JSON.stringify(patch.body));
          assert.equal(patch.body.scimType, "invalidValue");
        }
        assert.equal((await ctx.deps.db("groups").where({ id: ok.body.id }).first()).version, row.version);
      });
    }

    it("members.value: NUL → 400; an unknown or very long id → 400 invalidValue, never 500", async () => {
      const id = (await scim.post("/Groups", group(`m-${++unique}`)).expect(201)).body.id;
      for (const value of ["a\u0000b", "a\udc00b"]) {
        const res = await scim.patch(
          `/Groups/${id}`,
          patchOp({ op: "add", path: "members", value: [{ value }] }),
        );
        assert.equal(res.status, 400);
        assert.equal(res.body.scimType, "invalidValue");
      }
      for (const value of ["x".repeat(5000), "no-such-id"]) {
        const res = await scim.patch(
          `/Groups/${id}`,
          patchOp({ op: "add", path: "members", value: [{ value }] }),
        );
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.scimType, "invalidValue");
        const post = await scim.post("/Groups", group(`m-${++unique}`, { members: [{ value }] }));
        assert.equal(post.status, 400);
      }
    });
  });

  describe(`SCIM hostile filters [${backend.name}]`, () => {
    let ctx: TestContext;
    let scim: ReturnType<typeof scimClient>;
    before(async () => {
      ctx = await createTestContext(backend);
      scim = scimClient(ctx, (await createTenantWithToken(ctx, "hostile-filters")).token);
      await scim
        .post(
          "/Users",
          userBody("anne@example.com", { emails: [{ value: "anne@example.com", type: "work" }] }),
        )
        .expect(201);
      await scim.post("/Groups", { schemas: [GROUP], displayName: "Staff" }).expect(201);
    });
    after(async () => ctx.close());

    const filtered = (resource: string, filter: string) =>
      scim.get(`/${resource}?filter=${encodeURIComponent(filter)}`);
    const invalidFilter = (res: { status: number; body: any }) => {
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.scimType, "invalidFilter", res.body.detail);
    };

    const USER_FILTER_ATTRS = [
      "userName",
      "externalId",
      "displayName",
      "name.givenName",
      "name.familyName",
      "emails.value",
      "emails.type",
      "emails",
      "id",
      "groups.value",
      "meta.created",
      "meta.lastModified",
    ];
    const GROUP_FILTER_ATTRS = ["displayName", "externalId", "id", "members.value", "members"];

    for (const [resource, attrs] of [
      ["Users", USER_FILTER_ATTRS],
      ["Groups", GROUP_FILTER_ATTRS],
    ] as const) {
      for (const attr of attrs) {
        it(`${resource} filter on ${attr}: NUL (raw or escaped) and unpaired surrogates → 400 invalidFilter; long values answer, never 500`, async () => {
          for (const op of ["eq", "co", "sw", "gt"]) {
            // %00 in the query string: refused before the filter is parsed.
            const raw = await scim.get(
              `/${resource}?filter=${encodeURIComponent(`${attr} ${op} "a`)}%00${encodeURIComponent('b"')}`,
            );
            invalidFilter(raw);
            // JSON escapes inside the filter's string literal.
            invalidFilter(await filtered(resource, `${attr} ${op} "a\\u0000b"`));
            invalidFilter(await filtered(resource, `${attr} ${op} "a\\ud800b"`));
            invalidFilter(await filtered(resource, `${attr} ${op} "\\udc00"`));
            // 4,000 characters (under the 4,096 filter limit): longer than any column, answered.
            const long = await filtered(resource, `${attr} ${op} "${"q".repeat(4000)}"`);
            if (attr.startsWith("meta."))
              invalidFilter(long); // not an ISO 8601 date-time
            else assert.equal(long.status, 200, JSON.stringify(long.body));
            if (op === "eq" && long.status === 200) assert.equal(long.body.totalResults, 0);
          }
          invalidFilter(await filtered(resource, `${attr} eq "${"q".repeat(4100)}"`));
          // The same in a SearchRequest body: a real NUL in the JSON string, and an escape.
          invalidFilter(await scim.post(`/${resource}/.search`, { filter: `${attr} eq "a\u0000b"` }));
          invalidFilter(await scim.post(`/${resource}/.search`, { filter: `${attr} eq "a\\ud800"` }));
          invalidFilter(await scim.post("/.search", { filter: `${attr} eq "\ud800"` }));
        });
      }
    }

    it("other query parameters with %00 are 400 invalidValue", async () => {
      for (const q of [
        "attributes=user%00Name",
        "sortBy=userName%00",
        "excludedAttributes=%00",
        "startIndex=1%00",
      ]) {
        const res = await scim.get(`/Users?${q}`);
        assert.equal(res.status, 400, q);
        assert.equal(res.body.scimType, "invalidValue");
      }
    });
  });
}
