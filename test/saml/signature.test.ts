/**
 * Roster's XML-DSig check (src/sso/saml/signature.ts) against node-saml's validatePostResponseAsync
 * as an independent oracle: on the same responses (signed by xml-crypto, as IdPs sign them)
 * both accept what is validly signed and both refuse what is not. Then the shapes Roster
 * refuses and node-saml lets through, and ECDSA, which node-saml cannot verify at all.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { describe, it } from "node:test";
import { ExclusiveCanonicalization, SignedXml } from "xml-crypto";
import {
  checkSignatures,
  type Expected,
  inspectResponse,
  parseResponse,
  SsoFailure,
} from "../../src/sso/saml/acs-checks.js";
import { verifyEnvelopedSignature } from "../../src/sso/saml/signature.js";
import { generateKeyAndCertificate } from "../../src/sso/saml/x509.js";
import { child, NS, parseXml, RESPONSE_LIMITS } from "../../src/sso/saml/xml.js";
import { encode, nodeSamlValidator, type ResponseOptions, TestIdp } from "../helpers/test-idp.js";

const ACS = "https://roster.test/sso/acme/acs";
const ENTITY = "https://roster.test/sso/acme";
const idp = new TestIdp("https://idp.test/entity");
const attacker = generateKeyAndCertificate({ commonName: "Attacker" });
const opts = (o: Partial<ResponseOptions> = {}): ResponseOptions => ({
  acsUrl: ACS,
  audience: ENTITY,
  nameId: "victim@acme.test",
  attributes: { groups: ["a", "b"] },
  ...o,
});

const nodeSaml = nodeSamlValidator(idp, { acsUrl: ACS, entityId: ENTITY });

const expected = (): Expected => ({
  acsUrl: ACS,
  entityId: ENTITY,
  idpEntityId: idp.entityId,
  certificates: [idp.keys.certificate],
  liveCertificates: [idp.keys.certificate],
  inResponseTo: null,
  now: new Date(),
});

/** Roster's verdict: "ok" or the refusal code. */
async function roster(xml: string): Promise<string> {
  try {
    const inspected = await inspectResponse(parseResponse(xml), "");
    checkSignatures(inspected, expected());
    return "ok";
  } catch (err) {
    if (err instanceof SsoFailure) return err.code;
    throw err;
  }
}

