import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { embeddedIpv4, ipv6Bytes, isPrivateAddress } from "../../src/http/network.js";
import {
  admin,
  backends,
  createTenantWithToken,
  createTestContext,
  type TestContext,
} from "../helpers/context.js";

// Issue 14, item 7: IPv6 forms that carry an IPv4 address are judged by that address.
const PRIVATE_FORMS: Array<[string, string]> = [
  ["::ffff:127.0.0.1", "IPv4-mapped, dotted"],
  ["::ffff:7f00:1", "IPv4-mapped, hex (what the URL parser makes of [::ffff:127.0.0.1])"],
  ["::127.0.0.1", "IPv4-compatible ::/96, dotted"],
  ["::a9fe:a9fe", "IPv4-compatible ::/96, hex: 169.254.169.254"],
  ["::ffff:0:10.0.0.1", "SIIT ::ffff:0:0/96"],
  ["64:ff9b::10.0.0.1", "NAT64 64:ff9b::/96, dotted"],
  ["64:ff9b::a9fe:a9fe", "NAT64 64:ff9b::/96, hex: 169.254.169.254"],
  ["64:ff9b:1::808:808", "local-use NAT64 64:ff9b:1::/48 (blocked whole)"],
  ["2002:7f00:1::1", "6to4 2002::/16 around 127.0.0.1"],
  ["2002:c0a8:101::", "6to4 around 192.168.1.1"],
  ["2001:0:4136:e378:8000:63bf:f5ff:fffe", "Teredo, client 10.0.0.1 (XORed)"],
  ["2001:0:7f00:1:8000:63bf:3fff:fdd2", "Teredo, server 127.0.0.1"],
  ["fec0::1", "site-local fec0::/10"],
  ["feff:ffff::1", "site-local, top of fec0::/10"],
  ["fe80::1%eth0", "link-local with a zone id"],
  ["100::1", "discard-only 100::/64"],
];
const PUBLIC_FORMS = [
  "::ffff:8.8.8.8",
  "64:ff9b::808:808",
  "2002:808:808::1",
  "2001:0:4136:e378:8000:63bf:3fff:fdd2",
  "2606:4700:4700::1111",
  "2a00:1450:4001:81c::200e",
];

describe("address checks: IPv6 forms embedding IPv4 (issue 14 item 7)", () => {
  it("decodes each form's embedded IPv4", () => {
    const decode = (ip: string) => embeddedIpv4(ipv6Bytes(ip)!);
    assert.deepEqual(decode("::ffff:7f00:1"), ["127.0.0.1"]);
    assert.deepEqual(decode("::7f00:1"), ["127.0.0.1"]);
    assert.deepEqual(decode("64:ff9b::a00:1"), ["10.0.0.1"]);
    assert.deepEqual(decode("2002:c0a8:101::"), ["192.168.1.1"]);
    assert.deepEqual(decode("2001:0:4136:e378:8000:63bf:f5ff:fffe"), ["65.54.227.120", "10.0.0.1"]);
    assert.deepEqual(decode("2606:4700:4700::1111"), []);
  });

  it("refuses every private form and lets public ones through", () => {
    for (const [ip, what] of PRIVATE_FORMS) assert.equal(isPrivateAddress(ip), true, `${ip}: ${what}`);
    for (const ip of PUBLIC_FORMS) assert.equal(isPrivateAddress(ip), false, ip);
  });
});

for (const backend of backends()) {
  describe(`IP literals in URLs go through the same check [${backend.name}]`, () => {
    let ctx: TestContext;
    before(async () => {
      ctx = await createTestContext(backend, { env: { ROSTER_WEBHOOK_ALLOW_PRIVATE: "false" } });
      await createTenantWithToken(ctx, "lit");
    });
    after(async () => ctx.close());

    it("webhook URLs and metadata URLs with a bracketed IPv6 literal are refused, naming the setting", async () => {
      for (const [ip, what] of PRIVATE_FORMS) {
        if (ip.includes("%")) continue; // URLs cannot carry a zone id
        const hook = await admin(ctx).post("/admin/v1/tenants/lit/webhooks", {
          url: `https://[${ip}]/hook`,
          events: ["*"],
        });
        assert.equal(hook.status, 400, `${ip} (${what}): ${hook.text}`);
        assert.equal(hook.body.error.code, "INVALID_WEBHOOK_URL");
        assert.match(hook.body.error.message, /ROSTER_WEBHOOK_ALLOW_PRIVATE=true/);
        const meta = await admin(ctx).put("/admin/v1/tenants/lit/saml", {
          metadataUrl: `https://[${ip}]/metadata`,
        });
        assert.equal(meta.status, 400, `${ip} (${what}): ${meta.text}`);
        assert.equal(meta.body.error.details[0].field, "metadataUrl");
        assert.match(meta.body.error.message, /ROSTER_WEBHOOK_ALLOW_PRIVATE=true/);
      }
    });
  });
}
