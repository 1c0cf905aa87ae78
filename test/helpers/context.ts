import { randomBytes } from "node:crypto";
import { appendFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import type { Express } from "express";
import knex from "knex";
import pino from "pino";
import supertest from "supertest";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { migrateLatest } from "../../src/db/knex.js";
import { createDeps, type Deps, type ProcessRole } from "../../src/deps.js";
import { REDACT_PATHS } from "../../src/logger.js";
import { prepareStoredSecrets } from "../../src/secrets/reseal.js";

/** A database the suites run on: SQLite always, PostgreSQL when ROSTER_TEST_PG is set. */
export interface Backend {
  name: "sqlite" | "postgres";
  redisUrl?: string;
  /** Why this backend's suites cannot run here (pass it as the suite's `skip`); unset when they can. */
  skip?: string;
}

/** A service that some suites need besides SQLite. */
export type Service = "postgres" | "redis";

const SERVICE_VARIABLES: Record<Service, string> = { postgres: "ROSTER_TEST_PG", redis: "ROSTER_TEST_REDIS" };

const declared = new Set<Service>();

/**
 * Note (for scripts/test.ts, in the file ROSTER_TEST_DECLARED names) that this test file has
 * suites on these services: with a service configured, a declared file that ran none of its
 * cases there fails the run, so suites cannot vanish unnoticed.
 */
function declare(services: Service[]): void {
  const target = process.env.ROSTER_TEST_DECLARED;
  for (const service of services) {
    if (!target || declared.has(service)) continue;
    declared.add(service);
    appendFileSync(target, `${JSON.stringify({ file: process.argv[1], service })}\n`);
  }
}

/**
 * The skip reason for a suite that needs these services ("ROSTER_TEST_PG not set"), or undefined
 * when all are configured. Suites pass it as `describe(name, { skip }, …)` so that a run without
 * the services lists them as skipped, by name, instead of silently not generating them;
 * scripts/test.ts fails in CI when any suite is skipped for a service, and whenever a service is
 * configured, when a file that asked for it here ran no case tagged `[postgres]`/`[redis]` on it.
 */
export function skipUnless(...services: Service[]): string | undefined {
  declare(services);
  const missing = services.filter((s) => !process.env[SERVICE_VARIABLES[s]]).map((s) => SERVICE_VARIABLES[s]);
  return missing.length ? `${missing.join(" and ")} not set` : undefined;
}

/**
 * Every backend with its skip reason: sqlite, and postgres (skipped unless ROSTER_TEST_PG is set;
 * scripts/test.ts sets it from DATABASE_URL). Name each suite with `[${backend.name}]` and pass
 * `{ skip: backend.skip }`.
 */
export function allBackends(): Backend[] {
  return [{ name: "sqlite" }, { name: "postgres", skip: skipUnless("postgres") }];
}

/** The backends this run can use (no skipped ones). Prefer allBackends(): its skipped suites are reported. */
export function backends(): Backend[] {
  return allBackends().filter((b) => !b.skip);
}

/** The Redis URL for BullMQ suites, when this run has one. */
export function testRedisUrl(): string | undefined {
  return process.env.ROSTER_TEST_REDIS || undefined;
}

/** A settable clock for expiry tests. */
export class TestClock {
  constructor(public current = new Date()) {}
  now = (): Date => new Date(this.current.getTime());
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** Everything a test needs: deps, the app, supertest, the admin token and captured logs. */
export interface TestContext {
  deps: Deps;
  app: Express;
  http: ReturnType<typeof supertest>;
  adminToken: string;
  logs: string[];
  clock: TestClock;
  /** Redis key prefix of this context's BullMQ queues. */
  queuePrefix: string;
  /** DATABASE_URL of this context's database for another process (PostgreSQL: its schema included). */
  processDatabaseUrl: string;
  /**
   * Another composition of the same database, as a restarted process would build it, with these
   * variables changed (an encryption key, say); not migrated. The caller closes it.
   */
  reopen(env?: Record<string, string>, role?: ProcessRole): Deps;
  close(): Promise<void>;
}

/** Options for a test context. */
export interface ContextOptions {
  role?: ProcessRole;
  redis?: boolean;
  env?: Record<string, string>;
  clock?: TestClock;
  /** Redis key prefix (BullMQ, rate limits); two contexts given the same one share their Redis state. */
  queuePrefix?: string;
}

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdefghijklmnop";

/** Build a fresh, migrated database and app on a backend. */
export async function createTestContext(backend: Backend, opts: ContextOptions = {}): Promise<TestContext> {
  const id = randomBytes(6).toString("hex");
  let databaseUrl: string;
  let schema: string | undefined;
  let cleanup = async () => {};
  if (backend.name === "sqlite") {
    const file = path.join(tmpdir(), `roster-test-${id}.sqlite`);
    databaseUrl = `sqlite:${file}`;
    cleanup = async () => {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    };
  } else {
    databaseUrl = process.env.ROSTER_TEST_PG!;
    schema = `t_${id}`;
    const admin = knex({ client: "pg", connection: databaseUrl });
    await admin.raw(`create schema "${schema}"`);
    await admin.destroy();
    cleanup = async () => {
      const a = knex({ client: "pg", connection: databaseUrl });
      await a.raw(`drop schema if exists "${schema}" cascade`);
      await a.destroy();
    };
  }
  const redisUrl = opts.redis ? testRedisUrl() : undefined;
  if (opts.redis && !redisUrl) throw new Error("this suite needs ROSTER_TEST_REDIS");
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    ROSTER_ADMIN_TOKEN: ADMIN_TOKEN,
    PUBLIC_URL: "https://roster.test",
    LOG_LEVEL: "debug",
    ROSTER_WEBHOOK_ALLOW_PRIVATE: "true",
    // A key of each context's own (a key file would land next to the database, in the temp folder).
    ROSTER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    ...(redisUrl ? { REDIS_URL: redisUrl, ROSTER_JOBS: "inline" } : {}),
    ...opts.env,
  };
  const config = loadConfig(env);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = pino({ level: "debug", redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, sink);
  const clock = opts.clock ?? new TestClock();
  const queuePrefix = opts.queuePrefix ?? `rt${id}`;
  const deps = createDeps(config, {
    role: opts.role ?? "api",
    logger,
    now: clock.now,
    db: { searchPath: schema },
    queuePrefix,
    pollMs: 20,
  });
  await migrateLatest(deps.db);
  await prepareStoredSecrets(deps);
  const app = createApp(deps);
  const reopened: Deps[] = [];
  return {
    deps,
    app,
    http: supertest(app),
    adminToken: ADMIN_TOKEN,
    logs,
    clock,
    queuePrefix,
    processDatabaseUrl: schema
      ? `${databaseUrl}${databaseUrl.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`
      : databaseUrl,
    reopen(changes = {}, role = "cli") {
      const d = createDeps(loadConfig({ ...env, ...changes }), {
        role,
        logger,
        now: clock.now,
        db: { searchPath: schema },
        queuePrefix,
        pollMs: 20,
      });
      reopened.push(d);
      return d;
    },
    async close() {
      for (const d of reopened) {
        await d.driver.stop(5000);
        await d.close();
      }
      await deps.driver.stop(5000);
      if (redisUrl) await deleteRedisPrefix(redisUrl, queuePrefix);
      await deps.close();
      await cleanup();
    },
  };
}

async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const { Redis } = await import("ioredis");
  const r = new Redis(url);
  let cursor = "0";
  do {
    const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length) await r.del(...keys);
  } while (cursor !== "0");
  await r.quit();
}

