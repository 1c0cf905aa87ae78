import type { ComponentChildren } from "preact";

/** Roster's values a step refers to (rendered as copy fields beside the steps). */
export interface SpValues {
  entityId: string;
  acsUrl: string;
  metadataUrl: string;
}

/** A provider on the picker: which preset it saves, and the steps in that IdP's own words. */
export interface Provider {
  key: string;
  name: string;
  /** The Roster preset (attribute names) saved with the connection. */
  preset: "custom" | "entra" | "google" | "okta";
  steps: (v: SpValues) => ComponentChildren[];
  /** What to bring back, in the IdP's words. */
  bringBack: string;
  /** Where the SCIM values go in this IdP (the Directory → SCIM page shows it). */
  scimNote: string;
}

const b = (s: string) => <strong>{s}</strong>;

// Menu labels drift (Entra and Okta renamed theirs in 2025–2026): paths are described loosely,
// with the older label in brackets (notes/idp-setup.md).
/** The six providers of the picker, in order. */
export const PROVIDERS: Provider[] = [
  {
    key: "entra",
    name: "Microsoft Entra ID",
    preset: "entra",
    steps: (v) => [
      <>
        In the Entra admin center open {b("Entra ID › Enterprise apps")} (older tenants: Identity ›
        Applications › Enterprise applications) and choose{" "}
        {b("+ New application › + Create your own application")}. Name it and pick{" "}
        {b("Integrate any other application you don't find in the gallery (Non-gallery)")}.
      </>,
      <>
        Open {b("Single sign-on › SAML")}, then {b("Basic SAML Configuration › Edit")}.
      </>,
      <>
        Paste the Entity ID below into {b("Identifier (Entity ID)")} and the ACS URL into{" "}
        {b("Reply URL (Assertion Consumer Service URL)")}, then {b("Save")}. (Entity ID:{" "}
        <code>{v.entityId}</code>)
      </>,
      <>
        Under {b("Attributes & Claims")} keep the Unique User Identifier; optionally{" "}
        {b("Add a group claim › Groups assigned to the application")}.
      </>,
      <>
        Under {b("SAML Certificates")} copy the {b("App Federation Metadata Url")}, or the {b("Login URL")}{" "}
        and {b("Microsoft Entra Identifier")} and download {b("Certificate (Base64)")}.
      </>,
      <>Assign people under {b("Users and groups › Add user/group")}.</>,
    ],
    bringBack:
      "App Federation Metadata Url (or Login URL, Microsoft Entra Identifier and Certificate (Base64))",
    scimNote:
      "Entra: the app's Provisioning › + New configuration (older: Get started › Automatic). Tenant URL = the SCIM base URL, Secret Token = the token. Test Connection, then Start provisioning; Entra syncs about every 40 minutes (Provision on demand pushes one user now).",
  },
  {
    key: "okta",
    name: "Okta",
    preset: "okta",
    steps: () => [
      <>
        In the Okta Admin Console open {b("Applications › Applications")} (newer orgs: Applications and
        Resources › Applications) and click {b("Create App Integration")}; choose {b("SAML 2.0")}.
      </>,
      <>
        Give it an {b("App name")}, click {b("Next")} to {b("Configure SAML")}.
      </>,
      <>
        Paste the ACS URL into {b("Single sign-on URL")} (keep{" "}
        {b("Use this for Recipient URL and Destination URL")} ticked) and the Entity ID into{" "}
        {b("Audience URI (SP Entity ID)")}.
      </>,
      <>
        Optionally add {b("Attribute Statements")} email → user.email, firstName → user.firstName, lastName →
        user.lastName, and a {b("Group Attribute Statement")} named groups.
      </>,
      <>
        Finish, then on the {b("Sign On")} tab copy the {b("Metadata URL")} (or open{" "}
        {b("View SAML setup instructions")} for the SSO URL, Issuer and certificate).
      </>,
      <>Assign people on the {b("Assignments")} tab.</>,
    ],
    bringBack:
      "Metadata URL (or Identity Provider Single Sign-On URL, Identity Provider Issuer and X.509 Certificate)",
    scimNote:
      "Okta: app › General › Edit › Provisioning: SCIM, then Provisioning › Integration: SCIM connector base URL = the SCIM base URL, Unique identifier field for users = userName, Authentication Mode = HTTP Header (the token). Okta updates users with PUT and never deletes them (it deactivates).",
  },
  {
    key: "google",
    name: "Google Workspace",
    preset: "google",
    steps: () => [
      <>
        In the Google Admin console open {b("Apps › Web and mobile apps › Add app › Add custom SAML app")},
        enter an {b("App name")} and {b("Continue")}.
      </>,
      <>
        On {b("Google Identity Provider details")} choose {b("Download IdP metadata")} (Option 1), or copy the{" "}
        {b("SSO URL")}, {b("Entity ID")} and {b("Certificate")} (Option 2). {b("Continue")}.
      </>,
      <>
        On {b("Service provider details")} paste the ACS URL into {b("ACS URL")} and the Entity ID into{" "}
        {b("Entity ID")}; set {b("Name ID format")} to EMAIL and {b("Name ID")} to Basic Information › Primary
        email.
      </>,
      <>
        In {b("Attribute mapping")} map Primary email → email, First name → firstName, Last name → lastName;
        optionally add {b("Group membership")}.
      </>,
      <>
        Finish, then set {b("User access")} to {b("ON for everyone")} (it is OFF by default).
      </>,
    ],
    bringBack: "IdP metadata (upload the file) or SSO URL, Entity ID and Certificate",
    scimNote:
      "Google Workspace offers no SCIM for custom SAML apps: invite members here (manual provisioning) or turn on just-in-time provisioning.",
  },
  {
    key: "onelogin",
    name: "OneLogin",
    preset: "custom",
    steps: () => [
      <>
        In OneLogin open {b("Applications › Applications › Add App")} and search for{" "}
        {b("SAML Custom Connector (Advanced)")}; set a {b("Display Name")} and {b("Save")}.
      </>,
      <>
        On the {b("Configuration")} tab paste the Entity ID into {b("Audience (EntityID)")} and the ACS URL
        into {b("Recipient")} and {b("ACS (Consumer) URL")}; set {b("ACS (Consumer) URL Validator")} to the
        ACS URL with dots escaped, e.g. <code>^https://roster\.example/sso/acme/acs$</code>.
      </>,
      <>
        Set {b("SAML signature element")} to {b("Assertion")} or {b("Both")}; on {b("Parameters")} add Email,
        First Name and Last Name with {b("Include in SAML assertion")}.
      </>,
      <>
        On the {b("SSO")} tab set {b("SAML Signature Algorithm")} to SHA-256, then copy the {b("Issuer URL")},
        the {b("SAML 2.0 Endpoint (HTTP)")} and the {b("X.509 Certificate")} (View Details), or use{" "}
        {b("More Actions › SAML Metadata")}.
      </>,
      <>Grant access through a role on the {b("Access")} tab.</>,
    ],
    bringBack: "Issuer URL (metadata URL), or SAML 2.0 Endpoint (HTTP) + Issuer URL + X.509 Certificate",
    scimNote:
      "OneLogin: add “SCIM Provisioner with SAML (Core Schema)”; Configuration tab: SCIM Base URL and SCIM Bearer Token, then API Connection › Enable; Provisioning tab › Enable provisioning.",
  },
  {
    key: "jumpcloud",
    name: "JumpCloud",
    preset: "custom",
    steps: () => [
      <>
        In the JumpCloud Admin Portal open {b("User Authentication › SSO Applications")} (some consoles:
        Access › SSO Applications), {b("+ Add New Application › Custom Application")}, choose{" "}
        {b("Manage Single Sign-On (SSO) › Configure SSO with SAML")}.
      </>,
      <>
        Set a {b("Display Label")}, {b("Save Application")}, then {b("Configure Application")}.
      </>,
      <>
        On the {b("SSO")} tab paste the Entity ID into {b("SP Entity ID")} (case-sensitive) and the ACS URL
        into {b("ACS URLs")}; choose an {b("IdP Entity ID")}; keep {b("SAMLSubject NameID")} = email and
        RSA-SHA256, and sign the {b("Assertion")}.
      </>,
      <>
        Add {b("User attribute mapping")} for email, firstName and lastName; optionally{" "}
        {b("include group attribute")}.
      </>,
      <>
        Save, then use {b("Copy Metadata URL")} or {b("Export Metadata")}; grant access on the{" "}
        {b("User Groups")} tab.
      </>,
    ],
    bringBack:
      "Metadata URL (Copy Metadata URL) or the exported metadata, or IDP URL + IdP Entity ID + IDP Certificate",
    scimNote:
      "JumpCloud: the app's Identity Management tab: SCIM Version 2.0, Base URL = the SCIM base URL, Token Key = the token, then Test Connection (it creates and deletes a test user and group) and Activate.",
  },
  {
    key: "custom",
    name: "Custom SAML",
    preset: "custom",
    steps: () => [
      <>In your identity provider, create a SAML 2.0 application (service provider).</>,
      <>
        Set its {b("ACS URL / Single sign-on URL")} (HTTP-POST binding) and {b("Audience / SP Entity ID")} to
        the values below, or import the SP metadata URL if it can.
      </>,
      <>
        Have it sign the {b("assertion")} with RSA-SHA256 and send a NameID (e-mail) plus email, firstName,
        lastName and groups attributes.
      </>,
      <>Copy its metadata URL, or its SSO URL, entity ID (issuer) and X.509 signing certificate.</>,
    ],
    bringBack: "Metadata URL or XML, or SSO URL + entity ID + signing certificate",
    scimNote: "Any SCIM 2.0 client: base URL = the SCIM base URL, bearer token = the token.",
  },
];

/** The provider a query names, or undefined. */
export function providerOf(key: unknown): Provider | undefined {
  return PROVIDERS.find((p) => p.key === key);
}

/** The provider a saved preset most likely came from (OneLogin and JumpCloud save "custom"). */
export function providerOfPreset(preset: string): Provider {
  return PROVIDERS.find((p) => p.key === preset) ?? PROVIDERS.find((p) => p.key === "custom")!;
}
