/** Benchmark plumbing: start a real Roster process, drive it over keep-alive HTTP, read /proc. */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import knex, { type Knex } from "knex";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const ADMIN = "bench-admin-token-0123456789abcdefghijklmnopqrstuv";
/** The encryption key of every process a bench starts (PostgreSQL requires one; all must share it). */
export const ENCRYPTION_KEY = randomBytes(32).toString("base64");

/** A running server under test. */
export interface Server {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

// Every process a bench starts uses queues of its own in Redis (never the `roster-*` queues of
// a deployment, a test run or another bench) and is stopped when the bench exits, even when it
// is interrupted: a killed bench used to leave workers consuming shared queues.
export const QUEUE_PREFIX = `bench${process.pid}`;
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

/** Delete this bench's queues from Redis (after its processes have stopped). */
export async function dropBenchQueues(redisUrl: string | undefined): Promise<void> {
  if (!redisUrl) return;
  const { Redis } = await import("ioredis");
  const redis = new Redis(redisUrl);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${QUEUE_PREFIX}:*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

/** Start `src/server.ts` (or another entry) with the given environment and wait for /healthz. */
export async function startServer(
  env: Record<string, string>,
  entry = "src/server.ts",
  nodeArgs: string[] = [],
): Promise<Server> {
  const port = 40000 + Math.floor(Math.random() * 10000);
  const child = track(
    spawn(process.execPath, [...nodeArgs, "--import", "tsx", entry], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        ROSTER_ADMIN_TOKEN: ADMIN,
        ROSTER_ENCRYPTION_KEY: ENCRYPTION_KEY,
        ROSTER_QUEUE_PREFIX: QUEUE_PREFIX,
        LOG_LEVEL: "warn",
        // Every benchmark request comes from one address, at rates no real client reaches.
        ROSTER_RATE_LIMIT: "off",
        ...env,
      },
      stdio: ["ignore", "inherit", "inherit"],
    }),
  );
  for (let i = 0; i < 300; i++) {
    try {
      const r = await request(port, "GET", "/healthz");
      if (r.status === 200) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    port,
    stop: () =>
      new Promise((resolve) => {
        child.on("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP request with a JSON body; resolves with status and parsed body. */
export function request(
  port: number,
  method: string,
  url: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path: url,
        agent,
        headers: {
          ...(data ? { "content-type": "application/scim+json", "content-length": data.length } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: any = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("error", reject);
    if (data) req.write(data);
    req.end();
  });
}

/** A process and its descendants (cluster workers), from /proc/<pid>/task/<tid>/children. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const tid of readdirSync(`/proc/${out[i]}/task`)) {
        const kids = readFileSync(`/proc/${out[i]}/task/${tid}/children`, "utf8").trim();
        if (kids) out.push(...kids.split(" ").map(Number));
      }
    } catch {}
  }
  return out;
}

/** CPU time (user+sys, ms) a process tree has used so far, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {}
  }
  return (ticks * 1000) / 100; // CLK_TCK is 100 on Linux
}

/** Resident memory (MB) of a process tree now. */
export function rssMb(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      kb += m ? Number(m[1]) : 0;
    } catch {}
  }
  return kb / 1024;
}

/** Sample a process's RSS until stopped; returns the peak. */
export function rssPeak(pid: number): { stop(): number } {
  let peak = 0;
  const t = setInterval(() => {
    try {
      peak = Math.max(peak, rssMb(pid));
    } catch {}
  }, 200);
  return {
    stop() {
      clearInterval(t);
      return peak;
    },
  };
}

/** Latency recorder by request kind. */
export class Latencies {
  private readonly samples = new Map<string, number[]>();
  add(kind: string, ms: number): void {
    if (!this.samples.has(kind)) this.samples.set(kind, []);
    this.samples.get(kind)!.push(ms);
  }
  /** p-th percentile (0–100) of a kind, in ms. */
  pct(kind: string, p: number): number {
    const s = [...(this.samples.get(kind) ?? [])].sort((a, b) => a - b);
    if (s.length === 0) return Number.NaN;
    return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  }
  count(kind: string): number {
    return this.samples.get(kind)?.length ?? 0;
  }
  line(kind: string): string {
    return `${kind}: n=${this.count(kind)} p50=${fmt(this.pct(kind, 50))}ms p95=${fmt(this.pct(kind, 95))}ms p99=${fmt(this.pct(kind, 99))}ms`;
  }
}

/** Round a figure for printing. */
export function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "n/a";
}

/** Time a request into a latency recorder; throws on an unexpected status. */
export async function timed(
  lat: Latencies,
  kind: string,
  expect: number[],
  fn: () => Promise<{ status: number; body: any }>,
): Promise<{ status: number; body: any }> {
  const start = process.hrtime.bigint();
  const r = await fn();
  lat.add(kind, Number(process.hrtime.bigint() - start) / 1e6);
  if (!expect.includes(r.status))
    throw new Error(`${kind}: unexpected ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r;
}

/** Run `total` tasks with `concurrency` workers. */
export async function pool(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
}

/** A throw-away database for one bench run: SQLite in a temp dir, or a new PostgreSQL database
 * when DATABASE_URL is postgres://…; `knex()` opens a side connection for set-up. */
export async function freshDatabase(
  label: string,
): Promise<{ url: string; pg: boolean; knex: () => Knex; drop(): Promise<void> }> {
  const pg = process.env.DATABASE_URL;
  if (pg?.startsWith("postgres")) {
    const name = `roster_bench_${label}_${process.pid}`;
    const a = knex({ client: "pg", connection: pg });
    await a.raw(`create database ${name}`);
    await a.destroy();
    const url = new URL(pg);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      pg: true,
      knex: () => knex({ client: "pg", connection: url.toString() }),
      drop: async () => {
        const b = knex({ client: "pg", connection: pg });
        await b.raw(`drop database if exists ${name} with (force)`);
        await b.destroy();
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), `roster-bench-${label}-`));
  const file = `${dir}/roster.sqlite`;
  return {
    url: `sqlite:${file}`,
    pg: false,
    knex: () =>
      knex({
        client: "better-sqlite3",
        connection: { filename: file },
        useNullAsDefault: true,
        pool: { afterCreate: (c: any, done: any) => done(null, c.pragma("busy_timeout = 10000")) },
      }),
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Two `npm run worker` processes (the BullMQ shape) with the given environment. */
export function startWorkers(env: Record<string, string>): ChildProcess[] {
  return [0, 1].map(() =>
    track(
      spawn(process.execPath, ["--import", "tsx", "src/worker.ts"], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ROSTER_ENCRYPTION_KEY: ENCRYPTION_KEY,
          ROSTER_QUEUE_PREFIX: QUEUE_PREFIX,
          LOG_LEVEL: "warn",
          ...env,
        },
        stdio: ["ignore", "inherit", "inherit"],
      }),
    ),
  );
}

/** SIGTERM a child process and wait for it to exit. */
export function stopWorker(w: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (w.exitCode !== null) return resolve();
    w.on("exit", () => resolve());
    w.kill("SIGTERM");
  });
}
