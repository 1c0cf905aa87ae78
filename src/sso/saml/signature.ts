import { createHash, createPublicKey, type KeyObject, timingSafeEqual, verify } from "node:crypto";
import { ExclusiveCanonicalization } from "xml-crypto";
import { child, children, NS, textContent } from "./xml.js";

/**
 * XML-DSig verification of one enveloped signature, on the document Roster parsed once.
 *
 * node-saml's validatePostResponseAsync re-parses the whole response for every certificate
 * and signature and finds the signed element with whole-document XPath scans, three to seven
 * times the CPU of everything else a login does. This checks the one profile SAML identity
 * providers use (Entra ID, Okta, Google, OneLogin, JumpCloud, ADFS, Shibboleth) and refuses any
 * other shape:
 * - exactly one `SignedInfo` with exclusive C14N, and exactly one `Reference`, whose URI is
 *   `#` + the ID of the element the signature sits in (the caller has checked that the ID
 *   names no other element);
 * - transforms exactly enveloped-signature then exclusive C14N (optionally with an
 *   InclusiveNamespaces prefix list);
 * - SHA-256/384/512 digests, RSA or ECDSA with SHA-256/384/512 (the caller refuses weaker
 *   names first, with a clearer message);
 * - only the configured certificates: KeyInfo is never trusted.
 * Canonicalization is xml-crypto's. The caller then reads the very element object that was
 * digested, so what is checked is exactly what was signed.
 */

const EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const XMLNS = "http://www.w3.org/2000/xmlns/";

const DIGESTS: Record<string, string> = {
  "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
  "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
  "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
};
const SIGNATURES: Record<string, { hash: string; keyType: "rsa" | "ec" }> = {
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": { hash: "sha256", keyType: "rsa" },
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": { hash: "sha384", keyType: "rsa" },
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": { hash: "sha512", keyType: "rsa" },
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": { hash: "sha256", keyType: "ec" },
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": { hash: "sha384", keyType: "ec" },
  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": { hash: "sha512", keyType: "ec" },
};

/** Why a signature did not verify: its shape, its digest (content changed) or its value (key). */
export type SignatureProblem = "UNSUPPORTED" | "DIGEST" | "KEY";

export type SignatureCheck = { ok: true } | { ok: false; problem: SignatureProblem; detail: string };

const refuse = (problem: SignatureProblem, detail: string): SignatureCheck => ({
  ok: false,
  problem,
  detail,
});

const keys = new Map<string, KeyObject>();
/** Public keys of configured certificates, parsed once per process (bounded). */
function publicKey(pem: string): KeyObject {
  let key = keys.get(pem);
  if (!key) {
    if (keys.size >= 1000) keys.clear();
    key = createPublicKey(pem);
    keys.set(pem, key);
  }
  return key;
}

const algorithm = (e: Element | undefined) => e?.getAttribute("Algorithm") ?? "";

/** The InclusiveNamespaces PrefixList of a C14N method or transform, if any. */
function prefixList(method: Element): string[] {
  const inclusive = child(method, EXC_C14N, "InclusiveNamespaces");
  return (inclusive?.getAttribute("PrefixList") ?? "").split(/\s+/).filter(Boolean);
}

/**
 * Prefixed namespace declarations in scope above an element and not redeclared on it, nearest
 * first: what an InclusiveNamespaces prefix list may pull onto the canonical form's apex.
 */
function ancestorNamespaces(e: Element): Array<{ prefix: string; namespaceURI: string }> {
  const out: Array<{ prefix: string; namespaceURI: string }> = [];
  const seen = new Set<string>();
  for (let i = 0; i < e.attributes.length; i++)
    if (e.attributes[i].prefix === "xmlns") seen.add(e.attributes[i].localName);
  for (let p = e.parentNode; p && p.nodeType === 1; p = p.parentNode) {
    const attrs = (p as Element).attributes;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs[i];
      if (a.namespaceURI !== XMLNS || a.prefix !== "xmlns" || seen.has(a.localName)) continue;
      seen.add(a.localName);
      out.push({ prefix: a.localName, namespaceURI: a.value });
    }
  }
  return out;
}

