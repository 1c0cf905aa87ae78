import type { Claims } from "../gate.js";
import { SsoFailure } from "../failure.js";
import type { OidcConnection } from "./connection-store.js";
import { entraTenantOf } from "./presets.js";

// Profile values longer than a directory column holds are left out (the login name is checked apart).
const str = (v: unknown): string | null =>
  typeof v === "string" && v.trim() !== "" && v.length <= 1024 ? v.trim() : null;

function refuse(code: string, message: string, details: Record<string, unknown>): never {
  throw new SsoFailure(code, message, details, 403);
}

/**
 * The preset's claim rules on a verified id_token (openid-client checks none of them):
 * - `email_verified` must be true when the connection requires it (always for Google);
 * - Google: `hd` present and one of the connection's domains or the tenant's verified ones, exactly: never inferred from the
 *   e-mail's suffix (a personal account can carry any verified address);
 * - Entra: `tid` equal to the directory the issuer (or `entraTenantId`) names.
 */
export function checkPresetClaims(
  conn: OidcConnection,
  c: Record<string, unknown>,
  verifiedDomains: string[] = [],
): void {
  const { settings } = conn;
  if ((settings.requireEmailVerified || conn.preset === "google") && c.email_verified !== true)
    refuse("EMAIL_NOT_VERIFIED", "Your identity provider has not verified your e-mail address.", {
      email: str(c.email),
      email_verified: c.email_verified ?? null,
    });
  if (conn.preset === "google") {
    const hd = str(c.hd)?.toLowerCase() ?? null;
    // Issue 17: one of the connection's domains or of the tenant's verified domains.
    const expected = [...new Set([...conn.domains, ...verifiedDomains])];
    if (!hd || !expected.includes(hd))
      refuse(
        "HOSTED_DOMAIN_MISMATCH",
        "This Google account does not belong to the workspace's Google Workspace domain.",
        {
          hd,
          expected,
        },
      );
  }
  if (conn.preset === "entra") {
    const expected = settings.entraTenantId ?? entraTenantOf(conn.issuer);
    const tid = str(c.tid)?.toLowerCase() ?? null;
    if (!expected || tid !== expected)
      refuse("ENTRA_TENANT_MISMATCH", "This Microsoft account belongs to another Entra ID directory.", {
        tid,
        expected,
      });
  }
}

/**
 * The person as the directory gate sees them, through the connection's claim mapping. Entra's
 * groups overage (`_claim_names.groups`: more than 200 groups, to be fetched from Graph) means
 * "groups unknown here": none are read and SCIM keeps them.
 */
export function claimsOf(conn: OidcConnection, c: Record<string, unknown>): Claims {
  const m = conn.settings.attributeMapping;
  const pick = (name?: string) => (name ? str(c[name]) : null);
  const overage = typeof c._claim_names === "object" && c._claim_names !== null && "groups" in c._claim_names;
  const raw = m.groups && !overage ? c[m.groups] : undefined;
  const groups = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw])
    .filter((g): g is string => typeof g === "string" && g !== "" && g.length <= 512)
    .slice(0, 1000);
  const email = pick(m.email);
  const sub = String(c.sub);
  return {
    nameId: pick(m.userName) ?? email ?? sub,
    nameIdFormat: null,
    sessionIndex: null,
    email,
    givenName: pick(m.givenName),
    familyName: pick(m.familyName),
    displayName: pick(m.displayName),
    groups,
    immutableId: pick(m.id),
    attributes: c,
    groupsUnknown: overage,
  };
}