/** Admin API request helpers bound to a context. */
export function admin(ctx: TestContext) {
  const auth = { Authorization: `Bearer ${ctx.adminToken}` };
  return {
    get: (url: string) => ctx.http.get(url).set(auth),
    post: (url: string, body?: unknown) =>
      ctx.http
        .post(url)
        .set(auth)
        .send(body as object),
    put: (url: string, body?: unknown) =>
      ctx.http
        .put(url)
        .set(auth)
        .send(body as object),
    patch: (url: string, body?: unknown) =>
      ctx.http
        .patch(url)
        .set(auth)
        .send(body as object),
    delete: (url: string) => ctx.http.delete(url).set(auth),
  };
}

/** Create a tenant and a SCIM token through the admin API; returns the token. */
export async function createTenantWithToken(
  ctx: TestContext,
  slug: string,
): Promise<{ tenantId: string; token: string }> {
  const a = admin(ctx);
  const t = await a.post("/admin/v1/tenants", { slug, name: `Tenant ${slug}` }).expect(201);
  const tok = await a.post(`/admin/v1/tenants/${slug}/scim-tokens`, { name: "test" }).expect(201);
  return { tenantId: t.body.id, token: tok.body.token };
}

/**
 * How long a test waits for something that should happen before it calls it a hang. Generous on
 * purpose: tests assert behaviour, never speed, and a loaded 2-core machine is slow.
 */
export const HANG_LIMIT_MS = 60_000;

/**
 * Wait until a condition holds (polling), or fail as a hang. `timeoutMs` only ever raises the
 * limit above HANG_LIMIT_MS: a shorter one would turn a slow machine into a failure.
 */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = HANG_LIMIT_MS,
  what = "condition",
): Promise<T> {
  const limit = Math.max(timeoutMs, HANG_LIMIT_MS);
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > limit) throw new Error(`timed out waiting for ${what} (hang detector)`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The promise's outcome, or a failure naming `what` if it has not settled within `ms`: a hang
 * detector for a step that must finish (e.g. a write while Redis is down), never a speed check.
 */
export function settlesWithin<T>(promise: Promise<T>, what: string, ms = HANG_LIMIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms (hang detector)`)), ms);
  });
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer));
}

/** SCIM request helpers with a tenant's token; bodies go out as application/scim+json. */
export function scimClient(ctx: TestContext, token: string) {
  const auth = { Authorization: `Bearer ${token}` };
  const send = (req: ReturnType<TestContext["http"]["post"]>, body?: unknown) =>
    body === undefined
      ? req.set(auth)
      : req.set(auth).set("Content-Type", "application/scim+json").send(JSON.stringify(body));
  return {
    get: (url: string) => ctx.http.get(`/scim/v2${url}`).set(auth),
    post: (url: string, body?: unknown) => send(ctx.http.post(`/scim/v2${url}`), body),
    put: (url: string, body?: unknown) => send(ctx.http.put(`/scim/v2${url}`), body),
    patch: (url: string, body?: unknown) => send(ctx.http.patch(`/scim/v2${url}`), body),
    delete: (url: string) => ctx.http.delete(`/scim/v2${url}`).set(auth),
  };
}

/** A PatchOp message body. */
export function patchOp(...ops: Array<Record<string, unknown>>) {
  return { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: ops };
}

/** A minimal SCIM user body. */
export function userBody(userName: string, extra: Record<string, unknown> = {}) {
  return { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName, active: true, ...extra };
}
