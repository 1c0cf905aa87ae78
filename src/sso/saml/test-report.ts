import type { Tenant } from "../../tenants/store.js";
import type { SsoFailure } from "./acs-checks.js";
import { boundedDetails, truncate } from "../bounded.js";
import type { AcsOutcome, VerifiedLogin } from "./acs.js";
import { consumeOnce } from "./acs.js";
import type { SamlConnection } from "./connection-store.js";
import { completeTest, findTest, markTested } from "./connection-store.js";
import type { SsoDeps } from "./connections.js";
import type { SamlRequestRow } from "../request-store.js";
import { directoryFinding } from "../test-directory.js";
import { spUrls } from "./sp.js";

const JIT_HINT =
  'Provision the user (SCIM or POST …/users), or turn on just-in-time provisioning ("provisioning": "jit").';

/** What the admin can do about each failure (the seed's "Common Issues", made diagnosable). */
function hintFor(
  code: string,
  d: Record<string, unknown>,
  acsUrl: string,
  entityId: string,
): string | undefined {
  switch (code) {
    case "SIGNATURE_INVALID":
      return "Upload the certificate the IdP signs with now (compare the fingerprints), or check that nothing rewrites the response.";
    case "SIGNATURE_MISSING":
      return "Configure the IdP to sign the assertion (Okta: 'Assertion Signature: Signed'; Entra: 'Sign SAML assertion').";
    case "CERTIFICATE_EXPIRED":
      return "Download the IdP's new signing certificate and PUT it (several certificates may be listed during rollover).";
    case "AUDIENCE_MISMATCH":
      return `Set the IdP's Audience / Identifier (Entity ID) to exactly ${entityId}.`;
    case "DESTINATION_MISMATCH":
    case "RECIPIENT_MISMATCH":
      return `Set the IdP's ACS / Reply URL to exactly ${acsUrl}.`;
    case "NOT_YET_VALID":
    case "EXPIRED":
      return `Clocks differ by about ${String(d.skewSeconds ?? "?")} s beyond the allowed 120 s: check NTP on the IdP and on this server.`;
    case "ISSUER_MISMATCH":
      return `The IdP identifies itself as ${JSON.stringify(d.received)}: set idpEntityId to that if it is your IdP.`;
    case "USER_NOT_FOUND":
      return JIT_HINT;
    case "WEAK_ALGORITHM":
      return "Configure the IdP to sign with RSA-SHA256 and digest with SHA-256.";
    default:
      return undefined;
  }
}

/** Record a failed test with both sides of the mismatch. */
export async function recordTestFailure(
  deps: SsoDeps,
  tenant: Tenant,
  conn: SamlConnection,
  request: SamlRequestRow,
  failure: SsoFailure,
): Promise<void> {
  const urls = spUrls(deps.config.publicUrl, tenant.slug, conn);
  // The response may be anyone's until a signature verified: its strings are bounded here too.
  const report = {
    outcome: "failure",
    code: failure.code,
    message: truncate(failure.message, 1000),
    ...boundedDetails(failure.details),
    hint: hintFor(failure.code, failure.details, urls.acsUrl, urls.entityId),
  };
  await completeTest(deps.db, tenant.id, request.testId!, "failed", report, deps.now().toISOString());
}

/**
 * A verified test login: no session, but a report of what the login would do: the NameID,
 * every attribute, the matched directory user and status, the roles they would get, and a
 * warning when a real sign-in of this person would be refused today.
 */
export async function finishTest(deps: SsoDeps, v: VerifiedLogin): Promise<AcsOutcome> {
  const now = deps.now();
  await deps.db.transaction((trx) => consumeOnce(trx, v, now));
  // The directory match is information (a warning), never a failed configuration test.
  const dir = await directoryFinding(deps.db, v.tenant, v.claims, v.conn.settings);
  const report = {
    outcome: "success",
    nameId: v.claims.nameId,
    nameIdFormat: v.claims.nameIdFormat,
    attributes: v.claims.attributes,
    mapped: {
      email: v.claims.email,
      givenName: v.claims.givenName,
      familyName: v.claims.familyName,
      displayName: v.claims.displayName,
      groups: v.claims.groups,
      immutableId: v.claims.immutableId,
    },
    assertionId: v.verified.id,
    user: dir.user,
    status: dir.status,
    provisioning: v.conn.settings.provisioning,
    roles: dir.roles,
    warnings: dir.warning ? [dir.warning] : [],
  };
  const at = now.toISOString();
  await completeTest(deps.db, v.tenant.id, v.request!.testId!, "succeeded", report, at);
  const test = await findTest(deps.db, v.tenant.id, v.request!.testId!);
  const ofThis = test && (test.connectionId ?? (v.conn.isDefault ? v.conn.id : null)) === v.conn.id;
  if (ofThis) await markTested(deps.db, v.tenant.id, v.conn.id, test.configVersion, at);
  return {
    kind: "test",
    ok: true,
    message: dir.warning
      ? `The test succeeded: you can enable single sign-on. Note: ${dir.warning.message}`
      : "The test succeeded: you can enable single sign-on.",
  };
}
