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
