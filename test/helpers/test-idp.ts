/**
 * A SAML 2.0 identity provider for tests. It makes its own RSA keys and self-signed certificate
 * at test time and signs responses with xml-crypto directly (not node-saml), so Roster's
 * validation is checked against an independent signer. Options produce the malformed and
 * malicious variants the security tests need.
 */
import { randomBytes } from "node:crypto";
import { SAML, ValidateInResponseTo } from "@node-saml/node-saml";
import { promisify } from "node:util";
import { SignedXml } from "xml-crypto";
import xmlenc from "xml-encryption";
import { generateKeyAndCertificate, type KeyAndCertificate, pemBody } from "../../src/sso/saml/x509.js";

const NS_P = "urn:oasis:names:tc:SAML:2.0:protocol";
const NS_A = "urn:oasis:names:tc:SAML:2.0:assertion";
const RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256";
const SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1";
const EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/** XML-escape text and attribute values. */
export const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** What a response should look like. Defaults make a valid, assertion-signed response. */
export interface ResponseOptions {
  acsUrl: string;
  audience: string;
  nameId: string;
  inResponseTo?: string;
  attributes?: Record<string, string | string[]>;
  /** "assertion" (Entra, Google), "both" (Okta), "response" (response only), "none". */
  sign?: "assertion" | "response" | "both" | "none";
  /** Sign with this key/cert instead of the IdP's own. */
  signer?: KeyAndCertificate;
  sha1?: boolean;
  issuer?: string;
  assertionIssuer?: string;
  destination?: string | null;
  recipient?: string;
  subjectInResponseTo?: string;
  now?: Date;
  notBefore?: Date;
  notOnOrAfter?: Date;
  assertionId?: string;
  /** Raw XML for the NameID's content (for comment-injection tests). */
  nameIdXml?: string;
  /** Encrypt the assertion for this SP encryption certificate. */
  encryptFor?: string;
  /** The response's Status (default Success, no message): a refusal carries the IdP's words. */
  status?: { code: string; message?: string };
}

/** The test identity provider. */
export class TestIdp {
  readonly keys: KeyAndCertificate;

  constructor(
    readonly entityId = `https://idp.test/${randomBytes(4).toString("hex")}`,
    readonly ssoUrl = "https://idp.test/sso/saml",
    keys?: KeyAndCertificate,
  ) {
    this.keys = keys ?? generateKeyAndCertificate({ commonName: "Test IdP" });
  }

