import pino, { type Logger } from "pino";

/**
 * Paths never written to a log: credentials, cookies and SAML payloads. pino-http logs request
 * headers, so these are redacted at the source; messages never interpolate secrets either.
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
  "*.token",
  "*.secret",
  "*.password",
  "*.SAMLResponse",
  "*.SAMLRequest",
  "*.client_secret",
  "*.code_verifier",
];

/** The process logger: JSON lines, secrets redacted. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { service: "roster" } },
    destination,
  );
}

/** How often, at most, a failure that goes on is logged again. */
const REPEAT_MS = 60_000;

/** The three lines of a repeating failure. */
export interface RepeatingFailureMessages {
  /** The first failure (logged with its error). */
  start: string;
  /** At most once a minute while it goes on, with a count. */
  repeat: string;
  /** The first success after it. */
  end: string;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * A failure that repeats (a poll loop against a database that is down, a client reconnecting to
 * Redis every second or two) logged when it starts, then at most once a minute with how many
 * failures came since, and once when it stops: logged one by one, a Redis outage wrote ~80
 * warnings a minute and a database outage one per queue per poll.
 */
export class RepeatingFailureLog {
  private since = 0;
  private lastLogAt = 0;
  private sinceLog = 0;
  private lastError = "";
  private down = false;
  /** Failures since the process started (tests wait on it). */
  total = 0;

  constructor(
    private readonly logger: Logger,
    private readonly messages: RepeatingFailureMessages,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Whether the last outcome was a failure. */
  get failing(): boolean {
    return this.down;
  }

  /** One more failure. */
  failed(err: unknown, fields: Record<string, unknown> = {}): void {
    this.total++;
    this.lastError = errorMessage(err);
    const at = this.now().getTime();
    if (!this.down) {
      this.down = true;
      this.since = at;
      this.lastLogAt = at;
      this.sinceLog = 0;
      this.logger.warn({ ...fields, err: this.lastError }, this.messages.start);
      return;
    }
    this.sinceLog++;
    if (at - this.lastLogAt < REPEAT_MS) return;
    this.logger.warn(
      { err: this.lastError, failures: this.sinceLog, forSeconds: Math.round((at - this.since) / 1000) },
      this.messages.repeat,
    );
    this.lastLogAt = at;
    this.sinceLog = 0;
  }

  /** A success: a failure in progress is over. */
  succeeded(): void {
    if (!this.down) return;
    this.down = false;
    const at = this.now().getTime();
    this.logger.info(
      { forSeconds: Math.round((at - this.since) / 1000), failuresSinceLastLog: this.sinceLog },
      this.messages.end,
    );
  }
}
