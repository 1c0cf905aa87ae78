import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { loadConfig } from "../../src/config.js";
import { eventually, HANG_LIMIT_MS } from "../helpers/context.js";
import { freePort } from "../helpers/ports.js";

const root = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "roster-proc-"));
// A failed assertion must not leave a server running (the test runner would wait on it forever).
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
  return env;
}

function cli(args: string[], db: string) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
    cwd: root,
    env: baseEnv({ DATABASE_URL: `sqlite:${db}`, LOG_LEVEL: "silent" }),
    encoding: "utf8",
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function startServer(db: string, port: number, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    cwd: root,
    env: baseEnv({ DATABASE_URL: `sqlite:${db}`, PORT: String(port), LOG_LEVEL: "info", ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  return { child, out: () => stdout, err: () => stderr };
}

// A hang detector, not a speed check: start-up time is not what these tests check, and a loaded
// 2-core machine (tsx compiling for several processes at once) took more than 15 s.
async function waitHealthy(port: number, ms = 2 * HANG_LIMIT_MS): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server did not become healthy (hang detector)");
}

const exited = (c: ChildProcess) => new Promise<number | null>((r) => c.on("exit", (code) => r(code)));

describe("config [sqlite]", () => {
  it("has working defaults", () => {
    const c = loadConfig({});
    assert.equal(c.port, 3000);
    assert.deepEqual(c.database, {
      client: "sqlite",
      filename: "./data/roster.sqlite",
      driver: "better-sqlite3",
    });
    assert.equal(c.workers, 1);
    assert.equal(c.inlineJobs, true);
    assert.equal(c.bodyLimitBytes, 1024 * 1024);
    assert.equal(c.publicUrl, "http://localhost:3000");
    assert.ok(Object.isFrozen(c));
  });
  it("reports every problem at once", () => {
    assert.throws(
      () =>
        loadConfig({
          PORT: "eighty",
          DATABASE_URL: "mysql://x",
          ROSTER_ADMIN_TOKEN: "short",
          LOG_LEVEL: "loud",
        }),
      (e: any) => e.problems.length === 4 && /PORT/.test(e.message) && /DATABASE_URL/.test(e.message),
    );
  });
  it("makes jobs leave the API process when Redis is configured", () => {
    assert.equal(loadConfig({ REDIS_URL: "redis://127.0.0.1:6379" }).inlineJobs, false);
    assert.equal(loadConfig({ REDIS_URL: "redis://127.0.0.1:6379", ROSTER_JOBS: "inline" }).inlineJobs, true);
  });
});

describe("processes: server, CLI, signals [sqlite]", () => {
  it("the CLI creates tenants and tokens, lists and revokes them, with --json", () => {
    const db = path.join(dir, "cli.sqlite");
    assert.match(cli(["migrate"], db).stdout, /applied|up to date/);
    const created = cli(["tenant:create", "acme", "--name", "Acme Inc"], db);
    assert.equal(created.status, 0, created.stderr);
    const dup = cli(["--json", "tenant:create", "acme", "--name", "Again"], db);
    assert.equal(dup.status, 1);
    assert.equal(JSON.parse(dup.stderr).error.code, "TENANT_EXISTS");
    const tok = cli(["--json", "scim-token:create", "acme", "--name", "Entra ID"], db);
    assert.equal(tok.status, 0, tok.stderr);
    const token = JSON.parse(tok.stdout);
    assert.match(token.token, /^rst_scim_/);
    const plain = cli(["scim-token:create", "acme", "--name", "Okta"], db);
    assert.match(plain.stdout.split("\n")[0], /^rst_scim_\S+$/);
    const list = JSON.parse(cli(["--json", "scim-token:list", "acme"], db).stdout);
    assert.equal(list.scimTokens.length, 2);
    assert.ok(!JSON.stringify(list).includes(token.token));
    assert.equal(cli(["scim-token:revoke", "acme", token.id], db).status, 0);
    const after = JSON.parse(cli(["--json", "scim-token:list", "acme"], db).stdout);
    assert.ok(after.scimTokens.find((t: any) => t.id === token.id).revokedAt);
    const tenants = JSON.parse(cli(["--json", "tenant:list"], db).stdout);
    assert.deepEqual(
      tenants.tenants.map((t: any) => t.slug),
      ["acme"],
    );
    assert.equal(cli(["scim-token:list", "nobody"], db).status, 1);
  });

  it("starts on a fresh SQLite path, prints a bootstrap admin token once, drains on SIGTERM", async () => {
    const db = path.join(dir, "nested", "folder", "roster.sqlite");
    const port = await freePort();
    const first = startServer(db, port);
    // How fast it starts is for benchmarks, not tests (a loaded machine took more than 15 s).
    await waitHealthy(port);
    const token = /rst_admin_[A-Za-z0-9_-]{43}/.exec(first.err())?.[0];
    assert.ok(token, "bootstrap token printed");
    const created = await fetch(`http://127.0.0.1:${port}/admin/v1/tenants`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ slug: "boot", name: "Boot" }),
    });
    assert.equal(created.status, 201);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(
      metrics,
      /roster_http_requests_total\{method="POST",route="\/admin\/v1\/tenants",status="201"\} 1/,
    );
    assert.match(metrics, /roster_http_request_duration_seconds_bucket/);
    // A slow in-flight request still completes after SIGTERM.
    const inflight = fetch(`http://127.0.0.1:${port}/admin/v1/tenants`, {
      headers: { authorization: `Bearer ${token}` },
    });
    first.child.kill("SIGTERM");
    assert.equal((await inflight).status, 200);
    assert.equal(await exited(first.child), 0);
    assert.ok(!first.out().includes(token), "token never in the JSON log");
    const lines = first.out().trim().split("\n");
    assert.ok(lines.every((l) => JSON.parse(l)));

    const second = startServer(db, port);
    await waitHealthy(port);
    second.child.kill("SIGTERM");
    assert.equal(await exited(second.child), 0);
    assert.ok(!/rst_admin_/.test(second.err()), "printed only on the first start");
  });

  it("runs several API processes on one port with ROSTER_WORKERS and stops them all on SIGTERM", async () => {
    const db = path.join(dir, "cluster.sqlite");
    const port = await freePort();
    const server = startServer(db, port, {
      ROSTER_WORKERS: "2",
      ROSTER_ADMIN_TOKEN: "cluster-admin-token-0123456789abcdefghij",
    });
    await waitHealthy(port);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`http://127.0.0.1:${port}/admin/v1/tenants`, {
          method: "POST",
          headers: {
            authorization: "Bearer cluster-admin-token-0123456789abcdefghij",
            "content-type": "application/json",
          },
          body: JSON.stringify({ slug: `c${i}x`, name: "C" }),
        }).then((r) => r.status),
      ),
    );
    assert.deepEqual(
      results,
      results.map(() => 201),
      "concurrent writes from two processes on one SQLite file",
    );
    const listening = () =>
      new Set(
        server
          .out()
          .split("\n")
          .filter((l) => l.includes("roster listening"))
          .map((l) => JSON.parse(l).pid),
      );
    // Under load the second process may log a moment after the first one answered.
    await eventually(
      async () => listening().size >= 2,
      undefined,
      "both API processes to log 'roster listening'",
    );
    assert.equal(listening().size, 2);
    server.child.kill("SIGTERM");
    assert.equal(await exited(server.child), 0);
  });

  it("npm run worker starts a worker process that drains on SIGTERM", async () => {
    const db = path.join(dir, "worker.sqlite");
    const child = spawn(process.execPath, ["--import", "tsx", "src/worker.ts"], {
      cwd: root,
      env: baseEnv({ DATABASE_URL: `sqlite:${db}`, LOG_LEVEL: "info" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let out = "";
    // Until the start line, or the process ends (a generous hang detector otherwise).
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start line:\n${out}`)), 2 * HANG_LIMIT_MS);
      child.stdout!.on("data", (d) => {
        out += d;
        if (out.includes("roster worker started")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the worker exited (${code}) before starting:\n${out}`));
      });
    });
    assert.match(out, /"driver":"inline"/);
    child.kill("SIGTERM");
    assert.equal(await exited(child), 0);
  });

  it("refuses to start with invalid config, naming every problem", async () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/server.ts"], {
      cwd: root,
      env: baseEnv({ PORT: "x", DATABASE_URL: "mysql://nope", BODY_LIMIT: "lots" }),
      encoding: "utf8",
    });
    assert.equal(r.status, 1);
    for (const v of ["PORT", "DATABASE_URL", "BODY_LIMIT"]) assert.match(r.stderr, new RegExp(v));
  });
});
