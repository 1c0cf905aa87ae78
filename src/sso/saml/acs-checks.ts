import { promisify } from "node:util";
import xmlenc from "xml-encryption";
import { truncate, truncateOrNull } from "../bounded.js";
import { SsoFailure } from "../failure.js";
import { describeCertificate } from "./certificates.js";
import { type SignatureProblem, verifyEnvelopedSignature } from "./signature.js";
import { fingerprintOfBase64 } from "./x509.js";
import {
  child,
  children,
  descendants,
  NS,
  nodesUnder,
  parseXml,
  RESPONSE_LIMITS,
  scanElements,
  textOf,
  XmlRefused,
} from "./xml.js";

/**
 * Every check a SAML response passes before anyone is logged in, on one parse of it: DOCTYPE,
 * comments, SHA-1 and other weak algorithms, exactly one assertion anywhere in the document,
 * signatures only where SAML puts them, IDs unique, Status, Destination and Issuer; then the
 * signatures (signature.ts: the assertion's always, the response's when present, only with the
 * configured certificates); then assertion-checks.ts, on the verified assertion element itself.
 */

export { SsoFailure } from "../failure.js";

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

/** Parse response XML (or a decrypted assertion): every refusal an SsoFailure (400). */
function parseSamlXml(xml: string, what: string): Document {
  try {
    return parseXml(xml, RESPONSE_LIMITS);
  } catch (err) {
    if (!(err instanceof XmlRefused)) throw err;
    if (err.code === "DOCTYPE")
      throw new SsoFailure(
        "DOCTYPE",
        `${what} contained a DOCTYPE declaration, which is never accepted.`,
        {},
        400,
      );
    if (err.code === "TOO_COMPLEX")
      throw new SsoFailure(
        "XML_TOO_COMPLEX",
        `${what} is larger or more deeply nested than any identity provider sends: refused.`,
        { problem: err.message, limits: RESPONSE_LIMITS },
        400,
      );
    throw new SsoFailure("MALFORMED", `${what} is not well-formed XML.`, {}, 400);
  }
}

/**
 * Parse the decoded response: refuse a DOCTYPE and anything deeper or bigger than
 * RESPONSE_LIMITS (both before parsing), malformed XML and anything but a samlp:Response. Its
 * InResponseTo then names the request to load with the tenant.
 */
export function parseResponse(xml: string): Document {
  const doc = parseSamlXml(xml, "The response");
  const root = doc.documentElement;
  if (root.namespaceURI !== NS.protocol || root.localName !== "Response")
    throw new SsoFailure("NOT_A_RESPONSE", "The identity provider did not send a SAML Response.", {}, 400);
  return doc;
}

const SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success";

/** The response, parsed and inspected: its facts and the elements the signature checks need. */
export interface Inspected {
  facts: RawFacts;
  root: Element;
  /** The assertion: in the response, or the decrypted one in a document of its own. */
  assertion: Element;
}

/**
 * Only elements, text and CDATA inside the response (and no attribute C14N leaves unsigned). A
 * comment or a processing instruction splits a signed text: the readers here skip it
 * (textContent) while canonicalization keeps or drops it differently (xml-crypto renders a PI's
 * data as text), so `victim@acme.test<?x .evil.test?>` was signed as one value and read as
 * another.
 */
function refuseForeignNodes(node: Node | null): void {
  if (!node) return;
  if (node.nodeType === 8)
    throw new SsoFailure(
      "COMMENT",
      "The response contained XML comments, which are never accepted (NameID comment injection).",
    );
  throw new SsoFailure(
    "MARKUP_NOT_ALLOWED",
    "The response contained a processing instruction or other markup that is never accepted inside a response.",
    { nodeType: node.nodeType, name: node.nodeName },
  );
}

/** The IdP's status; anything but Success is refused with what the IdP said. */
function checkStatus(root: Element): void {
  const status = child(root, NS.protocol, "Status");
  const code = status ? child(status, NS.protocol, "StatusCode") : undefined;
  const value = code?.getAttribute("Value") ?? "";
  if (value === SUCCESS) return;
  // Unsigned, anyone's text: cut before it reaches the page, the logs or a stored record.
  const sub = truncateOrNull(
    code ? child(code, NS.protocol, "StatusCode")?.getAttribute("Value") : undefined,
  );
  const message = truncateOrNull(status ? textOf(child(status, NS.protocol, "StatusMessage")) : undefined);
  const short = (v: string | null | undefined) => v?.replace(/^.*:/, "") ?? "";
  throw new SsoFailure(
    "IDP_STATUS",
    `The identity provider did not sign you in (${[truncate(short(value)) || "no status", short(sub), message].filter(Boolean).join(", ")}).`,
    { status: truncateOrNull(value) || null, subStatus: sub, statusMessage: message },
  );
}

/**
 * Signatures only where SAML puts them: at most one directly in the response and at most one
 * directly in the assertion. One anywhere else (Extensions, Advice, an Object, nested in
 * another signature) is how signature-wrapping carries a signed copy: refused.
 */
function checkSignaturePlaces(signatures: Element[], root: Element | null, assertion: Element | null): void {
  const seen = new Set<Node>();
  for (const s of signatures) {
    const parent = s.parentNode;
    if (!parent || (parent !== root && parent !== assertion) || seen.has(parent))
      throw new SsoFailure(
        "SIGNATURE_INVALID",
        "The response carried a signature in a place SAML does not put one (signature wrapping).",
        { misplacedSignature: true },
      );
    seen.add(parent);
  }
}

