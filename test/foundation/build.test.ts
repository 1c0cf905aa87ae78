import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { HANG_LIMIT_MS } from "../helpers/context.js";
import { freePort } from "../helpers/ports.js";

const root = path.resolve(import.meta.dirname, "../..");
// Its own output folder inside the repository (node_modules must resolve from it), so this
// file never races `npm start` or another test over dist/.
const outName = `.test-build-${process.pid}`;
const out = path.join(root, outName);
const dir = mkdtempSync(path.join(tmpdir(), "roster-build-"));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(out, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

function build(...extra: string[]) {
  return spawnSync(process.execPath, ["scripts/build.mjs", "--out-dir", outName, ...extra], {
    cwd: root,
    encoding: "utf8",
  });
}

describe("npm run build: the production start runs compiled JavaScript", () => {
  it("compiles src/ and migrations/, copies non-TypeScript files, and types roster/client", () => {
    const r = build();
    assert.equal(r.status, 0, r.stderr);
    for (const f of [
      "src/server.js",
      "src/worker.js",
      "src/cli.js",
      "migrations/index.js",
      "src/client/index.js",
    ])
      assert.ok(existsSync(path.join(out, f)), `${f} was built`);
    assert.ok(existsSync(path.join(out, "src/client/index.d.ts")), "roster/client has declarations");
    // Files the server reads at run time (templates, CSS, images): copied beside the compiled code.
    const assets = readdirSync(path.join(root, "src"), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !/\.tsx?$/.test(e.name))
      .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
    for (const f of assets) assert.ok(existsSync(path.join(out, f)), `${f} was copied`);
    // package.json's exports point where the build writes (dist/ is this layout).
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    assert.equal(pkg.exports["./client"].default, "./dist/src/client/index.js");
    assert.equal(pkg.exports["./client"].types, "./dist/src/client/index.d.ts");
    assert.equal(pkg.scripts.start, "node --enable-source-maps dist/src/server.js");
    // Fresh: --if-stale does nothing (no second build's line on stderr).
    const again = build("--if-stale");
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /compiled/);
  });

  it("the built server starts without tsx (migrates a new database) and answers /readyz 200", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(out, "src/server.js")], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: `sqlite:${path.join(dir, "built.sqlite")}`,
        PORT: String(port),
        ROSTER_ADMIN_TOKEN: "built-admin-token-0123456789abcdefghijkl",
        ROSTER_ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    const deadline = Date.now() + 2 * HANG_LIMIT_MS; // a hang detector, not a speed check
    let status = 0;
    while (Date.now() < deadline && child.exitCode === null) {
      status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200, output);
    // No TypeScript loader in the process: it ran the compiled files.
    assert.doesNotMatch(output, /tsx/);
    const tenants = await fetch(`http://127.0.0.1:${port}/admin/v1/tenants`, {
      headers: { authorization: "Bearer built-admin-token-0123456789abcdefghijkl" },
    });
    assert.equal(tenants.status, 200);
    // A static asset the server reads from beside its code (copied by the build, not compiled).
    const css = await fetch(`http://127.0.0.1:${port}/console/static/console.css`);
    assert.equal(css.status, 200);
    assert.equal(await css.text(), readFileSync(path.join(root, "src/console/static/console.css"), "utf8"));
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    assert.equal(child.exitCode, 0, output);
  });
});
