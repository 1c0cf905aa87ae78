import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { exportSPKI } from "jose";
import { admin, allBackends, createTestContext, type TestContext, userBody } from "../helpers/context.js";
import { ForgeOp, hmacJwt, signingKey, TestOp, unsignedJwt } from "../helpers/test-op.js";
import { Browser, eventsOf } from "../saml/sso-helpers.js";
import {
  authorize,
  type OidcTenant,
  oidcLogin,
  redirectUri,
  refusalCode,
  setupOidc,
} from "./oidc-helpers.js";

// Issue 17's attack cases, each refused with its reason code. Which provider produces which:
// - ForgeOp (a real loopback provider whose token endpoint answers with id_tokens minted here
//   with jose): wrong iss, wrong aud, several audiences without azp, expired, iat in the future,
//   nonce missing or replayed, alg none, HS256 keyed with the provider's public key, an unknown
//   kid with a forged key, a known kid with a forged key, code replay.
// - TestOp (oidc-provider): state mismatch, missing cookie, mix-up (the iss parameter of another
//   provider, or none), code replay against a real token endpoint.
// (email_verified false, Google hd, Entra tid and unknown/deactivated users: login.test.ts.)

for (const backend of allBackends()) {
  describe(`OpenID Connect attacks [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let forge: ForgeOp;
    let op: TestOp;
    let other: TestOp;
    let forged: OidcTenant;
    let real: OidcTenant;
    before(async () => {
      ctx = await createTestContext(backend);
      forge = await ForgeOp.start();
      op = await TestOp.start([
        { clientId: "roster", clientSecret: "secret-0123456789", redirectUris: [redirectUri("real-co")] },
      ]);
      other = await TestOp.start([
        { clientId: "roster", clientSecret: "secret-0123456789", redirectUris: [redirectUri("real-co")] },
      ]);
      op.account("ann", { email: "ann@acme.test", email_verified: true });
      forged = await setupOidc(ctx, "forge-co", {
        preset: "custom",
        issuer: forge.issuer,
        clientId: "roster-forge",
      });
      real = await setupOidc(ctx, "real-co", {
        preset: "okta",
        issuer: op.issuer,
        clientId: "roster",
        clientSecret: "secret-0123456789",
      });
      for (const t of [forged, real])
        assert.equal((await t.scim.post("/Users", userBody("ann@acme.test"))).status, 201);
    });
    afterEach(() => {
      forge.mint = (r, f) => f.valid(r);
      forge.claims = { email: "ann@acme.test", email_verified: true };
      forge.redirectParams = (issuer) => ({ iss: issuer });
    });
    after(async () => {
      await forge?.close();
      await op?.close();
      await other?.close();
      await ctx?.close();
    });

    const viaForge = async (mint: ForgeOp["mint"]) => {
      forge.claims = { email: "ann@acme.test", email_verified: true };
      forge.mint = mint;
      return oidcLogin(new Browser(ctx), "forge-co", forge);
    };
    const now = () => Math.floor(ctx.clock.now().getTime() / 1000);

    it("accepts the forge's valid token (so each refusal below is the attack's doing)", async () => {
      const res = await viaForge((r, f) => f.valid(r));
      assert.equal(res.status, 302, res.text);
    });

    it("wrong iss → ISSUER_MISMATCH", async () => {
      const res = await viaForge((r, f) => f.valid(r, { iss: "https://accounts.evil.test" }));
      assert.equal(refusalCode(res.text), "ISSUER_MISMATCH");
    });

    it("wrong aud → AUDIENCE_MISMATCH; several audiences without our azp too", async () => {
      assert.equal(
        refusalCode((await viaForge((r, f) => f.valid(r, { aud: "someone-else" }))).text),
        "AUDIENCE_MISMATCH",
      );
      const many = await viaForge((r, f) =>
        f.valid(r, { aud: [r.clientId, "someone-else"], azp: "someone-else" }),
      );
      assert.equal(refusalCode(many.text), "AUDIENCE_MISMATCH");
    });

    it("expired (beyond 2 minutes on the app's clock) → EXPIRED; within the skew it passes", async () => {
      assert.equal(
        refusalCode((await viaForge((r, f) => f.valid(r, { iat: now() - 900, exp: now() - 180 }))).text),
        "EXPIRED",
      );
      assert.equal((await viaForge((r, f) => f.valid(r, { iat: now() - 900, exp: now() - 60 }))).status, 302);
    });

    it("iat in the future beyond the skew → NOT_YET_VALID", async () => {
      const res = await viaForge((r, f) => f.valid(r, { iat: now() + 600, exp: now() + 900 }));
      assert.equal(refusalCode(res.text), "NOT_YET_VALID");
    });

    it("nonce missing, or replayed from an earlier login → NONCE_MISMATCH", async () => {
      assert.equal(
        refusalCode((await viaForge((r, f) => f.valid({ ...r, nonce: undefined }))).text),
        "NONCE_MISMATCH",
      );
      let earlier: string | undefined;
      await viaForge(async (r, f) => {
        earlier = await f.valid(r);
        return earlier;
      });
      const replayed = await viaForge(async () => earlier!);
      assert.equal(refusalCode(replayed.text), "NONCE_MISMATCH");
    });

    it("alg none → ID_TOKEN_ALG_NOT_ALLOWED, a trace but no event (nothing verified)", async () => {
      const before = (await eventsOf(ctx, forged.tenantId, "sso.login_refused")).length;
      const res = await viaForge(async (r) =>
        unsignedJwt({
          iss: forge.issuer,
          aud: r.clientId,
          sub: "x",
          iat: now(),
          exp: now() + 300,
          nonce: r.nonce,
          email: "ann@acme.test",
          email_verified: true,
        }),
      );
      assert.equal(res.status, 403);
      assert.equal(refusalCode(res.text), "ID_TOKEN_ALG_NOT_ALLOWED");
      assert.equal((await eventsOf(ctx, forged.tenantId, "sso.login_refused")).length, before);
      const traces = await admin(ctx).get("/admin/v1/tenants/forge-co/sso-traces?verified=false");
      assert.equal(traces.body.traces[0].reason, "ID_TOKEN_ALG_NOT_ALLOWED");
    });

    it("HS256 keyed with the provider's public key → ID_TOKEN_ALG_NOT_ALLOWED", async () => {
      const pem = Buffer.from(await exportSPKI(forge.key.publicKey));
      const res = await viaForge(async (r) =>
        hmacJwt(
          {
            iss: forge.issuer,
            aud: r.clientId,
            sub: "x",
            iat: now(),
            exp: now() + 300,
            nonce: r.nonce,
            email: "ann@acme.test",
            email_verified: true,
          },
          pem,
          forge.key.kid,
        ),
      );
      assert.equal(refusalCode(res.text), "ID_TOKEN_ALG_NOT_ALLOWED");
    });

    it("an unknown kid with a forged key, or the known kid with a forged key → ID_TOKEN_SIGNATURE_INVALID", async () => {
      const attacker = await signingKey("RS256");
      const sign = (kid: string) => async (r: Parameters<ForgeOp["mint"]>[0], f: ForgeOp) => {
        const real = f.key;
        f.key = { ...attacker, kid };
        try {
          return await f.valid(r);
        } finally {
          f.key = real;
        }
      };
      assert.equal(refusalCode((await viaForge(sign("attacker-kid"))).text), "ID_TOKEN_SIGNATURE_INVALID");
      assert.equal(refusalCode((await viaForge(sign(forge.key.kid))).text), "ID_TOKEN_SIGNATURE_INVALID");
    });

    it("code replay: the same callback twice → CODE_REPLAY, and the code reaches the provider once", async () => {
      forge.claims = { email: "ann@acme.test", email_verified: true };
      const b = new Browser(ctx);
      const back = await authorize(b, "forge-co", forge);
      const first = await b.get(back.pathname + back.search);
      assert.equal(first.status, 302, first.text);
      const again = await b.get(back.pathname + back.search);
      assert.equal(again.status, 403);
      assert.equal(refusalCode(again.text), "CODE_REPLAY");
      const code = back.searchParams.get("code")!;
      assert.equal(forge.tokenRequests.filter((c) => c === code).length, 1);
      // The same code under a fresh state of the same browser is still refused.
      const start = await b.get("/sso/forge-co/oidc/login", 302);
      const state = new URL(start.headers.location).searchParams.get("state")!;
      const again2 = await b.get(
        `/sso/forge-co/oidc/callback?code=${code}&state=${state}&iss=${encodeURIComponent(forge.issuer)}`,
      );
      assert.equal(refusalCode(again2.text), "CODE_REPLAY");
    });

    it("with oidc-provider too, a replayed callback → CODE_REPLAY (it never reaches the token endpoint again)", async () => {
      const b = new Browser(ctx);
      const back = await authorize(b, "real-co", op, "ann");
      assert.equal((await b.get(back.pathname + back.search)).status, 302);
      assert.equal(refusalCode((await b.get(back.pathname + back.search)).text), "CODE_REPLAY");
    });

    it("state tampered → STATE_MISMATCH; no cookie (another browser) → BROWSER_COOKIE_MISSING; other browser's cookie → STATE_MISMATCH", async () => {
      const b = new Browser(ctx);
      const back = await authorize(b, "real-co", op, "ann");
      const tampered = new URL(back);
      tampered.searchParams.set("state", `oidc_${"A".repeat(43)}`);
      assert.equal(refusalCode((await b.get(tampered.pathname + tampered.search)).text), "STATE_MISMATCH");
      const missing = new URL(back);
      missing.searchParams.delete("state");
      assert.equal(refusalCode((await b.get(missing.pathname + missing.search)).text), "STATE_MISMATCH");
      assert.equal(
        refusalCode((await new Browser(ctx).get(back.pathname + back.search)).text),
        "BROWSER_COOKIE_MISSING",
      );
      const stranger = new Browser(ctx);
      await stranger.get("/sso/real-co/oidc/login", 302);
      assert.equal(refusalCode((await stranger.get(back.pathname + back.search)).text), "STATE_MISMATCH");
      // The genuine browser still finishes: none of the above consumed its login.
      assert.equal((await b.get(back.pathname + back.search)).status, 302);
    });

    it("mix-up: the iss parameter of another provider, or none where RFC 9207 is advertised → ISSUER_PARAMETER_MISMATCH", async () => {
      const b = new Browser(ctx);
      const back = await authorize(b, "real-co", op, "ann");
      const mixed = new URL(back);
      mixed.searchParams.set("iss", other.issuer);
      assert.equal(
        refusalCode((await b.get(mixed.pathname + mixed.search)).text),
        "ISSUER_PARAMETER_MISMATCH",
      );
      const b2 = new Browser(ctx);
      const back2 = await authorize(b2, "real-co", op, "ann");
      back2.searchParams.delete("iss");
      assert.equal(
        refusalCode((await b2.get(back2.pathname + back2.search)).text),
        "ISSUER_PARAMETER_MISMATCH",
      );
    });

    it("a failing token endpoint → TOKEN_EXCHANGE_FAILED (an HTTP 500, or an OAuth error body)", async () => {
      const broken = await viaForge(async () => {
        throw new Error("token endpoint down");
      });
      assert.equal(refusalCode(broken.text), "TOKEN_EXCHANGE_FAILED");
      forge.claims = { email: "ann@acme.test", email_verified: true };
      const b = new Browser(ctx);
      const back = await authorize(b, "forge-co", forge);
      back.searchParams.set("code", "not-a-code-the-provider-issued");
      assert.equal(refusalCode((await b.get(back.pathname + back.search)).text), "TOKEN_EXCHANGE_FAILED");
    });

    it("the provider's error (access_denied) → IDP_ERROR", async () => {
      forge.redirectParams = (issuer) => ({
        iss: issuer,
        error: "access_denied",
        error_description: "user not assigned",
      });
      const res = await viaForge((r, f) => f.valid(r));
      assert.equal(refusalCode(res.text), "IDP_ERROR");
    });
  });
}
