import { createHash, randomUUID, createPublicKey, verify as cverify } from "node:crypto";
import { SAML, ValidateInResponseTo } from "@node-saml/node-saml";
import { SignedXml } from "xml-crypto";
import { TestIdp } from "../test/helpers/test-idp.js";
import { parseXml, NS, child, children } from "../src/saml/xml.js";
const idp = new TestIdp("https://idp.bench/entity", "https://idp.bench/sso");
const ACS = "https://roster.bench/sso/b/acs", ENT = "https://roster.bench/sso/b";
const MS = "http://schemas.microsoft.com";
const resp: string[] = [];
for (let i = 0; i < 200; i++) resp.push(await idp.response({ acsUrl: ACS, audience: ENT, nameId: `u${i}@x.com`, sign: process.argv[2] === "both" ? "both" : "assertion", attributes: { [`${MS}/a`]: "x", [`${MS}/g`]: Array.from({ length: 30 }, () => randomUUID()) } }));
console.log("bytes", Buffer.from(resp[0], "base64").length);
const saml = new SAML({ idpCert: idp.keys.certificate, issuer: ENT, audience: ENT, callbackUrl: ACS, idpIssuer: idp.entityId, wantAssertionsSigned: true, wantAuthnResponseSigned: false, acceptedClockSkewMs: 120000, validateInResponseTo: ValidateInResponseTo.never, signatureAlgorithm: "sha256" });
const time = async (label: string, f: (r: string) => unknown) => {
  for (let i = 0; i < 30; i++) await f(resp[i]);
  const c0 = process.cpuUsage();
  for (let k = 0; k < 2; k++) for (const r of resp) await f(r);
  const c = process.cpuUsage(c0);
  console.log(label, ((c.user + c.system) / 1000 / (2 * resp.length)).toFixed(3), "ms");
};
const key = createPublicKey(idp.keys.certificate);
function mine(b64: string) {
  const xml = Buffer.from(b64, "base64").toString("utf8");
  const doc = parseXml(xml);
  const a = child(doc.documentElement, NS.assertion, "Assertion")!;
  const sigEl = child(a, NS.dsig, "Signature")!;
  const sig = new SignedXml({ publicCert: idp.keys.certificate });
  sig.loadSignature(sigEl);
  const [ref] = sig.getReferences();
  const canon = (sig as any).getCanonReferenceXml(doc, ref, a);
  const dig = createHash("sha256").update(canon).digest("base64");
  if (dig !== ref.digestValue) throw new Error("digest");
  const si = (sig as any).getCanonSignedInfoXml(doc);
  if (!cverify("sha256", Buffer.from(si), key, Buffer.from((sig as any).signatureValue, "base64"))) throw new Error("sig");
  return a;
}
await time("parse only", (r) => parseXml(Buffer.from(r, "base64").toString("utf8")));
await time("mine", mine);
await time("node-saml", (r) => saml.validatePostResponseAsync({ SAMLResponse: r }));
await time("mine", mine);
