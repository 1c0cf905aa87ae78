import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";

// First-run failures of the real processes (node --import tsx src/…): one line that names the
// problem and what to do, a non-zero exit, no stack.
const root = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "roster-start-"));
const children: ChildProcess[] = [];
const blockers: Server[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const b of blockers) b.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run an entry point to its exit (a generous hang detector: start-up on a loaded machine is slow). */
function run(
  entry: string,
  env: Record<string, string>,
  opts: { args?: string[]; uid?: number } = {},
): Promise<Run> {
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...(opts.args ?? [])], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: "info",
      // Set, so a first start prints no bootstrap token banner on stderr.
      ROSTER_ADMIN_TOKEN: "startup-test-admin-token-0123456789abcdef",
      // Set, so no encryption key file is generated (and announced) and PostgreSQL may start.
      ROSTER_ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid }),
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const hang = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${entry} did not exit: ${stdout}\n${stderr}`));
    }, 90_000);
    child.on("exit", (code) => {
      clearTimeout(hang);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The process's one complaint: exactly one line on stderr, no stack trace. */
function oneLine(r: Run): string {
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line expected on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  assert.doesNotMatch(r.stdout, /\n\s+at |Acquire connection error/, "no stack trace on stdout either");
  return lines[0];
}

/** A port some other program holds. */
async function takenPort(): Promise<number> {
  const server = createServer();
  blockers.push(server);
  await new Promise<void>((resolve) => server.listen(0, resolve));
  return (server.address() as { port: number }).port;
}

/** The three entry points and their arguments. */
const ENTRIES = [
  ["src/server.ts", []],
  ["src/worker.ts", []],
  ["src/cli.ts", ["migrate"]],
] as const;

const sqlite = (name: string) => `sqlite:${path.join(dir, name)}`;

describe("start-up failures say what to do in one line [sqlite]", () => {
  it("a taken PORT: names the port and the fix, never logs 'listening', exits 1", async () => {
    const port = await takenPort();
    const r = await run("src/server.ts", { PORT: String(port), DATABASE_URL: sqlite("port.sqlite") });
    assert.equal(r.code, 1);
    const line = oneLine(r);
    assert.match(line, new RegExp(`port ${port} \\(PORT\\) is already in use`));
    assert.match(line, /set PORT to a free port/);
    assert.doesNotMatch(r.stdout, /roster listening/);
  });

  it("a taken PORT with several API processes (cluster): the primary stops instead of restarting them", async () => {
    const port = await takenPort();
    const r = await run("src/server.ts", {
      PORT: String(port),
      ROSTER_WORKERS: "2",
      DATABASE_URL: sqlite("cluster.sqlite"),
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is already in use/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.doesNotMatch(r.stdout, /roster listening|starting another/);
  });

  it("a taken METRICS_PORT: the API process and the worker name it", async () => {
    const port = await takenPort();
    const free = await takenPort();
    blockers.pop()!.close();
    const api = await run("src/server.ts", {
      PORT: String(free),
      METRICS_PORT: String(port),
      DATABASE_URL: sqlite("metrics.sqlite"),
    });
    assert.equal(api.code, 1);
    assert.match(oneLine(api), new RegExp(`port ${port} \\(METRICS_PORT\\) is already in use`));
    const worker = await run("src/worker.ts", {
      METRICS_PORT: String(port),
      DATABASE_URL: sqlite("metrics.sqlite"),
    });
    assert.equal(worker.code, 1);
    assert.match(oneLine(worker), /\(METRICS_PORT\) is already in use/);
  });

  it("a file that is not SQLite, a folder, a path through a file: server, worker and CLI say which", async () => {
    const notDb = path.join(dir, "notes.txt");
    writeFileSync(notDb, "these are not the tables you are looking for\n".repeat(100));
    const folder = path.join(dir, "a-folder.sqlite");
    mkdirSync(folder);
    const cases: Array<[string, RegExp]> = [
      [`sqlite:${notDb}`, /notes\.txt is not an SQLite database/],
      [`sqlite:${folder}`, /a-folder\.sqlite is a folder, not a database file/],
      [`sqlite:${notDb}/sub/roster.sqlite`, /notes\.txt is a file, so no folder can be created there/],
    ];
    // Every entry point on the first case; the server alone on the others (same code path).
    // One process at a time: several compiling at once starve the suites running beside this one.
    const runs = cases.flatMap(([url, cause], i) =>
      ENTRIES.slice(0, i === 0 ? 3 : 1).map(([entry, args]) => async () => {
        const r = await run(entry, { DATABASE_URL: url, PORT: "0" }, { args: [...args] });
        assert.equal(r.code, 1, `${entry} ${url}: ${r.stderr}`);
        const line = oneLine(r);
        assert.ok(line.startsWith(`roster: cannot open the database DATABASE_URL=${url}: `), line);
        assert.match(line, cause);
      }),
    );
    for (const check of runs) await check();
  });

  it("a folder the process may not write: names the folder", async (t) => {
    // Root may write anywhere: run the process as nobody against a folder only root may enter.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chmodSync(dir, 0o755);
    const locked = path.join(dir, "locked");
    mkdirSync(locked, { mode: 0o700 });
    if (!asRoot) chmodSync(locked, 0o500);
    const r = await run(
      "src/cli.ts",
      { DATABASE_URL: `sqlite:${locked}/data/roster.sqlite` },
      { args: ["tenant:list"], ...(asRoot ? { uid: 65534 } : {}) },
    ).catch((err) => {
      t.skip(`cannot run as another user here: ${err}`);
      return undefined;
    });
    if (!r) return;
    assert.equal(r.code, 1);
    assert.match(
      oneLine(r),
      new RegExp(`no permission to create files in ${locked.replace(/[/.]/g, "\\$&")}$`),
    );
  });
});

const pg = process.env.ROSTER_TEST_PG;
describe(`start-up failures on PostgreSQL${pg ? " [postgres]" : ""}`, {
  skip: pg ? false : "no PostgreSQL in this run (set DATABASE_URL=postgres://… for npm test)",
}, () => {
  // The run's own password if it has one (trust authentication ignores a made-up one).
  const password = new URL(pg!).password || "s3cret-pw";
  const url = (change: (u: URL) => void) => {
    const u = new URL(pg!);
    u.password = password;
    change(u);
    return u.toString();
  };
  it("a missing database, a server that is down: DATABASE_URL with its password masked, the cause in words", async () => {
    const missing = url((u) => {
      u.pathname = "/roster_no_such_database_x";
    });
    const closed = await takenPort();
    blockers.pop()!.close();
    const down = url((u) => {
      u.port = String(closed);
    });
    const cases: Array<[string, RegExp]> = [
      [missing, /the database does not exist: create it/],
      [down, new RegExp(`connection refused at [^ ]+:${closed}: is PostgreSQL running`)],
    ];
    const runs = cases.flatMap(([dbUrl, cause], i) =>
      ENTRIES.slice(0, i === 0 ? 3 : 1).map(([entry, args]) => async () => {
        const r = await run(entry, { DATABASE_URL: dbUrl, PORT: "0" }, { args: [...args] });
        assert.equal(r.code, 1, `${entry}: ${r.stderr}`);
        const line = oneLine(r);
        assert.match(line, /^roster: cannot open the database DATABASE_URL=postgres:\/\/[^:]+:\*\*\*@/);
        assert.ok(!line.includes(password), "password masked");
        assert.match(line, cause);
      }),
    );
    for (const check of runs) await check();
  });
});
