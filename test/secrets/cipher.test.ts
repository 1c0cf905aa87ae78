import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../src/config.js";
import { Keyring, keyIdOf, parseKeyText, SecretDecryptionError } from "../../src/secrets/cipher.js";

const place = { field: "webhooks.secret", row: ["tenant-1", "hook-1"] };

describe("secrets at rest: the cipher and the key variables [sqlite]", () => {
  it("AES-256-GCM values are self-describing, differ every time and open only at their place", () => {
    const key = randomBytes(32);
    const ring = new Keyring(key);
    const a = ring.seal("rst_whsec_x", place);
    const b = ring.seal("rst_whsec_x", place);
    assert.match(
      a,
      new RegExp(`^enc:v1:${keyIdOf(key).replace(/-/g, "\\-")}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$`),
    );
    assert.notEqual(a, b, "a fresh IV per value");
    assert.equal(ring.open(a, place), "rst_whsec_x");
    assert.equal(ring.open(ring.seal("", place), place), "");
    const refused = (stored: string, p: typeof place, pattern: RegExp) =>
      assert.throws(
        () => ring.open(stored, p),
        (e: Error) =>
          e instanceof SecretDecryptionError && pattern.test(e.message) && !e.message.includes("rst_"),
      );
    refused(a, { ...place, row: ["tenant-1", "hook-2"] }, /another row/);
    refused(a, { ...place, row: ["tenant-2", "hook-1"] }, /another row/);
    refused(a, { field: "webhooks.previous_secret", row: place.row }, /another row or column/);
    refused(
      a.replace(/:([A-Za-z0-9_-])([A-Za-z0-9_-]*)$/, (_m, c, rest) => `:${c === "A" ? "B" : "A"}${rest}`),
      place,
      /altered/,
    );
    refused("rst_whsec_x", place, /stored in clear/);
    refused(a.slice(0, 40), place, /not an enc:v1 value|truncated/);
    refused(a.replace("enc:v1:", "enc:v2:"), place, /not an enc:v1 value/);
    refused(new Keyring(randomBytes(32)).seal("x", place), place, /not configured \(configured: /);
  });

  it("the current key encrypts; previous keys still decrypt", () => {
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const before = new Keyring(oldKey).seal("secret", place);
    const ring = new Keyring(newKey, [oldKey]);
    assert.equal(ring.open(before, place), "secret");
    assert.ok(!ring.isCurrent(before));
    assert.ok(ring.isCurrent(ring.seal("secret", place)));
    assert.deepEqual(ring.ids, [keyIdOf(newKey), keyIdOf(oldKey)]);
    assert.throws(() => new Keyring(oldKey).open(ring.seal("secret", place), place), SecretDecryptionError);
  });

  it("keys are 32 bytes as hex, base64 or base64url; anything else is refused", () => {
    const key = randomBytes(32);
    for (const text of [
      key.toString("hex"),
      key.toString("hex").toUpperCase(),
      key.toString("base64"),
      key.toString("base64url"),
      ` ${key.toString("base64")}\n`,
    ])
      assert.deepEqual(parseKeyText(text), key, text);
    for (const text of [
      "",
      randomBytes(16).toString("hex"),
      randomBytes(31).toString("base64"),
      randomBytes(33).toString("base64"),
      randomBytes(48).toString("base64"),
      "0".repeat(64),
      Buffer.alloc(32, 7).toString("base64"),
      "correct horse battery staple correct horse b",
    ])
      assert.equal(parseKeyText(text), undefined, text);
  });

  it("config: ROSTER_ENCRYPTION_KEY checked (value never echoed); required with PostgreSQL; key file next to SQLite", () => {
    const bad = "not-a-key-but-a-secret-0123456789";
    assert.throws(
      () => loadConfig({ ROSTER_ENCRYPTION_KEY: bad, ROSTER_ENCRYPTION_KEY_PREVIOUS: `${bad},x` }),
      (e: Error) =>
        e instanceof ConfigError &&
        e.problems.length === 2 &&
        /ROSTER_ENCRYPTION_KEY: must be 32 random bytes/.test(e.message) &&
        /ROSTER_ENCRYPTION_KEY_PREVIOUS/.test(e.message) &&
        !e.message.includes(bad),
    );
    assert.throws(
      () => loadConfig({ DATABASE_URL: "postgres://roster@db:5432/roster", PORT: "x" }),
      (e: Error) =>
        e instanceof ConfigError &&
        e.problems.length === 2 &&
        /ROSTER_ENCRYPTION_KEY: is required with PostgreSQL/.test(e.message),
    );
    const key = randomBytes(32);
    const pg = loadConfig({
      DATABASE_URL: "postgres://roster@db:5432/roster",
      ROSTER_ENCRYPTION_KEY: key.toString("hex"),
    });
    assert.deepEqual(pg.encryption, { key, previous: [], next: undefined, keyFile: undefined });
    assert.equal(loadConfig({}).encryption.keyFile, "data/encryption.key");
    assert.equal(
      loadConfig({ DATABASE_URL: "sqlite:/var/lib/roster/r.sqlite" }).encryption.keyFile,
      "/var/lib/roster/encryption.key",
    );
    assert.equal(loadConfig({ DATABASE_URL: "sqlite::memory:" }).encryption.keyFile, undefined);
    const [p1, p2] = [randomBytes(32), randomBytes(32)];
    const both = loadConfig({
      ROSTER_ENCRYPTION_KEY: key.toString("base64"),
      ROSTER_ENCRYPTION_KEY_PREVIOUS: `${p1.toString("base64")}, ${p2.toString("hex")}`,
    });
    assert.deepEqual(both.encryption.previous, [p1, p2]);
    assert.equal(both.encryption.keyFile, undefined, "a configured key: no key file");
  });
});
