import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { DOMParser } from "@xmldom/xmldom";
import xmlenc from "xml-encryption";
import { descendants, NS, scanElements, textOf } from "../../src/sso/saml/xml.js";
import {
  admin,
  backends,
  createTenantWithToken,
  createTestContext,
  type TestContext,
} from "../helpers/context.js";
import { encode, TestIdp } from "../helpers/test-idp.js";
import { addUser, Browser, setupSso, type SsoTenant } from "./sso-helpers.js";

// Issue 14, item 3: a 280 KB response of 30,000 nested elements cost ~1 s of event loop in the
// parse, then overflowed the stack in the recursive element walk (500). The raw text is now
// pre-scanned (depth, elements, attributes) before any DOM is built, and every walk is iterative.

const nested = (n: number, name = "x") => `<${name}>`.repeat(n) + `</${name}>`.repeat(n);

function refusedWith(res: { status: number; text: string }, code: string, status = 400) {
  assert.equal(res.status, status, res.text.slice(0, 500));
  assert.match(res.text, new RegExp(`Reference: ${code}`));
}

describe("XML walks never recurse (issue 14 item 3)", () => {
  it("walk a 30,000-deep DOM built without the pre-scan", () => {
    const doc = new DOMParser().parseFromString(
      `<r xmlns:d="${NS.dsig}">${nested(30_000, "d:Signature")}</r>`,
      "text/xml",
    ) as unknown as Document;
    const root = doc.documentElement;
    const scan = scanElements(root, [[NS.dsig, "Signature"]]);
    assert.equal(scan.found[0].length, 30_000);
    assert.equal(scan.foreign, null);
    assert.equal(descendants(root, NS.dsig, "Signature").length, 30_000);
    assert.equal(textOf(root), "");
  });
});

for (const backend of backends()) {
  describe(`ACS and metadata refuse XML too deep or too big before parsing [${backend.name}]`, () => {
    let ctx: TestContext;
    let t: SsoTenant;
    before(async () => {
      ctx = await createTestContext(backend);
      t = await setupSso(ctx, "acme", { attributeMapping: { groups: "groups" } });
      await addUser(t, "ann@acme.test");
    });
    after(async () => ctx.close());

    async function post(make: (id: string) => Promise<string> | string) {
      const b = new Browser(ctx);
      const id = await b.startLogin("acme");
      return b.acs("acme", encode(await make(id)));
    }
    const valid = (id: string) => t.opts({ nameId: "ann@acme.test", inResponseTo: id });

    it("30,000 nested elements (280 KB): 400 XML_TOO_COMPLEX, not a 500", async () => {
      const res = await post(async (id) =>
        (await t.idp.responseXml(valid(id))).replace(
          "</samlp:Response>",
          `${nested(30_000)}</samlp:Response>`,
        ),
      );
      refusedWith(res, "XML_TOO_COMPLEX");
      assert.match(res.text, /more deeply nested than any identity provider sends/);
    });

    it("33 levels are refused, 6,000 flat elements are refused, 12,000 attributes are refused", async () => {
      const at = (xml: string, extra: string) =>
        xml.replace("</samlp:Response>", `${extra}</samlp:Response>`);
      refusedWith(
        await post(async (id) => at(await t.idp.responseXml(valid(id)), nested(33))),
        "XML_TOO_COMPLEX",
      );
      refusedWith(
        await post(async (id) => at(await t.idp.responseXml(valid(id)), "<x/>".repeat(6_000))),
        "XML_TOO_COMPLEX",
      );
      const attrs = Array.from({ length: 12_000 }, (_, i) => `a${i}="1"`).join(" ");
      refusedWith(
        await post(async (id) => at(await t.idp.responseXml(valid(id)), `<x ${attrs}/>`)),
        "XML_TOO_COMPLEX",
      );
    });

    it("mismatched end tags and characters XML forbids are malformed (a NUL never reaches a query)", async () => {
      refusedWith(
        await post(async (id) =>
          (await t.idp.responseXml(valid(id))).replace(
            "</samlp:Response>",
            `${"<x></y>".repeat(50)}</samlp:Response>`,
          ),
        ),
        "MALFORMED",
      );
      // xmldom decodes &#0; into U+0000, which PostgreSQL refuses in a query parameter.
      refusedWith(
        await post(async (id) =>
          (await t.idp.responseXml(valid(id))).replace(`InResponseTo="${id}"`, 'InResponseTo="&#0;"'),
        ),
        "MALFORMED",
      );
      refusedWith(await post(async (id) => `${await t.idp.responseXml(valid(id))}\u0001`), "MALFORMED");
    });

    it("an encrypted assertion is held to the same limits once decrypted", async () => {
      const conn = await admin(ctx).get("/admin/v1/tenants/acme/saml").expect(200);
      const encrypt = promisify(xmlenc.encrypt) as (c: string, o: xmlenc.EncryptOptions) => Promise<string>;
      const res = await post(async (id) => {
        const deep = t.idp
          .sign(t.idp.assertionXml(valid(id)), "Assertion")
          .replace("</saml:Assertion>", `${nested(200)}</saml:Assertion>`);
        const data = await encrypt(deep, {
          rsa_pub: conn.body.sp.encryptionCertificate,
          pem: conn.body.sp.encryptionCertificate,
          encryptionAlgorithm: "http://www.w3.org/2009/xmlenc11#aes256-gcm",
          keyEncryptionAlgorithm: "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
        });
        return t.idp.wrap(valid(id), `<saml:EncryptedAssertion>${data}</saml:EncryptedAssertion>`);
      });
      refusedWith(res, "XML_TOO_COMPLEX");
      assert.match(res.text, /The encrypted assertion is larger or more deeply nested/);
    });

    it("a real large response passes: 2,500 group values (Entra sends at most 150)", async () => {
      const groups = Array.from(
        { length: 2_500 },
        (_, i) => `0c2a${String(i).padStart(4, "0")}-5b1c-4d6e-8f90-a1b2c3d4e5f6`,
      );
      const b = new Browser(ctx);
      const id = await b.startLogin("acme");
      const saml = await t.idp.response({ ...valid(id), attributes: { groups } });
      assert.ok(saml.length > 256 * 1024, `${saml.length} bytes of base64`);
      const res = await b.acs("acme", saml);
      assert.equal(res.status, 302, res.text.slice(0, 300));
    });

    it("metadata XML, pasted or fetched, is held to limits too", async () => {
      await createTenantWithToken(ctx, "meta");
      const idp = new TestIdp();
      const deep = idp
        .metadataXml()
        .replace("</md:EntityDescriptor>", `${nested(30_000)}</md:EntityDescriptor>`);
      const pasted = await admin(ctx).put("/admin/v1/tenants/meta/saml", { metadataXml: deep });
      assert.equal(pasted.status, 400, pasted.text.slice(0, 300));
      assert.equal(pasted.body.error.details[0].field, "metadataXml");
      assert.match(pasted.body.error.details[0].message, /nested deeper than 32 levels/);
      const server = http.createServer((_req, res) =>
        res.setHeader("content-type", "application/xml").end(deep),
      );
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      try {
        const fetched = await admin(ctx).put("/admin/v1/tenants/meta/saml", {
          metadataUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/m`,
        });
        assert.equal(fetched.status, 400, fetched.text.slice(0, 300));
        assert.equal(fetched.body.error.details[0].field, "metadataUrl");
        assert.match(fetched.body.error.details[0].message, /nested deeper than 32 levels/);
      } finally {
        server.close();
      }
    });
  });
}
