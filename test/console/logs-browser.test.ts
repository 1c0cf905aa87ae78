/**
 * Activity → Logs and the operator's Audit log in real Chromium: a tenant admin opens the SCIM
 * request list and an entry, the sign-in traces and a refused trace; an operator opens the audit
 * log. axe-core on each page (no serious or critical violation); screenshots in
 * test-results/screenshots/logs-*.png.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
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
import { admin, createTestContext, type TestContext } from "../helpers/context.js";
import { freePort } from "../helpers/ports.js";
import { addUser, Browser as SamlBrowser, setupSso } from "../saml/sso-helpers.js";

describe("console Logs and Audit log in Chromium [sqlite]", { skip: browserSkip() }, () => {
  let ctx: TestContext;
  let server: Server;
  let browser: Browser;
  let base: string;

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    ctx = await createTestContext({ name: "sqlite" }, { env: { PUBLIC_URL: base } });
    server = createServer(ctx.app);
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    browser = await launchBrowser();
    const acme = await setupSso(ctx, "acme");
    await addUser(acme, "ann@acme.test");
    const b = new SamlBrowser(ctx);
    const id = await b.startLogin("acme");
    await b.acs("acme", await acme.idp.response(acme.opts({ nameId: "nobody@acme.test", inResponseTo: id })));
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await ctx?.close();
  });

  async function check(page: Page, name: string) {
    await page.waitForLoadState("load");
    await assertAccessible(page, name);
    await screenshot(page, `logs-${name}`);
  }

  it("a tenant admin reads the SCIM requests and sign-in traces; an operator the audit log", async () => {
    const link = await admin(ctx)
      .post("/admin/v1/tenants/acme/setup-links", { scopes: ["events"] })
      .expect(201);
    const context = await newContext(browser, base);
    const page = await context.newPage();
    const problems = collectProblems(page);
    await page.goto(link.body.url.replace("https://roster.test", base));
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByRole("link", { name: "Logs", exact: true }).click();
    await page.waitForURL(`${base}/console/t/acme/logs`);
    await check(page, "scim-requests");
    await page.locator("table a").first().click();
    await page.getByRole("heading", { name: "Request body" }).waitFor();
    await check(page, "scim-request");
    await page.getByRole("link", { name: "Sign-in traces" }).click();
    await page.waitForURL(`${base}/console/t/acme/logs/sign-ins`);
    await check(page, "sign-ins");
    await page.locator("table a").first().click();
    await page.getByRole("heading", { name: "What to do" }).waitFor();
    await check(page, "sign-in-trace");
    assert.deepEqual(problems, []);

    const opContext = await newContext(browser, base);
    const op = await opContext.newPage();
    const opProblems = collectProblems(op);
    await op.goto((await createOperatorLink(ctx.deps)).url);
    await op.getByRole("button", { name: "Continue" }).click();
    await op.waitForURL(`${base}/console/operator/tenants`);
    await op.getByRole("link", { name: "Audit log" }).click();
    await op.waitForURL(`${base}/console/operator/audit-log`);
    await op.getByRole("button", { name: "Verify the hash chains now" }).click();
    await op.getByText("intact").waitFor();
    await check(op, "audit-log");
    assert.deepEqual(opProblems, []);
  });
});
