/**
 * `npm test`: every test file on SQLite; with DATABASE_URL=postgres://… and/or REDIS_URL set,
 * the same suites also run on PostgreSQL and through BullMQ on Redis. Suites whose service is
 * not configured are reported as skipped, by name, with the reason.
 *
 * In CI (CI=true) and with `--services` (npm run test:services) both services are required, no
 * suite may be skipped for a missing service, and every file with PostgreSQL or Redis suites must
 * have run their cases: one passing suite per service is not enough (a file whose suites vanish or
 * are all skipped fails the run by name). Skipped and todo cases never count as passing.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensureDatabase } from "./test-database.js";

/** What scripts/test-reporter.mjs writes for each finished test or suite. */
interface TestRecord {
  file: string;
  ancestors: string[];
  name: string;
  kind: "suite" | "test";
  outcome: "pass" | "fail" | "skip" | "todo";
  reason?: string;
}

const args = process.argv.slice(2);
const strict = args.includes("--services") || process.env.CI === "true";
const only = args.filter((a) => !a.startsWith("--"));

/**
 * Node 20 applies --test-timeout to each test file as a whole (the unit its runner gives a child
 * process), and kills the file when it runs out: a hang (a redis-server that never answers, a
 * promise nobody resolves) fails its file with "test timed out" and the run goes on. Generous:
 * the slowest file (role sync on four backends) took 6.5 minutes on a loaded 2-core machine.
 */
const FILE_TIMEOUT_MS = 30 * 60_000;

const pg = process.env.DATABASE_URL?.startsWith("postgres") ? process.env.DATABASE_URL : undefined;
const redis = process.env.REDIS_URL || undefined;
if (strict && (!pg || !redis)) {
  console.error(
    "CI and test:services need DATABASE_URL=postgres://… and REDIS_URL=redis://… (see README): without them the PostgreSQL and Redis suites would only be skipped",
  );
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

const workDir = mkdtempSync(path.join(tmpdir(), "roster-test-"));
// What each finished test or suite was (scripts/test-reporter.mjs), and which files declared
// suites on PostgreSQL or Redis (skipUnless in test/helpers/context.ts).
const reportFile = path.join(workDir, "report.jsonl");
const declaredFile = path.join(workDir, "declared.jsonl");
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ROSTER_TEST_PG: pg ?? "",
  ROSTER_TEST_REDIS: redis ?? "",
  ROSTER_TEST_REPORT: reportFile,
  ROSTER_TEST_DECLARED: declaredFile,
};
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
    `--test-timeout=${FILE_TIMEOUT_MS}`,
    // A file whose tests all finished ends even if a handle lingers: once (1 run in 7) the
    // Redis-outage suite's process stayed up after its last test with no socket open (a retry
    // timer of a client of the killed private redis-server) and CI waited on it for good.
    "--test-force-exit",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    `--test-reporter=${path.join(import.meta.dirname, "test-reporter.mjs")}`,
    "--test-reporter-destination=/dev/null",
    ...files,
  ],
  { stdio: "inherit", env },
);

const jsonLines = <T>(file: string): T[] =>
  (existsSync(file) ? readFileSync(file, "utf8") : "")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
const records = jsonLines<TestRecord>(reportFile);
const declared = jsonLines<{ file: string; service: string }>(declaredFile);
const relative = (f: string) => path.relative(process.cwd(), f) || f;
const SERVICES = ["postgres", "redis"] as const;
const tagged = (r: TestRecord, tag: string) => [...r.ancestors, r.name].some((n) => n.includes(`[${tag}]`));
const serviceReason = (r: TestRecord) => /ROSTER_TEST_(PG|REDIS)\b/.test(r.reason ?? "");
// Cases that ran and passed: a skipped or todo case is reported as a pass by node:test.
const passed = records.filter((r) => r.kind === "test" && r.outcome === "pass");

const problems: string[] = [];
const skipped = records.filter((r) => r.outcome === "skip" || r.outcome === "todo");
if (skipped.length) {
  console.log(`\nskipped (${skipped.length}):`);
  for (const r of skipped)
    console.log(
      `  ${relative(r.file)}: ${[...r.ancestors, r.name].join(" › ")} — ${r.outcome}${r.reason ? `: ${r.reason}` : ""}`,
    );
}
if (strict)
  for (const r of skipped.filter(serviceReason))
    problems.push(`${relative(r.file)}: "${r.name}" was skipped (${r.reason}) although CI needs it to run`);

// Every file with suites for a configured service must have run them: passing cases, none skipped.
const configured = { postgres: !!pg, redis: !!redis };
for (const service of SERVICES) {
  if (!configured[service]) continue;
  const byFile = new Map<string, TestRecord[]>();
  for (const d of declared.filter((x) => x.service === service)) byFile.set(d.file, []);
  for (const r of records.filter((x) => tagged(x, service)))
    byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
  if (byFile.size === 0 && only.length === 0)
    problems.push(`${service} was configured but no [${service}] suite exists`);
  for (const [file, list] of byFile) {
    const ran = list.filter((r) => r.kind === "test" && r.outcome === "pass").length;
    const notRun = list.filter((r) => r.outcome === "skip" || r.outcome === "todo");
    if (ran === 0) problems.push(`${relative(file)}: no [${service}] case ran and passed`);
    for (const r of notRun)
      problems.push(
        `${relative(file)}: [${service}] "${r.name}" did not run (${r.outcome}: ${r.reason ?? "-"})`,
      );
  }
}

// A file that recorded nothing did not run (or its results were lost): never a silent pass.
for (const file of files)
  if (!records.some((r) => r.file === path.resolve(file))) problems.push(`${file}: no result was recorded`);

const count = (tag: string) => passed.filter((r) => tagged(r, tag)).length;
console.log(
  `\ncases passed by backend: sqlite ${count("sqlite")}, postgres ${count("postgres")}, redis ${count("redis")}` +
    ` (of ${passed.length} passed; ${skipped.length} skipped)`,
);
for (const p of problems) console.error(p);

let status = run.status ?? 1;
if (problems.length) status = status || 1;
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
