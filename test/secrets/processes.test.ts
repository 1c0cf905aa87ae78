import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import knex from "knex";
import { verifySignature } from "../../src/events/signature.js";
import { keyIdOf, parseKeyText } from "../../src/secrets/cipher.js";
import { startReceiver } from "../events/receiver.js";
import { userBody } from "../helpers/context.js";
import { TestIdp } from "../helpers/test-idp.js";

const root = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "roster-secrets-proc-"));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const baseEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  ...extra,
});

function startServer(db: string, port: number) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    cwd: root,
    env: baseEnv({
      DATABASE_URL: `sqlite:${db}`,
      PORT: String(port),
      LOG_LEVEL: "info",
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      ROSTER_WEBHOOK_ALLOW_PRIVATE: "true",
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, exited, out: () => out, err: () => err };
}

function cli(db: string, args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
    cwd: root,
    env: baseEnv({ DATABASE_URL: `sqlite:${db}`, LOG_LEVEL: "silent" }),
    encoding: "utf8",
  });
}

/** Healthy, or the process exited (its code), whichever comes first; generous: tsx compiles on a loaded machine. */
async function healthyOrExit(
  port: number,
  s: ReturnType<typeof startServer>,
): Promise<"healthy" | number | null> {
  let code: number | null | undefined;
  void s.exited.then((c) => (code = c));
  for (let i = 0; i < 600 && code === undefined; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return "healthy";
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  if (code === undefined) throw new Error("server neither healthy nor exited");
  return code;
}

const mode = (f: string) => (statSync(f).mode & 0o777).toString(8);
const GENERATED = /Roster generated an encryption key/;

async function api(port: number, token: string, method: string, url: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/scim+json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** An SQLite file opened directly (no Roster code in between). */
const openSqlite = (file: string) =>
  knex({ client: "better-sqlite3", connection: { filename: file }, useNullAsDefault: true });

async function sealedColumns(db: string): Promise<string[]> {
  const conn = openSqlite(db);
  try {
    return [
      ...(await conn("webhooks").select("url", "secret", "previous_secret")),
      ...(await conn("saml_connections").select("sp_signing_key", "sp_encryption_key")),
      ...(await conn("signing_keys").select("private_jwk")),
    ].flatMap((r: any) => Object.values(r).filter((v): v is string => typeof v === "string"));
  } finally {
    await conn.destroy();
  }
}

describe("secrets at rest: real starts, the key file, file modes [sqlite]", () => {
  it("first start: key file 0600 (said once, never printed), folder 0700, database, WAL and SHM 0600; rotate-key with the key file; a lost key file stops the start", async () => {
    const data = path.join(dir, "fresh", "data");
    const db = path.join(data, "roster.sqlite");
    const keyFile = path.join(data, "encryption.key");
    const port = 41000 + Math.floor(Math.random() * 1000);
    const rx = await startReceiver();
    try {
      // 1. First start on a path whose folders do not exist.
      const first = startServer(db, port);
      assert.equal(await healthyOrExit(port, first), "healthy", first.err());
      const admin = /rst_admin_[A-Za-z0-9_-]{43}/.exec(first.err())![0];
      assert.equal(
        (await api(port, admin, "POST", "/admin/v1/tenants", { slug: "acme", name: "Acme" })).status,
        201,
      );
      const scim = (await api(port, admin, "POST", "/admin/v1/tenants/acme/scim-tokens", { name: "t" })).body
        .token;
      const hook = await api(port, admin, "POST", "/admin/v1/tenants/acme/webhooks", {
        url: `${rx.url}/Tsecret-path`,
        events: ["user.*"],
      });
      assert.equal(hook.status, 201);
      const idp = new TestIdp();
      const saml = await api(port, admin, "PUT", "/admin/v1/tenants/acme/saml", {
        idpEntityId: idp.entityId,
        ssoUrl: idp.ssoUrl,
        certificates: [idp.keys.certificate],
      });
      assert.equal(saml.status, 200, JSON.stringify(saml.body));
      // Running: the WAL and SHM files exist now.
      assert.deepEqual(
        {
          data: mode(data),
          db: mode(db),
          wal: mode(`${db}-wal`),
          shm: mode(`${db}-shm`),
          key: mode(keyFile),
        },
        { data: "700", db: "600", wal: "600", shm: "600", key: "600" },
      );
      const delivered = async (userName: string) => {
        const id = (await api(port, scim, "POST", "/scim/v2/Users", userBody(userName))).body.id;
        for (let i = 0; i < 300 && !rx.accepted().some((r) => r.event.data.userId === id); i++)
          await new Promise((r) => setTimeout(r, 100));
        const got = rx.accepted().find((r) => r.event.data.userId === id);
        assert.ok(got, `delivery for ${userName}`);
        assert.equal(got.path, "/hook/Tsecret-path");
        const header = String(got.headers["roster-signature"]);
        assert.ok(verifySignature(hook.body.secret, header, got.body, Number(/t=(\d+)/.exec(header)![1])));
      };
      await delivered("first@acme.test");
      first.child.kill("SIGTERM");
      assert.equal(await first.exited, 0);

      const keyText = readFileSync(keyFile, "utf8");
      const keys = keyText.split("\n").filter((l) => l && !l.startsWith("#"));
      assert.equal(keys.length, 1);
      const firstId = keyIdOf(parseKeyText(keys[0])!);
      assert.match(first.err(), GENERATED);
      assert.ok(first.err().includes(path.resolve(keyFile)), "says where the key is");
      assert.ok(first.err().includes(firstId));
      assert.ok(
        !first.err().includes(keys[0]) && !first.out().includes(keys[0]),
        "the key itself is never printed",
      );
      const stored = await sealedColumns(db);
      assert.equal(
        stored.length,
        4,
        "webhook url and secret, two SP keys (no previous secret, no signing key yet)",
      );
      for (const v of stored) assert.ok(v.startsWith(`enc:v1:${firstId}:`), v.slice(0, 20));

      // 2. secrets:rotate-key with the key file: a generated key replaces the old one.
      const rotated = cli(db, ["--json", "secrets:rotate-key"]);
      assert.equal(rotated.status, 0, rotated.stderr);
      const r = JSON.parse(rotated.stdout);
      assert.equal(r.source, "generated");
      assert.equal(r.reencrypted, 4);
      assert.notEqual(r.keyId, firstId);
      assert.equal(path.resolve(r.keyFile), path.resolve(keyFile));
      const newKeys = readFileSync(keyFile, "utf8")
        .split("\n")
        .filter((l) => l && !l.startsWith("#"));
      assert.deepEqual(
        newKeys.map((k) => keyIdOf(parseKeyText(k)!)),
        [r.keyId],
        "only the new key is kept",
      );
      assert.ok(!rotated.stdout.includes(newKeys[0]) && !rotated.stderr.includes(newKeys[0]));
      assert.equal(mode(keyFile), "600");
      for (const v of await sealedColumns(db)) assert.ok(v.startsWith(`enc:v1:${r.keyId}:`));

      // 3. A lost key file: the next start makes a new key, finds secrets it cannot read and stops.
      const kept = path.join(dir, "kept.key");
      renameSync(keyFile, kept);
      const lost = startServer(db, port);
      assert.notEqual(await healthyOrExit(port, lost), "healthy");
      assert.notEqual(await lost.exited, 0);
      assert.match(lost.err(), GENERATED);
      assert.match(lost.err(), new RegExp(`4 under key ${r.keyId.replace(/-/g, "\\-")}`));
      assert.match(lost.err(), /restore encryption\.key/);

      // 4. The backup restored: it starts (no new key said), and the secrets work.
      copyFileSync(kept, keyFile);
      const again = startServer(db, port);
      assert.equal(await healthyOrExit(port, again), "healthy", again.err());
      assert.equal((await api(port, admin, "GET", "/admin/v1/tenants/acme/saml")).status, 200);
      await delivered("again@acme.test");
      again.child.kill("SIGTERM");
      assert.equal(await again.exited, 0);
      assert.doesNotMatch(again.err(), GENERATED);
    } finally {
      await rx.close();
    }
  });

  it("files of an older start (0644) are made owner-only; a folder that exists is left alone", async () => {
    const data = path.join(dir, "older");
    mkdirSync(data, { mode: 0o755 });
    chmodSync(data, 0o755);
    const db = path.join(data, "roster.sqlite");
    const keyFile = path.join(data, "encryption.key");
    writeFileSync(keyFile, `${randomBytes(32).toString("base64")}\n`);
    // An older Roster's database, still open (so its WAL and SHM exist), readable by all.
    const old = openSqlite(db);
    await old.raw("pragma journal_mode = WAL");
    await old.schema.createTable("t", (t) => t.integer("x"));
    await old("t").insert({ x: 1 });
    for (const f of [db, `${db}-wal`, `${db}-shm`, keyFile]) chmodSync(f, 0o644);
    try {
      const r = cli(db, ["migrate"]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(
        {
          data: mode(data),
          db: mode(db),
          wal: mode(`${db}-wal`),
          shm: mode(`${db}-shm`),
          key: mode(keyFile),
        },
        { data: "755", db: "600", wal: "600", shm: "600", key: "600" },
      );
      assert.doesNotMatch(r.stderr, GENERATED, "the existing key file is used");
    } finally {
      await old.destroy();
    }
  });

  it("PostgreSQL without ROSTER_ENCRYPTION_KEY refuses to start and says why", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/server.ts"], {
      cwd: root,
      env: baseEnv({ DATABASE_URL: "postgres://roster@127.0.0.1:1/roster" }),
      encoding: "utf8",
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ROSTER_ENCRYPTION_KEY: is required with PostgreSQL/);
    assert.match(r.stderr, /secrets:generate-key/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  });

  it("secrets:generate-key prints a fresh key that the configuration accepts", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "secrets:generate-key"], {
      cwd: root,
      env: baseEnv({}),
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(parseKeyText(r.stdout)?.length, 32);
  });
});
