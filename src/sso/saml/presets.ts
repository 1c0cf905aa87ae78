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
  onelogin: {
    key: "onelogin",
    name: "OneLogin",
    // OneLogin sends only the parameters the admin adds (Parameters tab, "Include in SAML
    // assertion"); the names are the admin's choice, so the preset names the ones to use.
    attributeMapping: { email: "email", givenName: "firstName", familyName: "lastName", groups: "groups" },
    instructions: {
      fromIdp: {
        metadataXml: "Applications → <app> → More Actions → SAML Metadata (download, paste the XML)",
        ssoUrl: "SSO tab → SAML 2.0 Endpoint (HTTP)",
        idpEntityId: "SSO tab → Issuer URL",
        certificates:
          "SSO tab → X.509 Certificate → View Details (PEM); set SAML Signature Algorithm to SHA-256",
      },
      toIdp: {
        spEntityId: "Configuration tab → Audience (EntityID)",
        acsUrl:
          "Configuration tab → Recipient and ACS (Consumer) URL; ACS (Consumer) URL Validator takes a regex: the ACS URL with dots and slashes escaped",
        nameId: "Configuration tab → SAML nameID format: Email",
        attributes:
          "Parameters tab → add email, firstName, lastName (Include in SAML assertion) and groups for group membership",
        app: 'Applications → Add App → "SAML Custom Connector (Advanced)"',
      },
    },
  },
  jumpcloud: {
    key: "jumpcloud",
    name: "JumpCloud",
    // JumpCloud's NameID defaults to the user's email; attributes and the group attribute are
    // named by the admin (its default group attribute name is not documented: name it).
    attributeMapping: { email: "email", givenName: "firstName", familyName: "lastName", groups: "groups" },
    instructions: {
      fromIdp: {
        metadataXml: "SSO Applications → <app> → SSO tab → Export Metadata (paste the XML)",
        metadataUrl: "SSO tab → Copy Metadata URL",
        ssoUrl: "SSO tab → IDP URL (https://sso.jumpcloud.com/saml2/<name>; fixed once the app is created)",
        idpEntityId: "SSO tab → IdP Entity ID",
        certificates: "SSO tab → IDP Certificate (download)",
      },
      toIdp: {
        spEntityId: "SSO tab → SP Entity ID (case-sensitive)",
        acsUrl: "SSO tab → ACS URLs",
        nameId: "SAMLSubject NameID: email (the default); Signature Algorithm RSA-SHA256",
        attributes:
          "User attribute mapping: email, firstName, lastName; Group attributes → include group attribute, named groups",
        app: "User Authentication → SSO Applications → + Add New Application → Custom Application → Configure SSO with SAML",
        access: "User Groups tab: the groups whose members may sign in",
      },
    },
  },
};

/** The preset keys the admin API accepts. */
export const PRESET_KEYS = Object.keys(PRESETS) as [string, ...string[]];
