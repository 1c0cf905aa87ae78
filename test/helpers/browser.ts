/**
 * Real-browser harness for the console: playwright-core driving the system Chromium (never a
 * downloaded browser), headless, one browser per suite and a fresh context per test; axe-core
 * in the page (fails on serious/critical violations); screenshots into an ignored folder.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/** Debian's chromium package (`.ci/run` installs it when missing). */
export const CHROMIUM = process.env.ROSTER_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Why the browser suites cannot run here, or undefined when they can: pass it as the suite's
 * `skip`, so `npm test` lists them as skipped with this reason instead of dropping them.
 */
export function browserSkip(): string | undefined {
  // CI installs Chromium (.ci/run): there a missing browser is a failure, not a skip.
  if (process.env.CI) return undefined;
  return existsSync(CHROMIUM)
    ? undefined
    : `no Chromium at ${CHROMIUM}: install the Debian package chromium (apt-get install -y chromium) to run the console's browser tests`;
}

/** Launch the system Chromium headless. Close it in `after()`: a live browser keeps node:test waiting. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}

/** A fresh context (cookies, storage) with clipboard permission for the given origin; close it after. */
export async function newContext(browser: Browser, origin: string): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
  return context;
}

/** Page errors and CSP violations a page reported (a test asserts there are none). */
export function collectProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // A 4xx page (a form shown again with its errors) is logged as a failed resource: not a problem.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource"))
      problems.push(`console: ${m.text()}`);
  });
  return problems;
}

/** An axe violation, short. */
export interface AxeProblem {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/** Run axe-core (WCAG 2.1 A/AA) in the page; returns the serious and critical violations. */
export async function axeViolations(page: Page): Promise<AxeProblem[]> {
  const r = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return r.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id,
      impact: String(v.impact),
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(" ")),
    }));
}

/** Throw when axe finds serious or critical violations (the message lists them). */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  const v = await axeViolations(page);
  if (v.length)
    throw new Error(
      `axe: ${what} has ${v.length} serious/critical violation(s): ${JSON.stringify(v, null, 2)}`,
    );
}

/** Where screenshots go (ignored by git). */
export const SCREENSHOT_DIR = path.resolve("test-results/screenshots");

/** Save a full-page screenshot as test-results/screenshots/<name>.png; returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9-]+/gi, "-")}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
