import assert from "node:assert/strict";
import type { Server } from "node:http";
import { after, before, describe, it } from "node:test";
import {
  CursorExpiredError,
  Roster,
  RosterApiError,
  type RosterEvent,
  verifyWebhook,
  WebhookVerificationError,
} from "../../src/client/index.js";
import {
  ADMIN_TOKEN,
  allBackends,
  createTestContext,
  eventually,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";
import { close, faultyProxy, listenOn, readBody, serve } from "./helpers.js";

interface Received {
  body: Buffer;
  signature: string;
}

for (const backend of allBackends()) {
  describe(`roster/client: event feed and webhooks against a running Roster [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    let server: Server;
    let receiver: Server;
    let receiverUrl: string;
    let base: string;
    let roster: Roster;
    let scim: ReturnType<typeof scimClient>;
    const received: Received[] = [];
    const servers: Server[] = [];
    before(async () => {
      ctx = await createTestContext(backend);
      await ctx.deps.driver.start();
      ({ server, url: base } = await serve(ctx));
      roster = new Roster({ baseUrl: base, adminToken: ADMIN_TOKEN });
      ({ server: receiver, url: receiverUrl } = await listenOn(async (req, res) => {
        received.push({
          body: await readBody(req),
          signature: String(req.headers["roster-signature"] ?? ""),
        });
        res.writeHead(200).end();
      }));
      await roster.tenants.create({ slug: "acme", name: "Acme" });
      scim = scimClient(ctx, (await roster.scimTokens.create("acme", { name: "idp" })).token);
    });
    after(async () => {
      for (const s of [server, receiver, ...servers]) await close(s);
      await ctx?.close();
    });

    const addUser = async (name: string) =>
      (await scim.post("/Users", userBody(name)).expect(201)).body.id as string;

    it("events(): every event in order from a stored cursor, resumable, then polls; stopWhenIdle returns", async () => {
      const ids = [await addUser("a@acme.test"), await addUser("b@acme.test"), await addUser("c@acme.test")];
      const all: RosterEvent[] = [];
      // A page size of 2 makes the consumer follow `next` across pages.
      for await (const e of roster.events("acme", { after: "0", limit: 2, stopWhenIdle: true })) all.push(e);
      const created = all.filter((e) => e.type === "user.created").map((e) => e.data.userId ?? e.data.id);
      assert.deepEqual(created, ids);
      assert.deepEqual(
        all.map((e) => Number(e.id)),
        all.map((e) => Number(e.id)).sort((x, y) => x - y),
      );
      // Resume from a stored cursor: only what came after it.
      const cursor = all[0].id;
      const rest: string[] = [];
      for await (const e of roster.events("acme", { after: cursor, stopWhenIdle: true })) rest.push(e.id);
      // (Role events of the sync-roles job may have been added since: they come after.)
      assert.deepEqual(
        rest.slice(0, all.length - 1),
        all.slice(1).map((e) => e.id),
      );
      assert.ok(rest.every((id) => BigInt(id) > BigInt(cursor)));
      // Polling: an event committed after the consumer caught up still arrives.
      const last = all.at(-1)!.id;
      const abort = new AbortController();
      const later: RosterEvent[] = [];
      const consumer = (async () => {
        for await (const e of roster.events("acme", {
          after: last,
          pollIntervalMs: 20,
          signal: abort.signal,
        })) {
          later.push(e);
          if (e.type === "user.created") abort.abort();
        }
      })();
      const d = await addUser("d@acme.test");
      await consumer;
      const createdLater = later.filter((e) => e.type === "user.created");
      assert.equal(createdLater.length, 1);
      assert.ok(JSON.stringify(createdLater[0].data).includes(d));
      assert.ok(later.every((e) => BigInt(e.id) > BigInt(last)));
    });

    it("events(): backs off through 503s and network failures, then goes on; 4xx other than 429 are thrown", async () => {
      let failures = 2;
      const proxy = await faultyProxy(base, () =>
        failures-- > 0 ? { status: 503, body: { error: { code: "NOT_READY", message: "down" } } } : undefined,
      );
      servers.push(proxy.server);
      const errors: Array<{ err: unknown; wait: number }> = [];
      const via = new Roster({ baseUrl: proxy.url, adminToken: ADMIN_TOKEN });
      const got: string[] = [];
      for await (const e of via.events("acme", {
        stopWhenIdle: true,
        backoff: { initialMs: 10, maxMs: 40 },
        onError: (err, wait) => errors.push({ err, wait }),
      }))
        got.push(e.id);
      assert.equal(errors.length, 2);
      assert.ok(errors.every((e) => e.err instanceof RosterApiError && e.err.status === 503));
      assert.ok(errors[1].wait >= errors[0].wait / 2 && errors[1].wait <= 40);
      assert.ok(got.length >= 4);
      // A closed port: a network error, retried the same way until aborted.
      const dead = await listenOn(() => {});
      await close(dead.server);
      const abort = new AbortController();
      const netErrors: unknown[] = [];
      const dying = new Roster({ baseUrl: dead.url, adminToken: ADMIN_TOKEN });
      for await (const _ of dying.events("acme", {
        backoff: { initialMs: 5, maxMs: 10 },
        signal: abort.signal,
        onError: (err) => {
          netErrors.push(err);
          if (netErrors.length === 3) abort.abort();
        },
      }));
      assert.equal(netErrors.length, 3);
      assert.ok(!(netErrors[0] instanceof RosterApiError));
      // Not retried: a bad token or an unknown tenant is the caller's to fix.
      const wrong = new Roster({ baseUrl: base, adminToken: "nope" });
      await assert.rejects(
        wrong.events("acme").next(),
        (e: unknown) => e instanceof RosterApiError && e.code === "UNAUTHORIZED",
      );
      await assert.rejects(
        roster.events("nope").next(),
        (e: unknown) => e instanceof RosterApiError && e.code === "TENANT_NOT_FOUND",
      );
    });

    it("events(): 410 CURSOR_EXPIRED surfaces as CursorExpiredError with the reconcile advice", async () => {
      // The feed's contract for a cursor older than event retention, served in front of Roster.
      const proxy = await faultyProxy(base, (req) =>
        req.url?.includes("after=7")
          ? {
              status: 410,
              body: { error: { code: "CURSOR_EXPIRED", message: "Events after 7 have expired" } },
            }
          : undefined,
      );
      servers.push(proxy.server);
      const via = new Roster({ baseUrl: proxy.url, adminToken: ADMIN_TOKEN });
      const err = await via
        .events("acme", { after: "7" })
        .next()
        .catch((e) => e);
      assert.ok(err instanceof CursorExpiredError, String(err));
      assert.ok(err instanceof RosterApiError);
      assert.equal(err.status, 410);
      assert.equal(err.code, "CURSOR_EXPIRED");
      assert.equal(err.cursor, "7");
      assert.match(err.message, /Reconcile/);
      assert.equal(proxy.seen.length, 1, "not retried");
    });

    it("verifyWebhook: a real delivery verifies; tampered, stale or unknown-secret ones are refused", async () => {
      const hook = await roster.webhooks.create("acme", { url: `${receiverUrl}/hook`, events: ["user.*"] });
      assert.equal((await roster.webhooks.get("acme", hook.id)).url, `${receiverUrl}/hook`);
      assert.equal((await roster.webhooks.list("acme")).length, 1);
      const userId = await addUser("w1@acme.test");
      await eventually(async () => received.length >= 1);
      const first = received[0];
      const event = verifyWebhook(first.body, first.signature, hook.secret);
      assert.equal(event.type, "user.created");
      assert.equal(event.data.id ?? event.data.userId, userId);
      assert.deepEqual(verifyWebhook(first.body.toString("utf8"), first.signature, [hook.secret]), event);

      const refused = (f: () => unknown) => {
        try {
          f();
        } catch (e) {
          assert.ok(e instanceof WebhookVerificationError);
          return e.reason;
        }
        assert.fail("accepted");
      };
      const tampered = Buffer.from(first.body.toString("utf8").replace("w1@", "w2@"));
      assert.equal(
        refused(() => verifyWebhook(tampered, first.signature, hook.secret)),
        "signature",
      );
      assert.equal(
        refused(() => verifyWebhook(first.body, first.signature, "whsec_other")),
        "signature",
      );
      assert.equal(
        refused(() => verifyWebhook(first.body, "", hook.secret)),
        "malformed",
      );
      assert.equal(
        refused(() => verifyWebhook(first.body, "t=1,v1=zz", hook.secret)),
        "malformed",
      );
      const t = Number(/t=(\d+)/.exec(first.signature)![1]);
      assert.equal(
        refused(() => verifyWebhook(first.body, first.signature, hook.secret, { now: t + 301 })),
        "stale",
      );
      assert.equal(
        refused(() =>
          verifyWebhook(first.body, first.signature, hook.secret, { now: t + 61, toleranceSeconds: 60 }),
        ),
        "stale",
      );
      verifyWebhook(first.body, first.signature, hook.secret, { now: t + 299 });

      // Rotation: during the grace period a delivery verifies with the new or the old secret alone.
      const rotated = await roster.webhooks.rotateSecret("acme", hook.id, { graceSeconds: 3600 });
      assert.notEqual(rotated.secret, hook.secret);
      assert.ok(rotated.previousSecretExpiresAt);
      const before = received.length;
      await addUser("w2@acme.test");
      await eventually(async () => received.length > before);
      const second = received.at(-1)!;
      verifyWebhook(second.body, second.signature, rotated.secret);
      verifyWebhook(second.body, second.signature, hook.secret);
      verifyWebhook(second.body, second.signature, ["whsec_unrelated", rotated.secret]);
      // The first delivery was signed before the rotation: the new secret alone refuses it.
      assert.equal(
        refused(() => verifyWebhook(first.body, first.signature, rotated.secret)),
        "signature",
      );

      const deliveries = await roster.webhooks.deliveries("acme", hook.id, { state: "delivered" });
      assert.ok(deliveries.deliveries.length >= 2);
      // Counted before the call: the in-process driver may deliver before the 202 reaches us.
      const n = received.length;
      const again = await roster.webhooks.redeliver("acme", hook.id, deliveries.deliveries[0].id);
      assert.equal(again.state, "pending");
      await eventually(async () => received.length > n);
      verifyWebhook(received.at(-1)!.body, received.at(-1)!.signature, [hook.secret, rotated.secret]);
      assert.equal((await roster.webhooks.update("acme", hook.id, { active: false })).active, false);
      await roster.webhooks.delete("acme", hook.id);
      assert.equal((await roster.webhooks.get("acme", hook.id).catch((e) => e)).status, 404);
    });
  });
}
