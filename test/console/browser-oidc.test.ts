/**
 * The SSO page's OpenID Connect choice in real Chromium: a tenant admin (setup link) picks
 * Custom OpenID Connect, enters the details of oidc-provider on loopback, runs Test configuration
 * (the provider's own login form in the new tab), sees the report arrive, and enables it; axe-core
 * on each new page state (no serious or critical violation), screenshots in test-results/.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  assertAccessible,
  browserSkip,
  collectProblems,
  launchBrowser,
  newContext,
  screenshot,
} from "../helpers/browser.js";
import {
  admin,
  createTenantWithToken,
  createTestContext,
  scimClient,
  type TestContext,
  userBody,
} from "../helpers/context.js";
import { freePort } from "../helpers/ports.js";
import { TestOp } from "../helpers/test-op.js";

describe("console OpenID Connect set-up in Chromium [sqlite]", { skip: browserSkip() }, () => {
  let ctx: TestContext;
  let server: Server;
  let browser: Browser;
  let op: TestOp;
  let base: string;

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    ctx = await createTestContext({ name: "sqlite" }, { env: { PUBLIC_URL: base } });
    server = createServer(ctx.app);
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    op = await TestOp.start([
      {
        clientId: "roster-acme",
        clientSecret: "secret-acme-0123456789",
        redirectUris: [`${base}/sso/acme/oidc/callback`],
      },
    ]);
    op.account("ann", { email: "ann@acme.test", email_verified: true, name: "Ann Smith" });
    const { token } = await createTenantWithToken(ctx, "acme");
    await scimClient(ctx, token).post("/Users", userBody("ann@acme.test")).expect(201);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await op?.close();
    await new Promise((r) => server?.close(r));
    await ctx?.close();
  });

  async function check(page: Page, name: string) {
    await assertAccessible(page, name);
    await screenshot(page, name);
  }

  it("a tenant admin sets up Custom OpenID Connect, tests it at the provider and enables it", async () => {
    const link = await admin(ctx)
      .post("/admin/v1/tenants/acme/setup-links", { scopes: ["sso"] })
      .expect(201);
    const context = await newContext(browser, base);
    try {
      const page = await context.newPage();
      const problems = collectProblems(page);
      await page.goto(link.body.url);
      await page.getByRole("button", { name: "Continue" }).click();
      await page.waitForURL(`${base}/console/t/acme/sso`);

      await page.getByRole("link", { name: "Custom OpenID Connect" }).click();
      await page.getByText("Register the redirect URI below exactly as shown.").waitFor();
      await page.getByRole("button", { name: "Copy Redirect URI" }).click();
      await page.locator('[data-copy-status="oidc-redirect-uri"]').filter({ hasText: "Copied" }).waitFor();
      assert.equal(
        await page.evaluate(() => navigator.clipboard.readText()),
        `${base}/sso/acme/oidc/callback`,
      );
      await check(page, "oidc-custom-steps");

      // A client ID missing: the error sits beside that field, the secret is not rendered back.
      await page.getByLabel("Issuer URL").fill(op.issuer);
      await page.getByLabel("Client secret").fill("secret-acme-0123456789");
      await page.getByRole("button", { name: "Save provider details" }).click();
      await page.locator("#f-clientId-error").waitFor();
      assert.equal(await page.locator("#f-clientId").getAttribute("aria-invalid"), "true");
      assert.equal(await page.getByLabel("Client secret").inputValue(), "");
      await check(page, "oidc-field-error");

      await page.getByLabel("Client ID").fill("roster-acme");
      await page.getByLabel("Client secret").fill("secret-acme-0123456789");
      await page.getByRole("button", { name: "Save provider details" }).click();
      await page.getByText("Provider details saved").waitFor();
      await page.getByText("Set. Leave empty to keep it").waitFor();
      assert.equal(
        await page.getByRole("button", { name: "Enable OpenID Connect sign-in" }).isDisabled(),
        true,
      );

      // Test configuration: the provider's login form in a new tab; the report arrives here.
      const [popup] = await Promise.all([
        page.waitForEvent("popup"),
        page.getByRole("button", { name: "Test configuration" }).click(),
      ]);
      await page.getByText("Waiting for you to sign in at the provider").waitFor();
      await check(page, "oidc-test-pending");
      await popup.locator('input[name="login"]').fill("ann");
      await popup.locator('input[name="password"]').fill("any");
      await popup.getByRole("button", { name: "Sign-in" }).click();
      await popup.getByText("OpenID Connect test succeeded").waitFor();
      await popup.close();
      await page.getByText("Test passed: you can enable single sign-on.").waitFor({ timeout: 20_000 });
      await page.locator(".state .badge", { hasText: "tested" }).waitFor();
      await page.waitForLoadState("load");
      await check(page, "oidc-test-passed");

      await page.getByRole("button", { name: "Enable OpenID Connect sign-in" }).click();
      await page.getByText("OpenID Connect sign-in is enabled.").waitFor();
      assert.equal(await page.locator("#sign-in-uses").textContent(), "OpenID Connect");
      await check(page, "oidc-enabled");
      assert.deepEqual(problems, [], "no script errors or CSP violations");
    } finally {
      await context.close();
    }
  });
});
