/**
 * IdP presets: what each IdP fixes (attribute names, NameID, signing habits) and which values the
 * admin copies from where. The core never asks "is this Entra?": a preset only fills defaults.
 */

/** Attribute mapping: which assertion attribute carries each profile field. */
export interface AttributeMapping {
  email?: string;
  givenName?: string;
  familyName?: string;
  displayName?: string;
  groups?: string;
  /** An immutable user id (e.g. Entra's objectidentifier), matched against the directory. */
  id?: string;
}

/** A preset. */
export interface Preset {
  key: string;
  name: string;
  attributeMapping: AttributeMapping;
  /** Where the admin finds each value Roster needs, and where Roster's values go. */
  instructions: { fromIdp: Record<string, string>; toIdp: Record<string, string> };
}

const CLAIMS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";

/** Presets by key. */
export const PRESETS: Record<string, Preset> = {
  custom: {
    key: "custom",
    name: "Custom SAML 2.0",
    attributeMapping: { email: "email", givenName: "firstName", familyName: "lastName", groups: "groups" },
    instructions: {
      fromIdp: {
        metadataUrl: "The IdP's SAML metadata URL, or paste its metadata XML",
        ssoUrl: "SSO URL / SingleSignOnService Location (HTTP-Redirect)",
        idpEntityId: "IdP entity ID / Issuer",
        certificates: "The IdP's X.509 signing certificate (PEM)",
      },
      toIdp: {
        spEntityId: "Audience / SP Entity ID",
        acsUrl: "ACS URL / Single sign-on URL (HTTP-POST)",
        spMetadataUrl: "SP metadata URL, if the IdP can import it",
      },
    },
  },
  entra: {
    key: "entra",
    name: "Microsoft Entra ID",
    attributeMapping: {
      email: `${CLAIMS}/emailaddress`,
      givenName: `${CLAIMS}/givenname`,
      familyName: `${CLAIMS}/surname`,
      displayName: "http://schemas.microsoft.com/identity/claims/displayname",
      groups: "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
      id: "http://schemas.microsoft.com/identity/claims/objectidentifier",
    },
    instructions: {
      fromIdp: {
        metadataUrl:
          "Enterprise application → Single sign-on → SAML Certificates → App Federation Metadata Url",
        ssoUrl: "Set up <app> → Login URL",
        idpEntityId: "Set up <app> → Microsoft Entra Identifier",
        certificates: "SAML Certificates → Certificate (Base64)",
      },
      toIdp: {
        spEntityId: "Basic SAML Configuration → Identifier (Entity ID)",
        acsUrl: "Basic SAML Configuration → Reply URL (Assertion Consumer Service URL)",
        spMetadataUrl: "Upload metadata file (download it from the SP metadata URL)",
      },
    },
  },
  google: {
    key: "google",
    name: "Google Workspace",
    attributeMapping: { email: "email", givenName: "firstName", familyName: "lastName", groups: "groups" },
    instructions: {
      fromIdp: {
        metadataXml: "Admin console → Apps → Web and mobile apps → Add custom SAML app → Download metadata",
        ssoUrl: "Google Identity Provider details → SSO URL",
        idpEntityId: "Google Identity Provider details → Entity ID",
        certificates: "Google Identity Provider details → Certificate",
      },
      toIdp: {
        acsUrl: "Service provider details → ACS URL",
        spEntityId: "Service provider details → Entity ID",
        nameId: "Name ID format EMAIL, Name ID Basic Information > Primary email",
        attributes: "Attribute mapping: email, firstName, lastName; Group membership → groups",
      },
    },
  },
  okta: {
    key: "okta",
    name: "Okta",
    attributeMapping: { email: "email", givenName: "firstName", familyName: "lastName", groups: "groups" },
    instructions: {
      fromIdp: {
        metadataUrl: "Applications → <app> → Sign On → Metadata URL",
        ssoUrl: "View SAML setup instructions → Identity Provider Single Sign-On URL",
        idpEntityId: "View SAML setup instructions → Identity Provider Issuer",
        certificates: "View SAML setup instructions → X.509 Certificate",
      },
      toIdp: {
        acsUrl: "SAML Settings → Single sign-on URL (check 'Use this for Recipient URL and Destination URL')",
        spEntityId: "SAML Settings → Audience URI (SP Entity ID)",
        attributes: "Attribute Statements: email, firstName, lastName; Group Attribute Statements: groups",
      },
    },
  },
};

/** The preset keys the admin API accepts. */
export const PRESET_KEYS = Object.keys(PRESETS) as [string, ...string[]];
