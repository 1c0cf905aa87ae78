import type { Tenant } from "../../tenants/store.js";
import { boundedDetails, truncate } from "../bounded.js";
import type { SsoDeps } from "../deps.js";
import type { SsoFailure } from "../failure.js";
import type { SamlRequestRow } from "../request-store.js";
import { directoryFinding } from "../test-directory.js";
import type { CallbackOutcome, VerifiedOidcLogin } from "./callback.js";
import { completeOidcTest, findOidcTest, markOidcTested } from "./connection-store.js";

/** The checks a test reports, in the order a login passes them. */
export const CHECKS = ["discovery", "jwks", "token_exchange", "signature", "claims", "directory"] as const;
type Check = (typeof CHECKS)[number];

/** Which check a reason code fails. */
function checkOf(code: string): Check {
  switch (code) {
    case "DISCOVERY_FAILED":
    case "PROVIDER_UNREACHABLE":
      return "discovery";
    case "ID_TOKEN_SIGNATURE_INVALID":
    case "ID_TOKEN_ALG_NOT_ALLOWED":
      return "signature";
    case "ISSUER_MISMATCH":
    case "AUDIENCE_MISMATCH":
    case "EXPIRED":
    case "NOT_YET_VALID":
    case "NONCE_MISMATCH":
    case "ID_TOKEN_INVALID":
    case "EMAIL_NOT_VERIFIED":
    case "HOSTED_DOMAIN_MISMATCH":
    case "ENTRA_TENANT_MISMATCH":
      return "claims";
    case "USER_NOT_FOUND":
    case "USER_INACTIVE":
    case "AMBIGUOUS_USER":
      return "directory";
    default:
      return "token_exchange";
  }
}

const JIT_HINT =
  'Provision the user (SCIM or POST …/users), or turn on just-in-time provisioning ("provisioning": "jit").';

/** What the admin can do about each failure (the README's troubleshooting table, per code). */
export function oidcHint(code: string, redirectUri: string): string {
  switch (code) {
    case "DISCOVERY_FAILED":
    case "PROVIDER_UNREACHABLE":
      return "Check the issuer URL (its /.well-known/openid-configuration must answer over https from this server).";
    case "TOKEN_EXCHANGE_FAILED":
      return `Check the client ID and secret (secrets expire: Entra after at most 24 months) and that ${redirectUri} is registered exactly.`;
    case "IDP_ERROR":
      return `The provider refused: assign the user to the application there, and register ${redirectUri} as a redirect URI.`;
    case "ID_TOKEN_SIGNATURE_INVALID":
      return "The id_token is not signed by a key of the provider's JWKS: check the issuer (another provider's token?), or wait a minute after a key rotation.";
    case "ID_TOKEN_ALG_NOT_ALLOWED":
      return "Configure the provider to sign id_tokens with RS256, PS256 or ES256.";
    case "ISSUER_MISMATCH":
    case "ISSUER_PARAMETER_MISMATCH":
      return "The answer came from another issuer than the one configured: check the issuer (Entra: the tenant-specific v2.0 issuer).";
    case "AUDIENCE_MISMATCH":
      return "The id_token was issued to another client: check the client ID.";
    case "EXPIRED":
    case "NOT_YET_VALID":
      return "Clocks differ by more than 2 minutes: check NTP on this server.";
    case "EMAIL_NOT_VERIFIED":
      return "The provider says the e-mail is unverified: verify it there, or (not Google) set requireEmailVerified: false if your provider never sends email_verified.";
    case "HOSTED_DOMAIN_MISMATCH":
      return "Sign in with an account of the Workspace domain, or add the domain to the connection's domains.";
    case "ENTRA_TENANT_MISMATCH":
      return "Sign in with an account of the configured Entra directory; the issuer must name your tenant id.";
    case "USER_NOT_FOUND":
      return JIT_HINT;
    case "USER_INACTIVE":
      return "The directory deactivated this user.";
    case "AMBIGUOUS_USER":
      return "Two users match: fix the directory or map the immutable id claim.";
    default:
      return "Start the test again from the same browser.";
  }
}

function checks(failedAt: Check | undefined, failure?: { code: string; message: string; hint: string }) {
  const at = failedAt ? CHECKS.indexOf(failedAt) : CHECKS.length;
  return CHECKS.map((check, i) =>
    i < at
      ? { check, status: "passed" as const }
      : i === at
        ? { check, status: "failed" as const, ...failure }
        : { check, status: "skipped" as const },
  );
}

/** Record a failed test: each check passed, failed (with the reason and fix) or skipped. */
export async function recordOidcTestFailure(
  deps: SsoDeps,
  tenant: Tenant,
  request: SamlRequestRow,
  failure: SsoFailure,
  verified: boolean,
): Promise<void> {
  const redirectUri = `${deps.config.publicUrl}/sso/${encodeURIComponent(tenant.slug)}/oidc/callback`;
  const hint = oidcHint(failure.code, redirectUri);
  const message = truncate(failure.message, 1000);
  const report = {
    outcome: "failure",
    code: failure.code,
    message,
    details: boundedDetails(failure.details),
    verified,
    hint,
    checks: checks(checkOf(failure.code), { code: failure.code, message, hint }),
  };
  await completeOidcTest(deps.db, tenant.id, request.testId!, "failed", report, deps.now().toISOString());
}

/**
 * A verified test login: no session, but what the login would do (claims, matched user, roles).
 * Every check up to the claims passed; the directory match is information: "passed", or
 * "warning" when a real sign-in of this person would be refused today (never a failed test).
 */
export async function finishOidcTest(deps: SsoDeps, v: VerifiedOidcLogin): Promise<CallbackOutcome> {
  const dir = await directoryFinding(deps.db, v.tenant, v.claims, v.conn.settings);
  const report = {
    outcome: "success",
    checks: checks(undefined).map((c) =>
      c.check === "directory" && dir.warning ? { ...dir.warning, status: "warning" as const } : c,
    ),
    warnings: dir.warning ? [dir.warning] : [],
    claims: boundedDetails(v.idToken),
    mapped: {
      userName: v.claims.nameId,
      email: v.claims.email,
      givenName: v.claims.givenName,
      familyName: v.claims.familyName,
      displayName: v.claims.displayName,
      groups: v.claims.groups,
      groupsUnknown: v.claims.groupsUnknown === true,
      immutableId: v.claims.immutableId,
    },
    user: dir.user,
    status: dir.status,
    provisioning: v.conn.settings.provisioning,
    roles: dir.roles,
  };
  const at = deps.now().toISOString();
  await completeOidcTest(deps.db, v.tenant.id, v.request.testId!, "succeeded", report, at);
  const test = await findOidcTest(deps.db, v.tenant.id, v.request.testId!);
  if (test) await markOidcTested(deps.db, v.tenant.id, test.configVersion, at);
  return {
    kind: "test",
    ok: true,
    message: dir.warning
      ? `The test succeeded: you can enable single sign-on. Note: ${dir.warning.message}`
      : "The test succeeded: you can enable single sign-on.",
  };
}
