import { promisify } from "node:util";
import xmlenc from "xml-encryption";
import { fingerprintOfBase64 } from "./x509.js";
import { child, children, descendants, NS, parseXml, scanElements, textOf, XmlRefused } from "./xml.js";

/**
 * The checks node-saml does not make (libraries.md §2): DOCTYPE, SHA-1, exactly one assertion
 * anywhere in the document, comments, Destination, and on the *verified* assertion the Issuer,
 * the bearer SubjectConfirmationData Recipient and InResponseTo.
 */

/** Why a login failed: a code for events and reports, a sentence for the person, details for the admin. */
export class SsoFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly status = 403,
  ) {
    super(message);
    this.name = "SsoFailure";
  }
}

// RSA-SHA256 or stronger (and ECDSA with SHA-2); SHA-1 and MD5 are refused (issue 5).
const SIGNATURE_ALGORITHMS = new Set([
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
]);
const DIGEST_ALGORITHMS = new Set([
  "http://www.w3.org/2001/04/xmlenc#sha256",
  "http://www.w3.org/2001/04/xmldsig-more#sha384",
  "http://www.w3.org/2001/04/xmlenc#sha512",
]);

/** What the raw (not yet verified) response says: for routing and for diagnostics only. */
export interface RawFacts {
  inResponseTo: string | null;
  destination: string | null;
  responseIssuer: string | null;
  encrypted: boolean;
  assertionSigned: boolean;
  responseSigned: boolean;
  signatureFingerprints: string[];
  assertion?: {
    issuer: string | null;
    audiences: string[];
    recipients: string[];
    notBefore: string | null;
    notOnOrAfter: string | null;
    nameId: string | null;
  };
}

const decrypt = promisify(xmlenc.decrypt) as (xml: string, o: xmlenc.DecryptOptions) => Promise<string>;

function checkAlgorithms(signatures: Element[]): void {
  // Only signatures' algorithms: RSA-OAEP inside an EncryptedKey legitimately names SHA-1 (MGF1).
  for (const signature of signatures) {
    const info = child(signature, NS.dsig, "SignedInfo");
    const method = info ? child(info, NS.dsig, "SignatureMethod") : undefined;
    const alg = method?.getAttribute("Algorithm") ?? "";
    if (!SIGNATURE_ALGORITHMS.has(alg))
      throw new SsoFailure(
        "WEAK_ALGORITHM",
        "The response was signed with a weak algorithm (RSA-SHA256 or stronger is required).",
        { algorithm: alg },
      );
    for (const ref of info ? children(info, NS.dsig, "Reference") : []) {
      const digest = child(ref, NS.dsig, "DigestMethod")?.getAttribute("Algorithm") ?? "";
      if (!DIGEST_ALGORITHMS.has(digest))
        throw new SsoFailure(
          "WEAK_ALGORITHM",
          "The response used a weak digest algorithm (SHA-256 or stronger is required).",
          { algorithm: digest },
        );
    }
  }
}

function assertionFacts(a: Element): NonNullable<RawFacts["assertion"]> {
  const conditions = child(a, NS.assertion, "Conditions");
  const subject = child(a, NS.assertion, "Subject");
  const confirmations = subject ? children(subject, NS.assertion, "SubjectConfirmation") : [];
  return {
    issuer: textOf(child(a, NS.assertion, "Issuer")) ?? null,
    audiences: conditions
      ? descendants(conditions, NS.assertion, "Audience").map((e) => textOf(e) ?? "")
      : [],
    recipients: confirmations.flatMap((c) =>
      children(c, NS.assertion, "SubjectConfirmationData").map((d) => d.getAttribute("Recipient") ?? ""),
    ),
    notBefore: conditions?.getAttribute("NotBefore") || null,
    notOnOrAfter: conditions?.getAttribute("NotOnOrAfter") || null,
    nameId: subject ? (textOf(child(subject, NS.assertion, "NameID")) ?? null) : null,
  };
}

/**
 * Parse the decoded response: refuse a DOCTYPE (before parsing), malformed XML and anything but
 * a samlp:Response. Its InResponseTo then names the request to load with the tenant.
 */
export function parseResponse(xml: string): Document {
  let doc: Document;
  try {
    doc = parseXml(xml);
  } catch (err) {
    if (err instanceof XmlRefused && err.code === "DOCTYPE")
      throw new SsoFailure(
        "DOCTYPE",
        "The response contained a DOCTYPE declaration, which is never accepted.",
        {},
        400,
      );
    throw new SsoFailure("MALFORMED", "The response is not well-formed XML.", {}, 400);
  }
  const root = doc.documentElement;
  if (root.namespaceURI !== NS.protocol || root.localName !== "Response")
    throw new SsoFailure("NOT_A_RESPONSE", "The identity provider did not send a SAML Response.", {}, 400);
  return doc;
}

/**
 * Inspect the parsed response before node-saml sees it: refuse weak algorithms, comments, and
 * anything but exactly one assertion in the whole document (signature-wrapping copies hide in
 * Extensions, Advice or the Signature's Object). An encrypted assertion is decrypted here too,
 * for the same checks.
 */
