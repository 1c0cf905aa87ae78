/**
 * Security → Domains & policy in real Chromium: the tenant admin adds a domain (a consumer
 * domain's error beside the field), copies the TXT record's name and value, publishes them on a
 * real DNS server on loopback, verifies, reads the Require SSO checklist, names a break-glass
 * e-mail, turns Require SSO on, arms and disarms break-glass, turns it off, deletes the domain
 * after typing it. axe-core on each state (no serious or critical violation); screenshots in
 * test-results/screenshots/domains-*.png.
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
import { admin, createTestContext, type TestContext } from "../helpers/context.js";
import { TestDnsServer } from "../helpers/dns-server.js";
import { freePort } from "../helpers/ports.js";
import { setupSso } from "../saml/sso-helpers.js";

describe("console Domains & policy in Chromium [sqlite]", { skip: browserSkip() }, () => {
  let ctx: TestContext;
  let server: Server;
  let browser: Browser;
  let base: string;
  const dns = new TestDnsServer();

  before(async () => {
    await dns.start();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    ctx = await createTestContext(
      { name: "sqlite" },
      { env: { PUBLIC_URL: base, ROSTER_DNS_SERVERS: dns.address } },
    );
    server = createServer(ctx.app);
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    browser = await launchBrowser();
    await setupSso(ctx, "acme");
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await ctx?.close();
    await dns.close();
  });

  async function check(page: Page, name: string) {
    await page.waitForLoadState("load");
    await assertAccessible(page, name);
    await screenshot(page, `domains-${name}`);
  }

  it("a tenant admin verifies a domain and turns Require SSO on and off", async () => {
    const link = await admin(ctx)
      .post("/admin/v1/tenants/acme/setup-links", { scopes: ["sso"] })
      .expect(201);
    const context = await newContext(browser, base);
    const page = await context.newPage();
    const problems = collectProblems(page);
    await page.goto(link.body.url.replace("https://roster.test", base));
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("link", { name: "Domains & policy" }).click();
    await page.waitForURL(`${base}/console/t/acme/domains`);
    await check(page, "empty");

    // A consumer domain: the error is beside the field.
    await page.getByLabel("Domain", { exact: true }).fill("gmail.com");
    await page.getByRole("button", { name: "Add domain" }).click();
    await page.locator("#f-domain-error").filter({ hasText: "public e-mail provider" }).waitFor();
    await check(page, "error");

    await page.getByLabel("Domain", { exact: true }).fill("acme.test");
    await page.getByRole("button", { name: "Add domain" }).click();
    await page.getByText("Domain added: publish the TXT record").waitFor();
    await check(page, "pending");
    await page.getByRole("button", { name: "Copy TXT record name" }).click();
    const name = await page.evaluate(() => navigator.clipboard.readText());
    await page.getByRole("button", { name: "Copy TXT record value" }).click();
    const value = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(name, "_roster-challenge.acme.test");
    assert.match(value, /^roster-verify=/);
    dns.setTxt(name, value);
    await page.getByRole("button", { name: "Verify acme.test now" }).click();
    await page.getByText("The domain is verified.").waitFor();
    await page.locator(".badge", { hasText: "verified" }).first().waitFor();

    // Require SSO: refused in words until a break-glass e-mail is named.
    await page.getByRole("button", { name: "Turn Require SSO on" }).click();
    await page.getByText("Name at least one break-glass e-mail").first().waitFor();
    await check(page, "refused");
    await page.getByLabel("Break-glass e-mails").fill("it@acme.test");
    await page.getByRole("button", { name: "Save break-glass e-mails" }).click();
    await page.getByText("Break-glass e-mails saved.").waitFor();
    await page.getByRole("button", { name: "Turn Require SSO on" }).click();
    await page.getByText("Require SSO is on").waitFor();

    await page.getByLabel("Reason").fill("IdP outage drill");
    await page.getByRole("button", { name: "Arm break-glass" }).click();
    await page.getByText("may sign in without SSO until").waitFor();
    await check(page, "armed");
    await page.getByRole("button", { name: "Disarm it@acme.test" }).click();
    await page.getByText("Break-glass disarmed.").waitFor();
    await page.getByRole("button", { name: "Turn Require SSO off" }).click();
    await page.getByText("Require SSO is off.").waitFor();

    await page.getByText("Delete acme.test…").click();
    await page.getByLabel(/Type .* to confirm/).fill("acme.test");
    await page.getByRole("button", { name: "Delete domain" }).click();
    await page.getByText("Domain deleted.").waitFor();
    await check(page, "deleted");
    assert.deepEqual(problems, []);
    await context.close();
  });
});
