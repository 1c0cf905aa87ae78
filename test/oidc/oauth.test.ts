import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import * as client from "openid-client";
import { admin, allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { Jar, TestOp } from "../helpers/test-op.js";
import { redirectUri, setupOidc } from "./oidc-helpers.js";

const APP_CALLBACK = "http://127.0.0.1:9/app/callback";

// The OAuth hand-off end to end: the application's own openid-client signs in through Roster
// (listening on loopback) whose tenant uses an OpenID Provider (oidc-provider), and gets an
// id_token and userinfo carrying the directory's roles.
for (const backend of allBackends()) {
  describe(`OAuth hand-off through an OpenID Connect tenant [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    let op: TestOp;
    let server: Server;
    let base: string;
    let app: client.Configuration;
    before(async () => {
      ctx = await createTestContext(backend);
      op = await TestOp.start([
        { clientId: "roster", clientSecret: "secret-0123456789", redirectUris: [redirectUri("hand-co")] },
      ]);
      op.account("ann", { email: "ann@acme.test", email_verified: true, name: "Ann Smith" });
      await setupOidc(ctx, "hand-co", {
        preset: "okta",
        issuer: op.issuer,
        clientId: "roster",
        clientSecret: "secret-0123456789",
      });
      const invited = await admin(ctx).post("/admin/v1/tenants/hand-co/users", {
        userName: "ann@acme.test",
        email: "ann@acme.test",
        roles: ["editor", "viewer"],
      });
      assert.equal(invited.status, 201);
      const created = await admin(ctx).post("/admin/v1/tenants/hand-co/oauth-clients", {
        name: "App",
        redirectUris: [APP_CALLBACK],
      });
      server = ctx.app.listen(0, "127.0.0.1");
      await new Promise((r) => server.once("listening", r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // Roster's discovery names PUBLIC_URL (https://roster.test); the app reaches the same
      // endpoints on loopback.
      const meta = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as Record<
        string,
        string
      >;
      const local = (u: string) => u.replace("https://roster.test", base);
      app = new client.Configuration(
        {
          ...meta,
          authorization_endpoint: local(meta.authorization_endpoint),
          token_endpoint: local(meta.token_endpoint),
          userinfo_endpoint: local(meta.userinfo_endpoint),
          jwks_uri: local(meta.jwks_uri),
        } as client.ServerMetadata,
        created.body.clientId,
        created.body.clientSecret,
      );
      client.allowInsecureRequests(app);
      client.enableNonRepudiationChecks(app);
    });
    after(async () => {
      server?.closeAllConnections();
      await new Promise((r) => server?.close(r));
      await op?.close();
      await ctx?.close();
    });

    it("the application's openid-client gets an id_token and userinfo with the directory's roles", async () => {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const authorizeUrl = client.buildAuthorizationUrl(app, {
        redirect_uri: APP_CALLBACK,
        scope: "openid email profile",
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state,
        nonce,
      });
      const jar = new Jar();
      const get = async (url: string) => {
        const res = await fetch(url, { redirect: "manual", headers: { cookie: jar.header() } });
        jar.keep(res);
        return res;
      };
      // Roster: no session yet → the tenant's OpenID Provider (not SAML).
      const toOp = await get(authorizeUrl.href);
      assert.equal(toOp.status, 302);
      assert.ok(toOp.headers.get("location")!.startsWith(op.issuer), toOp.headers.get("location")!);
      const back = await op.login(toOp.headers.get("location")!, "ann");
      assert.equal(back.origin, "https://roster.test");
      const toApp = await get(`${base}${back.pathname}${back.search}`);
      assert.equal(toApp.status, 302, await toApp.text());
      const appCallback = new URL(toApp.headers.get("location")!);
      assert.equal(`${appCallback.origin}${appCallback.pathname}`, APP_CALLBACK);
      const tokens = await client.authorizationCodeGrant(app, appCallback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      assert.equal(claims.iss, "https://roster.test");
      assert.equal(claims.preferred_username, "ann@acme.test");
      assert.equal(claims.tenant, "hand-co");
      const info = await client.fetchUserInfo(app, tokens.access_token, claims.sub);
      assert.deepEqual(info.roles, ["editor", "viewer"]);
      assert.equal((info.tenant as { slug: string }).slug, "hand-co");
      // A second authorize in the same browser: straight back with a code (the session is Roster's).
      const again = await get(
        client.buildAuthorizationUrl(app, { redirect_uri: APP_CALLBACK, scope: "openid", state: "s2" }).href,
      );
      assert.equal(again.status, 302);
      assert.ok(again.headers.get("location")!.startsWith(APP_CALLBACK));
    });
  });
}