  /** The IdP's metadata XML. */
  metadataXml(): string {
    return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${esc(this.entityId)}">
  <md:IDPSSODescriptor protocolSupportEnumeration="${NS_P}">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${pemBody(this.keys.certificate)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${esc(this.ssoUrl)}/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${esc(this.ssoUrl)}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
  }

  /** The unsigned assertion XML. */
  assertionXml(o: ResponseOptions): string {
    const now = o.now ?? new Date();
    const notBefore = (o.notBefore ?? new Date(now.getTime() - 30_000)).toISOString();
    const notOnOrAfter = (o.notOnOrAfter ?? new Date(now.getTime() + 5 * 60_000)).toISOString();
    const id = o.assertionId ?? `_a${randomBytes(12).toString("hex")}`;
    const irt = o.subjectInResponseTo ?? o.inResponseTo;
    const attrs = Object.entries(o.attributes ?? {})
      .map(
        ([name, v]) =>
          `<saml:Attribute Name="${esc(name)}">${(Array.isArray(v) ? v : [v])
            .map((x) => `<saml:AttributeValue>${esc(x)}</saml:AttributeValue>`)
            .join("")}</saml:Attribute>`,
      )
      .join("");
    return `<saml:Assertion xmlns:saml="${NS_A}" ID="${id}" Version="2.0" IssueInstant="${now.toISOString()}"><saml:Issuer>${esc(o.assertionIssuer ?? o.issuer ?? this.entityId)}</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${o.nameIdXml ?? esc(o.nameId)}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData${irt ? ` InResponseTo="${irt}"` : ""} NotOnOrAfter="${notOnOrAfter}" Recipient="${esc(o.recipient ?? o.acsUrl)}"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="${notBefore}" NotOnOrAfter="${notOnOrAfter}"><saml:AudienceRestriction><saml:Audience>${esc(o.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="${id}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>${attrs ? `<saml:AttributeStatement>${attrs}</saml:AttributeStatement>` : ""}</saml:Assertion>`;
  }

  /** A response around the given assertion XML (signed or not); unsigned response element. */
  wrap(o: ResponseOptions, assertion: string): string {
    const now = o.now ?? new Date();
    const dest = o.destination === null ? "" : ` Destination="${esc(o.destination ?? o.acsUrl)}"`;
    const irt = o.inResponseTo ? ` InResponseTo="${o.inResponseTo}"` : "";
    const code = o.status?.code ?? "urn:oasis:names:tc:SAML:2.0:status:Success";
    const message =
      o.status?.message === undefined
        ? ""
        : `<samlp:StatusMessage>${esc(o.status.message)}</samlp:StatusMessage>`;
    return `<samlp:Response xmlns:samlp="${NS_P}" xmlns:saml="${NS_A}" ID="_r${randomBytes(12).toString("hex")}" Version="2.0" IssueInstant="${now.toISOString()}"${dest}${irt}><saml:Issuer>${esc(o.issuer ?? this.entityId)}</saml:Issuer><samlp:Status><samlp:StatusCode Value="${esc(code)}"/>${message}</samlp:Status>${assertion}</samlp:Response>`;
  }

  /** Sign the element matched by `localName` (Assertion or Response) with an enveloped signature. */
  sign(
    xml: string,
    localName: "Assertion" | "Response",
    o: Pick<ResponseOptions, "signer" | "sha1"> = {},
  ): string {
    const keys = o.signer ?? this.keys;
    const sig = new SignedXml({
      privateKey: keys.privateKey,
      publicCert: keys.certificate,
      signatureAlgorithm: o.sha1 ? RSA_SHA1 : RSA_SHA256,
      canonicalizationAlgorithm: EXC_C14N,
    });
    sig.addReference({
      xpath: `//*[local-name(.)='${localName}']`,
      transforms: [ENVELOPED, EXC_C14N],
      digestAlgorithm: o.sha1 ? SHA1 : SHA256,
    });
    sig.computeSignature(xml, {
      prefix: "ds",
      location: { reference: `//*[local-name(.)='${localName}']/*[local-name(.)='Issuer']`, action: "after" },
    });
    return sig.getSignedXml();
  }

  /** A complete response XML per the options. */
  async responseXml(o: ResponseOptions): Promise<string> {
    const mode = o.sign ?? "assertion";
    let assertion = this.assertionXml(o);
    if (mode === "assertion" || mode === "both") assertion = this.sign(assertion, "Assertion", o);
    if (o.encryptFor) assertion = await encryptAssertion(assertion, o.encryptFor);
    let xml = this.wrap(o, assertion);
    if (mode === "response" || mode === "both") xml = this.sign(xml, "Response", o);
    return xml;
  }

  /** The base64 SAMLResponse form value. */
  async response(o: ResponseOptions): Promise<string> {
    return encode(await this.responseXml(o));
  }
}

/** Base64 of an XML string (what the browser POSTs). */
export const encode = (xml: string) => Buffer.from(xml, "utf8").toString("base64");

async function encryptAssertion(assertion: string, certificate: string): Promise<string> {
  const encrypt = promisify(xmlenc.encrypt) as (c: string, o: xmlenc.EncryptOptions) => Promise<string>;
  const data = await encrypt(assertion, {
    rsa_pub: certificate,
    pem: certificate,
    encryptionAlgorithm: "http://www.w3.org/2009/xmlenc11#aes256-gcm",
    keyEncryptionAlgorithm: "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
  });
  return `<saml:EncryptedAssertion>${data}</saml:EncryptedAssertion>`;
}

/**
 * node-saml's own validator, configured strictly for one SP and this IdP: the reference the
 * signature tests compare Roster with, and the bare rate the SAML benchmark measures.
 */
export function nodeSamlValidator(idp: TestIdp, sp: { acsUrl: string; entityId: string }): SAML {
  return new SAML({
    idpCert: idp.keys.certificate,
    issuer: sp.entityId,
    audience: sp.entityId,
    callbackUrl: sp.acsUrl,
    idpIssuer: idp.entityId,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    acceptedClockSkewMs: 120_000,
    validateInResponseTo: ValidateInResponseTo.never,
    signatureAlgorithm: "sha256",
  });
}