/** Exclusive C14N of an element (a clone when something must be left out or added). */
function canonical(e: Element, prefixes: string[], without?: Element): string {
  let node = e;
  if (without || prefixes.length > 0) {
    node = e.cloneNode(true) as Element;
    if (without) {
      const index = Array.prototype.indexOf.call(e.childNodes, without);
      node.removeChild(node.childNodes[index]);
    }
  }
  return new ExclusiveCanonicalization().process(node, {
    inclusiveNamespacesPrefixList: prefixes,
    ancestorNamespaces: prefixes.length > 0 ? ancestorNamespaces(e) : [],
  });
}

function sameDigest(expected: string, actual: Buffer): boolean {
  const given = Buffer.from(expected.replace(/\s+/g, ""), "base64");
  return given.length === actual.length && timingSafeEqual(given, actual);
}

/**
 * Verify `signature`, a direct child of `target`, as an enveloped signature over `target`
 * with one of `certificates` (PEM).
 */
export function verifyEnvelopedSignature(
  target: Element,
  signature: Element,
  certificates: readonly string[],
): SignatureCheck {
  const signedInfos = children(signature, NS.dsig, "SignedInfo");
  if (signedInfos.length !== 1) return refuse("UNSUPPORTED", "exactly one SignedInfo is required");
  const info = signedInfos[0];
  const c14n = children(info, NS.dsig, "CanonicalizationMethod");
  if (c14n.length !== 1 || algorithm(c14n[0]) !== EXC_C14N)
    return refuse("UNSUPPORTED", `SignedInfo canonicalization must be ${EXC_C14N}`);
  const methods = children(info, NS.dsig, "SignatureMethod");
  const method = SIGNATURES[algorithm(methods[0])];
  if (methods.length !== 1 || !method)
    return refuse("UNSUPPORTED", `signature algorithm ${algorithm(methods[0])} is not accepted`);
  const references = children(info, NS.dsig, "Reference");
  if (references.length !== 1) return refuse("UNSUPPORTED", "exactly one Reference is required");
  const ref = references[0];
  const id = target.getAttribute("ID");
  if (!id || ref.getAttribute("URI") !== `#${id}`)
    return refuse("UNSUPPORTED", "the Reference must point at the signed element's ID");
  const transformsEl = children(ref, NS.dsig, "Transforms");
  const transforms = transformsEl.length === 1 ? children(transformsEl[0], NS.dsig, "Transform") : [];
  if (
    transformsEl.length !== 1 ||
    transforms.length !== 2 ||
    algorithm(transforms[0]) !== ENVELOPED ||
    algorithm(transforms[1]) !== EXC_C14N
  )
    return refuse("UNSUPPORTED", "transforms must be enveloped-signature then exclusive C14N");
  const digestMethods = children(ref, NS.dsig, "DigestMethod");
  const digestValues = children(ref, NS.dsig, "DigestValue");
  const digest = DIGESTS[algorithm(digestMethods[0])];
  if (digestMethods.length !== 1 || digestValues.length !== 1 || !digest)
    return refuse("UNSUPPORTED", `digest algorithm ${algorithm(digestMethods[0])} is not accepted`);
  const values = children(signature, NS.dsig, "SignatureValue");
  if (values.length !== 1) return refuse("UNSUPPORTED", "exactly one SignatureValue is required");

  // SignedInfo first: it is small, and its signature fails for anything the IdP did not sign,
  // so a forged response never costs the clone and canonicalization of the whole element.
  let signedInfo: Buffer;
  try {
    signedInfo = Buffer.from(canonical(info, prefixList(c14n[0])));
  } catch (err) {
    return refuse("UNSUPPORTED", `cannot be canonicalized: ${(err as Error).message.slice(0, 100)}`);
  }
  const value = Buffer.from(textContent(values[0]).replace(/\s+/g, ""), "base64");
  const signedBy = certificates.find((pem) => {
    const key = publicKey(pem);
    if (key.asymmetricKeyType !== method.keyType) return false;
    return method.keyType === "ec"
      ? verify(method.hash, signedInfo, { key, dsaEncoding: "ieee-p1363" }, value)
      : verify(method.hash, signedInfo, key, value);
  });
  if (!signedBy) return refuse("KEY", "not signed by a configured certificate");

  let content: string;
  try {
    content = canonical(target, prefixList(transforms[1]), signature);
  } catch (err) {
    return refuse("UNSUPPORTED", `cannot be canonicalized: ${(err as Error).message.slice(0, 100)}`);
  }
  if (!sameDigest(textContent(digestValues[0]), createHash(digest).update(content).digest()))
    return refuse("DIGEST", "the signed content was changed after signing");
  return { ok: true };
}
