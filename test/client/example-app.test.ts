import assert from "node:assert/strict";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { after, before, describe, it } from "node:test";
import { createExampleApp } from "../../scripts/example-app/app.js";
import { Roster } from "../../src/client/index.js";
import { ADMIN_TOKEN, createTestContext, eventually, type TestContext } from "../helpers/context.js";
import { addUser, authnRequestOf, Browser, setupSso, type SsoTenant } from "../saml/sso-helpers.js";
import { close, listenOn, serve } from "./helpers.js";

const SCIM_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

describe("scripts/example-app: sign in through Roster, roles kept in step from the feed [sqlite]", () => {
  let ctx: TestContext;
  let rosterServer: Server;
  let appServer: Server;
  let appUrl: string;
  let t: SsoTenant;
  let roster: Roster;
  let example: ReturnType<typeof createExampleApp>;
  let userId: string;
  let syncing: Promise<void>;
  before(async () => {
    ctx = await createTestContext({ name: "sqlite" });
    await ctx.deps.driver.start();
    const r = await serve(ctx);
    rosterServer = r.server;
    roster = new Roster({ baseUrl: r.url, adminToken: ADMIN_TOKEN });
    t = await setupSso(ctx, "acme");
    userId = await addUser(t, "ann@acme.test");
    const group = await t.scim
      .post("/Groups", { schemas: [SCIM_GROUP], displayName: "Staff", members: [{ value: userId }] })
      .expect(201);
    await roster.roleMappings.create("acme", { groupId: group.body.id, role: "admin" });
    // Stored roles follow a moment later (the sync-roles job): sign in once they hold admin.
    await eventually(async () =>
      (await roster.userRoles.list("acme", userId)).some((r) => r.key === "admin"),
    );
    // The example app listens first so its callback URL can be registered.
    let handler: (req: IncomingMessage, res: ServerResponse) => void = () => {};
    ({ server: appServer, url: appUrl } = await listenOn((req, res) => handler(req, res)));
    const client = await roster.oauthClients.create("acme", {
      name: "Example",
      redirectUris: [`${appUrl}/callback`],
    });
    example = createExampleApp({
      rosterUrl: r.url,
      rosterPublicUrl: "https://roster.test",
      adminToken: ADMIN_TOKEN,
      tenant: "acme",
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      redirectUri: `${appUrl}/callback`,
      pollIntervalMs: 20,
    });
    handler = example.app;
    syncing = example.syncRoles();
  });
  after(async () => {
    example?.stop();
    await syncing;
    await close(appServer);
    await close(rosterServer);
    await ctx?.close();
  });

  /** The user's browser on the example app (real HTTP, its cookie kept). */
  let cookie = "";
  async function appGet(path: string): Promise<Response> {
    const res = await fetch(`${appUrl}${path}`, { headers: { cookie }, redirect: "manual" });
    const set = res.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0];
    return res;
  }

  it("signs in through Roster (test IdP), shows the roles, and follows role changes from the feed", async () => {
    assert.match(await (await appGet("/")).text(), /Not signed in/);
    const login = await appGet("/login");
    assert.equal(login.status, 302);
    const authorize = new URL(login.headers.get("location")!);
    assert.equal(authorize.origin, "https://roster.test");
    // Roster's side, in the same browser: authorize → IdP → ACS → back to the app's callback.
    const b = new Browser(ctx);
    const toIdp = await b.get(authorize.pathname + authorize.search, 302);
    const { id } = authnRequestOf(toIdp.headers.location);
    const acs = await b.acs(
      "acme",
      await t.idp.response(t.opts({ nameId: "ann@acme.test", inResponseTo: id })),
    );
    assert.equal(acs.status, 302, acs.text);
    const callback = new URL(acs.headers.location);
    assert.equal(callback.origin, appUrl);
    const done = await appGet(callback.pathname + callback.search);
    assert.equal(done.status, 302, await done.clone().text());
    const page = await (await appGet("/")).text();
    assert.match(page, /<b id="user">ann@acme.test<\/b>/);
    assert.match(page, /<span id="roles">admin<\/span>/);

    // An admin grants a role in Roster: the app learns it from the feed.
    await roster.roles.create("acme", { key: "auditor", name: "Auditor" });
    await roster.userRoles.grant("acme", userId, "auditor");
    await eventually(async () =>
      /<span id="roles">admin, auditor<\/span>/.test(await (await appGet("/")).text()),
    );
    // Leaving the group revokes admin.
    await roster.roleMappings.delete("acme", (await roster.roleMappings.list("acme"))[0].id);
    await eventually(async () => /<span id="roles">auditor<\/span>/.test(await (await appGet("/")).text()));
    const events = await roster.eventsPage("acme", { after: "0", limit: 1000 });
    assert.equal(example.cursor(), events.next, "the app's cursor is the feed's end");
  });

  it("refuses a callback whose state it did not issue", async () => {
    await appGet("/login");
    const res = await appGet("/callback?code=x&state=forged");
    assert.equal(res.status, 400);
    assert.match(await res.text(), /state does not match/);
  });
});
