/**
 * Headless Chromium for the browser tests (test/browser.test.ts, test/bundlers.test.ts):
 * Debian's chromium at /usr/bin/chromium (CHROMIUM_PATH overrides), driven by puppeteer-core,
 * which never downloads a browser. A missing chromium is a failure with the install command,
 * never a silent skip.
 */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_MISSING = 'chromium is not installed: run  apt-get update && apt-get install -y chromium';

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/**
 * Throws CHROMIUM_MISSING (naming the path looked at) when there is no chromium. Call it in
 * each test that needs the browser (a `beforeEach`): a throw in `beforeAll` would leave the
 * tests counted as skipped.
 */
export function requireChromium(): void {
  if (!chromiumInstalled()) throw new Error(`${CHROMIUM_MISSING}  (looked for ${CHROMIUM_PATH})`);
}

export async function launchChromium(): Promise<Browser> {
  requireChromium();
  return puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    // A loaded 2-core machine can be slow to start a browser and to answer the protocol.
    timeout: 60_000,
    protocolTimeout: 120_000,
  });
}

/** What a page reported on its own: console errors, uncaught exceptions, failed requests. */
export type PageLog = { errors: string[]; console: string[] };

export async function openPage(browser: Browser): Promise<{ page: Page; log: PageLog }> {
  const page = await browser.newPage();
  page.setDefaultTimeout(60_000);
  page.setDefaultNavigationTimeout(60_000);
  const log: PageLog = { errors: [], console: [] };
  page.on('pageerror', (error) => log.errors.push(`uncaught: ${String((error as Error)?.message ?? error)}`));
  page.on('console', (message) => {
    log.console.push(`${message.type()}: ${message.text()}`);
    if (message.type() === 'error') log.errors.push(`console.error: ${message.text()}`);
  });
  page.on('requestfailed', (request) => log.errors.push(`request failed: ${request.method()} ${request.url()} (${request.failure()?.errorText ?? '?'})`));
  return { page, log };
}
