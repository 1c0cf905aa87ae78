import path from "node:path";
import { isIP } from "node:net";
import { z } from "zod";
import { parseKeyText } from "./secrets/cipher.js";

/** Boolean env var: "true"/"1"/"yes" or "false"/"0"/"no", any case. */
const envBool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ["true", "false", "1", "0", "yes", "no"].includes(v), "must be true or false")
  .transform((v) => v === "true" || v === "1" || v === "yes");

/** Byte size such as 10mb, 512kb or a plain number of bytes. */
const byteSize = z
  .string()
  .trim()
  .regex(/^\d+(b|kb|mb)?$/i, "must be a size such as 1mb, 512kb or 1048576")
  .transform((v) => {
    const m = /^(\d+)(b|kb|mb)?$/i.exec(v)!;
    const unit = (m[2] ?? "b").toLowerCase();
    return Number(m[1]) * (unit === "mb" ? 1024 * 1024 : unit === "kb" ? 1024 : 1);
  });

/** A retention period in days (1 day to 10 years). */
const days = z.coerce.number().int().min(1).max(3650);

/** How long each kind of growing record is kept, in days (the housekeeping job enforces it). */
export interface Retention {
  /** Finished jobs and the attempt log of finished webhook deliveries (ROSTER_RETENTION_DAYS). */
  jobsDays: number;
  eventsDays?: number;
  scimLogDays?: number;
  tracesDays?: number;
  auditDays?: number;
  deliveriesDays?: number;
  receiptsDays?: number;
}

/** A rate: so many points (requests, or failures) per window. */
export interface Rate {
  points: number;
  durationSeconds: number;
}

/** A rate such as 600/1m, 30/10m or 5/30s: at most N per window. */
const rate = z
  .string()
  .trim()
  .regex(/^\d+\s*\/\s*\d*\s*[smh]$/i, "must be a rate such as 600/1m, 30/10m or 20/30s")
  .transform((v): Rate => {
    const m = /^(\d+)\s*\/\s*(\d*)\s*([smh])$/i.exec(v)!;
    const unit = { s: 1, m: 60, h: 3600 }[m[3].toLowerCase() as "s" | "m" | "h"];
    return { points: Number(m[1]), durationSeconds: Number(m[2] || "1") * unit };
  })
  .refine((r) => r.points >= 1 && r.durationSeconds >= 1 && r.durationSeconds <= 86_400, {
    message: "must allow at least 1 per window of 1 s to 24 h",
  });

/**
 * Which proxies to believe about the client address (X-Forwarded-For), as Express's `trust
 * proxy`: false (off), a hop count, or addresses/CIDRs (and Express's names loopback, linklocal,
 * uniquelocal). Never `true`: it trusts the leftmost X-Forwarded-For entry, which the client
 * writes itself, so every client could pick its own rate-limit key and pass for loopback.
 */
const trustProxy = z
  .string()
  .trim()
  .transform((v, ctx): false | number | string[] => {
    const lower = v.toLowerCase();
    if (lower === "off" || lower === "false" || lower === "0") return false;
    if (lower === "true" || lower === "on" || lower === "all") {
      ctx.addIssue({
        code: "custom",
        message:
          "true would trust any X-Forwarded-For a client sends: give the hop count (e.g. 1) or the proxies' addresses/CIDRs",
      });
      return z.NEVER;
    }
    if (/^\d+$/.test(v)) return Number(v);
    const list = v.split(",").map((s) => s.trim());
    const named = ["loopback", "linklocal", "uniquelocal"];
    const bad = list.filter((s) => !named.includes(s) && !isAddressOrCidr(s));
    if (bad.length) {
      ctx.addIssue({ code: "custom", message: `not an address, CIDR, hop count or off: ${bad.join(", ")}` });
      return z.NEVER;
    }
    return list;
  });

/**
 * CSP frame-ancestors sources (CSP Level 3 §6.4.2): 'none' alone, or 'self' and origins. Only
 * scheme://host[:port] origins are taken (no paths, no wildcards beyond a leading `*.` host
 * label, no quotes other than 'self'): the value goes into a response header as written.
 */
const frameAncestors = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const list = v.split(/\s+/).filter(Boolean);
    if (list.length === 1 && list[0] === "'none'") return "'none'";
    const ok = (s: string) => s === "'self'" || /^https?:\/\/(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i.test(s);
    const bad = list.filter((s) => !ok(s));
    if (list.length === 0 || bad.length) {
      ctx.addIssue({
        code: "custom",
        message: `must be 'none', or 'self' and origins such as https://app.example (not: ${bad.join(" ") || "empty"})`,
      });
      return z.NEVER;
    }
    return list.join(" ");
  });

