import { SamlStatusError } from "@node-saml/node-saml";
import { type RawFacts, SsoFailure } from "./acs-checks.js";
import { describeCertificate } from "./certificates.js";
import { CLOCK_SKEW_MS } from "./sp.js";

/** What a diagnosis compares against. */
export interface Expected {
  acsUrl: string;
  entityId: string;
  idpEntityId: string;
  certificates: string[];
  now: Date;
}

const seconds = (ms: number) => Math.round(ms / 1000);

function signatureFailure(facts: RawFacts | undefined, exp: Expected): SsoFailure {
  const expected = exp.certificates.map((pem) => describeCertificate(pem, exp.now));
  const received = facts?.signatureFingerprints ?? [];
  const details = {
    expectedFingerprints: expected.map((c) => c.fingerprintSha256),
    receivedFingerprints: received,
    assertionSigned: facts?.assertionSigned ?? false,
    responseSigned: facts?.responseSigned ?? false,
  };
  if (facts && !facts.assertionSigned)
    return new SsoFailure(
      "SIGNATURE_MISSING",
      facts.responseSigned
        ? "The assertion itself was not signed (a signature on the response only is not enough): set the IdP to sign the assertion."
        : "The response was not signed.",
      details,
    );
  const expired = expected.find((c) => received.includes(c.fingerprintSha256) && c.daysUntilExpiry < 0);
  if (expired)
    return new SsoFailure(
      "CERTIFICATE_EXPIRED",
      `The identity provider's certificate expired on ${expired.notAfter}.`,
      {
        ...details,
        notAfter: expired.notAfter,
      },
    );
  return new SsoFailure(
    "SIGNATURE_INVALID",
    "The response was not signed by a certificate configured for this workspace (or its content was changed).",
    details,
  );
}

function timeFailure(code: string, facts: RawFacts | undefined, exp: Expected): SsoFailure {
  const a = facts?.assertion;
  const now = exp.now.getTime();
  const details: Record<string, unknown> = {
    serverTime: exp.now.toISOString(),
    notBefore: a?.notBefore ?? null,
    notOnOrAfter: a?.notOnOrAfter ?? null,
    allowedSkewSeconds: seconds(CLOCK_SKEW_MS),
  };
  if (code === "NOT_YET_VALID" && a?.notBefore)
    details.skewSeconds = seconds(new Date(a.notBefore).getTime() - now);
  if (code === "EXPIRED" && a?.notOnOrAfter)
    details.skewSeconds = seconds(now - new Date(a.notOnOrAfter).getTime());
  const reason =
    code === "NOT_YET_VALID"
      ? "The assertion is not valid yet: the identity provider's clock or this server's is off."
      : "The assertion has expired (or the clocks differ too much): sign in again.";
  return new SsoFailure(code, reason, details);
}

/**
 * Turn a node-saml error into a failure a person can act on, with both sides of the mismatch
 * for the test report (fingerprints, audience, times) taken from the raw response.
 */
export function diagnoseValidationError(
  err: unknown,
  facts: RawFacts | undefined,
  exp: Expected,
): SsoFailure {
  if (err instanceof SsoFailure) return err;
  if (err instanceof SamlStatusError)
    return new SsoFailure(
      "IDP_STATUS",
      `The identity provider did not sign you in (${err.message.replace(/^SAML provider returned /, "")}).`,
    );
  const msg = err instanceof Error ? err.message : String(err);
  if (/signature|Cannot obtain assertion/i.test(msg)) return signatureFailure(facts, exp);
  if (/multiple assertions/i.test(msg))
    return new SsoFailure("ASSERTION_COUNT", "The response must contain exactly one assertion.");
  if (/audience|AudienceRestriction/i.test(msg))
    return new SsoFailure(
      "AUDIENCE_MISMATCH",
      "The assertion was meant for a different application (audience mismatch).",
      {
        expected: exp.entityId,
        received: facts?.assertion?.audiences ?? [],
      },
    );
  if (/not yet valid/i.test(msg)) return timeFailure("NOT_YET_VALID", facts, exp);
  if (/expired|too old|subject confirmation/i.test(msg)) return timeFailure("EXPIRED", facts, exp);
  if (/InResponseTo/i.test(msg))
    return new SsoFailure("UNKNOWN_REQUEST", "This sign-in response does not answer a sign-in started here.");
  if (/decrypt|EncryptedAssertion/i.test(msg))
    return new SsoFailure(
      "DECRYPTION_FAILED",
      "The encrypted assertion could not be decrypted with this workspace's key.",
    );
  return new SsoFailure("INVALID", "The sign-in response could not be verified.", {
    error: msg.slice(0, 200),
  });
}
