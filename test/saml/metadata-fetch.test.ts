import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { deliverHandler } from "../../src/events/deliver.js";
import { fetchMetadata } from "../../src/sso/saml/fetch-metadata.js";
import { generateKeyAndCertificate } from "../../src/sso/saml/x509.js";
import {
  admin,
  backends,
  createTenantWithToken,
  createTestContext,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";

// Issue 14, item 13: a metadata URL that cannot be fetched is explained in words an admin can
// act on, never with OpenSSL's internals ("0A00010B:SSL routines:ssl3_get_record:…").
const OPENSSL = /SSL routines|:error:|0A0|ssl3_|EPROTO|ERR_/;

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

for (const backend of backends()) {
  describe(`metadata URL and webhook failures in words [${backend.name}]`, () => {
    let ctx: TestContext;
    const servers: net.Server[] = [];
    let plainPort: number;
    let tlsPort: number;
    let silentPort: number;
    let closedPort: number;
    before(async () => {
      ctx = await createTestContext(backend);
      await createTenantWithToken(ctx, "meta");
      const plain = http.createServer((req, res) => {
        if (req.url === "/loop") return res.writeHead(302, { location: "/loop" }).end();
        if (req.url === "/broken") return res.writeHead(503).end();
        res.writeHead(404).end("no such page");
      });
      const self = generateKeyAndCertificate({ commonName: "127.0.0.1" });
      const tls = https.createServer({ key: self.privateKey, cert: self.certificate }, (_q, res) =>
        res.end("<x/>"),
      );
      const silent = net.createServer(() => {}); // accepts, never answers
      const closed = net.createServer();
      servers.push(plain, tls, silent);
      plainPort = await listen(plain);
      tlsPort = await listen(tls);
      silentPort = await listen(silent);
      closedPort = await listen(closed);
      await new Promise((r) => closed.close(r));
    });
    after(async () => {
      for (const s of servers) s.close();
      await ctx.close();
    });

    async function refusal(metadataUrl: string): Promise<string> {
      const res = await admin(ctx).put("/admin/v1/tenants/meta/saml", { metadataUrl });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.error.code, "VALIDATION_FAILED");
      assert.equal(res.body.error.details[0].field, "metadataUrl");
      const message = String(res.body.error.details[0].message);
      assert.doesNotMatch(message, OPENSSL, message);
      return message;
    }

    it("names TLS, certificate, HTTP status, connection, DNS, size and redirect problems", async () => {
      assert.match(
        await refusal(`https://127.0.0.1:${plainPort}/m`),
        /TLS handshake with 127\.0\.0\.1:\d+ failed/,
      );
      assert.match(await refusal(`https://127.0.0.1:${tlsPort}/m`), /TLS certificate of .* is not trusted/);
      assert.match(await refusal(`http://127.0.0.1:${plainPort}/m`), /not found \(HTTP 404\)/);
      assert.match(await refusal(`http://127.0.0.1:${plainPort}/broken`), /server error \(HTTP 503\)/);
      assert.match(await refusal(`http://127.0.0.1:${plainPort}/loop`), /too many redirects \(more than 3\)/);
      assert.match(await refusal(`http://127.0.0.1:${closedPort}/m`), /connection refused by 127\.0\.0\.1/);
      // RFC 6761: .invalid never resolves (a machine without DNS fails the lookup too).
      assert.match(await refusal("https://roster-metadata.invalid/m"), /DNS (name not found|lookup of)/);
    });

    it("times out in words", async () => {
      await assert.rejects(
        fetchMetadata(`http://127.0.0.1:${silentPort}/m`, { allowPrivateNetwork: true, timeoutMs: 200 }),
        (err: { details: Array<{ message: string }> }) => {
          assert.match(err.details[0].message, /timed out after 0\.2 s/);
          return true;
        },
      );
    });

    it("a webhook delivery's error is in words too", async () => {
      const { tenantId, token } = await createTenantWithToken(ctx, "hooks");
      const hook = await admin(ctx)
        .post("/admin/v1/tenants/hooks/webhooks", {
          url: `https://127.0.0.1:${plainPort}/hook`,
          events: ["user.created"],
        })
        .expect(201);
      const userId = (await scimClient(ctx, token).post("/Users", userBody("ann@hooks.test")).expect(201))
        .body.id;
      await deliverHandler({ allowPrivateNetwork: true, timeoutMs: 2000 })(
        { webhookId: hook.body.id, stream: userId },
        {
          db: ctx.deps.db,
          logger: pino({ level: "silent" }),
          now: ctx.deps.now,
          jobId: 1,
          attempt: 1,
          tenantId,
        },
      );
      const row = await ctx.deps.db("webhook_deliveries").where({ tenant_id: tenantId }).first();
      assert.match(String(row.last_error), /^TLS handshake with 127\.0\.0\.1:\d+ failed/);
      assert.doesNotMatch(String(row.last_error), OPENSSL);
    });
  });
}