/**
 * DNS servers for domain verification, in the form node:dns `setServers` takes: an IP, IP:port
 * or [IPv6]:port. Checked here so a typo stops start-up instead of failing every verification.
 */
const dnsServers = z
  .string()
  .trim()
  .transform((v, ctx): string[] => {
    const list = v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    const bad = list.filter((s) => !isDnsServer(s));
    if (list.length === 0 || bad.length) {
      ctx.addIssue({
        code: "custom",
        message: `not an IP, IP:port or [IPv6]:port: ${bad.join(", ") || "(empty)"}`,
      });
      return z.NEVER;
    }
    return list;
  });

function isDnsServer(s: string): boolean {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s);
  if (bracketed) return isIP(bracketed[1]) === 6 && validPort(bracketed[2]);
  if (isIP(s)) return true;
  const m = /^([^:]+):(\d{1,5})$/.exec(s);
  return m !== null && isIP(m[1]) === 4 && validPort(m[2]);
}

const validPort = (p: string | undefined) => p === undefined || (Number(p) >= 1 && Number(p) <= 65535);

function isAddressOrCidr(s: string): boolean {
  const [ip, bits, ...rest] = s.split("/");
  const family = isIP(ip);
  if (family === 0 || rest.length) return false;
  if (bits === undefined) return true;
  return /^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * Every environment variable Roster reads, with its description. `secret: true` marks values
 * that must never be logged. The README's config table is this list.
 */
export const CONFIG_VARIABLES = {
  PORT: { description: "HTTP port the API listens on", default: "3000" },
  DATABASE_URL: {
    description: "sqlite:<path> (embedded, default) or postgres://user:pass@host:5432/db",
    default: "sqlite:./data/roster.sqlite",
    secret: true,
  },
  REDIS_URL: {
    description: "redis://host:6379 — when set, jobs go through BullMQ and `npm run worker` processes them",
    secret: true,
  },
  ROSTER_ADMIN_TOKEN: {
    description:
      "Admin API bearer token (at least 32 characters). Unset: a token is generated on first start",
    secret: true,
  },
  PUBLIC_URL: {
    description: "External base URL, used in SCIM meta.location and SAML metadata",
    default: "http://localhost:<PORT>",
  },
  ROSTER_SCIM_DOCUMENTATION_URL: {
    description:
      "documentationUri of SCIM's /ServiceProviderConfig: where IdP admins read how this deployment's SCIM works (your own docs, e.g. docs/ of your Roster's repository)",
    default: "https://www.rfc-editor.org/rfc/rfc7644",
  },
  LOG_LEVEL: { description: "fatal, error, warn, info, debug, trace or silent", default: "info" },
  BODY_LIMIT: { description: "Largest accepted request body (SCIM and admin API)", default: "1mb" },
  ROSTER_JOBS: {
    description:
      "inline: run jobs in the API process; off: only enqueue (workers elsewhere). Default inline without REDIS_URL, off with it",
  },
  ROSTER_WEBHOOK_ALLOW_PRIVATE: {
    description:
      "Allow webhook and metadata URLs that resolve to loopback/private addresses (development, tests)",
    default: "false",
  },
  SHUTDOWN_TIMEOUT_MS: {
    description: "How long SIGTERM waits for in-flight requests and jobs",
    default: "15000",
  },
  ROSTER_SQLITE_DRIVER: {
    description:
      "SQLite driver: better-sqlite3 (synchronous, about 2x less CPU per request) or sqlite3 (asynchronous)",
    default: "better-sqlite3",
  },
  ROSTER_RETENTION_DAYS: {
    description:
      "Days finished jobs and the attempt log of finished webhook deliveries are kept (a daily job deletes older ones; the other kinds have ROSTER_RETENTION_*_DAYS)",
    default: "30",
  },
  ROSTER_RETENTION_EVENTS_DAYS: {
    description:
      "Days events (the feed) are kept; a feed cursor older than what is kept gets 410 CURSOR_EXPIRED",
    default: "90",
  },
  ROSTER_RETENTION_SCIM_LOG_DAYS: { description: "Days the SCIM request log is kept", default: "30" },
  ROSTER_RETENTION_TRACES_DAYS: { description: "Days sign-in traces are kept", default: "7" },
  ROSTER_RETENTION_AUDIT_DAYS: {
    description: "Days audit log entries are kept (verify starts from the oldest kept entry)",
    default: "365",
  },
  ROSTER_RETENTION_DELIVERIES_DAYS: {
    description: "Days finished webhook delivery rows (delivered or failed) are kept",
    default: "90",
  },
  ROSTER_RETENTION_RECEIPTS_DAYS: {
    description: "Days revocation receipts whose work is done are kept",
    default: "365",
  },
  ROSTER_SCIM_LOG: {
    description:
      "SCIM request log (GET /admin/v1/tenants/{slug}/scim-requests): all requests, errors only (4xx/5xx), or off",
    default: "all",
  },
  ROSTER_QUEUE_PREFIX: {
    description:
      "Redis key prefix of the BullMQ queues, the rate-limit counters and the run marker: deployments (or benchmarks) sharing one Redis each need their own",
    default: "bull",
  },
  ROSTER_SSO_MAX_PENDING_LOGINS: {
    description:
      "Sign-ins a tenant may have started and not finished (AuthnRequests stored, 10 minutes each); beyond it GET /sso/{slug}/login and /oauth/authorize answer 503 until some finish or expire",
    default: "10000",
  },
  ROSTER_DNS_SERVERS: {
    description:
      "DNS servers that domain verification asks for TXT records (comma-separated IP or IP:port, [IPv6]:port); unset: the system's resolvers",
  },
  ROSTER_WORKERS: {
    description:
      "API processes `npm start` runs on one port (node cluster). More helps CPU-bound work on PostgreSQL; SQLite writes serialize anyway",
    default: "1",
  },
  ROSTER_ENCRYPTION_KEY: {
    description:
      "Key encrypting the secrets stored in the database (32 random bytes, base64 or hex). Unset with SQLite: generated on first start into encryption.key next to the database file. Required with PostgreSQL",
    secret: true,
  },
  ROSTER_ENCRYPTION_KEY_PREVIOUS: {
    description:
      "Older keys (comma-separated) still accepted for decryption during a key rotation; new values are encrypted with ROSTER_ENCRYPTION_KEY",
    secret: true,
  },
  ROSTER_ENCRYPTION_KEY_NEW: {
    description: "Read only by `npm run cli -- secrets:rotate-key`: the key to re-encrypt every secret with",
    secret: true,
  },
  ROSTER_TRUST_PROXY: {
    description:
      "Proxies in front of Roster whose X-Forwarded-For is believed: off, a hop count (1 = one load balancer) or their addresses/CIDRs (comma-separated; loopback, linklocal, uniquelocal allowed). Never true: clients would pick their own address",
    default: "off",
  },
  ROSTER_RATE_LIMIT: {
    description:
      "on: rate-limit sign-in endpoints and failed authentication (429 with Retry-After); off: no limits",
    default: "on",
  },
  ROSTER_RATE_LIMIT_SSO_IP: {
    description: "Requests per client address to /sso/* and /oauth/authorize (browser sign-in)",
    default: "1200/1m",
  },
  ROSTER_RATE_LIMIT_SSO_TENANT: {
    description: "Requests per tenant to /sso/{slug}/* and /oauth/authorize (all addresses together)",
    default: "12000/1m",
  },
  ROSTER_RATE_LIMIT_DISCOVER_IP: {
    description:
      "Requests per client address to GET /sso/discover and GET /sso/login (routing by e-mail); an application calling discover from its servers needs room for its login traffic",
    default: "600/1m",
  },
  ROSTER_RATE_LIMIT_OAUTH_IP: {
    description:
      "Requests per client address to /oauth/token, /oauth/introspect, /oauth/userinfo and /oauth/jwks",
    default: "3000/1m",
  },
  ROSTER_RATE_LIMIT_OAUTH_TENANT: {
    description: "Requests per tenant (the OAuth client's) to /oauth/token and /oauth/introspect",
    default: "12000/1m",
  },
  ROSTER_RATE_LIMIT_SCIM_FAILURES: {
    description:
      "Failed SCIM authentications per client address before 429; requests with a valid token are never limited",
    default: "30/1m",
  },
  ROSTER_RATE_LIMIT_ADMIN_FAILURES: {
    description:
      "Failed admin API (and METRICS_TOKEN) authentications per client address before the address gets 429 for the rest of the window",
    default: "20/1m",
  },
  ROSTER_RATE_LIMIT_CONSOLE_SIGN_IN: {
    description:
      "Console sign-in attempts (admin key form, sign-in and setup link exchanges) per client address",
    default: "20/10m",
  },
  METRICS_PORT: {
    description:
      "Serve /metrics (and /healthz, /readyz) on this port instead of the API port; worker processes listen on it too",
  },
  METRICS_TOKEN: {
    description:
      "Bearer token (at least 16 characters) that /metrics on the API port accepts; without it only loopback clients may read /metrics there",
    secret: true,
  },
  ROSTER_CONSOLE_FRAME_ANCESTORS: {
    description:
      "Who may embed the console in a frame (CSP frame-ancestors): 'none', 'self' or space-separated https origins such as https://app.example (an app that embeds the tenant pages)",
    default: "'none'",
  },
  HTTP_HEADERS_TIMEOUT_MS: {
    description: "How long a client may take to send a request's headers (slow-header attacks); 408 after",
    default: "20000",
  },
  HTTP_REQUEST_TIMEOUT_MS: {
    description: "How long a client may take to send a whole request, body included; 408 after",
    default: "60000",
  },
  HTTP_KEEP_ALIVE_TIMEOUT_MS: {
    description:
      "How long an idle keep-alive connection stays open; behind a load balancer, set it above the balancer's idle timeout",
    default: "5000",
  },
} as const;

const KEY_FORMAT =
  "must be 32 random bytes, base64 or hex (make one with `npm run cli -- secrets:generate-key` or `openssl rand -base64 32`)";

/** An encryption key variable: parsed to its 32 bytes; the value is never echoed in an error. */
const encryptionKey = z.string().transform((v, ctx) => {
  const key = parseKeyText(v);
  if (!key) {
    ctx.addIssue({ code: "custom", message: KEY_FORMAT });
    return z.NEVER;
  }
  return key;
});

const encryptionKeyList = z.string().transform((v, ctx) => {
  const keys = v
    .split(",")
    .filter((k) => k.trim() !== "")
    .map(parseKeyText);
  if (keys.some((k) => k === undefined)) {
    ctx.addIssue({ code: "custom", message: `each comma-separated key ${KEY_FORMAT}` });
    return z.NEVER;
  }
  return keys as Buffer[];
});

const schema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    DATABASE_URL: z
      .string()
      .trim()
      .default("sqlite:./data/roster.sqlite")
      .refine((v) => /^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(v), "must start with sqlite: or postgres://"),
    REDIS_URL: z
      .string()
      .trim()
      .refine((v) => /^rediss?:\/\/.+/.test(v), "must start with redis:// or rediss://")
      .optional(),
    ROSTER_ADMIN_TOKEN: z.string().min(32, "must be at least 32 characters").optional(),
    PUBLIC_URL: z
      .string()
      .trim()
      .url("must be an absolute http(s) URL")
      .refine((v) => /^https?:\/\//.test(v), "must be an absolute http(s) URL")
      .optional(),
    // RFC 7643 §5: documentationUri is an HTTP-addressable URL of the service provider's help.
    ROSTER_SCIM_DOCUMENTATION_URL: z
      .string()
      .trim()
      .url("must be an absolute http(s) URL")
      .refine((v) => /^https?:\/\//.test(v), "must be an absolute http(s) URL")
      .default("https://www.rfc-editor.org/rfc/rfc7644"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    BODY_LIMIT: byteSize.prefault("1mb"),
    ROSTER_JOBS: z.enum(["inline", "off"]).optional(),
    ROSTER_WEBHOOK_ALLOW_PRIVATE: envBool.prefault("false"),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(15000),
    ROSTER_WORKERS: z.coerce.number().int().min(1).max(64).optional(),
    ROSTER_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    ROSTER_SSO_MAX_PENDING_LOGINS: z.coerce.number().int().min(10).max(1_000_000).default(10_000),
    ROSTER_DNS_SERVERS: dnsServers.optional(),
    ROSTER_SQLITE_DRIVER: z.enum(["better-sqlite3", "sqlite3"]).default("better-sqlite3"),
    ROSTER_SCIM_LOG: z.enum(["all", "errors", "off"]).default("all"),
    ROSTER_RETENTION_EVENTS_DAYS: days.default(90),
    ROSTER_RETENTION_SCIM_LOG_DAYS: days.default(30),
    ROSTER_RETENTION_TRACES_DAYS: days.default(7),
    ROSTER_RETENTION_AUDIT_DAYS: days.default(365),
    ROSTER_RETENTION_DELIVERIES_DAYS: days.default(90),
    ROSTER_RETENTION_RECEIPTS_DAYS: days.default(365),
    ROSTER_QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and - only (at most 64)")
      .optional(),
    ROSTER_ENCRYPTION_KEY: encryptionKey.optional(),
    ROSTER_ENCRYPTION_KEY_PREVIOUS: encryptionKeyList.optional(),
    ROSTER_ENCRYPTION_KEY_NEW: encryptionKey.optional(),
    ROSTER_TRUST_PROXY: trustProxy.prefault("off"),
    ROSTER_RATE_LIMIT: z.enum(["on", "off"]).default("on"),
    ROSTER_RATE_LIMIT_SSO_IP: rate.prefault("1200/1m"),
    ROSTER_RATE_LIMIT_SSO_TENANT: rate.prefault("12000/1m"),
    ROSTER_RATE_LIMIT_DISCOVER_IP: rate.prefault("600/1m"),
    ROSTER_RATE_LIMIT_OAUTH_IP: rate.prefault("3000/1m"),
    ROSTER_RATE_LIMIT_OAUTH_TENANT: rate.prefault("12000/1m"),
    ROSTER_RATE_LIMIT_SCIM_FAILURES: rate.prefault("30/1m"),
    ROSTER_RATE_LIMIT_ADMIN_FAILURES: rate.prefault("20/1m"),
    ROSTER_RATE_LIMIT_CONSOLE_SIGN_IN: rate.prefault("20/10m"),
    METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    ROSTER_CONSOLE_FRAME_ANCESTORS: frameAncestors.prefault("'none'"),
    HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(20_000),
    HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(5000),
  })
  .superRefine((env, ctx) => {
    // Node refuses a request timeout shorter than the headers timeout (it would never apply).
    if (env.HTTP_REQUEST_TIMEOUT_MS < env.HTTP_HEADERS_TIMEOUT_MS)
      ctx.addIssue({
        code: "custom",
        path: ["HTTP_REQUEST_TIMEOUT_MS"],
        message: "must be at least HTTP_HEADERS_TIMEOUT_MS",
      });
    if (env.METRICS_PORT !== undefined && env.METRICS_PORT === env.PORT)
      ctx.addIssue({ code: "custom", path: ["METRICS_PORT"], message: "must differ from PORT" });
  })
  .transform((env) => ({
    port: env.PORT,
    database: parseDatabaseUrl(env.DATABASE_URL, env.ROSTER_SQLITE_DRIVER),
    redisUrl: env.REDIS_URL,
    adminToken: env.ROSTER_ADMIN_TOKEN,
    publicUrl: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ""),
    scimDocumentationUrl: env.ROSTER_SCIM_DOCUMENTATION_URL,
    logLevel: env.LOG_LEVEL,
    bodyLimitBytes: env.BODY_LIMIT,
    inlineJobs: (env.ROSTER_JOBS ?? (env.REDIS_URL ? "off" : "inline")) === "inline",
    allowPrivateNetwork: env.ROSTER_WEBHOOK_ALLOW_PRIVATE,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    workers: env.ROSTER_WORKERS ?? 1,
    retentionDays: env.ROSTER_RETENTION_DAYS,
    scimLog: env.ROSTER_SCIM_LOG,
    retention: {
      jobsDays: env.ROSTER_RETENTION_DAYS,
      eventsDays: env.ROSTER_RETENTION_EVENTS_DAYS,
      scimLogDays: env.ROSTER_RETENTION_SCIM_LOG_DAYS,
      tracesDays: env.ROSTER_RETENTION_TRACES_DAYS,
      auditDays: env.ROSTER_RETENTION_AUDIT_DAYS,
      deliveriesDays: env.ROSTER_RETENTION_DELIVERIES_DAYS,
      receiptsDays: env.ROSTER_RETENTION_RECEIPTS_DAYS,
    } satisfies Retention,
    ssoMaxPendingLogins: env.ROSTER_SSO_MAX_PENDING_LOGINS,
    dnsServers: env.ROSTER_DNS_SERVERS,
    queuePrefix: env.ROSTER_QUEUE_PREFIX,
    encryption: encryptionConfig(env),
    trustProxy: env.ROSTER_TRUST_PROXY,
    rateLimit: {
      enabled: env.ROSTER_RATE_LIMIT === "on",
      ssoPerAddress: env.ROSTER_RATE_LIMIT_SSO_IP,
      ssoPerTenant: env.ROSTER_RATE_LIMIT_SSO_TENANT,
      discoverPerAddress: env.ROSTER_RATE_LIMIT_DISCOVER_IP,
      oauthPerAddress: env.ROSTER_RATE_LIMIT_OAUTH_IP,
      oauthPerTenant: env.ROSTER_RATE_LIMIT_OAUTH_TENANT,
      scimFailuresPerAddress: env.ROSTER_RATE_LIMIT_SCIM_FAILURES,
      adminFailuresPerAddress: env.ROSTER_RATE_LIMIT_ADMIN_FAILURES,
      consoleSignInPerAddress: env.ROSTER_RATE_LIMIT_CONSOLE_SIGN_IN,
    },
    consoleFrameAncestors: env.ROSTER_CONSOLE_FRAME_ANCESTORS,
    metricsPort: env.METRICS_PORT,
    metricsToken: env.METRICS_TOKEN,
    http: {
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
  }));

/** Where the encryption keys come from (see secrets/key-file.ts). */
export interface EncryptionConfig {
  /** ROSTER_ENCRYPTION_KEY. */
  key?: Buffer;
  /** ROSTER_ENCRYPTION_KEY_PREVIOUS: decryption only. */
  previous: Buffer[];
  /** ROSTER_ENCRYPTION_KEY_NEW: the target of `secrets:rotate-key`. */
  next?: Buffer;
  /** Without ROSTER_ENCRYPTION_KEY on an SQLite file: the key file next to it. */
  keyFile?: string;
}

function encryptionConfig(env: {
  DATABASE_URL: string;
  ROSTER_ENCRYPTION_KEY?: Buffer;
  ROSTER_ENCRYPTION_KEY_PREVIOUS?: Buffer[];
  ROSTER_ENCRYPTION_KEY_NEW?: Buffer;
}): EncryptionConfig {
  const sqliteFile = env.DATABASE_URL.startsWith("sqlite:") ? env.DATABASE_URL.slice("sqlite:".length) : "";
  const onDisk = sqliteFile !== "" && sqliteFile !== ":memory:";
  return {
    key: env.ROSTER_ENCRYPTION_KEY,
    previous: env.ROSTER_ENCRYPTION_KEY_PREVIOUS ?? [],
    next: env.ROSTER_ENCRYPTION_KEY_NEW,
    keyFile:
      !env.ROSTER_ENCRYPTION_KEY && onDisk
        ? path.join(path.dirname(sqliteFile), "encryption.key")
        : undefined,
  };
}

/** Where the data lives: an SQLite file or a PostgreSQL URL. */
export type DatabaseConfig =
  | { client: "sqlite"; filename: string; driver: "better-sqlite3" | "sqlite3" }
  | { client: "pg"; url: string };

/** Typed, frozen configuration; the only object built from `process.env`. */
export type Config = Readonly<z.output<typeof schema>>;

/** Thrown by loadConfig with every problem found, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function parseDatabaseUrl(url: string, driver: "better-sqlite3" | "sqlite3"): DatabaseConfig {
  if (url.startsWith("sqlite:")) return { client: "sqlite", filename: url.slice("sqlite:".length), driver };
  return { client: "pg", url };
}

/** Parse the environment once; throws ConfigError listing every invalid variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const known = Object.fromEntries(
    Object.keys(CONFIG_VARIABLES)
      .map((k) => [k, env[k] === "" ? undefined : env[k]])
      .filter(([, v]) => v !== undefined),
  );
  const parsed = schema.safeParse(known);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  // Every API process and worker must decrypt with the same key; a key file generated on one
  // machine would not exist on the others (each would make its own and read nothing back).
  if (/^\s*postgres/.test(known.DATABASE_URL ?? "") && !known.ROSTER_ENCRYPTION_KEY)
    problems.push(
      "ROSTER_ENCRYPTION_KEY: is required with PostgreSQL: every API process and worker must share one key " +
        "(a generated key file would exist on one machine only). Make one with `npm run cli -- secrets:generate-key` " +
        "or `openssl rand -base64 32`, keep it in your secret store, and set it on every process",
    );
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(parsed.data);
}
