/**
 * `npm run bench -- start [runs]`: how long `npm start` takes to serve, from process start to
 * `/readyz` answering 200 on an existing (already migrated) SQLite database, and the API
 * process's resident memory right after, for the tsx start (TypeScript compiled at every
 * start) against the built start (`npm run build`, then plain node on dist/). Also the CPU time
 * the process spent to get there (user + system), the figure least moved by other load.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const runs = Number(process.argv[2] ?? 5);
const dir = mkdtempSync(path.join(tmpdir(), "roster-bench-start-"));
const outName = `.test-build-bench-${process.pid}`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  DATABASE_URL: `sqlite:${path.join(dir, "bench.sqlite")}`,
  ROSTER_ADMIN_TOKEN: "bench-admin-token-0123456789abcdefghijklmn",
  ROSTER_ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
  LOG_LEVEL: "warn",
};

/** CPU time the process used so far (user + system, ms): steadier than wall time on a shared machine. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) / 1024;
}

/** One start: ms from spawn to /readyz 200, and RSS (MB) then. */
async function startOnce(args: string[]): Promise<{ ms: number; rss: number; cpu: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...env, PORT: String(port) },
    stdio: "ignore",
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return { ms: performance.now() - started, rss: rssMb(child.pid!), cpu: cpuMs(child.pid!) };
      await new Promise((r) => setTimeout(r, 10));
      if (performance.now() - started > 120_000) throw new Error("no /readyz 200 within 120 s");
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const b = spawnSync(process.execPath, ["scripts/build.mjs", "--out-dir", outName], {
    cwd: root,
    encoding: "utf8",
  });
  if (b.status !== 0) throw new Error(b.stderr);
  console.log(b.stderr.trim());
  const variants: Record<string, string[]> = {
    "tsx (node --import tsx src/server.ts)": ["--import", "tsx", "src/server.ts"],
    "built (node dist/src/server.js)": ["--enable-source-maps", path.join(outName, "src/server.js")],
  };
  // The first start migrates the database; the figures are for starts on an existing one.
  await startOnce(Object.values(variants)[1]);
  for (const [name, args] of Object.entries(variants)) {
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await startOnce(args));
    const ms = results.map((r) => r.ms);
    console.log(
      `${name}: start → /readyz 200 median ${median(ms).toFixed(0)} ms (min ${Math.min(...ms).toFixed(0)}, max ${Math.max(...ms).toFixed(0)}, ${runs} runs); CPU to get there median ${median(results.map((r) => r.cpu)).toFixed(0)} ms; RSS after start median ${median(results.map((r) => r.rss)).toFixed(0)} MB`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  rmSync(path.join(root, outName), { recursive: true, force: true });
}
