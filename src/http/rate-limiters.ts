import { Redis } from "ioredis";
import type { Logger } from "pino";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import type { Config, Rate } from "../config.js";
import type { RedisHealth } from "../redis/health.js";

/** What a limiter says about a key. */
export type LimitOutcome = { limited: false } | { limited: true; retryAfterSeconds: number };

/** A named limit: so many points per window per key. */
export interface Limiter {
  readonly name: string;
  readonly rate: Rate;
  /** Count one against the key; `limited` once the key went past its points in this window. */
  consume(key: string): Promise<LimitOutcome>;
  /** Whether the key has used up its points in this window, without counting. */
  exhausted(key: string): Promise<LimitOutcome>;
}

/** Every limiter of a process, and the factory for new ones (e.g. a console sign-in). */
export interface RateLimits {
  readonly enabled: boolean;
  /** Browser sign-in: /sso/* and /oauth/authorize. */
  ssoPerAddress: Limiter;
  ssoPerTenant: Limiter;
  /** Routing by e-mail: GET /sso/discover and GET /sso/login (anonymous; per address). */
  discoverPerAddress: Limiter;
  /** Client-authenticated OAuth endpoints: /oauth/token, /oauth/introspect. */
  oauthPerAddress: Limiter;
  oauthPerTenant: Limiter;
  /** Failed authentications (a valid credential is never counted). */
  scimFailures: Limiter;
  adminFailures: Limiter;
  /** A limiter of its own name (keys never collide with another's); off when limits are off. */
  create(name: string, rate: Rate): Limiter;
  close(): Promise<void>;
}

const retryAfter = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** A limiter over rate-limiter-flexible (memory or Redis). */
function wrap(name: string, rate: Rate, rl: RateLimiterAbstract, onError: (err: unknown) => void): Limiter {
  return {
    name,
    rate,
    async consume(key) {
      try {
        await rl.consume(key);
        return { limited: false };
      } catch (rej) {
        if (rej instanceof RateLimiterRes)
          return { limited: true, retryAfterSeconds: retryAfter(rej.msBeforeNext) };
        // The store failed and so did its insurance: let the request through rather than take
        // sign-in down with the store.
        onError(rej);
        return { limited: false };
      }
    },
    async exhausted(key) {
      try {
        const res = await rl.get(key);
        if (res && res.consumedPoints >= rate.points)
          return { limited: true, retryAfterSeconds: retryAfter(res.msBeforeNext) };
      } catch (err) {
        onError(err);
      }
      return { limited: false };
    },
  };
}

/** A limiter that never limits (ROSTER_RATE_LIMIT=off). */
function unlimited(name: string, rate: Rate): Limiter {
  return {
    name,
    rate,
    consume: async () => ({ limited: false }),
    exhausted: async () => ({ limited: false }),
  };
}

/** What building the limiters needs. */
export interface RateLimitOptions {
  logger: Logger;
  /** Key prefix in Redis (ROSTER_QUEUE_PREFIX, or a test's own). */
  prefix: string;
  /** The process's Redis outage log; present when REDIS_URL is. */
  health?: RedisHealth;
  /** Keep counters in Redis when REDIS_URL is set (API processes; others serve no limited path). */
  shared: boolean;
}

/**
 * The process's limiters. Counters live in this process by default; with REDIS_URL they live in
 * Redis, shared by every API process (otherwise N processes would allow N times the limit), each
 * with an in-memory insurance limiter that takes over while Redis is unreachable: a Redis outage
 * must not take sign-in down.
 */
export function createRateLimits(config: Config, opts: RateLimitOptions): RateLimits {
  const c = config.rateLimit;
  let redis: Redis | undefined;
  if (c.enabled && config.redisUrl && opts.shared) {
    // No offline queue and a short command timeout: while Redis is away a request falls back to
    // the insurance limiter at once instead of waiting for a reconnect.
    redis = new Redis(config.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 1000,
    });
    // Without a listener ioredis prints "[ioredis] Unhandled error event" for every failed reconnect.
    redis.on("error", (err) => opts.health?.report("rate limiter", err));
    redis.on("ready", () => opts.health?.connected());
  }
  const onError = (err: unknown) => opts.logger.warn({ err: String(err) }, "rate limiter failed open");
  const names = new Set<string>();
  const create = (name: string, rate: Rate): Limiter => {
    if (names.has(name)) throw new Error(`rate limiter '${name}' created twice`);
    names.add(name);
    if (!c.enabled) return unlimited(name, rate);
    const base = { points: rate.points, duration: rate.durationSeconds, keyPrefix: `roster-rl-${name}` };
    if (!redis) return wrap(name, rate, new RateLimiterMemory(base), onError);
    const limiter = new RateLimiterRedis({
      ...base,
      keyPrefix: `${opts.prefix}:ratelimit:${name}`,
      storeClient: redis,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(base),
    });
    return wrap(name, rate, limiter, onError);
  };
  return {
    enabled: c.enabled,
    ssoPerAddress: create("sso-address", c.ssoPerAddress),
    ssoPerTenant: create("sso-tenant", c.ssoPerTenant),
    discoverPerAddress: create("sso-discover", c.discoverPerAddress),
    oauthPerAddress: create("oauth-address", c.oauthPerAddress),
    oauthPerTenant: create("oauth-tenant", c.oauthPerTenant),
    scimFailures: create("scim-auth-failures", c.scimFailuresPerAddress),
    adminFailures: create("admin-auth-failures", c.adminFailuresPerAddress),
    create,
    async close() {
      if (redis && redis.status !== "end") redis.disconnect();
    },
  };
}
