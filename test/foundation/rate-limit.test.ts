import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  admin,
  ADMIN_TOKEN,
  backends,
  createTenantWithToken,
  createTestContext,
  type TestContext,
  testRedisUrl,
  userBody,
} from "../helpers/context.js";

// Small limits, so a test reaches them in a handful of requests. Client addresses come from
// X-Forwarded-For, believed from supertest's loopback connection (ROSTER_TRUST_PROXY=loopback).
const LIMITS = {
  ROSTER_TRUST_PROXY: "loopback",
  ROSTER_RATE_LIMIT_SSO_IP: "3/1m",
  ROSTER_RATE_LIMIT_SSO_TENANT: "5/1m",
  ROSTER_RATE_LIMIT_OAUTH_IP: "3/1m",
  ROSTER_RATE_LIMIT_OAUTH_TENANT: "5/1m",
  ROSTER_RATE_LIMIT_SCIM_FAILURES: "3/1m",
  ROSTER_RATE_LIMIT_ADMIN_FAILURES: "3/1m",
};
const REDIRECT = "https://app.example/cb";

/** Assert a 429 with a Retry-After of a whole number of seconds within the window. */
function assertLimited(res: { status: number; headers: Record<string, string> }) {
  assert.equal(res.status, 429);
  const retry = Number(res.headers["retry-after"]);
  assert.ok(
    Number.isInteger(retry) && retry >= 1 && retry <= 60,
    `Retry-After ${res.headers["retry-after"]}`,
  );
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

for (const backend of backends()) {
  describe(`rate limits [${backend.name}]`, () => {
    let ctx: TestContext;
    let client: { clientId: string; clientSecret: string };
    let otherClient: { clientId: string; clientSecret: string };
    let scimToken: string;
    before(async () => {
      ctx = await createTestContext(backend, { env: LIMITS });
      ({ token: scimToken } = await createTenantWithToken(ctx, "acme"));
      await createTenantWithToken(ctx, "globex");
      const a = admin(ctx);
      client = (
        await a.post("/admin/v1/tenants/acme/oauth-clients", { name: "App", redirectUris: [REDIRECT] })
      ).body;
      otherClient = (
        await a.post("/admin/v1/tenants/globex/oauth-clients", { name: "App", redirectUris: [REDIRECT] })
      ).body;
      assert.ok(client.clientId && otherClient.clientId);
    });
    after(() => ctx.close());

    it("/sso/{slug}/*: 429 past the per-address limit, as a page on browser routes; other addresses go on", async () => {
      const from = (ip: string) => ({ "X-Forwarded-For": ip });
      for (let i = 0; i < 3; i++) {
        const r = await ctx.http.get("/sso/acme/metadata").set(from("203.0.113.1"));
        assert.notEqual(r.status, 429);
      }
      const page = await ctx.http.get("/sso/acme/login").set(from("203.0.113.1"));
      assertLimited(page);
      assert.match(page.headers["content-type"], /text\/html/);
      assert.match(page.text, /Too many sign-in attempts/);
      const json = await ctx.http.get("/sso/acme/session").set(from("203.0.113.1"));
      assertLimited(json);
      assert.equal(json.body.error.code, "RATE_LIMITED");
      const acs = await ctx.http
        .post("/sso/acme/acs")
        .type("form")
        .send({ SAMLResponse: "x" })
        .set(from("203.0.113.1"));
      assertLimited(acs);
      assert.match(acs.headers["content-type"], /text\/html/);
      // Another address is not affected (the tenant still has budget: 5 a minute, 3 used).
      assert.notEqual((await ctx.http.get("/sso/acme/metadata").set(from("203.0.113.2"))).status, 429);
    });

    it("/sso/{slug}/*: 429 past the per-tenant limit from many addresses; another tenant goes on", async () => {
      // acme has used 4 of its 5 (the per-address refusals above did not reach the tenant count).
      assert.notEqual(
        (await ctx.http.get("/sso/acme/metadata").set("X-Forwarded-For", "198.51.100.1")).status,
        429,
      );
      assertLimited(await ctx.http.get("/sso/acme/metadata").set("X-Forwarded-For", "198.51.100.2"));
      assertLimited(await ctx.http.get("/sso/acme/login").set("X-Forwarded-For", "198.51.100.3"));
      assert.notEqual(
        (await ctx.http.get("/sso/globex/metadata").set("X-Forwarded-For", "198.51.100.4")).status,
        429,
      );
    });

    it("/oauth/authorize: per address and per client tenant, as a page", async () => {
      const url = (id: string) =>
        `/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: id, redirect_uri: REDIRECT, scope: "openid", state: "s", code_challenge: "a".repeat(43), code_challenge_method: "S256" })}`;
      // globex has used 1 of 5 (above): 4 more from 4 addresses pass, the 5th address is refused.
      for (let i = 0; i < 4; i++)
        assert.notEqual(
          (await ctx.http.get(url(otherClient.clientId)).set("X-Forwarded-For", `192.0.2.${i}`)).status,
          429,
        );
      const refused = await ctx.http.get(url(otherClient.clientId)).set("X-Forwarded-For", "192.0.2.99");
      assertLimited(refused);
      assert.match(refused.headers["content-type"], /text\/html/);
      // One address past its own limit (3), on a client whose tenant is unknown.
      for (let i = 0; i < 3; i++)
        await ctx.http.get(url("rst_client_unknown")).set("X-Forwarded-For", "192.0.2.200");
      assertLimited(await ctx.http.get(url("rst_client_unknown")).set("X-Forwarded-For", "192.0.2.200"));
    });

    it("/oauth/token, /oauth/introspect: per address and per client tenant (Basic or form), in OAuth's error shape; userinfo and JWKS per address", async () => {
      const token = (ip: string, auth: "basic" | "form", id = client.clientId) => {
        const req = ctx.http.post("/oauth/token").type("form").set("X-Forwarded-For", ip);
        const form: Record<string, string> = {
          grant_type: "authorization_code",
          code: "nope",
          redirect_uri: REDIRECT,
        };
        if (auth === "basic") req.set("Authorization", basic(id, client.clientSecret));
        else Object.assign(form, { client_id: id, client_secret: client.clientSecret });
        return req.send(form);
      };
      for (let i = 0; i < 3; i++) assert.equal((await token("100.64.0.1", "basic")).status, 400);
      const refused = await token("100.64.0.1", "form");
      assertLimited(refused);
      assert.equal(refused.body.error, "rate_limited");
      // The tenant's budget (5): 2 more from other addresses (form-posted client id counts too).
      assert.equal((await token("100.64.0.2", "form")).status, 400);
      assert.equal((await token("100.64.0.3", "basic")).status, 400);
      assertLimited(await token("100.64.0.4", "form"));
      const introspect = await ctx.http
        .post("/oauth/introspect")
        .type("form")
        .set("X-Forwarded-For", "100.64.0.5")
        .set("Authorization", basic(client.clientId, client.clientSecret))
        .send({ token: "x" });
      assertLimited(introspect);
      // Introspection for another tenant's client, from a fresh address, still answers.
      const other = await ctx.http
        .post("/oauth/introspect")
        .type("form")
        .set("X-Forwarded-For", "100.64.0.6")
        .set("Authorization", basic(otherClient.clientId, otherClient.clientSecret))
        .send({ token: "x" });
      assert.equal(other.status, 200);
      assert.equal(other.body.active, false);
      // userinfo and the JWKS count against the same per-address budget.
      for (let i = 0; i < 2; i++)
        assert.equal(
          (await ctx.http.get("/oauth/userinfo").set("X-Forwarded-For", "100.64.0.7")).status,
          401,
        );
      assert.equal((await ctx.http.get("/oauth/jwks").set("X-Forwarded-For", "100.64.0.7")).status, 200);
      const userinfo = await ctx.http.get("/oauth/userinfo").set("X-Forwarded-For", "100.64.0.7");
      assertLimited(userinfo);
      assert.equal(userinfo.body.error, "rate_limited");
    });

    it("SCIM: failed authentications get 429 (SCIM error) past the limit; a valid token is never limited", async () => {
      const ip = "203.0.113.50";
      const bad = () =>
        ctx.http
          .get("/scim/v2/Users")
          .set("Authorization", "Bearer rst_scim_wrong")
          .set("X-Forwarded-For", ip);
      for (let i = 0; i < 3; i++) assert.equal((await bad()).status, 401);
      const refused = await bad();
      assertLimited(refused);
      assert.match(refused.headers["content-type"], /application\/scim\+json/);
      const body = JSON.parse(refused.text);
      assert.deepEqual(body.schemas, ["urn:ietf:params:scim:api:messages:2.0:Error"]);
      assert.equal(body.status, "429");
      // No token at all counts as a failure too.
      assertLimited(await ctx.http.get("/scim/v2/Users").set("X-Forwarded-For", ip));
      // The same address with a valid token: many times the limit, none refused (an IdP's sync
      // shares its address with other tenants' IdPs, and a revoked token of one must not stop another).
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          ctx.http
            .post("/scim/v2/Users")
            .set("Authorization", `Bearer ${scimToken}`)
            .set("X-Forwarded-For", ip)
            .set("Content-Type", "application/scim+json")
            .send(JSON.stringify(userBody(`user${i}@acme.test`)))
            .then((r) => r.status),
        ),
      );
      assert.deepEqual(
        results,
        results.map(() => 201),
      );
      assert.equal(
        (
          await ctx.http
            .get("/scim/v2/Users")
            .set("Authorization", `Bearer ${scimToken}`)
            .set("X-Forwarded-For", ip)
        ).status,
        200,
      );
      // Another address with a wrong token still gets its 401.
      assert.equal(
        (
          await ctx.http
            .get("/scim/v2/Users")
            .set("Authorization", "Bearer nope")
            .set("X-Forwarded-For", "203.0.113.51")
        ).status,
        401,
      );
    });

    it("admin API: after the failures allowed, the address gets 429 (admin shape) even with the right token", async () => {
      const ip = "203.0.113.70";
      const call = (token: string) =>
        ctx.http.get("/admin/v1/tenants").set("Authorization", `Bearer ${token}`).set("X-Forwarded-For", ip);
      for (let i = 0; i < 3; i++) assert.equal((await call("wrong-token")).status, 401);
      const refused = await call("wrong-token");
      assertLimited(refused);
      assert.equal(refused.body.error.code, "RATE_LIMITED");
      // Guessing must stop, not merely slow down: the right token waits out the window too.
      assertLimited(await call(ADMIN_TOKEN));
      assert.equal(
        (
          await ctx.http
            .get("/admin/v1/tenants")
            .set("Authorization", `Bearer ${ADMIN_TOKEN}`)
            .set("X-Forwarded-For", "203.0.113.71")
        ).status,
        200,
      );
      // Successful calls never count.
      for (let i = 0; i < 10; i++)
        assert.equal(
          (
            await ctx.http
              .get("/admin/v1/tenants")
              .set("Authorization", `Bearer ${ADMIN_TOKEN}`)
              .set("X-Forwarded-For", "203.0.113.72")
          ).status,
          200,
        );
    });

    it("IPv6 clients are counted by their /64 (a host picks any address in it)", async () => {
      for (let i = 0; i < 3; i++)
        assert.notEqual(
          (await ctx.http.get("/sso/nosuch/metadata").set("X-Forwarded-For", `2001:db8:1:2::${i + 1}`))
            .status,
          429,
        );
      const r = await ctx.http.get("/sso/nosuch/metadata").set("X-Forwarded-For", "2001:db8:1:2:ffff::9");
      assertLimited(r);
      assert.notEqual(
        (await ctx.http.get("/sso/nosuch/metadata").set("X-Forwarded-For", "2001:db8:1:3::1")).status,
        429,
      );
    });
  });

  describe(`rate limits off, and the default limits [${backend.name}]`, () => {
    it("ROSTER_RATE_LIMIT=off limits nothing", async () => {
      const ctx = await createTestContext(backend, { env: { ...LIMITS, ROSTER_RATE_LIMIT: "off" } });
      try {
        for (let i = 0; i < 6; i++) assert.notEqual((await ctx.http.get("/sso/acme/metadata")).status, 429);
        for (let i = 0; i < 6; i++)
          assert.equal((await ctx.http.get("/scim/v2/Users").set("Authorization", "Bearer x")).status, 401);
      } finally {
        await ctx.close();
      }
    });
  });
}