/** node-saml's verdict: "ok", or its error message (a refusal must be for the signature, not anything else). */
async function oracle(xml: string): Promise<string> {
  try {
    await nodeSaml.validatePostResponseAsync({ SAMLResponse: encode(xml) });
    return "ok";
  } catch (err) {
    return `refused: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Sign the assertion inside a complete response (so ancestor namespaces are in scope). */
function signInPlace(xml: string, prefixes: string[]): string {
  const sig = new SignedXml({
    privateKey: idp.keys.privateKey,
    publicCert: idp.keys.certificate,
    signatureAlgorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    canonicalizationAlgorithm: "http://www.w3.org/2001/10/xml-exc-c14n#",
  });
  sig.addReference({
    xpath: "//*[local-name(.)='Assertion']",
    transforms: [
      "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
      "http://www.w3.org/2001/10/xml-exc-c14n#",
    ],
    digestAlgorithm: "http://www.w3.org/2001/04/xmlenc#sha256",
    inclusiveNamespacesPrefixList: prefixes,
  });
  sig.computeSignature(xml, {
    prefix: "ds",
    location: { reference: "//*[local-name(.)='Assertion']/*[local-name(.)='Issuer']", action: "after" },
  });
  return sig.getSignedXml();
}

describe("SAML signature verification (Roster's, with node-saml as the oracle)", () => {
  it("accepts what node-saml accepts and refuses what it refuses", async () => {
    const valid = await idp.responseXml(opts());
    // An Okta-style typed attribute whose `xs` prefix is declared on the Response only, signed
    // with an InclusiveNamespaces prefix list: the canonical form must pull the ancestor's xmlns.
    const typed = signInPlace(
      idp
        .wrap(opts(), idp.assertionXml(opts()))
        .replace(
          "<samlp:Response ",
          '<samlp:Response xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ',
        )
        .replace("<saml:AttributeValue>a<", '<saml:AttributeValue xsi:type="xs:string">a<'),
      ["xs"],
    );
    const cases: Array<[string, string, string]> = [
      ["assertion signed (Entra, Google)", valid, "ok"],
      ["response and assertion signed (Okta)", await idp.responseXml(opts({ sign: "both" })), "ok"],
      ["inclusive namespace prefix from an ancestor", typed, "ok"],
      [
        "content changed after signing",
        valid.replace(">victim@acme.test<", ">admin@acme.test<"),
        "SIGNATURE_INVALID",
      ],
      [
        "attribute value changed",
        valid.replace(">b</saml:AttributeValue>", ">admins</saml:AttributeValue>"),
        "SIGNATURE_INVALID",
      ],
      ["signed by another key", await idp.responseXml(opts({ signer: attacker })), "SIGNATURE_INVALID"],
      ["only the response signed", await idp.responseXml(opts({ sign: "response" })), "SIGNATURE_MISSING"],
      ["unsigned", await idp.responseXml(opts({ sign: "none" })), "SIGNATURE_MISSING"],
    ];
    for (const [name, xml, want] of cases) {
      assert.equal(await roster(xml), want, name);
      assert.equal(
        await oracle(xml),
        want === "ok" ? "ok" : "refused: Invalid signature",
        `node-saml on: ${name}`,
      );
    }
  });

  it("refuses what node-saml lets through: misplaced signatures, reused IDs, other references, a bad response signature", async () => {
    const valid = await idp.responseXml(opts());
    const assertionId = /<saml:Assertion [^>]*ID="([^"]+)"/.exec(valid)![1];
    const stray = `<ds:Signature xmlns:ds="${NS.dsig}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/></ds:SignedInfo></ds:Signature>`;
    const cases: Array<[string, string, string]> = [
      [
        "a signature inside Extensions",
        valid.replace("<samlp:Status>", `<samlp:Extensions>${stray}</samlp:Extensions><samlp:Status>`),
        "SIGNATURE_INVALID",
      ],
      [
        "another element carrying the assertion's ID",
        valid.replace(
          "<samlp:Status>",
          `<samlp:Extensions><x:y xmlns:x="urn:x" ID="${assertionId}"/></samlp:Extensions><samlp:Status>`,
        ),
        "SIGNATURE_INVALID",
      ],
      [
        "a Reference to another element",
        valid.replace(`URI="#${assertionId}"`, 'URI="#_elsewhere"'),
        "SIGNATURE_INVALID",
      ],
      [
        "a third transform",
        valid.replace(
          '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>',
          '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>',
        ),
        "SIGNATURE_INVALID",
      ],
      [
        "a failed status from the IdP",
        valid.replace(
          '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>',
          '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/></samlp:StatusCode>',
        ),
        "IDP_STATUS",
      ],
    ];
    // Both signed, then the response's signature (the first one: it follows the response's
    // Issuer) replaced by one of another key over the same content: the assertion's is intact.
    const both = await idp.responseXml(opts({ sign: "both" }));
    const outer = /<\/saml:Issuer>(<ds:Signature[\s\S]*?<\/ds:Signature>)/;
    const forged = idp.sign(both.replace(outer, "</saml:Issuer>"), "Response", { signer: attacker });
    cases.push([
      "a response signature by another key (node-saml ignores it when the assertion's is valid)",
      both.replace(outer.exec(both)![1], outer.exec(forged)![1]),
      "SIGNATURE_INVALID",
    ]);
    for (const [name, xml, want] of cases) assert.equal(await roster(xml), want, name);
  });

  it("verifies ECDSA-SHA256 signatures with an EC key (node-saml cannot), and only with that key", async () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = (k: typeof ec.publicKey) => k.export({ type: "spki", format: "pem" }).toString();
    // Sign with RSA through xml-crypto, then re-sign SignedInfo with ECDSA by hand.
    const doc = parseXml(idp.sign(idp.assertionXml(opts()), "Assertion"), RESPONSE_LIMITS);
    const assertion = doc.documentElement;
    const signature = child(assertion, NS.dsig, "Signature")!;
    const info = child(signature, NS.dsig, "SignedInfo")!;
    child(info, NS.dsig, "SignatureMethod")!.setAttribute(
      "Algorithm",
      "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    );
    const canonical = new ExclusiveCanonicalization().process(info, {});
    const value = sign("sha256", Buffer.from(canonical), { key: ec.privateKey, dsaEncoding: "ieee-p1363" });
    child(signature, NS.dsig, "SignatureValue")!.textContent = value.toString("base64");
    assert.deepEqual(verifyEnvelopedSignature(assertion, signature, [pem(ec.publicKey)]), { ok: true });
    const wrong = verifyEnvelopedSignature(assertion, signature, [
      pem(other.publicKey),
      idp.keys.certificate,
    ]);
    assert.equal(wrong.ok ? "ok" : wrong.problem, "KEY");
  });
});
