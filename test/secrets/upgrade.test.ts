import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { migrateLatest } from "../../src/db/knex.js";
import { keyIdOf } from "../../src/secrets/cipher.js";
import { prepareStoredSecrets, UnknownKeyError } from "../../src/secrets/reseal.js";
import { keyringOf } from "../../src/secrets/sealed.js";
import { backends, createTestContext, type TestContext } from "../helpers/context.js";
import {
  allCells,
  assertAllSealedUnder,
  buildSecretWorld,
  exerciseSecrets,
  leaks,
  type SecretWorld,
  secretValues,
  viewOf,
  writeSealedValuesInClear,
} from "./helpers.js";

for (const backend of backends()) {
  describe(`secrets at rest: a database from before encryption is encrypted at start [${backend.name}]`, () => {
    let ctx: TestContext;
    let w: SecretWorld;
    let secrets: Record<string, string>;
    before(async () => {
      ctx = await createTestContext(backend);
      await ctx.deps.driver.start();
      w = await buildSecretWorld(ctx, "legacy");
      await exerciseSecrets(ctx, w, "before"); // makes the OpenID signing key too
      secrets = await secretValues(ctx, w);
      await ctx.deps.driver.stop(5000);
      // The rows as an older Roster wrote them: every secret in clear.
      assert.equal(await writeSealedValuesInClear(ctx.deps.db), 6);
      assert.equal(leaks(secrets, await allCells(ctx.deps.db)).length, 8, "the secrets are there in clear");
    });
    after(async () => {
      await ctx.close();
      await w.rx.close();
    });

    it("the next start (two processes at once) encrypts every clear secret, once; every flow still works", async () => {
      // What server.ts, worker.ts and the CLI do after migrating, in two processes at once. On
      // SQLite one after the other: its write lock serializes them anyway, and two knex
      // instances in one process contending for it stall the event loop (processes do not).
      const [one, two] = [ctx.reopen({}, "api"), ctx.reopen({}, "worker")];
      await migrateLatest(one.db);
      const counts =
        backend.name === "postgres"
          ? await Promise.all([prepareStoredSecrets(one), prepareStoredSecrets(two)])
          : [await prepareStoredSecrets(one), await prepareStoredSecrets(two)];
      assert.equal(counts[0] + counts[1], 6, `encrypted ${counts}`);
      assert.equal(await prepareStoredSecrets(one), 0, "idempotent");
      assert.ok(ctx.logs.some((l) => /"encrypted":\d.*secrets stored in clear were encrypted/.test(l)));

      assert.deepEqual(leaks(secrets, await allCells(one.db)), []);
      assert.equal(await assertAllSealedUnder(one.db, keyringOf(one.db).current.id), 6);
      await two.driver.start();
      await exerciseSecrets(viewOf(ctx, one), w, "after");
    });

    it("a process whose key did not write the stored secrets refuses to start and changes nothing", async () => {
      const secretTables = async () =>
        (await allCells(ctx.deps.db)).filter((c) =>
          /^(webhooks|saml_connections|signing_keys)\./.test(c.where),
        );
      const before = await secretTables();
      const other = randomBytes(32);
      const wrong = ctx.reopen({ ROSTER_ENCRYPTION_KEY: other.toString("hex") });
      const stored = keyringOf(ctx.deps.db).current.id;
      await assert.rejects(prepareStoredSecrets(wrong), (e: Error) => {
        assert.ok(e instanceof UnknownKeyError, String(e));
        assert.match(e.message, new RegExp(`6 under key ${stored.replace(/-/g, "\\-")}`));
        assert.match(e.message, new RegExp(`configured: ${keyIdOf(other).replace(/-/g, "\\-")}`));
        assert.match(e.message, /ROSTER_ENCRYPTION_KEY/);
        return true;
      });
      assert.deepEqual(await secretTables(), before);
    });
  });
}