const redisUrl = testRedisUrl();
for (const backend of backends()) {
  // Named [redis] only when it runs: the test runner counts passed [redis] suites.
  describe(`rate limits shared through Redis [${backend.name}]${redisUrl ? " [redis]" : ""}`, {
    skip: redisUrl ? false : "no Redis in this run (set REDIS_URL for npm test)",
  }, () => {
    it("two API processes count into the same limit", async () => {
      const queuePrefix = `rl${randomBytes(5).toString("hex")}`;
      const env = { ...LIMITS, ROSTER_JOBS: "off" };
      const a = await createTestContext(backend, { redis: true, env, queuePrefix });
      const b = await createTestContext(backend, { redis: true, env, queuePrefix });
      try {
        const from = { "X-Forwarded-For": "203.0.113.90" };
        // Wait for the rate limiter's Redis connection: until then the insurance counts in-process.
        for (const ctx of [a, b]) await waitForRedisLimiter(ctx);
        assert.notEqual((await a.http.get("/sso/acme/metadata").set(from)).status, 429);
        assert.notEqual((await b.http.get("/sso/acme/metadata").set(from)).status, 429);
        assert.notEqual((await a.http.get("/sso/acme/metadata").set(from)).status, 429);
        // The fourth request, on the other process: refused, its count is shared.
        assertLimited(await b.http.get("/sso/acme/metadata").set(from));
        assertLimited(await a.http.get("/sso/acme/metadata").set(from));
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}

/** Until the limiter's own Redis connection is ready, its in-memory insurance counts (per process). */
async function waitForRedisLimiter(ctx: TestContext): Promise<void> {
  const { Redis } = await import("ioredis");
  const r = new Redis(testRedisUrl()!);
  try {
    const probe = ctx.deps.rateLimits.create(`probe-${randomBytes(3).toString("hex")}`, {
      points: 1000,
      durationSeconds: 60,
    });
    for (let i = 0; i < 400; i++) {
      await probe.consume("x");
      const keys = await r.keys(`${ctx.queuePrefix}:ratelimit:${probe.name}:*`);
      if (keys.length) return;
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error("the rate limiter never reached Redis");
  } finally {
    r.disconnect();
  }
}
