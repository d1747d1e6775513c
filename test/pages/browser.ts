import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Role } from '../../api/auth';

/**
 * Real Chromium for the page tests: Debian's `chromium` package (`npm test` installs it
 * when missing, scripts/test.ts), driven by playwright-core; Playwright's own browser
 * download cannot work on this project's machines. Each launch gets a fresh temporary
 * profile (Playwright creates and removes it), headless, with nothing reaching out.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = resolve(__dirname, '..', '..', 'test-results', 'pages');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run npm test (it installs Debian's chromium) or apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface Person {
  context: BrowserContext;
  page: Page;
  /** Content Security Policy violations the browser reported on this person's pages. */
  cspViolations: string[];
}

/** A person signed in through the local sign-in page, in a browser context of their own. */
export async function signIn(
  browser: Browser,
  base: string,
  who: { role: Role; staffId: string; team?: string; allTeams?: boolean },
  options: { javaScriptEnabled?: boolean } = {},
): Promise<Person> {
  const context = await browser.newContext({ baseURL: base, javaScriptEnabled: options.javaScriptEnabled ?? true, acceptDownloads: true });
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  await page.goto('/sign-in');
  await page.getByLabel(who.role === 'social_worker' ? 'Social worker' : who.role === 'manager' ? 'Manager' : 'Operations', { exact: true }).check();
  await page.getByLabel('Staff id').fill(who.staffId);
  if (who.team) await page.getByLabel('Team', { exact: true }).fill(who.team);
  if (who.allTeams) await page.getByLabel('Every team (operations)').check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('domcontentloaded');
  return { context, page, cspViolations };
}

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

/**
 * An axe-core scan of the page as it stands (WCAG 2.0 to 2.2, A and AA): no serious or
 * critical violation. axe is evaluated through the DevTools protocol, so the page's own
 * CSP (scripts from this site only) stays as it is.
 */
export async function expectAccessible(page: Page): Promise<void> {
  await page.evaluate(axeSource);
  // A string, run in the page (this project's type-check has no DOM library).
  const violations = (await page.evaluate(
    `window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } }).then((result) => result.violations)`,
  )) as AxeViolation[];
  const serious = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  expect(serious.map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${JSON.stringify(violation.nodes.map((node) => node.target))}`), page.url()).toEqual([]);
}

/** A full-page screenshot under test-results/pages/ for review. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
