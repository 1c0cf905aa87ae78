import assert from "node:assert/strict";
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { describe, it } from "node:test";
import { selfSignedCertificate } from "../../src/sso/saml/x509.js";

describe("self-signed certificates (SP keys, test IdP)", () => {
  it("are valid DER every time: 1,000 random serials all parse (1 in ~256 did not)", () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const serials = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const x = new X509Certificate(selfSignedCertificate(privateKey, publicKey, { commonName: `c${i}` }));
      assert.equal(x.subject, `CN=c${i}`);
      serials.add(x.serialNumber);
    }
    assert.equal(serials.size, 1000);
  });
});
