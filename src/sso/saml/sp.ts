import {
  type CacheProvider,
  generateServiceProviderMetadata,
  SAML,
  type SamlConfig,
  ValidateInResponseTo,
} from "@node-saml/node-saml";
import type { SamlConnection, SpKeys } from "./connection-store.js";
import { generateKeyAndCertificateAsync } from "./x509.js";

/** Roster's SP-side URLs for a tenant. */
export interface SpUrls {
  entityId: string;
  acsUrl: string;
  metadataUrl: string;
  loginUrl: string;
}

/** The SP entity ID, ACS URL and metadata URL the admin gives the IdP. */
export function spUrls(publicUrl: string, slug: string, conn?: { id: string; isDefault: boolean }): SpUrls {
  // The default connection keeps the paths IdPs were given before tenants had several.
  const base = `${publicUrl}/sso/${encodeURIComponent(slug)}${conn && !conn.isDefault ? `/${conn.id}` : ""}`;
  return {
    entityId: base,
    acsUrl: `${base}/acs`,
    metadataUrl: `${base}/metadata`,
    loginUrl: `${base}/login`,
  };
}

/** Fresh SP signing and encryption key pairs with self-signed certificates (rotation = call again). */
export async function generateSpKeys(slug: string): Promise<SpKeys> {
  const [signing, encryption] = await Promise.all([
    generateKeyAndCertificateAsync({ commonName: `Roster SP ${slug} signing` }),
    generateKeyAndCertificateAsync({ commonName: `Roster SP ${slug} encryption` }),
  ]);
  return {
    signingKey: signing.privateKey,
    signingCert: signing.certificate,
    encryptionKey: encryption.privateKey,
    encryptionCert: encryption.certificate,
  };
}

/** SP metadata XML: entity ID, ACS (HTTP-POST), signing and encryption certificates. */
export function spMetadataXml(conn: SamlConnection, urls: SpUrls): string {
  return generateServiceProviderMetadata({
    issuer: urls.entityId,
    callbackUrl: urls.acsUrl,
    identifierFormat: null,
    wantAssertionsSigned: true,
    privateKey: conn.sp.signingKey,
    publicCerts: conn.sp.signingCert,
    signatureAlgorithm: "sha256",
    decryptionPvk: conn.sp.encryptionKey,
    decryptionCert: conn.sp.encryptionCert,
  });
}

/** How long a started login may take before its response is refused. */
export const REQUEST_TTL_MS = 10 * 60_000;
/** NotBefore/NotOnOrAfter tolerance. */
export const CLOCK_SKEW_MS = 2 * 60_000;

/**
 * A node-saml instance that builds one tenant's AuthnRequests (HTTP-Redirect binding, signed
 * with RSA-SHA256 when the connection asks for it); `cacheProvider.saveAsync` stores each
 * request id for the ACS to check. Responses are not validated here: acs-checks.ts and
 * signature.ts do that, on one parse, with the checks node-saml does not make.
 */
export function samlFor(conn: SamlConnection, urls: SpUrls, cacheProvider: CacheProvider): SAML {
  const config: SamlConfig = {
    idpCert: conn.certificates,
    issuer: urls.entityId,
    audience: urls.entityId,
    callbackUrl: urls.acsUrl,
    entryPoint: conn.ssoUrl,
    idpIssuer: conn.idpEntityId,
    signatureAlgorithm: "sha256",
    digestAlgorithm: "sha256",
    validateInResponseTo: ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: REQUEST_TTL_MS,
    cacheProvider,
    identifierFormat: null,
    // Entra/Okta users signing in with MFA or passwordless fail an exact PasswordProtectedTransport request.
    disableRequestedAuthnContext: true,
    authnRequestBinding: "HTTP-Redirect",
    ...(conn.settings.signAuthnRequests
      ? { privateKey: conn.sp.signingKey, publicCert: conn.sp.signingCert }
      : {}),
  };
  return new SAML(config);
}
