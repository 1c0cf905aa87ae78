/**
 * `npm test`: every test file on SQLite; with DATABASE_URL=postgres://… and/or REDIS_URL set,
 * the same suites also run on PostgreSQL and through BullMQ on Redis. `--services` (npm run
 * test:services) demands both and fails if either suite did not run.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensureDatabase } from "./test-database.js";

const args = process.argv.slice(2);
const requireServices = args.includes("--services");
const only = args.filter((a) => !a.startsWith("--"));

const pg = process.env.DATABASE_URL?.startsWith("postgres") ? process.env.DATABASE_URL : undefined;
const redis = process.env.REDIS_URL || undefined;
if (requireServices && (!pg || !redis)) {
  console.error("test:services needs DATABASE_URL=postgres://… and REDIS_URL=redis://… (see README)");
  process.exit(2);
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".test.ts"))
    .map((e) => path.join(e.parentPath ?? (e as any).path, e.name))
    .sort();
}

// Arguments may name test files or folders of them.
const files = (only.length ? only : ["test"]).flatMap((p) =>
  statSync(p, { throwIfNoEntry: false })?.isDirectory() ? testFiles(p) : [p],
);
if (pg) await createMissingDatabase(pg);

const tap = path.join(mkdtempSync(path.join(tmpdir(), "roster-test-")), "report.tap");
const env: NodeJS.ProcessEnv = { ...process.env, ROSTER_TEST_PG: pg ?? "", ROSTER_TEST_REDIS: redis ?? "" };
// The suites build their own config; the process-wide variables must not leak into them.
delete env.DATABASE_URL;
delete env.REDIS_URL;

console.log(
  `roster tests: sqlite${pg ? " + postgres" : ""}${redis ? " + redis" : ""} — ${files.length} files`,
);
const run = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    "--test-concurrency=2",
    // A file whose tests all finished ends even if a handle lingers: once (1 run in 7) the
    // Redis-outage suite's process stayed up after its last test with no socket open (a retry
    // timer of a client of the killed private redis-server) and CI waited on it for good.
    "--test-force-exit",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=tap",
    `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { stdio: "inherit", env },
);

const report = readFileSync(tap, "utf8");
const passedWith = (tag: string) =>
  report.split("\n").filter((l) => /^\s*ok \d+/.test(l) && l.includes(tag)).length;
const counts = {
  sqlite: passedWith("[sqlite]"),
  postgres: passedWith("[postgres]"),
  redis: passedWith("[redis]"),
};
console.log(
  `\nsuites passed by backend: sqlite ${counts.sqlite}, postgres ${counts.postgres}, redis ${counts.redis}`,
);

let status = run.status ?? 1;
if ((pg || requireServices) && counts.postgres === 0) {
  console.error("PostgreSQL was configured but no [postgres] suite passed");
  status = status || 1;
}
if ((redis || requireServices) && counts.redis === 0) {
  console.error("Redis was configured but no [redis] suite passed");
  status = status || 1;
}
process.exit(status);

/** The database DATABASE_URL names, created when missing (a fresh machine has none). */
async function createMissingDatabase(url: string): Promise<void> {
  try {
    if (await ensureDatabase(url)) console.log(`created the test database ${new URL(url).pathname.slice(1)}`);
  } catch (err) {
    console.error(`cannot prepare the PostgreSQL test database: ${err instanceof Error ? err.message : err}`);
    process.exit(2);
  }
}
