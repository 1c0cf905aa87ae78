/**
 * Outbound HTTP failures (IdP metadata fetches, webhook deliveries) in words an admin can act on.
 * Node's messages for TLS failures are OpenSSL's internals ("0A00010B:SSL routines:
 * ssl3_get_record:wrong version number"): only the error code is read, never the message.
 */

const UNTRUSTED = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_CHAIN_TOO_LONG",
  "INVALID_CA",
  "CERT_REJECTED",
]);

/** An error this module wrote itself: its message is already words. */
export class OutboundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutboundError";
  }
}

/** A sentence for a failed outbound request to `host` (no OpenSSL text, no stack). */
export function describeNetworkError(err: unknown, host: string): string {
  if (err instanceof OutboundError) return err.message;
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === "string" ? e.code : "";
  if (code === "EPRIVATE") return e.message;
  if (code === "ENOTFOUND" || code === "ENODATA") return `DNS name not found: ${host}`;
  if (code === "EAI_AGAIN") return `DNS lookup of ${host} failed (temporary DNS failure)`;
  if (code === "ECONNREFUSED") return `connection refused by ${host}`;
  if (code === "ECONNRESET") return `${host} closed the connection`;
  if (code === "ETIMEDOUT") return `connecting to ${host} timed out`;
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return `${host} is unreachable`;
  if (code === "CERT_HAS_EXPIRED") return `TLS certificate of ${host} has expired`;
  if (code === "CERT_NOT_YET_VALID") return `TLS certificate of ${host} is not valid yet`;
  if (code === "CERT_REVOKED") return `TLS certificate of ${host} is revoked`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `TLS certificate is not valid for ${host}`;
  if (UNTRUSTED.has(code))
    return `TLS certificate of ${host} is not trusted (self-signed or issued by an unknown authority)`;
  if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || code === "EPROTO")
    return `TLS handshake with ${host} failed (is it https on this port, with TLS 1.2 or later?)`;
  return code && /^[A-Z0-9_]+$/.test(code) ? `network error (${code})` : "network error";
}

/** A sentence for an HTTP status that is not the answer wanted. */
export function describeHttpStatus(status: number): string {
  if (status === 404) return "not found (HTTP 404)";
  if (status === 401 || status === 403) return `access denied (HTTP ${status})`;
  if (status >= 500) return `server error (HTTP ${status})`;
  return `unexpected answer (HTTP ${status})`;
}
