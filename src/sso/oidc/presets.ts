import type { ClaimMapping, OidcSettings } from "./connection-store.js";

/**
 * OpenID Connect presets: what each provider fixes (issuer, claims, which checks apply) and where
 * the admin finds and puts each value. A preset only fills defaults and names the claim rules
 * (claims.ts); the callback never asks "is this Entra?" beyond them.
 */
export interface OidcPreset {
  key: "google" | "entra" | "okta" | "custom";
  name: string;
  /** The issuer when the admin gives none (Entra's needs the directory id: given as `issuer`). */
  issuer?: string;
  attributeMapping: ClaimMapping;
  matching: OidcSettings["matching"];
  requireEmailVerified: boolean;
  instructions: { fromIdp: Record<string, string>; toIdp: Record<string, string> };
}

const STANDARD: ClaimMapping = {
  userName: "email",
  email: "email",
  givenName: "given_name",
  familyName: "family_name",
  displayName: "name",
  groups: "groups",
};

/** Presets by key. */
export const OIDC_PRESETS: Record<string, OidcPreset> = {
  google: {
    key: "google",
    name: "Google Workspace",
    issuer: "https://accounts.google.com",
    attributeMapping: { ...STANDARD, groups: undefined },
    matching: { userName: true, email: true, idField: "externalId" },
    // Google: `hd` must name one of the connection's domains and `email_verified` must be true.
    requireEmailVerified: true,
    instructions: {
      fromIdp: {
        clientId:
          "Google Cloud console → Google Auth Platform → Clients → (your Web application) → Client ID",
        clientSecret:
          "Shown once when the client is created (since 2025 it cannot be viewed later): copy it then",
        domains: "Your Workspace primary domain (the id_token's hd claim), e.g. example.com",
      },
      toIdp: {
        redirectUri: "Clients → Create client → Web application → Authorized redirect URIs",
        consent: "Branding / Audience: set the app to Internal so only your Workspace users can sign in",
      },
    },
  },
  entra: {
    key: "entra",
    name: "Microsoft Entra ID",
    attributeMapping: { ...STANDARD, userName: "preferred_username", id: "oid" },
    // The immutable oid links the person (Entra pushes it as externalId when so mapped), then the
    // UPN; e-mail only when the admin turns matching.email on (Entra's `email` is not verified).
    matching: { userName: true, email: false, idField: "externalId" },
    requireEmailVerified: false,
    instructions: {
      fromIdp: {
        issuer:
          "https://login.microsoftonline.com/{Directory (tenant) ID}/v2.0 (Overview → Directory (tenant) ID; never 'common')",
        clientId: "App registrations → (your app) → Overview → Application (client) ID",
        clientSecret:
          "Certificates & secrets → Client secrets → New client secret → Value (shown once; at most 24 months)",
      },
      toIdp: {
        redirectUri: "Authentication → Add a platform → Web → Redirect URIs",
        groups:
          "Token configuration → Add groups claim (Security groups; ID) — optional, SCIM carries groups too",
        scimExternalId: "Provisioning → Attribute mapping → externalId ← objectId, so the oid matches",
      },
    },
  },
  okta: {
    key: "okta",
    name: "Okta",
    attributeMapping: { ...STANDARD },
    matching: { userName: true, email: true, idField: "externalId" },
    requireEmailVerified: true,
    instructions: {
      fromIdp: {
        issuer: "https://{yourOktaDomain} (org server) or https://{yourOktaDomain}/oauth2/default",
        clientId: "Applications → (your app) → General → Client Credentials → Client ID",
        clientSecret: "Client Credentials → Client secret",
      },
      toIdp: {
        redirectUri:
          "Create App Integration → OIDC - OpenID Connect → Web Application → Sign-in redirect URIs",
        groups:
          "Sign On → OpenID Connect ID Token → Groups claim filter: groups, Matches regex .* (optional)",
      },
    },
  },
  custom: {
    key: "custom",
    name: "Any OpenID Connect provider",
    attributeMapping: { ...STANDARD },
    matching: { userName: true, email: true, idField: "externalId" },
    requireEmailVerified: true,
    instructions: {
      fromIdp: {
        issuer: "The provider's issuer (its /.well-known/openid-configuration says it)",
        clientId: "The client (application) id",
        clientSecret: "The client secret (confidential web client, authorization code flow)",
      },
      toIdp: { redirectUri: "The client's redirect URI (exact match)" },
    },
  },
};

/** The preset keys the admin API accepts. */
export const OIDC_PRESET_KEYS = ["google", "entra", "okta", "custom"] as const;

/** Entra's per-directory issuer: https://login.microsoftonline.com/{tenant id}/v2.0. */
const ENTRA_ISSUER = /^https:\/\/login\.microsoftonline\.com\/([0-9a-f-]{36})\/v2\.0$/i;

/** The Entra directory id an issuer names, if it is one. */
export function entraTenantOf(issuer: string): string | null {
  return ENTRA_ISSUER.exec(issuer)?.[1]?.toLowerCase() ?? null;
}
