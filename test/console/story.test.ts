/**
 * The product page's whole story in real Chromium (issue 15): the operator creates a tenant and a
 * setup link → the tenant's admin opens it → picks a provider → copies the SP values → enters the
 * test IdP's details → Test configuration → signs in at the test IdP → the report is green →
 * Enable → manual provisioning with a default role → creates a SCIM token (shown once) → the IdP
 * pushes users and groups through SCIM → maps a group to a role, seeing the preview → Members
 * shows the role with its reason → changes a member's role → offboards a member → that member's
 * application session is refused. axe-core on every Members, Groups & roles and Events page
 * (no serious or critical violation); screenshots of each (test-results/, ignored).
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { inflateRawSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { createOperatorLink } from "../../src/console/links.js";
import {
  assertAccessible,
  browserSkip,
  collectProblems,
  launchBrowser,
  newContext,
  screenshot,
} from "../helpers/browser.js";
import { createTestContext, scimClient, type TestContext, userBody } from "../helpers/context.js";
import { freePort } from "../helpers/ports.js";
import { esc, TestIdp } from "../helpers/test-idp.js";
import { startReceiver } from "../events/receiver.js";

describe("the product page's story, end to end in Chromium [sqlite]", { skip: browserSkip() }, () => {
  let ctx: TestContext;
  let server: Server;
  let idpServer: Server;
  let browser: Browser;
  let base: string;
  let idp: TestIdp;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    const port = await freePort();
    const idpPort = await freePort();
    base = `http://127.0.0.1:${port}`;
    ctx = await createTestContext(
      { name: "sqlite" },
      { env: { PUBLIC_URL: base, ROSTER_WEBHOOK_ALLOW_PRIVATE: "true" } },
    );
    await ctx.deps.driver.start();
    receiver = await startReceiver();
    server = createServer(ctx.app);
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    idp = new TestIdp(`http://127.0.0.1:${idpPort}/idp`, `http://127.0.0.1:${idpPort}/sso`);
    // The test IdP's sign-in page: one button that posts a signed response for alice to the ACS.
    idpServer = createServer(async (req, res) => {
      const u = new URL(req.url ?? "/", `http://127.0.0.1:${idpPort}`);
      if (u.pathname !== "/sso" || !u.searchParams.get("SAMLRequest")) {
        res.statusCode = 404;
        return res.end();
      }
      const request = inflateRawSync(Buffer.from(u.searchParams.get("SAMLRequest") ?? "", "base64")).toString(
        "utf8",
      );
      const id = /\sID="([^"]+)"/.exec(request)?.[1];
      const acs = `${base}/sso/acme/acs`;
      const response = await idp.response({
        acsUrl: acs,
        audience: `${base}/sso/acme`,
        nameId: "alice@acme.test",
        inResponseTo: id,
        now: ctx.clock.now(),
      });
      res.setHeader("Content-Type", "text/html");
      res.end(
        `<!doctype html><html lang="en"><title>Test IdP</title><form method="post" action="${esc(acs)}"><input type="hidden" name="SAMLResponse" value="${esc(response)}"><button type="submit">Sign in at the test IdP</button></form></html>`,
      );
    });
    await new Promise<void>((r) => idpServer.listen(idpPort, "127.0.0.1", r));
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await new Promise((r) => idpServer?.close(r));
    await receiver?.close();
    await ctx?.close();
  });

  async function check(page: Page, name: string) {
    await assertAccessible(page, name);
    await screenshot(page, name);
  }

  /** Reload until the text shows (a role sync runs a moment after the change). */
  async function reloadUntil(page: Page, text: string | RegExp) {
    for (let i = 0; i < 100; i++) {
      if ((await page.getByText(text).count()) > 0) return;
      ctx.deps.driver.poke();
      await new Promise((r) => setTimeout(r, 200));
      await page.reload();
    }
    throw new Error(`'${text}' never appeared on ${page.url()}`);
  }

  it("operator → setup link → SSO → SCIM → mapping with preview → Members → role change → offboarding", async () => {
    const operator = await newContext(browser, base);
    const adminContext = await newContext(browser, base);
    const appUser = await newContext(browser, base);
    try {
      // 1. The operator signs in with a console:link, creates the tenant and a setup link.
      const op = await operator.newPage();
      await op.goto((await createOperatorLink(ctx.deps)).url);
      await op.getByRole("button", { name: "Continue" }).click();
      await op.waitForURL(`${base}/console/operator/tenants`);
      await op.getByLabel("Name").fill("Acme");
      await op.getByLabel("Slug").fill("acme");
      await op.getByRole("button", { name: "Create tenant" }).click();
      await op.getByText("Tenant created.").waitFor();
      // The application that embeds Roster creates the setup link (admin API) and sends it on.
      const link = await ctx.http
        .post("/admin/v1/tenants/acme/setup-links")
        .set("Authorization", `Bearer ${ctx.adminToken}`)
        .send({ scopes: ["sso", "scim", "members", "roles", "events"] })
        .expect(201);

      // 2. The tenant's admin opens it and lands on Security → SSO configuration.
      const page = await adminContext.newPage();
      const problems = collectProblems(page);
      await page.goto(link.body.url);
      await page.getByRole("button", { name: "Continue" }).click();
      await page.waitForURL(`${base}/console/t/acme/sso`);

      // 3. Picks a provider, copies the SP values, enters the IdP's details.
      await page.getByRole("link", { name: "Okta", exact: true }).click();
      await page.getByRole("button", { name: "Copy Entity ID" }).click();
      await page.locator('[data-copy-status="sp-entity-id"]').filter({ hasText: "Copied" }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${base}/sso/acme`);
      await page.getByLabel("SSO URL").fill(idp.ssoUrl);
      await page.getByLabel("IdP entity ID (issuer)").fill(idp.entityId);
      await page.getByLabel("Signing certificate (PEM)").fill(idp.keys.certificate);
      await page.getByRole("button", { name: "Save identity provider details" }).click();
      await page.getByText("Identity provider details saved").waitFor();

      // 4. Test configuration: the IdP sign-in in a new tab, the report green here, then Enable.
      const [popup] = await Promise.all([
        page.waitForEvent("popup"),
        page.getByRole("button", { name: "Test configuration" }).click(),
      ]);
      await popup.getByRole("button", { name: "Sign in at the test IdP" }).click();
      await popup.getByText("SAML test succeeded").waitFor();
      await popup.close();
      await page.getByText("Test passed: you can enable single sign-on.").waitFor({ timeout: 30_000 });
      await page.locator(".state .badge", { hasText: "tested" }).waitFor();
      await page.waitForLoadState("load");
      await page.getByRole("button", { name: "Enable SSO" }).click();
      await page.getByText("Single sign-on is enabled.").waitFor();

      // 5. Manual provisioning with a default role.
      await page.getByLabel(/Manual: invite/).check();
      await page.locator("#f-defaultRole").selectOption("member");
      await page.getByRole("button", { name: "Save provisioning preferences" }).click();
      await page.getByText("Provisioning preferences saved.").waitFor();

      // Then provisioning: the admin (who tested before anyone was provisioned) invites themselves.
      await page.goto(`${base}/console/t/acme/members/invite`);
      await check(page, "member-invite");
      await page.getByLabel("Username").fill("alice@acme.test");
      await page.getByLabel("E-mail").fill("alice@acme.test");
      await page.getByLabel("First name").fill("Alice");
      await page.getByLabel("Last name").fill("Archer");
      await page.getByRole("button", { name: "Invite" }).click();
      await page.getByText("Invitation created").waitFor();
      const alice = new URL(page.url()).pathname.split("/").at(-1)!;
      await check(page, "member-invited");

      // 6. A SCIM token, shown once, read from the page.
      await page.goto(`${base}/console/t/acme/scim`);
      await page.getByLabel("Token name").fill("Okta");
      await page.getByRole("button", { name: "Create token" }).click();
      await page.getByText("it is shown only once").waitFor();
      const token = await page.locator("#scim-new-token").inputValue();
      assert.match(token, /\S{20,}/);

      // 7. The IdP pushes users and groups through SCIM.
      const scim = scimClient(ctx, token);
      const push = async (userName: string, displayName: string) =>
        (
          await scim
            .post("/Users", userBody(userName, { displayName, emails: [{ value: userName, primary: true }] }))
            .expect(201)
        ).body.id as string;
      const bob = await push("bob@acme.test", "Bob Baker");
      const carol = await push("carol@acme.test", "Carol Cole");
      await scim
        .post("/Groups", {
          schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
          displayName: "Engineering",
          members: [{ value: alice }, { value: bob }],
        })
        .expect(201);

      // A webhook endpoint for the Events pages (its secret is shown once).
      await page.goto(`${base}/console/t/acme/events/webhooks`);
      await page.getByLabel("URL").fill(receiver.url);
      await page.getByLabel("Events").fill("user.*, access.*");
      await page.getByRole("button", { name: "Add endpoint" }).click();
      await page.getByText("it is shown only once").waitFor();
      await page.getByRole("button", { name: "Copy Signing secret" }).click();
      await page.locator('[data-copy-status="webhook-secret"]').filter({ hasText: "Copied" }).waitFor();
      assert.match(await page.evaluate(() => navigator.clipboard.readText()), /^rst_whsec_/);
      await check(page, "events-webhook-created");

      // 8. Map Engineering to admin, seeing the preview (who gains, counts, names) first.
      await page.goto(`${base}/console/t/acme/roles`);
      await check(page, "roles");
      await page.getByLabel("Group", { exact: true }).selectOption({ label: "Engineering" });
      await page.getByLabel("Role", { exact: true }).selectOption("admin");
      await page.getByRole("button", { name: "Preview" }).click();
      await page.getByText("2 members gain admin: alice@acme.test, bob@acme.test").waitFor();
      await check(page, "roles-preview");
      await page.getByRole("button", { name: "Save mapping" }).click();
      await page.getByText("Mapping saved").waitFor();

      // 9. Members shows the role with its reason.
      await page.goto(`${base}/console/t/acme/members`);
      await check(page, "members");
      await page.getByLabel("Search by name, username or e-mail").fill("ali");
      await page.getByRole("button", { name: "Search" }).click();
      await page.getByRole("link", { name: "alice@acme.test" }).first().click();
      await reloadUntil(page, "Member of group “Engineering”, mapped to this role");
      await check(page, "member-alice");

      // 10. Change a member's role: Carol gets admin by hand.
      await page.goto(`${base}/console/t/acme/members?q=carol`);
      await page.getByRole("link", { name: "Carol Cole" }).click();
      await reloadUntil(page, "Default role of the workspace");
      await page.getByLabel("Give a role by hand").selectOption("admin");
      await page.getByRole("button", { name: "Grant role" }).click();
      await page.getByText("Role granted.").waitFor();
      await reloadUntil(page, "Assigned by hand");
      await check(page, "member-carol-manual");

      // 11. Alice signs in to the application through SSO and has a session.
      const app = await appUser.newPage();
      await app.goto(`${base}/sso/acme/login`);
      await app.getByRole("button", { name: "Sign in at the test IdP" }).click();
      await app.waitForLoadState("load");
      const live = await app.goto(`${base}/sso/acme/session`);
      assert.equal(live?.status(), 200, "alice has an application session");

      // 12. The admin offboards Alice with a reason and the typed confirmation.
      await page.goto(`${base}/console/t/acme/members/${alice}`);
      await page.getByText("End session").first().waitFor();
      await page.getByText("Offboard alice@acme.test…").click();
      await page.getByLabel("Reason (kept on the receipt)").fill("Left the company");
      assert.equal(await page.getByRole("button", { name: "Offboard now" }).isDisabled(), true);
      await page.getByLabel(/Type .* to confirm/).fill("alice@acme.test");
      await check(page, "member-offboard-confirm");
      await page.getByRole("button", { name: "Offboard now" }).click();
      await page.getByText("Member offboarded").waitFor();
      await page.getByText("Left the company").first().waitFor();
      await check(page, "member-offboarded");

      // 13. Her application session is refused from the next request on.
      const dead = await app.goto(`${base}/sso/acme/session`);
      assert.equal(dead?.status(), 401, "the offboarded member's session is refused");

      // The remaining pages of this branch, each checked by axe: invitations, events, deliveries.
      await page.goto(`${base}/console/t/acme/members/invite`);
      await page.getByLabel("Username").fill("dave@acme.test");
      await page.getByLabel("Role").selectOption("admin");
      await page.getByRole("button", { name: "Invite" }).click();
      await page.getByText("Invitation created").waitFor();
      await page.goto(`${base}/console/t/acme/members?status=invited`);
      await page.getByRole("link", { name: "dave@acme.test" }).waitFor();
      await check(page, "members-invited");
      await page.goto(`${base}/console/t/acme/events?type=access.*`);
      // access.revoked follows from the revoke job, a moment after the offboarding.
      for (
        let i = 0;
        i < 100 && (await page.locator("td code", { hasText: "access.revoked" }).count()) === 0;
        i++
      ) {
        ctx.deps.driver.poke();
        await new Promise((r) => setTimeout(r, 200));
        await page.reload();
      }
      await page.locator("td code", { hasText: "access.revoked" }).first().waitFor();
      await check(page, "events");
      await page.goto(`${base}/console/t/acme/events/webhooks`);
      await page.getByRole("link", { name: receiver.url }).click();
      await check(page, "events-deliveries");

      // Phone width: the members list and a member's page fit 390 px.
      await page.setViewportSize({ width: 390, height: 844 });
      for (const [path, name] of [
        ["/console/t/acme/members", "members-390"],
        [`/console/t/acme/members/${carol}`, "member-390"],
        ["/console/t/acme/roles", "roles-390"],
      ]) {
        await page.goto(`${base}${path}`);
        await screenshot(page, name);
        assert.ok(
          await page.evaluate(() => document.documentElement.scrollWidth <= 390),
          `${name} fits 390 px`,
        );
      }
      assert.deepEqual(problems, [], "no script errors or CSP violations");
    } finally {
      await operator.close();
      await adminContext.close();
      await appUser.close();
    }
  });
});
