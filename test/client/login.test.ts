import assert from "node:assert/strict";
import type { Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { Roster, RosterLogin, RosterOAuthError } from "../../src/client/index.js";
import {
  ADMIN_TOKEN,
  allBackends,
  createTestContext,
  eventually,
  type TestContext,
} from "../helpers/context.js";
import { addUser, authnRequestOf, Browser, setupSso, type SsoTenant } from "../saml/sso-helpers.js";
import { close, serve } from "./helpers.js";

const REDIRECT = "https://app.acme.test/callback";
const SCIM_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

for (const backend of allBackends()) {
  describe(`roster/client RosterLogin: the OAuth hand-off end to end [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    let server: Server;
    let t: SsoTenant;
    let login: RosterLogin;
    let userId: string;
    before(async () => {
      ctx = await createTestContext(backend);
      await ctx.deps.driver.start();
      const s = await serve(ctx);
      server = s.server;
      t = await setupSso(ctx, "acme");
      userId = await addUser(t, "ann@acme.test", { emails: [{ value: "ann@acme.test", primary: true }] });
      const group = await t.scim
        .post("/Groups", { schemas: [SCIM_GROUP], displayName: "Admins", members: [{ value: userId }] })
        .expect(201);
      const roster = new Roster({ baseUrl: s.url, adminToken: ADMIN_TOKEN });
      await roster.roleMappings.create("acme", { groupId: group.body.id, role: "admin" });
      // Stored roles follow a moment later (the sync-roles job): sign in once they hold admin.
      await eventually(async () =>
        (await roster.userRoles.list("acme", userId)).some((r) => r.key === "admin"),
      );
      const client = await roster.oauthClients.create("acme", { name: "App", redirectUris: [REDIRECT] });
      // The app reaches Roster on its port; browsers and the issuer use PUBLIC_URL.
      login = new RosterLogin({
        baseUrl: s.url,
        publicUrl: "https://roster.test",
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        redirectUri: REDIRECT,
      });
    });
    after(async () => {
      await close(server);
      await ctx?.close();
    });

    /** The browser's part: authorize → test IdP → ACS → back at the redirect URI. */
    async function signIn(url: string): Promise<string> {
      const b = new Browser(ctx);
      const u = new URL(url);
      assert.equal(u.origin, "https://roster.test");
      const res = await b.get(u.pathname + u.search, 302);
      const { id } = authnRequestOf(res.headers.location);
      const acs = await b.acs(
        "acme",
        await t.idp.response(t.opts({ nameId: "ann@acme.test", inResponseTo: id })),
      );
      assert.equal(acs.status, 302, acs.text);
      return acs.headers.location;
    }

    it("start() → sign-in → finish(): PKCE, state and nonce checked; roles and groups in the id_token; userinfo", async () => {
      const { url, pending } = login.start();
      const q = new URL(url).searchParams;
      assert.equal(q.get("code_challenge_method"), "S256");
      assert.equal(q.get("scope"), "openid profile email roles");
      assert.notEqual(q.get("code_challenge"), pending.codeVerifier);
      const callback = await signIn(url);
      const { tokens, claims } = await login.finish(callback, pending);
      assert.equal(claims.sub, userId);
      assert.equal(claims.tenant, "acme");
      assert.equal(claims.email, "ann@acme.test");
      assert.deepEqual(claims.roles, ["admin"]);
      assert.deepEqual(claims.groups, ["Admins"]);
      assert.equal(tokens.scope, "openid profile email roles");
      const info = await login.userinfo(tokens.access_token);
      assert.equal(info.sub, userId);
      assert.deepEqual(info.roles, ["admin"]);
      const revoked = await login.userinfo("rst_at_nope").catch((e) => e);
      assert.ok(revoked instanceof RosterOAuthError);
      assert.equal(revoked.status, 401);
    });

    it("without the roles scope the id_token carries neither roles nor groups", async () => {
      const { url, pending } = login.start({ scope: "openid email" });
      const { claims, tokens } = await login.finish(await signIn(url), pending);
      assert.equal(tokens.scope, "openid email");
      assert.equal(claims.roles, undefined);
      assert.equal(claims.groups, undefined);
    });

    it("finish() refuses a wrong state, a reused code, a foreign verifier and an error callback", async () => {
      const a = login.start();
      const callback = await signIn(a.url);
      await assert.rejects(login.finish(callback, { ...a.pending, state: "other" }), {
        error: "invalid_state",
      });
      const wrongVerifier = await login
        .finish(callback, { ...a.pending, codeVerifier: "x".repeat(43) })
        .catch((e) => e);
      assert.equal(wrongVerifier.error, "invalid_grant");
      // The code was spent by the refused exchange (single use): the right verifier is refused now too.
      assert.equal((await login.finish(callback, a.pending).catch((e) => e)).error, "invalid_grant");
      await assert.rejects(
        login.finish(`${REDIRECT}?error=access_denied&state=${a.pending.state}`, a.pending),
        { error: "access_denied" },
      );
      const b = login.start();
      const cb = await signIn(b.url);
      await assert.rejects(login.finish(cb, { ...b.pending, nonce: "other" }), { error: "invalid_id_token" });
    });
  });
}
