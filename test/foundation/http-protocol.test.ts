import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MAX_JSON_DEPTH } from "../../src/http/input-guard.js";
import {
  admin,
  backends,
  createTenantWithToken,
  createTestContext,
  patchOp,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";

// Issue 14 items 3 (JSON part), 9, 11 and 13: what every router answers to malformed URLs,
// out-of-range paging, the wrong method, the wrong media type and deeply nested JSON.
const BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";

/** `[[[…"x"…]]]` nested `depth` levels, as text (JSON.stringify itself overflows at ~10,000). */
const nestedArray = (depth: number) => `${"[".repeat(depth)}"x"${"]".repeat(depth)}`;
const nestedObject = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

for (const backend of backends()) {
  describe(`HTTP edges on every router [${backend.name}]`, () => {
    let ctx: TestContext;
    let scim: ReturnType<typeof scimClient>;
    let token: string;
    let userId: string;
    before(async () => {
      ctx = await createTestContext(backend);
      token = (await createTenantWithToken(ctx, "edges")).token;
      scim = scimClient(ctx, token);
      userId = (await scim.post("/Users", userBody("edge@example.com")).expect(201)).body.id;
    });
    after(async () => ctx.close());

    const auth = () => ({ Authorization: `Bearer ${token}` });
    const adminAuth = () => ({ Authorization: `Bearer ${ctx.adminToken}` });

    describe("item 9: a malformed percent-escape in the path is 400 in the router's own dialect", () => {
      it("SCIM: a SCIM error 400 (was 500)", async () => {
        for (const path of [
          "/Users/%E0%A4%A",
          "/Groups/%ZZ",
          "/Users/%",
          "/Users/%ED%A0%80",
          "/Schemas/%E0%A4%A",
        ]) {
          const res = await ctx.http.get(`/scim/v2${path}`).set(auth());
          assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
          assert.match(res.headers["content-type"], /application\/scim\+json/);
          assert.deepEqual(res.body.schemas, [SCIM_ERROR]);
          assert.equal(res.body.status, "400");
          assert.match(res.body.detail, /percent/);
        }
        const patch = await ctx.http
          .patch("/scim/v2/Users/%E0%A4%A")
          .set(auth())
          .set("Content-Type", "application/scim+json")
          .send(JSON.stringify(patchOp({ op: "replace", path: "active", value: false })));
        assert.equal(patch.status, 400);
      });

      it("admin API: the admin error shape", async () => {
        for (const path of [
          "/admin/v1/tenants/%E0%A4%A",
          "/admin/v1/tenants/edges/roles/%ZZ",
          "/admin/v1/jobs/%/retry",
        ]) {
          const res = await ctx.http.get(path).set(adminAuth());
          assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.error.code, "MALFORMED_URL");
        }
      });

      it("SSO and OAuth, health: 400, OAuth in RFC 6749's error shape", async () => {
        for (const path of ["/sso/%E0%A4%A/login", "/sso/edges%ZZ/metadata", "/sso/%/acs", "/healthz%ZZ"]) {
          const res = await ctx.http.get(path);
          assert.equal(res.status, 400, `${path}: ${res.text}`);
          assert.equal(res.body.error.code, "MALFORMED_URL");
        }
        const oauth = await ctx.http.get("/oauth/%E0%A4%A");
        assert.equal(oauth.status, 400);
        assert.deepEqual(Object.keys(oauth.body).sort(), ["error", "error_description"]);
        assert.equal(oauth.body.error, "invalid_request");
        const acs = await ctx.http.post("/sso/%E0%A4%A/acs").type("form").send({ SAMLResponse: "x" });
        assert.equal(acs.status, 400);
      });
    });

    describe("item 9: startIndex and count are safe integers", () => {
      it("beyond ±(2^53 - 1) → 400 invalidValue naming the parameter (1e300 was a 500)", async () => {
        for (const q of [
          "startIndex=1e300",
          "startIndex=-1e300",
          "count=1e300",
          "startIndex=9007199254740992",
          "count=-9007199254740992",
        ]) {
          for (const resource of ["Users", "Groups"]) {
            const res = await scim.get(`/${resource}?${q}`);
            assert.equal(res.status, 400, `${resource}?${q}: ${JSON.stringify(res.body)}`);
            assert.equal(res.body.scimType, "invalidValue");
            assert.match(res.body.detail, new RegExp(q.split("=")[0]));
          }
        }
        for (const body of [{ startIndex: 1e300 }, { count: 1e300 }, { startIndex: 2 ** 60 }]) {
          for (const url of ["/Users/.search", "/.search"]) {
            const res = await scim.post(url, body);
            assert.equal(res.status, 400, `${url} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
            assert.equal(res.body.scimType, "invalidValue");
          }
        }
      });

      it("within them, RFC 7644 §3.4.2.4 clamping: the largest startIndex is an empty page on both databases", async () => {
        const last = await scim.get(`/Users?startIndex=${Number.MAX_SAFE_INTEGER}`).expect(200);
        assert.equal(last.body.startIndex, Number.MAX_SAFE_INTEGER);
        assert.deepEqual(last.body.Resources, []);
        assert.equal(last.body.totalResults, 1);
        const zero = await scim.get("/Users?startIndex=-5&count=-3").expect(200);
        assert.equal(zero.body.startIndex, 1);
        assert.equal(zero.body.itemsPerPage, 0);
        const big = await scim.get(`/Users?count=${Number.MAX_SAFE_INTEGER}`).expect(200);
        assert.equal(big.body.itemsPerPage, 1);
        const search = await scim
          .post("/.search", { startIndex: Number.MAX_SAFE_INTEGER - 1, count: 5 })
          .expect(200);
        assert.deepEqual(search.body.Resources, []);
      });
    });

    describe("item 11: a wrong method on an existing path is 405 with Allow", () => {
      it("SCIM", async () => {
        for (const [method, path, allow] of [
          ["delete", "/Users", "GET, HEAD, POST"],
          ["put", "/Groups", "GET, HEAD, POST"],
          ["post", `/Users/${userId}`, "DELETE, GET, HEAD, PATCH, PUT"],
          ["get", "/Bulk", "POST"],
          ["delete", "/ServiceProviderConfig", "GET, HEAD"],
          ["patch", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "GET, HEAD"],
        ] as const) {
          const res = await (ctx.http as any)[method](`/scim/v2${path}`).set(auth());
          assert.equal(res.status, 405, `${method} ${path}: ${JSON.stringify(res.body)}`);
          assert.equal(res.headers.allow, allow);
          assert.deepEqual(res.body.schemas, [SCIM_ERROR]);
          assert.equal(res.body.status, "405");
        }
        // Unknown paths stay 404; /Me answers every method with 501.
        assert.equal((await ctx.http.get("/scim/v2/Nope").set(auth())).status, 404);
        assert.equal((await ctx.http.delete("/scim/v2/Me").set(auth())).status, 501);
        // Authentication first: no route information without a token.
        assert.equal((await ctx.http.delete("/scim/v2/Users")).status, 401);
      });

      it("admin API", async () => {
        for (const [method, path, allow] of [
          ["put", "/admin/v1/tenants", "GET, HEAD, POST"],
          ["post", "/admin/v1/tenants/edges", "DELETE, GET, HEAD, PATCH"],
          ["get", "/admin/v1/jobs/1/retry", "POST"],
          ["post", "/admin/v1/tenants/edges/roles/member", "DELETE, GET, HEAD, PATCH"],
          ["patch", "/admin/v1/tenants/edges/sessions", "DELETE, GET, HEAD"],
          ["get", "/admin/v1/tenants/edges/roles/recompute", "DELETE, GET, HEAD, PATCH"],
          ["delete", "/admin/v1/tenants/edges/saml/test", "POST"],
        ] as const) {
          const res = await (ctx.http as any)[method](path).set(adminAuth());
          if (path.endsWith("/roles/recompute")) {
            // GET /roles/recompute is the role named "recompute" (404 ROLE_NOT_FOUND), not a 405.
            assert.equal(res.status, 404, JSON.stringify(res.body));
            continue;
          }
          assert.equal(res.status, 405, `${method} ${path}: ${JSON.stringify(res.body)}`);
          assert.equal(res.headers.allow, allow);
          assert.equal(res.body.error.code, "METHOD_NOT_ALLOWED");
          assert.match(res.body.error.message, new RegExp(method.toUpperCase()));
        }
        assert.equal((await ctx.http.get("/admin/v1/nope").set(adminAuth())).status, 404);
        assert.equal((await ctx.http.put("/admin/v1/tenants")).status, 401);
      });

      it("SSO, OAuth and health routes", async () => {
        for (const [method, path, allow] of [
          ["post", "/sso/edges/login", "GET, HEAD"],
          ["get", "/sso/edges/acs", "POST"],
          ["put", "/sso/edges/metadata", "GET, HEAD"],
          ["get", "/sso/edges/logout", "POST"],
          ["get", "/oauth/token", "POST"],
          ["get", "/oauth/introspect", "POST"],
          ["post", "/oauth/jwks", "GET, HEAD"],
          ["delete", "/.well-known/openid-configuration", "GET, HEAD"],
          ["post", "/healthz", "GET, HEAD"],
        ] as const) {
          const res = await (ctx.http as any)[method](path);
          assert.equal(res.status, 405, `${method} ${path}: ${res.text}`);
          assert.equal(res.headers.allow, allow);
          if (path.startsWith("/oauth") || path.startsWith("/.well-known"))
            assert.equal(res.body.error, "invalid_request");
          else assert.equal(res.body.error.code, "METHOD_NOT_ALLOWED");
        }
        assert.equal((await ctx.http.get("/sso/edges/nope")).status, 404);
      });
    });

    describe("item 13: a JSON endpoint given another media type answers 415", () => {
      it("admin API: text/plain, a form, or no Content-Type → 415 naming application/json; nothing written", async () => {
        const body = JSON.stringify({ slug: "form-tenant", name: "Form" });
        for (const type of [
          "text/plain",
          "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=x",
          "application/xml",
        ]) {
          const res = await ctx.http
            .post("/admin/v1/tenants")
            .set(adminAuth())
            .set("Content-Type", type)
            .send(body);
          assert.equal(res.status, 415, `${type}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.error.code, "UNSUPPORTED_MEDIA_TYPE");
          assert.match(res.body.error.message, /Content-Type: application\/json/);
        }
        const untyped = await ctx.http
          .post("/admin/v1/tenants")
          .set(adminAuth())
          .set("Content-Length", String(Buffer.byteLength(body)))
          .unset("Content-Type")
          .send(Buffer.from(body));
        assert.equal(untyped.status, 415, JSON.stringify(untyped.body));
        assert.equal(await ctx.deps.db("tenants").where({ slug: "form-tenant" }).first(), undefined);
        // JSON still works, and bodiless actions need no Content-Type at all.
        await admin(ctx).post("/admin/v1/tenants", { slug: "json-tenant", name: "JSON" }).expect(201);
        await ctx.http.post("/admin/v1/tenants/json-tenant/roles/recompute").set(adminAuth()).expect(202);
        await ctx.http
          .delete("/admin/v1/tenants/json-tenant")
          .set(adminAuth())
          .set("Content-Type", "text/plain")
          .expect(204);
      });

      it("SCIM: 415 naming application/scim+json; application/json and application/scim+json accepted", async () => {
        const body = JSON.stringify(userBody("typed@example.com"));
        for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
          const res = await ctx.http.post("/scim/v2/Users").set(auth()).set("Content-Type", type).send(body);
          assert.equal(res.status, 415, `${type}: ${JSON.stringify(res.body)}`);
          assert.deepEqual(res.body.schemas, [SCIM_ERROR]);
          assert.equal(res.body.status, "415");
          assert.match(res.body.detail, /application\/scim\+json/);
        }
        await ctx.http
          .post("/scim/v2/Users")
          .set(auth())
          .set("Content-Type", "application/json")
          .send(body)
          .expect(201);
        const scimType = JSON.stringify(userBody("typed2@example.com"));
        await ctx.http
          .post("/scim/v2/Users")
          .set(auth())
          .set("Content-Type", "application/scim+json; charset=utf-8")
          .send(scimType)
          .expect(201);
      });

      it("form endpoints keep taking forms: the ACS, /oauth/token and /oauth/introspect", async () => {
        const acs = await ctx.http.post("/sso/edges/acs").type("form").send({ SAMLResponse: "bm90IHhtbA==" });
        assert.notEqual(acs.status, 415);
        assert.ok(acs.status === 400 || acs.status === 403 || acs.status === 404, String(acs.status));
        const token = await ctx.http
          .post("/oauth/token")
          .type("form")
          .send({ grant_type: "authorization_code", client_id: "nope", client_secret: "x", code: "x" });
        assert.equal(token.status, 401, token.text);
        assert.equal(token.body.error, "invalid_client");
        const intro = await ctx.http
          .post("/oauth/introspect")
          .type("form")
          .send({ token: "x", client_id: "nope", client_secret: "x" });
        assert.equal(intro.status, 401, intro.text);
      });
    });

    describe("item 3 (JSON): nesting is bounded before parsing; every walk stays shallow", () => {
      it("a Bulk nested 20,000 deep (resolveRefs overflowed the stack: 500) → 400 invalidSyntax", async () => {
        const text = `{"schemas":["${BULK}"],"Operations":[{"method":"POST","bulkId":"a","path":"/Users","data":${nestedArray(20_000)}}]}`;
        const res = await ctx.http
          .post("/scim/v2/Bulk")
          .set(auth())
          .set("Content-Type", "application/scim+json")
          .send(text);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.scimType, "invalidSyntax");
        assert.match(res.body.detail, new RegExp(`${MAX_JSON_DEPTH} levels`));
      });

      it(`the limit is ${MAX_JSON_DEPTH} levels: one more is refused, at the limit the body is read (and judged on its content)`, async () => {
        const wrap = (depth: number) => {
          // {"schemas":[…],"Operations":[{"op":"add","value":{"title": <nested>}}]} is 4 levels around the value.
          const inner = nestedObject(depth - 4);
          return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":{"title":${inner}}}]}`;
        };
        const send = (text: string) =>
          ctx.http
            .patch(`/scim/v2/Users/${userId}`)
            .set(auth())
            .set("Content-Type", "application/scim+json")
            .send(text);
        const over = await send(wrap(MAX_JSON_DEPTH + 1));
        assert.equal(over.status, 400);
        assert.equal(over.body.scimType, "invalidSyntax");
        const at = await send(wrap(MAX_JSON_DEPTH));
        assert.equal(at.status, 400, JSON.stringify(at.body));
        assert.equal(at.body.scimType, "invalidValue", "parsed, then refused as a title that is no string");
        // Brackets inside strings do not count.
        const quoted = await scim.patch(
          `/Users/${userId}`,
          patchOp({ op: "replace", path: "title", value: "[".repeat(5000) }),
        );
        assert.equal(quoted.status, 200);
      });

      it("Bulk data nested within the limit: the operation fails with 400, never the request with 500", async () => {
        const text = `{"schemas":["${BULK}"],"Operations":[{"method":"POST","bulkId":"a","path":"/Users","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"deep@example.com","title":${nestedArray(MAX_JSON_DEPTH - 6)}}}]}`;
        const res = await ctx.http
          .post("/scim/v2/Bulk")
          .set(auth())
          .set("Content-Type", "application/scim+json")
          .send(text);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.Operations[0].status, "400");
      });

      it("admin API bodies and SearchRequests too", async () => {
        const res = await ctx.http
          .post("/admin/v1/tenants")
          .set(adminAuth())
          .set("Content-Type", "application/json")
          .send(nestedObject(50_000));
        assert.equal(res.status, 400);
        assert.equal(res.body.error.code, "INVALID_JSON");
        const search = await ctx.http
          .post("/scim/v2/.search")
          .set(auth())
          .set("Content-Type", "application/scim+json")
          .send(`{"filter":${nestedArray(100)}}`);
        assert.equal(search.status, 400);
        assert.equal(search.body.scimType, "invalidSyntax");
      });

      it("filters: parentheses and not() nest at most 32 deep → 400 invalidFilter; 100 comparisons", async () => {
        const deep = (n: number) => `${"(".repeat(n)}userName eq "x"${")".repeat(n)}`;
        const nots = (n: number) => `${"not (".repeat(n)}userName eq "x"${")".repeat(n)}`;
        for (const filter of [deep(33), nots(33), deep(2000), nots(2000)]) {
          const res = await scim.get(`/Users?filter=${encodeURIComponent(filter)}`);
          assert.equal(res.status, 400, filter.slice(0, 40));
          assert.equal(res.body.scimType, "invalidFilter");
          const body = await scim.post("/Users/.search", { filter });
          assert.equal(body.body.scimType, "invalidFilter");
        }
        await scim.get(`/Users?filter=${encodeURIComponent(deep(32))}`).expect(200);
        await scim.get(`/Users?filter=${encodeURIComponent(nots(32))}`).expect(200);
        const many = Array.from({ length: 101 }, (_, i) => `userName eq "u${i}"`).join(" or ");
        const tooMany = await scim.post("/Users/.search", { filter: many });
        assert.equal(tooMany.body.scimType, "invalidFilter");
        const deepPath = await scim.patch(
          `/Users/${userId}`,
          patchOp({ op: "replace", path: `emails[${deep(40)}].value`, value: "x" }),
        );
        assert.equal(deepPath.status, 400);
        assert.equal(deepPath.body.scimType, "invalidFilter");
      });

      it("projection lists of any length are linear: 20,000 names in a SearchRequest", async () => {
        const attributes = Array.from({ length: 20_000 }, (_, i) => (i % 2 ? "userName" : `name.x${i}`));
        const res = await scim
          .post("/Users/.search", { attributes, filter: `userName eq "edge@example.com"` })
          .expect(200);
        assert.equal(res.body.Resources[0].userName, "edge@example.com");
      });
    });
  });
}
