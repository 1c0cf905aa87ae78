import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { deliverHandler } from "../../src/events/deliver.js";
import {
  admin,
  allBackends,
  createTenantWithToken,
  createTestContext,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";
import { startReceiver } from "./receiver.js";

for (const backend of allBackends()) {
  describe(`webhook delivery connects only to public addresses [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    before(async () => {
      // The endpoints are saved while private targets are allowed (as if DNS pointed elsewhere
      // then); the deliveries below run with the production setting.
      ctx = await createTestContext(backend);
      receiver = await startReceiver();
    });
    after(async () => {
      await ctx.close();
      await receiver.close();
    });

    it("refuses a host that now resolves to loopback, and an IP-literal private host, at connect time", async () => {
      const { tenantId, token } = await createTenantWithToken(ctx, "guard");
      const port = new URL(receiver.url).port;
      const hooks: string[] = [];
      for (const url of [`http://localhost:${port}/hook`, `http://127.0.0.1:${port}/hook`]) {
        const res = await admin(ctx)
          .post("/admin/v1/tenants/guard/webhooks", { url, events: ["user.created"] })
          .expect(201);
        hooks.push(res.body.id);
      }
      const userId = (await scimClient(ctx, token).post("/Users", userBody("ann@guard.test")).expect(201))
        .body.id;
      const jobCtx = {
        db: ctx.deps.db,
        logger: pino({ level: "silent" }),
        now: ctx.deps.now,
        jobId: 1,
        attempt: 1,
        tenantId,
      };
      const guarded = deliverHandler({ allowPrivateNetwork: false, timeoutMs: 2000 });
      for (const webhookId of hooks) await guarded({ webhookId, stream: userId }, jobCtx);
      assert.equal(receiver.received.length, 0, "nothing reached the private address");
      const rows = await ctx.deps.db("webhook_deliveries").where({ tenant_id: tenantId }).orderBy("id");
      assert.equal(rows.length, 2);
      for (const r of rows) {
        assert.equal(r.state, "pending");
        assert.equal(Number(r.attempts), 1);
        assert.match(String(r.last_error), /private/);
      }
      // The operator's development setting lets the same delivery through.
      ctx.clock.advance(3600_000);
      await deliverHandler({ allowPrivateNetwork: true })({ webhookId: hooks[0], stream: userId }, jobCtx);
      assert.equal(receiver.accepted().length, 1);
      assert.equal(receiver.accepted()[0].event.type, "user.created");
    });

    it("never follows a redirect: a 3xx is a failed attempt, and the place it points to gets nothing", async () => {
      const { tenantId, token } = await createTenantWithToken(ctx, "redirects");
      // Redirects could point anywhere (an internal address included): the answer is the status.
      let hits = 0;
      const redirector = http.createServer((req, res) => {
        hits++;
        req.resume();
        res.writeHead(307, { location: receiver.url }).end();
      });
      await new Promise<void>((r) => redirector.listen(0, "127.0.0.1", r));
      try {
        const url = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/hook`;
        const hook = await admin(ctx)
          .post("/admin/v1/tenants/redirects/webhooks", { url, events: ["user.created"] })
          .expect(201);
        const userId = (
          await scimClient(ctx, token).post("/Users", userBody("ann@redirects.test")).expect(201)
        ).body.id;
        const before = receiver.received.length;
        const jobCtx = {
          db: ctx.deps.db,
          logger: pino({ level: "silent" }),
          now: ctx.deps.now,
          jobId: 1,
          attempt: 1,
          tenantId,
        };
        // Even with private addresses allowed (development), where the redirect's target is reachable.
        await deliverHandler({ allowPrivateNetwork: true })(
          { webhookId: hook.body.id, stream: userId },
          jobCtx,
        );
        assert.equal(hits, 1);
        assert.equal(receiver.received.length, before, "the redirect's target got nothing");
        const [row] = await ctx.deps.db("webhook_deliveries").where({ tenant_id: tenantId });
        assert.deepEqual(
          [row.state, Number(row.attempts), Number(row.last_status), row.last_error],
          ["pending", 1, 307, "HTTP 307"],
        );
      } finally {
        redirector.closeAllConnections();
        await new Promise((r) => redirector.close(r));
      }
    });
  });
}