export async function inspectResponse(doc: Document, decryptionKey: string): Promise<RawFacts> {
  const root = doc.documentElement;
  const scan = scanElements(root, [
    [NS.dsig, "Signature"],
    [NS.assertion, "Assertion"],
    [NS.assertion, "EncryptedAssertion"],
    [NS.dsig, "X509Certificate"],
  ]);
  const [signatures, assertions, encrypted, certificates] = scan.found;
  if (scan.hasComment)
    throw new SsoFailure(
      "COMMENT",
      "The response contained XML comments, which are never accepted (NameID comment injection).",
    );
  checkAlgorithms(signatures);
  if (
    assertions.length + encrypted.length !== 1 ||
    (assertions[0] && assertions[0].parentNode !== root) ||
    (encrypted[0] && encrypted[0].parentNode !== root)
  )
    throw new SsoFailure("ASSERTION_COUNT", "The response must contain exactly one assertion.", {
      assertions: assertions.length,
      encryptedAssertions: encrypted.length,
    });
  let assertion = assertions[0];
  if (encrypted[0]) {
    let plain: string;
    try {
      plain = await decrypt(encrypted[0].toString(), {
        key: decryptionKey,
        disallowDecryptionWithInsecureAlgorithm: true,
      });
    } catch {
      throw new SsoFailure(
        "DECRYPTION_FAILED",
        "The encrypted assertion could not be decrypted with this tenant's SP encryption key.",
      );
    }
    const inner = parseXml(plain);
    const innerScan = scanElements(inner.documentElement, [
      [NS.dsig, "Signature"],
      [NS.assertion, "Assertion"],
    ]);
    if (innerScan.hasComment)
      throw new SsoFailure("COMMENT", "The assertion contained XML comments, which are never accepted.");
    checkAlgorithms(innerScan.found[0]);
    const inside = innerScan.found[1];
    if (inside.length !== 1 || inside[0] !== inner.documentElement)
      throw new SsoFailure("ASSERTION_COUNT", "The encrypted assertion must contain exactly one assertion.");
    assertion = inside[0];
  }
  const sigCerts = [
    ...certificates,
    ...(assertion && encrypted[0] ? descendants(assertion, NS.dsig, "X509Certificate") : []),
  ];
  return {
    inResponseTo: root.getAttribute("InResponseTo") || null,
    destination: root.getAttribute("Destination") || null,
    responseIssuer: textOf(child(root, NS.assertion, "Issuer")) ?? null,
    encrypted: encrypted.length > 0,
    responseSigned: children(root, NS.dsig, "Signature").length > 0,
    assertionSigned: children(assertion, NS.dsig, "Signature").length > 0,
    signatureFingerprints: [...new Set(sigCerts.map((c) => fingerprintOfBase64(textOf(c) ?? "")))],
    assertion: assertionFacts(assertion),
  };
}

/** Response-level checks on raw facts: Destination = ACS URL, Issuer (when present) = the IdP. */
export function checkResponseEnvelope(facts: RawFacts, acsUrl: string, idpEntityId: string): void {
  if (facts.destination !== acsUrl)
    throw new SsoFailure(
      "DESTINATION_MISMATCH",
      "The response was addressed to a different URL than this workspace's ACS URL.",
      {
        expected: acsUrl,
        received: facts.destination,
      },
    );
  if (facts.responseIssuer !== null && facts.responseIssuer !== idpEntityId)
    throw new SsoFailure(
      "ISSUER_MISMATCH",
      "The response came from a different identity provider than the one configured.",
      {
        expected: idpEntityId,
        received: facts.responseIssuer,
      },
    );
}

/** What the verified assertion says, after its checks. */
export interface VerifiedAssertion {
  id: string;
  nameId: string;
  notOnOrAfter: string | null;
}

/**
 * Checks on the assertion node-saml verified (its signed bytes, never the raw document):
 * Issuer = the configured IdP, a bearer SubjectConfirmationData with Recipient = the ACS URL and
 * InResponseTo = the request this browser started (when there is one).
 */
export function checkVerifiedAssertion(
  xml: string,
  expect: { acsUrl: string; idpEntityId: string; inResponseTo: string | null },
): VerifiedAssertion {
  const a = parseXml(xml).documentElement;
  if (a.namespaceURI !== NS.assertion || a.localName !== "Assertion")
    throw new SsoFailure("INVALID", "The signed content is not an assertion.");
  const issuer = textOf(child(a, NS.assertion, "Issuer")) ?? null;
  if (issuer !== expect.idpEntityId)
    throw new SsoFailure(
      "ISSUER_MISMATCH",
      "The assertion was issued by a different identity provider than the one configured.",
      {
        expected: expect.idpEntityId,
        received: issuer,
      },
    );
  const subject = child(a, NS.assertion, "Subject");
  const bearer = (subject ? children(subject, NS.assertion, "SubjectConfirmation") : []).filter(
    (c) => c.getAttribute("Method") === "urn:oasis:names:tc:SAML:2.0:cm:bearer",
  );
  const data = bearer.flatMap((c) => children(c, NS.assertion, "SubjectConfirmationData"));
  const recipients = data.map((d) => d.getAttribute("Recipient"));
  if (data.length === 0 || recipients.some((r) => r !== expect.acsUrl))
    throw new SsoFailure(
      "RECIPIENT_MISMATCH",
      "The assertion was meant for a different URL than this workspace's ACS URL.",
      {
        expected: expect.acsUrl,
        received: recipients,
      },
    );
  const irts = data.map((d) => d.getAttribute("InResponseTo") || null);
  if (irts.some((r) => r !== expect.inResponseTo && !(r === null && expect.inResponseTo !== null)))
    throw new SsoFailure("UNKNOWN_REQUEST", "The assertion answers a different sign-in request.", {
      expected: expect.inResponseTo,
      received: irts,
    });
  const id = a.getAttribute("ID");
  const nameId = subject ? textOf(child(subject, NS.assertion, "NameID")) : undefined;
  if (!id || !nameId) throw new SsoFailure("INVALID", "The assertion has no ID or no NameID.");
  const conditions = child(a, NS.assertion, "Conditions");
  return {
    id,
    nameId,
    notOnOrAfter: conditions?.getAttribute("NotOnOrAfter") || data[0].getAttribute("NotOnOrAfter") || null,
  };
}
