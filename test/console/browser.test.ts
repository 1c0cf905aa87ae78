/**
 * The console in real Chromium: an operator signs in with a console:link, creates a tenant, and
 * configures SSO for it up to Enable (provider picker, copy buttons, field errors beside the
 * field, Test configuration in a new tab with the report arriving by polling, Enable); axe-core
 * on every page of this branch (no serious or critical violation); screenshots of each page.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { inflateRawSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { createOperatorLink } from "../../src/console/links.js";
import { rolesOfUser } from "../../src/sso/roles.js";
import {
  assertAccessible,
  browserSkip,
  collectProblems,
  launchBrowser,
  newContext,
  screenshot,
} from "../helpers/browser.js";
import { admin, createTestContext, scimClient, type TestContext, userBody } from "../helpers/context.js";
import { freePort } from "../helpers/ports.js";
import { esc, TestIdp } from "../helpers/test-idp.js";

describe("console in Chromium [sqlite]", { skip: browserSkip() }, () => {
  let ctx: TestContext;
  let server: Server;
  let idpServer: Server;
  let browser: Browser;
  let base: string;
  let idp: TestIdp;
  /** Who the test IdP signs in next. */
  let idpUser = "alice@acme.test";

  before(async () => {
    const port = await freePort();
    const idpPort = await freePort();
    base = `http://127.0.0.1:${port}`;
    ctx = await createTestContext({ name: "sqlite" }, { env: { PUBLIC_URL: base } });
    await ctx.deps.driver.start();
    server = createServer(ctx.app);
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    idp = new TestIdp(`http://127.0.0.1:${idpPort}/idp`, `http://127.0.0.1:${idpPort}/sso`);
    // The test IdP's login page: one button that posts a signed response for alice to the ACS.
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
        nameId: idpUser,
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
    await ctx?.close();
  });

  async function check(page: Page, name: string) {
    await assertAccessible(page, name);
    await screenshot(page, name);
  }

  it("an operator configures SSO for a new tenant up to Enable", async () => {
    const context = await newContext(browser, base);
    try {
      const page = await context.newPage();
      const problems = collectProblems(page);
      await page.goto(`${base}/console/sign-in`);
      await check(page, "sign-in");

      const link = await createOperatorLink(ctx.deps);
      await page.goto(link.url);
      await check(page, "operator-link");
      await page.getByRole("button", { name: "Continue" }).click();
      await page.waitForURL(`${base}/console/operator/tenants`);

      await page.getByLabel("Name").fill("Acme");
      await page.getByLabel("Slug").fill("Not a slug!");
      await page.getByRole("button", { name: "Create tenant" }).click();
      // The error sits beside the field that caused it.
      await page.locator("#f-slug-error").waitFor();
      assert.equal(await page.locator("#f-slug").getAttribute("aria-invalid"), "true");
      await check(page, "operator-tenants-error");
      await page.getByLabel("Slug").fill("acme");
      await page.getByRole("button", { name: "Create tenant" }).click();
      await page.getByText("Tenant created.").waitFor();
      await check(page, "operator-tenants");

      // A directory user to test with (the IdP pushes users by SCIM).
      const tok = await admin(ctx).post("/admin/v1/tenants/acme/scim-tokens", { name: "idp" }).expect(201);
      await scimClient(ctx, tok.body.token).post(
        "/Users",
        userBody("alice@acme.test", { emails: [{ value: "alice@acme.test", primary: true }] }),
      );

      await page.goto(`${base}/console/t/acme/sso`);
      await page.getByText("not configured").first().waitFor();
      await check(page, "sso-start");
      await page.getByRole("link", { name: "Okta", exact: true }).click();
      await page.getByText("Audience URI (SP Entity ID)").first().waitFor();
      await page.getByRole("button", { name: "Copy Entity ID" }).click();
      await page.locator('[data-copy-status="sp-entity-id"]').filter({ hasText: "Copied" }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${base}/sso/acme`);
      await check(page, "sso-okta-steps");

      // A certificate that is not one: the error appears beside the certificate field.
      await page.getByLabel("SSO URL").fill(idp.ssoUrl);
      await page.getByLabel("IdP entity ID (issuer)").fill(idp.entityId);
      await page.getByLabel("Signing certificate (PEM)").fill("not a certificate");
      await page.getByRole("button", { name: "Save identity provider details" }).click();
      await page.locator("#f-certificate-error").waitFor();
      await check(page, "sso-field-error");
      await page.getByLabel("Signing certificate (PEM)").fill(idp.keys.certificate);
      await page.getByRole("button", { name: "Save identity provider details" }).click();
      await page.getByText("Identity provider details saved").waitFor();
      assert.equal(
        await page.getByRole("button", { name: "Enable SSO" }).isDisabled(),
        true,
        "Enable waits for a passing test",
      );

      // Test configuration opens the IdP sign-in in a new tab; this tab shows the report.
      const [popup] = await Promise.all([
        page.waitForEvent("popup"),
        page.getByRole("button", { name: "Test configuration" }).click(),
      ]);
      await page.getByText("Waiting for you to sign in at the IdP").waitFor();
      await check(page, "sso-test-pending");
      await popup.getByRole("button", { name: "Sign in at the test IdP" }).click();
      await popup.getByText("SAML test succeeded").waitFor();
      await popup.close();
      // The report arrives in the first tab by polling.
      await page.getByText("Test passed: you can enable single sign-on.").waitFor({ timeout: 20_000 });
      // Then the page shows itself afresh: the state is "tested" and Enable is available.
      await page.locator(".state .badge", { hasText: "tested" }).waitFor();
      await page.waitForLoadState("load");
      await check(page, "sso-test-passed");
      await page.getByRole("button", { name: "Enable SSO" }).click();
      await page.getByText("Single sign-on is enabled.").waitFor();
      assert.equal(await page.locator(".state .badge").textContent(), "enabled");
      await page.getByLabel(/Manual: invite/).check();
      await page.getByRole("button", { name: "Save provisioning preferences" }).click();
      await page.getByText("Provisioning preferences saved.").waitFor();
      await check(page, "sso-enabled");

      // Keyboard only: the first Tab reaches the skip link, which moves focus to the content, and
      // focus is visible (an outline) on every focusable control it then reaches.
      await page.goto(`${base}/console/t/acme/sso`);
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
      await page.keyboard.press("Enter");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "main");
      for (let i = 0; i < 5; i++) {
        await page.keyboard.press("Tab");
        const outline = await page.evaluate(
          () => getComputedStyle(document.activeElement as Element).outlineStyle,
        );
        assert.notEqual(outline, "none", "focus is visible");
      }

      // Phone width: no horizontal scrolling.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.reload();
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), "fits 390 px");
      await screenshot(page, "sso-enabled-390");
      await page.setViewportSize({ width: 1280, height: 800 });

      await page.goto(`${base}/console/t/acme/scim`);
      await page.getByLabel("Token name").fill("Okta");
      await page.getByRole("button", { name: "Create token" }).click();
      await page.getByText("it is shown only once").waitFor();
      await check(page, "scim");
      for (const [path, name] of [
        ["/console/operator/tenants/acme", "operator-tenant-settings"],
        ["/console/operator/tenants/acme/setup-links", "operator-setup-links"],
        ["/console/operator/admin-keys", "operator-admin-keys"],
        ["/console/operator/jobs", "operator-jobs"],
        ["/console/operator/health", "operator-health"],
      ]) {
        await page.goto(`${base}${path}`);
        await check(page, name);
      }
      assert.deepEqual(problems, [], "no script errors or CSP violations");
    } finally {
      await context.close();
    }
  });

  it("a tenant admin signs in through the tenant's SSO with a consoleRoles role; a member without it is refused", async () => {
    // Runs after the test above: acme's SSO is enabled against the test IdP, alice exists.
    const a = admin(ctx);
    const tok = await a.post("/admin/v1/tenants/acme/scim-tokens", { name: "idp 2" }).expect(201);
    await scimClient(ctx, tok.body.token).post(
      "/Users",
      userBody("bob@acme.test", { emails: [{ value: "bob@acme.test", primary: true }] }),
    );
    const tenant = await ctx.deps.db("tenants").where({ slug: "acme" }).first();
    const alice = await ctx.deps
      .db("users")
      .where({ tenant_id: tenant.id, user_name: "alice@acme.test" })
      .first();
    await a.put(`/admin/v1/tenants/acme/users/${alice.id}/roles/admin`).expect(204);
    for (let i = 0; i < 250 && !(await rolesOfUser(ctx.deps.db, tenant.id, alice.id)).includes("admin"); i++)
      await new Promise((r) => setTimeout(r, 20));

    const signIn = async (user: string) => {
      idpUser = user;
      const context = await newContext(browser, base);
      const page = await context.newPage();
      await page.goto(`${base}/console/sign-in`);
      await page.getByLabel("Workspace", { exact: true }).fill("acme");
      await page.getByRole("button", { name: "Continue with SSO" }).click();
      await page.getByRole("button", { name: "Sign in at the test IdP" }).click();
      return { context, page };
    };

    const ok = await signIn("alice@acme.test");
    try {
      // The callback page hands over with a same-site navigation (the Strict cookie rides on it).
      await ok.page.waitForURL(`${base}/console/t/acme/sso`);
      await ok.page.getByText("Tenant admin (SSO)").waitFor();
      assert.equal(await ok.page.getByRole("link", { name: "Tenants" }).count(), 0, "no operator pages");
      await screenshot(ok.page, "sso-signed-in-tenant-admin");
    } finally {
      await ok.context.close();
    }

    const refused = await signIn("bob@acme.test");
    try {
      await refused.page.getByText("does not have a role that may administer Acme").waitFor();
      await check(refused.page, "sso-sign-in-refused");
      await refused.page.goto(`${base}/console/t/acme/sso`);
      await refused.page.waitForURL(`${base}/console/sign-in`);
    } finally {
      await refused.context.close();
    }
  });
});
