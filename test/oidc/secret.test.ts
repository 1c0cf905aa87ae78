import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Deps } from "../../src/deps.js";
import { keyIdOf } from "../../src/secrets/cipher.js";
import { prepareStoredSecrets, rotateEncryptionKey } from "../../src/secrets/reseal.js";
import { allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { TestOp } from "../helpers/test-op.js";
import { Browser } from "../saml/sso-helpers.js";
import { viewOf } from "../secrets/helpers.js";
import { oidcLogin, redirectUri, setupOidc } from "./oidc-helpers.js";

const b64 = (k: Buffer) => k.toString("base64");
const SECRET = "upstream-client-secret-0123456789";

// The upstream client secret is a sealed column (src/secrets/sealed.ts): encrypted at rest, moved
// by secrets:rotate-key like the others, and still usable at the provider's token endpoint after.
for (const backend of allBackends()) {
  describe(`OpenID Connect client secret at rest [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let op: TestOp;
    let live: Deps | undefined;
    const keyA = randomBytes(32);
    before(async () => {
      ctx = await createTestContext(backend, { env: { ROSTER_ENCRYPTION_KEY: b64(keyA) } });
      op = await TestOp.start([
        { clientId: "roster", clientSecret: SECRET, redirectUris: [redirectUri("vault-co")] },
      ]);
      op.account("ann", { email: "ann@acme.test", email_verified: true });
      const t = await setupOidc(ctx, "vault-co", {
        preset: "okta",
        issuer: op.issuer,
        clientId: "roster",
        clientSecret: SECRET,
        provisioning: "jit",
      });
      assert.ok(t.tenantId);
    });
    after(async () => {
      await live?.close();
      await op?.close();
      await ctx?.close();
    });

    it("is sealed under the current key, rotates with the others, and still signs people in", async () => {
      const row = async (db: Deps["db"]) => (await db("oidc_connections").first()).client_secret as string;
      assert.ok((await row(ctx.deps.db)).startsWith(`enc:v1:${keyIdOf(keyA)}:`));
      assert.ok(!(await row(ctx.deps.db)).includes(SECRET));
      const keyB = randomBytes(32);
      live = ctx.reopen(
        { ROSTER_ENCRYPTION_KEY: b64(keyB), ROSTER_ENCRYPTION_KEY_PREVIOUS: b64(keyA) },
        "api",
      );
      await prepareStoredSecrets(live);
      const r = await rotateEncryptionKey(live);
      assert.ok(r.reencrypted >= 1);
      assert.ok((await row(live.db)).startsWith(`enc:v1:${keyIdOf(keyB)}:`));
      const res = await oidcLogin(new Browser(viewOf(ctx, live)), "vault-co", op, "ann");
      assert.equal(res.status, 302, res.text);
    });
  });
}
