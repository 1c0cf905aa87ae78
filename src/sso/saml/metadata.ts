import { fieldError } from "./certificates.js";
import { children, descendants, METADATA_LIMITS, NS, parseXml, textOf, XmlRefused } from "./xml.js";

/** What an IdP's metadata tells Roster. */
export interface IdpMetadata {
  entityId: string;
  ssoUrl: string;
  certificates: string[];
}

const REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/**
 * Read the entity ID, SSO URL (HTTP-Redirect binding preferred, Roster sends AuthnRequests that
 * way) and signing certificates from IdP metadata XML (an EntityDescriptor, or the first one
 * with an IDPSSODescriptor inside an EntitiesDescriptor). Errors name the `field`.
 */
export function parseIdpMetadata(xml: string, field = "metadataXml"): IdpMetadata {
  let doc: Document;
  try {
    doc = parseXml(xml, METADATA_LIMITS);
  } catch (err) {
    throw fieldError(field, err instanceof XmlRefused ? err.message : "is not XML");
  }
  const entity = descendants(doc, NS.metadata, "EntityDescriptor").find(
    (e) => children(e, NS.metadata, "IDPSSODescriptor").length > 0,
  );
  if (!entity) throw fieldError(field, "has no EntityDescriptor with an IDPSSODescriptor");
  const entityId = entity.getAttribute("entityID")?.trim();
  if (!entityId) throw fieldError(field, "EntityDescriptor has no entityID");
  const idp = children(entity, NS.metadata, "IDPSSODescriptor")[0];
  const services = children(idp, NS.metadata, "SingleSignOnService");
  const service =
    services.find((s) => s.getAttribute("Binding") === REDIRECT) ??
    services.find((s) => s.getAttribute("Binding") === POST);
  const ssoUrl = service?.getAttribute("Location")?.trim();
  if (!ssoUrl)
    throw fieldError(field, "has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding");
  const certificates = children(idp, NS.metadata, "KeyDescriptor")
    .filter((k) => {
      const use = k.getAttribute("use");
      return !use || use === "signing";
    })
    .flatMap((k) => descendants(k, NS.dsig, "X509Certificate").map((c) => textOf(c) ?? ""))
    .filter((c) => c !== "");
  if (certificates.length === 0)
    throw fieldError(field, 'has no signing certificate (KeyDescriptor use="signing")');
  return { entityId, ssoUrl, certificates: [...new Set(certificates)] };
}
