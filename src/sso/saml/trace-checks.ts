import { DOMParser, XMLSerializer } from "@xmldom/xmldom";
import { checksRun, type TraceCheck } from "../traces.js";

/** The checks of a SAML sign-in, in the order the ACS runs them (acs.ts verify, finishLogin). */
export const SAML_CHECKS = [
  "response_well_formed",
  "request_matched",
  "connection_enabled",
  "destination",
  "issuer",
  "idp_status",
  "signature",
  "assertion_conditions",
  "replay",
  "directory_user",
] as const;

const CHECK_OF: Record<string, (typeof SAML_CHECKS)[number]> = {
  NO_RESPONSE: "response_well_formed",
  MALFORMED: "response_well_formed",
  NOT_A_RESPONSE: "response_well_formed",
  DOCTYPE: "response_well_formed",
  XML_TOO_COMPLEX: "response_well_formed",
  UNKNOWN_REQUEST: "request_matched",
  OTHER_BROWSER: "request_matched",
  IDP_INITIATED_NOT_ALLOWED: "request_matched",
  SSO_NOT_ENABLED: "connection_enabled",
  DESTINATION_MISMATCH: "destination",
  ISSUER_MISMATCH: "issuer",
  IDP_STATUS: "idp_status",
  SIGNATURE_INVALID: "signature",
  SIGNATURE_MISSING: "signature",
  WEAK_ALGORITHM: "signature",
  CERTIFICATE_EXPIRED: "signature",
  AUDIENCE_MISMATCH: "assertion_conditions",
  RECIPIENT_MISMATCH: "assertion_conditions",
  EXPIRED: "assertion_conditions",
  NOT_YET_VALID: "assertion_conditions",
  INVALID: "assertion_conditions",
  REPLAY: "replay",
  USER_NOT_FOUND: "directory_user",
  USER_INACTIVE: "directory_user",
  AMBIGUOUS_USER: "directory_user",
};

/** The checks a SAML sign-in ran: all passed, or up to the one `code` failed. */
export function samlChecks(failure?: { code: string; message: string }): TraceCheck[] {
  if (!failure) return checksRun(SAML_CHECKS);
  return checksRun(SAML_CHECKS, {
    check: CHECK_OF[failure.code] ?? failure.code.toLowerCase(),
    detail: failure.message,
  });
}

/** Largest decoded response a trace keeps; longer ones are cut. */
export const MAX_TRACE_RESPONSE = 16 * 1024;

/**
 * The response as a trace shows it: decoded XML with certificate bodies, signature values and
 * encrypted data elided (they say nothing to a reader and are most of the bytes; a certificate
 * is identified by the fingerprints in the checks). Cut at MAX_TRACE_RESPONSE.
 */
export function elidedResponse(doc: Document | undefined): string | null {
  if (!doc) return null;
  const copy = new DOMParser().parseFromString(new XMLSerializer().serializeToString(doc), "text/xml");
  const elide = (local: string, what: string) => {
    const nodes = copy.getElementsByTagNameNS("*", local);
    for (let i = 0; i < nodes.length; i++) {
      const el = nodes[i];
      const length = (el.textContent ?? "").replace(/\s+/g, "").length;
      while (el.firstChild) el.removeChild(el.firstChild);
      el.appendChild(copy.createTextNode(`[${what} elided, ${length} characters]`));
    }
  };
  elide("X509Certificate", "certificate");
  elide("SignatureValue", "signature value");
  elide("DigestValue", "digest");
  elide("CipherValue", "encrypted data");
  const text = new XMLSerializer().serializeToString(copy);
  return text.length <= MAX_TRACE_RESPONSE
    ? text
    : `${text.slice(0, MAX_TRACE_RESPONSE)}…(+${text.length - MAX_TRACE_RESPONSE} characters)`;
}
