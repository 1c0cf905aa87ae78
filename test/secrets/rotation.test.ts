import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Deps } from "../../src/deps.js";
import { keyIdOf } from "../../src/secrets/cipher.js";
import { prepareStoredSecrets, rotateEncryptionKey, UnknownKeyError } from "../../src/secrets/reseal.js";
import { keyringOf } from "../../src/secrets/sealed.js";
import { admin, backends, createTestContext, type TestContext } from "../helpers/context.js";
import {
  allCells,
  assertAllSealedUnder,
  buildSecretWorld,
  exerciseSecrets,
  leaks,
  type SecretWorld,
  secretValues,
  viewOf,
} from "./helpers.js";

const root = path.resolve(import.meta.dirname, "../..");
const newKey = () => randomBytes(32);
const b64 = (k: Buffer) => k.toString("base64");
const sealedPrefix = (id: string) => `enc:v1:${id}:`;

for (const backend of backends()) {
  describe(`secrets at rest: rotating the encryption key [${backend.name}]`, () => {
    let ctx: TestContext;
    let w: SecretWorld;
    let secrets: Record<string, string>;
    const keyA = newKey();
    let live: Deps | undefined;
    /** Restart "the process" with these keys: migrate, prepare, run jobs. */
    const restart = async (env: Record<string, string>) => {
      await live?.driver.stop(5000);
      live = ctx.reopen(env, "api");
      await prepareStoredSecrets(live);
      await live.driver.start();
      return viewOf(ctx, live);
    };
    before(async () => {
      ctx = await createTestContext(backend, { env: { ROSTER_ENCRYPTION_KEY: b64(keyA) } });
      await ctx.deps.driver.start();
      w = await buildSecretWorld(ctx, "rotor");
      await exerciseSecrets(ctx, w, "key A");
      secrets = await secretValues(ctx, w);
      await ctx.deps.driver.stop(5000);
      assert.equal(await assertAllSealedUnder(ctx.deps.db, keyIdOf(keyA)), 6);
    });
    after(async () => {
      await ctx.close();
      await w.rx.close();
    });

    it("new key + ROSTER_ENCRYPTION_KEY_PREVIOUS: both decrypt meanwhile; rotate-key moves the rest; the old key alone is refused", async () => {
      const keyB = newKey();
      // 1. Every process restarts with the new key and the old one as previous: values under
      //    either key decrypt, new values are written under the new one.
      const transition = await restart({
        ROSTER_ENCRYPTION_KEY: b64(keyB),
        ROSTER_ENCRYPTION_KEY_PREVIOUS: b64(keyA),
      });
      await exerciseSecrets(transition, w, "A and B");
      await admin(transition).put("/admin/v1/tenants/rotor/saml", { allowIdpInitiated: true }).expect(200);
      const conn = await live!.db("saml_connections").where({ tenant_id: w.sso.tenantId }).first();
      const hook = await live!.db("webhooks").where({ id: w.hook.id }).first();
      assert.ok(conn.sp_signing_key.startsWith(sealedPrefix(keyIdOf(keyB))), "a new write uses the new key");
      assert.ok(
        hook.secret.startsWith(sealedPrefix(keyIdOf(keyA))),
        "an untouched value is still under the old key",
      );

      // 2. secrets:rotate-key re-encrypts what is left under the old key.
      const r = await rotateEncryptionKey(live!);
      assert.deepEqual(
        { source: r.source, keyId: r.keyId, reencrypted: r.reencrypted, total: r.total, keyFile: r.keyFile },
        {
          source: "ROSTER_ENCRYPTION_KEY",
          keyId: keyIdOf(keyB),
          reencrypted: 4,
          total: 6,
          keyFile: undefined,
        },
      );
      assert.equal(await assertAllSealedUnder(live!.db, keyIdOf(keyB)), 6);
      assert.deepEqual(leaks(secrets, await allCells(live!.db)), []);
      assert.equal((await rotateEncryptionKey(live!)).reencrypted, 0, "nothing left to move");

      // 3. ROSTER_ENCRYPTION_KEY_PREVIOUS removed: everything works with the new key alone...
      await exerciseSecrets(await restart({ ROSTER_ENCRYPTION_KEY: b64(keyB) }), w, "B");
      // ...and a process still configured with the old key alone refuses to start.
      const stale = ctx.reopen({ ROSTER_ENCRYPTION_KEY: b64(keyA) });
      await assert.rejects(prepareStoredSecrets(stale), UnknownKeyError);
    });

    it("ROSTER_ENCRYPTION_KEY_NEW: `npm run cli -- secrets:rotate-key` (a real process) re-encrypts everything under it", async () => {
      const current = keyringOf(live!.db).current.key;
      const keyC = newKey();
      await live!.driver.stop(5000);
      const run = spawnSync(
        process.execPath,
        ["--import", "tsx", "src/cli.ts", "--json", "secrets:rotate-key"],
        {
          cwd: root,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            DATABASE_URL: ctx.processDatabaseUrl,
            ROSTER_ENCRYPTION_KEY: b64(current),
            ROSTER_ENCRYPTION_KEY_NEW: keyC.toString("hex"),
            LOG_LEVEL: "silent",
          },
          encoding: "utf8",
        },
      );
      assert.equal(run.status, 0, run.stderr);
      const out = JSON.parse(run.stdout);
      assert.deepEqual(
        { source: out.source, keyId: out.keyId, reencrypted: out.reencrypted, total: out.total },
        { source: "ROSTER_ENCRYPTION_KEY_NEW", keyId: keyIdOf(keyC), reencrypted: 6, total: 6 },
      );
      for (const k of [current, keyC])
        assert.ok(!run.stdout.includes(b64(k)) && !run.stderr.includes(b64(k)));
      assert.equal(await assertAllSealedUnder(ctx.deps.db, keyIdOf(keyC)), 6);
      assert.deepEqual(leaks(secrets, await allCells(ctx.deps.db)), []);
      await exerciseSecrets(await restart({ ROSTER_ENCRYPTION_KEY: b64(keyC) }), w, "C");
    });

    it("a value that does not decrypt stops the rotation before anything changes", async () => {
      const keyD = newKey();
      const before = await live!.db("webhooks").where({ id: w.hook.id }).first();
      const conn = await live!.db("saml_connections").where({ tenant_id: w.sso.tenantId }).first();
      // The webhook's previous secret replaced by another column's ciphertext.
      await live!.db("webhooks").where({ id: w.hook.id }).update({ previous_secret: before.secret });
      const rotating = ctx.reopen({
        ROSTER_ENCRYPTION_KEY: b64(keyringOf(live!.db).current.key),
        ROSTER_ENCRYPTION_KEY_NEW: b64(keyD),
      });
      await assert.rejects(
        rotateEncryptionKey(rotating),
        /webhooks\.previous_secret.*copied from another row or column/,
      );
      const still = await live!.db("saml_connections").where({ tenant_id: w.sso.tenantId }).first();
      assert.equal(still.sp_signing_key, conn.sp_signing_key, "rolled back: the SP key was not re-encrypted");
      await live!.db("webhooks").where({ id: w.hook.id }).update({ previous_secret: before.previous_secret });
    });
  });
}
