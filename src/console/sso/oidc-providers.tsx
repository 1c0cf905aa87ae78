import type { ComponentChildren } from "preact";

/** An OpenID Connect choice of the picker: the preset it saves, its steps and its form's fields. */
export interface OidcProvider {
  key: "google-oidc" | "entra-oidc" | "okta-oidc" | "custom-oidc";
  name: string;
  preset: "google" | "entra" | "okta" | "custom";
  /** Steps in the provider's own words (notes/idp-setup.md; README "Setting up each provider"). */
  steps: ComponentChildren[];
  /** How the issuer is asked for: fixed (Google), the Entra directory id, or a URL. */
  issuer: "fixed" | "entra" | "url";
  issuerHint?: string;
  clientIdLabel: string;
  clientSecretLabel: string;
  /** Google's hd: the Workspace domain(s) the id_token must name. */
  domains: boolean;
  /** Whether the admin may turn off the email_verified check (never for Google). */
  emailVerifiedToggle: boolean;
}

const b = (s: string) => <strong>{s}</strong>;

// Menu labels drift (Google moved Credentials to Google Auth Platform in 2025): the older label
// is in brackets where the admin may still see it (notes/idp-setup.md §1.3, §2.3, §3.3).
/** The OpenID Connect choices, in the picker's order. */
export const OIDC_PROVIDERS: OidcProvider[] = [
  {
    key: "google-oidc",
    name: "Google Workspace (OpenID Connect)",
    preset: "google",
    steps: [
      <>
        In the Google Cloud console open {b("Google Auth Platform › Branding")} (app name, support e-mail),
        then {b("Audience")} and choose {b("Internal")} so only your Workspace's users can sign in.
      </>,
      <>
        Open {b("Clients › Create client")} (older: APIs & Services › Credentials › Create credentials › OAuth
        client ID) and choose {b("Web application")}.
      </>,
      <>
        Under {b("Authorized redirect URIs")} add the redirect URI below, then {b("Create")}.
      </>,
      <>
        Copy the {b("Client ID")} and the {b("Client secret")} at once: since 2025 Google shows the secret
        only when the client is created.
      </>,
      <>Enter your Workspace domain below: Roster checks the id_token's hd claim names it.</>,
    ],
    issuer: "fixed",
    clientIdLabel: "Client ID",
    clientSecretLabel: "Client secret",
    domains: true,
    emailVerifiedToggle: false,
  },
  {
    key: "entra-oidc",
    name: "Microsoft Entra ID (OpenID Connect)",
    preset: "entra",
    steps: [
      <>
        In the Entra admin center open {b("App registrations › New registration")}, choose{" "}
        {b("Accounts in this organizational directory only")}.
      </>,
      <>
        Under {b("Redirect URI")} pick {b("Web")} and paste the redirect URI below, then {b("Register")}.
      </>,
      <>
        On {b("Overview")} copy the {b("Application (client) ID")} and the {b("Directory (tenant) ID")}.
      </>,
      <>
        Open {b("Certificates & secrets › Client secrets › New client secret")} and copy its {b("Value")}{" "}
        (shown once; it expires after at most 24 months).
      </>,
      <>
        Optional: {b("Token configuration › Add groups claim")}. For provisioning, map externalId ← objectId
        in the SCIM app so the person's oid matches.
      </>,
    ],
    issuer: "entra",
    issuerHint: "Overview › Directory (tenant) ID: Roster uses https://login.microsoftonline.com/{it}/v2.0.",
    clientIdLabel: "Application (client) ID",
    clientSecretLabel: "Client secret Value",
    domains: false,
    emailVerifiedToggle: true,
  },
  {
    key: "okta-oidc",
    name: "Okta (OpenID Connect)",
    preset: "okta",
    steps: [
      <>
        In the Okta Admin Console open {b("Applications › Applications › Create App Integration")} and choose{" "}
        {b("OIDC - OpenID Connect")}, then {b("Web Application")}.
      </>,
      <>
        Paste the redirect URI below into {b("Sign-in redirect URIs")} and assign people or groups, then{" "}
        {b("Save")}.
      </>,
      <>
        On {b("General › Client Credentials")} copy the {b("Client ID")} and the {b("Client secret")}.
      </>,
      <>
        Optional, for groups: {b("Sign On › OpenID Connect ID Token › Edit › Group claim type")} Filter,
        groups {b("Matches regex")} <code>.*</code>.
      </>,
    ],
    issuer: "url",
    issuerHint: "https://{yourOktaDomain} (org server) or https://{yourOktaDomain}/oauth2/default.",
    clientIdLabel: "Client ID",
    clientSecretLabel: "Client secret",
    domains: false,
    emailVerifiedToggle: true,
  },
  {
    key: "custom-oidc",
    name: "Custom OpenID Connect",
    preset: "custom",
    steps: [
      <>In your provider, create a confidential web client that uses the authorization code flow.</>,
      <>Register the redirect URI below exactly as shown.</>,
      <>Have it sign id_tokens with RS256, PS256 or ES256.</>,
      <>Copy its issuer URL (where /.well-known/openid-configuration answers), client ID and secret.</>,
    ],
    issuer: "url",
    issuerHint: "The issuer URL; its /.well-known/openid-configuration must answer over https.",
    clientIdLabel: "Client ID",
    clientSecretLabel: "Client secret",
    domains: false,
    emailVerifiedToggle: true,
  },
];

/** The OpenID Connect choice a query names, or undefined. */
export function oidcProviderOf(key: unknown): OidcProvider | undefined {
  return OIDC_PROVIDERS.find((p) => p.key === key);
}

/** The choice a saved OpenID Connect preset came from. */
export function oidcProviderOfPreset(preset: string): OidcProvider {
  return OIDC_PROVIDERS.find((p) => p.preset === preset) ?? OIDC_PROVIDERS[3];
}
