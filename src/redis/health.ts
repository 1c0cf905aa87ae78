import type { Logger } from "pino";
import { RepeatingFailureLog } from "../logger.js";

/** Error codes and messages that mean "Redis cannot be reached", not "Redis refused this command". */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
]);
const UNREACHABLE_TEXT =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|Connection is closed|Stream isn't writeable|Socket closed unexpectedly|MaxRetriesPerRequest|timed out after/i;

/** Whether an error from a Redis client means Redis is unreachable (as opposed to a command failing). */
export function isUnreachableError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return true;
  return UNREACHABLE_TEXT.test(err instanceof Error ? err.message : String(err));
}

/**
 * Redis as this process's clients see it (the BullMQ connections, the rate limiter's), with one
 * outage log for all of them: each client retries every second or two and BullMQ repeats each
 * failure per queue and worker, so an outage logged error by error wrote ~80 warnings a minute.
 * Errors that are not about reaching Redis (a command refused) are still logged as they come.
 */
export class RedisHealth {
  private readonly outage: RepeatingFailureLog;

  constructor(
    private readonly logger: Logger,
    now: () => Date = () => new Date(),
  ) {
    this.outage = new RepeatingFailureLog(
      logger,
      {
        start:
          "redis unreachable: jobs wait in the database (outbox) and rate limits count in this process until it is back (repeated at most once a minute)",
        repeat: "redis still unreachable",
        end: "redis reachable again",
      },
      now,
    );
  }

  /** "down" from the first unreachable error until a client connects again. */
  get state(): "ok" | "down" {
    return this.outage.failing ? "down" : "ok";
  }

  /** Unreachable errors reported since the process started (tests wait on it). */
  get totalErrors(): number {
    return this.outage.total;
  }

  /** An error from a Redis client or from work that needed Redis (`source` says which). */
  report(source: string, err: unknown): void {
    if (this.outage.failing || isUnreachableError(err)) this.outage.failed(err, { source });
    else this.logger.warn({ err: err instanceof Error ? err.message : String(err), source }, "redis error");
  }

  /** A client (re)connected: an outage in progress is over. */
  connected(): void {
    this.outage.succeeded();
  }
}
