/**
 * What every sign-in protocol shares about traces (issue 18): the fix in words for each reason
 * code, and the checks run with their results. SAML (src/sso/saml/refusals.ts) and OpenID
 * Connect (src/sso/oidc/, when it lands) record through the same fields: `protocol`,
 * `connectionId`, `outcome`, `reason`, `fix`, `verified` (did a signature of the tenant's IdP
 * verify: until it did, the identity claimed is anyone's), `checks`, `response` (decoded,
 * secrets elided), written by insertTrace (src/sso/saml/trace-store.ts).
 */

/** One check of a sign-in and how it went. */
export interface TraceCheck {
  check: string;
  result: "passed" | "failed" | "not_run";
  detail?: string;
}

/** The fix for each reason code, in words (the README's troubleshooting table). OIDC adds its own. */
export const FIXES: Record<string, string> = {
  SIGNATURE_INVALID:
    "The IdP signs with a certificate not configured here: compare fingerprints in a test report and upload the new certificate (keep the old one during rollover).",
  SIGNATURE_MISSING: "Make the IdP sign the assertion (a response-only signature is refused).",
  CERTIFICATE_EXPIRED: "The configured IdP certificate expired: upload the new one.",
  AUDIENCE_MISMATCH: "Set the IdP's Identifier / Audience to the SP entity id exactly.",
  DESTINATION_MISMATCH: "Set the IdP's ACS / Reply URL to the SP ACS URL exactly (check PUBLIC_URL).",
  RECIPIENT_MISMATCH: "Set the IdP's ACS / Reply URL to the SP ACS URL exactly (check PUBLIC_URL).",
  ISSUER_MISMATCH: "The configured IdP entity id differs from what the IdP sends: correct it.",
  EXPIRED: "Clocks differ by more than 2 minutes: check NTP on the IdP and on Roster.",
  NOT_YET_VALID: "Clocks differ by more than 2 minutes: check NTP on the IdP and on Roster.",
  UNKNOWN_REQUEST: "Start the sign-in again from the same browser; IdP tiles need allowIdpInitiated.",
  OTHER_BROWSER: "Start the sign-in again from the same browser; IdP tiles need allowIdpInitiated.",
  REPLAY: "Start the sign-in again: this response was already used.",
  IDP_INITIATED_NOT_ALLOWED: "Set allowIdpInitiated: true, or start at /sso/{slug}/login.",
  WEAK_ALGORITHM: "Configure the IdP to sign with RSA-SHA256 (or stronger).",
  USER_NOT_FOUND: "Provision the user (SCIM or an invitation), or turn on just-in-time provisioning.",
  USER_INACTIVE: "The directory deactivated this user: reactivate them at the IdP if access is intended.",
  AMBIGUOUS_USER: "Two users share the matched e-mail: fix the directory or map an immutable id attribute.",
  SSO_NOT_ENABLED: "Test the connection, then enable it.",
  IDP_STATUS:
    "The IdP refused (its status is in the message): fix the user's assignment to the application at the IdP.",
  XML_TOO_COMPLEX: "No IdP sends a response this large: filter the groups attribute at the IdP.",
  MALFORMED:
    "What was posted is not a SAML Response: check that the IdP posts to the ACS URL with HTTP-POST.",
  NOT_A_RESPONSE:
    "What was posted is not a SAML Response: check that the IdP posts to the ACS URL with HTTP-POST.",
  DOCTYPE: "What was posted is not a SAML Response: check that the IdP posts to the ACS URL with HTTP-POST.",
  NO_RESPONSE: "Nothing was posted: check that the IdP posts to the ACS URL with HTTP-POST.",
  INVALID:
    "The assertion lacks something SAML requires (NotOnOrAfter, one NameID) or carries an over-long value.",
  TOO_MANY_PENDING_LOGINS:
    "Too many unfinished sign-ins: wait a minute, or raise ROSTER_SSO_MAX_PENDING_LOGINS.",
};

/** The fix for a reason code ("" when none is known). */
export function fixFor(code: string): string {
  return FIXES[code] ?? "";
}

/**
 * The checks of a sign-in in the order they run: those before the failed one passed, the
 * failed one failed (with its message), the rest did not run. No failure: all passed.
 */
export function checksRun(
  order: readonly string[],
  failed?: { check: string; detail: string },
): TraceCheck[] {
  const at = failed ? order.indexOf(failed.check) : -1;
  const checks: TraceCheck[] = order.map((check, i) => ({
    check,
    result: at < 0 ? (failed ? "not_run" : "passed") : i < at ? "passed" : i === at ? "failed" : "not_run",
    ...(i === at && failed ? { detail: failed.detail } : {}),
  }));
  if (failed && at < 0) checks.push({ check: failed.check, result: "failed", detail: failed.detail });
  return checks;
}
