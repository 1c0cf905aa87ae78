/**
 * What SSO keeps, and for how long, read on the app's clock (the test moves it): sessions end
 * after the connection's sessionHours, a started login (AuthnRequest) can be answered for 10
 * minutes, and the replay cache remembers an assertion id for as long as the assertion could
 * be accepted, then forgets it (the assertion itself is refused as expired by then).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { purgeExpired } from "../../src/sso/request-store.js";
import { allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { addUser, Browser, setupSso, type SsoTenant } from "./sso-helpers.js";

const ANN = "ann@acme.test";
const MINUTE = 60_000;

for (const backend of allBackends()) {
  describe(`SSO lifetimes: sessions, started logins, the replay cache [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    let t: SsoTenant;
    let idpInit: SsoTenant;
    before(async () => {
      ctx = await createTestContext(backend);
      t = await setupSso(ctx, "acme", { sessionHours: 2 });
      idpInit = await setupSso(ctx, "idpinit", { allowIdpInitiated: true });
      await addUser(t, ANN);
      await addUser(idpInit, ANN);
    });
    after(async () => ctx.close());

    /** Post a response built now (on the app's clock) for the request `id` of this browser. */
    const answer = async (b: Browser, id: string) =>
      b.acs("acme", await t.idp.response(t.opts({ nameId: ANN, inResponseTo: id })));

    /** Every refused attempt leaves one trace (an event only once a signature verified: issue 14). */
    const refusals = async (tenant: SsoTenant) =>
      (
        await ctx.deps
          .db("sso_traces")
          .where({ tenant_id: tenant.tenantId, outcome: "refused" })
          .orderBy("seq", "asc")
      ).map((r) => r.reason as string);

    it("a session lives the connection's sessionHours, to the second", async () => {
      const b = new Browser(ctx);
      assert.equal((await answer(b, await b.startLogin("acme"))).status, 302);
      const s = (await b.get("/sso/acme/session", 200)).body.session;
      assert.equal(Date.parse(s.expiresAt) - Date.parse(s.createdAt), 2 * 3_600_000);
      ctx.clock.advance(2 * 3_600_000 - 1000);
      await b.get("/sso/acme/session", 200);
      ctx.clock.advance(1000);
      await b.get("/sso/acme/session", 401);
    });

    it("a started login can be answered for 10 minutes; after that the response is refused (UNKNOWN_REQUEST)", async () => {
      const inTime = new Browser(ctx);
      const first = await inTime.startLogin("acme");
      ctx.clock.advance(10 * MINUTE - 1000);
      assert.equal((await answer(inTime, first)).status, 302);

      const late = new Browser(ctx);
      const id = await late.startLogin("acme");
      ctx.clock.advance(10 * MINUTE);
      const before = (await refusals(t)).length;
      // The assertion is fresh (built on the moved clock): only the request has expired.
      const res = await answer(late, id);
      assert.equal(res.status, 403, res.text);
      assert.match(res.text, /Reference: UNKNOWN_REQUEST/);
      assert.deepEqual((await refusals(t)).slice(before), ["UNKNOWN_REQUEST"]);
      assert.equal(late.cookies.has("roster_session"), false);
    });

    it("the replay cache keeps an assertion id while the assertion is valid, then the purge forgets it", async () => {
      const start = ctx.clock.now().getTime();
      // IdP-initiated (no request to use up): only the replay cache stands between a copy and a login.
      const assertion = await idpInit.idp.response(idpInit.opts({ nameId: ANN }));
      const notOnOrAfter = start + 5 * MINUTE; // the test IdP's default validity
      assert.equal((await new Browser(ctx).acs("idpinit", assertion)).status, 302);
      const cached = async () =>
        ctx.deps
          .db("saml_replay")
          .where({ tenant_id: idpInit.tenantId })
          .select("assertion_id", "expires_at");
      const [row] = await cached();
      // Kept until NotOnOrAfter plus the 2 minutes of clock skew the ACS tolerates.
      assert.equal(Date.parse(new Date(row.expires_at).toISOString()), notOnOrAfter + 2 * MINUTE);

      // The last second the assertion could still be accepted: the copy is a replay.
      ctx.clock.advance(notOnOrAfter + 2 * MINUTE - 1000 - start);
      const before = (await refusals(idpInit)).length;
      const replay = await new Browser(ctx).acs("idpinit", assertion);
      assert.equal(replay.status, 403, replay.text);
      assert.match(replay.text, /Reference: REPLAY/);
      // The daily purge keeps entries a day past their end, so nothing is forgotten early.
      await purgeExpired(ctx.deps.db, ctx.deps.now().toISOString());
      assert.equal((await cached()).length, 1);

      ctx.clock.advance(86_400_000 + 2000);
      await purgeExpired(ctx.deps.db, ctx.deps.now().toISOString());
      assert.deepEqual(await cached(), []);
      // Forgotten, the copy is still refused: the assertion itself has expired.
      const stale = await new Browser(ctx).acs("idpinit", assertion);
      assert.equal(stale.status, 403, stale.text);
      assert.match(stale.text, /Reference: EXPIRED/);
      assert.deepEqual((await refusals(idpInit)).slice(before), ["REPLAY", "EXPIRED"]);
    });
  });
}
