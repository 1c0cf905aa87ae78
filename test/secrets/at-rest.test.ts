import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { findWebhook } from "../../src/events/webhooks-store.js";
import { SecretDecryptionError } from "../../src/secrets/cipher.js";
import { keyringOf } from "../../src/secrets/sealed.js";
import { admin, createTestContext, type TestContext, testRedisUrl } from "../helpers/context.js";
import { variants } from "../roles/helpers.js";
import {
  allCells,
  assertAllSealedUnder,
  buildSecretWorld,
  exerciseSecrets,
  leaks,
  type SecretWorld,
  secretValues,
} from "./helpers.js";

/** Every value under a Redis key prefix (BullMQ keeps job payloads in hashes, lists, sets). */
async function redisTexts(prefix: string): Promise<Array<{ where: string; text: string }>> {
  const { Redis } = await import("ioredis");
  const r = new Redis(testRedisUrl()!);
  const out: Array<{ where: string; text: string }> = [];
  try {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      for (const key of keys) {
        const type = await r.type(key);
        const values =
          type === "string"
            ? [await r.get(key)]
            : type === "hash"
              ? Object.values(await r.hgetall(key))
              : type === "list"
                ? await r.lrange(key, 0, -1)
                : type === "set"
                  ? await r.smembers(key)
                  : type === "zset"
                    ? await r.zrange(key, "0", "-1")
                    : type === "stream"
                      ? (await r.xrange(key, "-", "+")).flatMap(([, fields]) => fields)
                      : [];
        for (const v of values) if (v) out.push({ where: `redis ${key}`, text: v });
      }
    } while (cursor !== "0");
  } finally {
    r.disconnect();
  }
  return out;
}

for (const v of variants()) {
  describe(`secrets at rest: nothing in clear in the database, logs or queues [${v.label}]`, {
    skip: v.skip,
  }, () => {
    let ctx: TestContext;
    let w: SecretWorld;
    before(async () => {
      ctx = await createTestContext(v.backend, { redis: v.redis });
      await ctx.deps.driver.start();
      w = await buildSecretWorld(ctx, "vault");
    });
    after(async () => {
      await ctx.close();
      await w.rx.close();
    });

    it("SP keys, the OpenID signing key, webhook secrets and URLs are stored encrypted; every flow using them works", async () => {
      await exerciseSecrets(ctx, w, "at-rest");
      const secrets = await secretValues(ctx, w);
      const cells = await allCells(ctx.deps.db);
      assert.ok(cells.length > 100, `${cells.length} cells scanned`);
      assert.deepEqual(leaks(secrets, cells), []);
      assert.deepEqual(
        leaks(
          secrets,
          ctx.logs.map((text) => ({ where: "log", text })),
        ),
        [],
      );
      if (v.redis) {
        const queued = await redisTexts(ctx.queuePrefix);
        assert.ok(queued.length > 0, "BullMQ keys were scanned");
        assert.deepEqual(leaks(secrets, queued), []);
      }
      // 2 SP private keys, 1 OpenID signing key, the webhook's URL, secret and previous secret.
      assert.equal(await assertAllSealedUnder(ctx.deps.db, keyringOf(ctx.deps.db).current.id), 6);
    });

    it("a ciphertext moved to another row or column, altered, or replaced by clear text is refused, never used", async () => {
      const other = await admin(ctx)
        .post("/admin/v1/tenants/vault/webhooks", { url: "https://hooks.example.com/other", events: ["*"] })
        .expect(201);
      const row = (id: string) => ctx.deps.db("webhooks").where({ id }).first();
      const original = await row(other.body.id);
      const mine = await row(w.hook.id);
      const put = async (values: Record<string, string | null>) =>
        ctx.deps.db("webhooks").where({ id: other.body.id }).update(values);
      const refused = async (pattern: RegExp) => {
        await assert.rejects(findWebhook(ctx.deps.db, w.sso.tenantId, other.body.id), (e: Error) => {
          assert.ok(e instanceof SecretDecryptionError, String(e));
          assert.match(e.message, pattern);
          for (const secret of [w.hook.secret, w.hook.previousSecret, "rst_whsec_typed"])
            assert.ok(!e.message.includes(secret));
          return true;
        });
        // The admin API answers a plain 500, with nothing of the stored value.
        const res = await admin(ctx).get(`/admin/v1/tenants/vault/webhooks/${other.body.id}`);
        assert.equal(res.status, 500);
        assert.ok(!res.text.includes("whsec") && !res.text.includes("enc:v1"), res.text);
      };

      await put({ secret: mine.secret }); // another row's ciphertext
      await refused(/copied from another row or column/);
      await put({ secret: original.secret, previous_secret: original.secret }); // another column's
      await refused(/previous_secret.*copied from another row or column/);
      const [head, body] = [original.secret.slice(0, -4), original.secret.slice(-4)];
      const flipped = body[0] === "A" ? `B${body.slice(1)}` : `A${body.slice(1)}`;
      await put({ secret: `${head}${flipped}`, previous_secret: null }); // altered
      await refused(/altered/);
      await put({ secret: "rst_whsec_typed" }); // clear text written behind Roster's back
      await refused(/stored in clear/);
      await put({ secret: original.secret });
      assert.ok(await findWebhook(ctx.deps.db, w.sso.tenantId, other.body.id));
    });

    it("a failed statement's error (logged, kept in jobs.last_error) carries no bound value", async () => {
      const marker = `rst_whsec_${"m".repeat(40)}`;
      const err = await ctx.deps
        .db("webhooks")
        .insert({
          id: "00000000-0000-4000-8000-000000000000",
          tenant_id: "no-such-tenant",
          url: "x",
          events: "[]",
          secret: marker,
          created_at: "x",
          updated_at: "x",
        })
        .then(
          () => undefined,
          (e: Error) => e,
        );
      assert.ok(err, "the foreign key refuses the row");
      assert.match(err.message, /insert into .webhooks./);
      assert.ok(!err.message.includes(marker), err.message);
    });
  });
}