/**
 * Parse-level checks of the decoded response: refuse comments, weak algorithms, a non-Success
 * status, anything but exactly one assertion in the whole document (signature-wrapping copies
 * hide in Extensions, Advice or the Signature's Object) and misplaced signatures. An encrypted
 * assertion is decrypted here too, for the same checks.
 */
export async function inspectResponse(doc: Document, decryptionKey: string): Promise<Inspected> {
  const root = doc.documentElement;
  const scan = scanElements(root, [
    [NS.dsig, "Signature"],
    [NS.assertion, "Assertion"],
    [NS.assertion, "EncryptedAssertion"],
    [NS.dsig, "X509Certificate"],
  ]);
  const [signatures, assertions, encrypted, certificates] = scan.found;
  refuseForeignNodes(scan.foreign);
  checkAlgorithms(signatures);
  checkStatus(root);
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
  checkSignaturePlaces(signatures, root, assertion ?? null);
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
    const inner = parseSamlXml(plain, "The encrypted assertion");
    const innerScan = scanElements(inner.documentElement, [
      [NS.dsig, "Signature"],
      [NS.assertion, "Assertion"],
    ]);
    refuseForeignNodes(innerScan.foreign);
    checkAlgorithms(innerScan.found[0]);
    const inside = innerScan.found[1];
    if (inside.length !== 1 || inside[0] !== inner.documentElement)
      throw new SsoFailure("ASSERTION_COUNT", "The encrypted assertion must contain exactly one assertion.");
    assertion = inside[0];
    checkSignaturePlaces(innerScan.found[0], null, assertion);
  }
  const sigCerts = [
    ...certificates,
    ...(encrypted[0] ? descendants(assertion, NS.dsig, "X509Certificate") : []),
  ];
  const facts: RawFacts = {
    inResponseTo: root.getAttribute("InResponseTo") || null,
    destination: root.getAttribute("Destination") || null,
    responseIssuer: textOf(child(root, NS.assertion, "Issuer")) ?? null,
    encrypted: encrypted.length > 0,
    responseSigned: children(root, NS.dsig, "Signature").length > 0,
    assertionSigned: children(assertion, NS.dsig, "Signature").length > 0,
    signatureFingerprints: [...new Set(sigCerts.map((c) => fingerprintOfBase64(textOf(c) ?? "")))],
    assertion: assertionFacts(assertion),
  };
  return { facts, root, assertion };
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

/** What a login is checked against. */
export interface Expected {
  acsUrl: string;
  entityId: string;
  idpEntityId: string;
  /** Every configured certificate (for diagnostics); `liveCertificates` are the ones accepted. */
  certificates: string[];
  liveCertificates: string[];
  inResponseTo: string | null;
  now: Date;
}

/** A signature that did not verify, with both sides of it for the admin. */
function signatureFailure(
  facts: RawFacts,
  exp: Expected,
  problem: SignatureProblem,
  detail: string,
): SsoFailure {
  const expected = exp.certificates.map((pem) => describeCertificate(pem, exp.now));
  const received = facts.signatureFingerprints;
  const details = {
    expectedFingerprints: expected.map((c) => c.fingerprintSha256),
    receivedFingerprints: received,
    assertionSigned: facts.assertionSigned,
    responseSigned: facts.responseSigned,
    problem: detail,
  };
  const expired = expected.find((c) => received.includes(c.fingerprintSha256) && c.daysUntilExpiry < 0);
  if (problem === "KEY" && expired)
    return new SsoFailure(
      "CERTIFICATE_EXPIRED",
      `The identity provider's certificate expired on ${expired.notAfter}.`,
      { ...details, notAfter: expired.notAfter },
    );
  return new SsoFailure(
    "SIGNATURE_INVALID",
    problem === "UNSUPPORTED"
      ? "The response's signature has a form that is not accepted (one enveloped, exclusive-C14N signature per signed element is required)."
      : "The response was not signed by a certificate configured for this workspace (or its content was changed).",
    details,
  );
}

/** IDs unique in the document: a second element with a signed element's ID is a wrapping attempt. */
function checkUniqueId(doc: Document, id: string | null): void {
  let count = 0;
  const root = doc.documentElement;
  for (const e of [root, ...nodesUnder(root)])
    if (e.nodeType === 1)
      for (const name of ["ID", "Id", "id"]) if ((e as Element).getAttribute(name) === id) count++;
  if (!id || count !== 1)
    throw new SsoFailure(
      "SIGNATURE_INVALID",
      "A signed element's ID is missing or not unique (signature wrapping).",
      {
        id,
        elementsWithThatId: count,
      },
    );
}

/**
 * The signatures: the assertion must be signed (a response-only signature is not enough), and a
 * response signature, when there is one, must verify too. Only the live configured certificates.
 */
export function checkSignatures(x: Inspected, exp: Expected): void {
  const { facts } = x;
  const assertionSignature = children(x.assertion, NS.dsig, "Signature")[0];
  if (!assertionSignature)
    throw new SsoFailure(
      "SIGNATURE_MISSING",
      facts.responseSigned
        ? "The assertion itself was not signed (a signature on the response only is not enough): set the IdP to sign the assertion."
        : "The response was not signed.",
      { assertionSigned: false, responseSigned: facts.responseSigned },
    );
  const signed: Array<[Element, Element]> = [[x.assertion, assertionSignature]];
  const responseSignature = children(x.root, NS.dsig, "Signature")[0];
  if (responseSignature) signed.push([x.root, responseSignature]);
  for (const [target, signature] of signed) {
    checkUniqueId(target.ownerDocument, target.getAttribute("ID"));
    const check = verifyEnvelopedSignature(target, signature, exp.liveCertificates);
    if (!check.ok) throw signatureFailure(facts, exp, check.problem, check.detail);
  }
}
