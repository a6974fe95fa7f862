/**
 * The built universal package in a real browser: headless Chromium (Debian's /usr/bin/chromium,
 * driven by puppeteer-core; never downloaded). A missing chromium FAILS with the install command.
 *
 * 1. The conformance suite (test/conformance/*.conformance.js, the same files vitest runs in
 *    Node and workerd runs in test/conformance/workerd.test.ts) bundled with esbuild for the
 *    browser ('vitest' aliased to test/conformance/shim.js, 'alicred' resolved to dist/ through
 *    the package's exports) into a page served by the host server on 127.0.0.1; the page calls
 *    the emulator cross-origin (CORS) and the host server for OIDC tokens. Results come back
 *    through page.evaluate; a failure lists every failing case with its message.
 * 2. examples/oss-browser: the page gets credentials from a vending endpoint
 *    (createVendingHandler + toNodeListener) and uploads to the emulator's OSS with ali-oss's
 *    browser build, virtual-hosted style on *.localhost.
 *
 * `npm test` builds dist/ first (pretest); a missing dist/ is built in beforeAll.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromiumInstalled, launchChromium, openPage, requireChromium, type PageLog } from './browser/chromium.js';
import {
  answersCors,
  bundleConformance,
  conformanceDir,
  ensureDist,
  failures,
  startConformanceHost,
  type Bundle,
  type CaseResult,
  type ConformanceHost,
} from './conformance/host.js';
import type { OssBrowserExample } from '../examples/oss-browser/server.mjs';

type Report = {
  runtime: { userAgent: string; process: string; Buffer: string; require: string; subtle: string; origin: string };
  declared: string[];
  results: CaseResult[];
};

let browser: Browser | undefined;
let host: ConformanceHost | undefined;
let bundle: Bundle | undefined;
let report: Report | undefined;
let pageLog: PageLog | undefined;

// Without chromium every test of this file fails with the install command (never skipped).
beforeEach(requireChromium);

beforeAll(async () => {
  if (!chromiumInstalled()) return;
  await ensureDist();
  [browser, host, bundle] = await Promise.all([launchChromium(), startConformanceHost(), bundleConformance(join(conformanceDir, 'browser-entry.js'), 'browser')]);
  host.route('/conformance/', {
    type: 'text/html; charset=utf-8',
    body: '<!doctype html><meta charset="utf-8"><title>alicred conformance</title><script type="module" src="/conformance/suite.js"></script>',
  });
  host.route('/conformance/suite.js', { type: 'text/javascript; charset=utf-8', body: bundle.text });
  host.route('/favicon.ico', (_req, res) => void res.writeHead(204).end());

  const opened = await openPage(browser);
  pageLog = opened.log;
  const page: Page = opened.page;
  await page.goto(`${host.origin}/conformance/`, { waitUntil: 'load' });
  await page.waitForFunction(() => typeof (globalThis as { __alicredConformance?: unknown }).__alicredConformance === 'object', { timeout: 60_000 });
  const context = host.context('chromium');
  report = (await page.evaluate(
    (ctx) => (globalThis as unknown as { __alicredConformance: { run(c: unknown): Promise<unknown> } }).__alicredConformance.run(ctx),
    context,
  )) as Report;
  await page.close();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
});

describe('conformance suite in headless Chromium', () => {
  it('is bundled from the built package (dist/), with no Node built-in and no src/', () => {
    const inputs = bundle!.inputs;
    expect(inputs).toContain('dist/index.js');
    expect(inputs).toContain('dist/oss.js');
    expect(inputs.filter((p) => p.startsWith('src/'))).toEqual([]);
    expect(inputs.filter((p) => p.startsWith('node:') || p.includes('node_modules/'))).toEqual([]);
    expect(inputs.filter((p) => p.startsWith('test/conformance/')).sort()).toContain('test/conformance/shim.js');
  });

  it('runs in a real browser: no process, Buffer or require; WebCrypto present; page on the host server', () => {
    expect(report!.runtime).toMatchObject({ process: 'undefined', Buffer: 'undefined', require: 'undefined', subtle: 'function', origin: host!.origin });
    expect(report!.runtime.userAgent).toMatch(/HeadlessChrome\/\d+/);
  });

  it('the emulator answers the page origin\'s CORS preflights (the page calls it cross-origin)', async () => {
    expect(host!.context('chromium').stsEndpoint).not.toBe(host!.origin);
    expect(await answersCors(host!.emulator.url, host!.origin)).toBe(true);
  });

  it('ran every declared case', () => {
    expect(report!.declared.length).toBeGreaterThanOrEqual(35);
    expect(report!.results.map((r) => r.name)).toEqual(report!.declared);
  });

  it('every conformance case passes in Chromium', () => {
    expect(report!.results.length).toBeGreaterThanOrEqual(35);
    const failed = failures(report!.results);
    if (failed !== '') throw new Error(`${failed}\n\npage log:\n${pageLog!.errors.join('\n')}`);
  });

  it('the page logged no uncaught error, blocked (CORS) or failed request', () => {
    // Chromium logs every HTTP error answer as "Failed to load resource"; the suite provokes
    // 400, 401 and 403 on purpose (bad signature, missing header, untrusted role). Anything
    // else (a CORS block, a network failure, an uncaught exception) is a failure.
    const provoked = (e: string) => /^console\.error: Failed to load resource: the server responded with a status of 40[013] /.test(e);
    expect(pageLog!.errors.filter((e) => !provoked(e))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// examples/oss-browser
// ---------------------------------------------------------------------------

describe('examples/oss-browser: vended credentials, ali-oss browser build, upload to the emulator', () => {
  let example: OssBrowserExample | undefined;
  let page: Page | undefined;
  let log: PageLog | undefined;

  beforeAll(async () => {
    if (!chromiumInstalled()) return;
    await ensureDist();
    const { startOssBrowserExample } = await import('../examples/oss-browser/server.mjs');
    example = await startOssBrowserExample();
    ({ page, log } = await openPage(browser!));
    await page.goto(example.pageUrl, { waitUntil: 'load' });
    await page.waitForSelector('html[data-ready="true"]', { timeout: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await page?.close();
    await example?.close();
  });

  /** Fills the form, clicks Upload, and returns the page's result once it settles. */
  async function upload(fields: { token: string; key: string; content: string }, on: Page = page!): Promise<{ state: string; summary: Record<string, unknown> }> {
    const p = on;
    for (const [id, value] of Object.entries(fields)) {
      await p.$eval(`#${id}`, (el, v) => void ((el as HTMLInputElement).value = v), value);
    }
    await p.$eval('#result', (el) => void ((el as HTMLElement).dataset.state = 'submitted'));
    await p.click('#upload');
    await p.waitForSelector('#result[data-state="done"], #result[data-state="error"]', { timeout: 60_000 });
    return p.$eval('#result', (el) => ({ state: (el as HTMLElement).dataset.state ?? '', summary: JSON.parse(el.textContent ?? '{}') as Record<string, unknown> }));
  }

  it('bundles ali-oss\'s browser build and the built alicred (no src/)', () => {
    const inputs = example!.bundleInputs;
    expect(inputs.some((p) => p.endsWith('node_modules/ali-oss/dist/aliyun-oss-sdk.js'))).toBe(true);
    expect(inputs.some((p) => p.endsWith('ali-oss/lib/client.js'))).toBe(false);
    expect(inputs).toContain('dist/index.js');
    expect(inputs).toContain('dist/oss.js');
    expect(inputs.filter((p) => p.startsWith('src/'))).toEqual([]);
  });

  it('ada uploads under her prefix and reads it back, signed with vended STS credentials', async () => {
    const { state, summary } = await upload({ token: 'demo-token-ada', key: 'ada/hello.txt', content: 'hello from Chromium' });
    expect(state, JSON.stringify(summary)).toBe('done');
    expect(summary).toMatchObject({ key: 'ada/hello.txt', putStatus: 200, readBack: 'hello from Chromium' });
    expect(summary.accessKeyId).toMatch(/^STS\./);

    const emu = example!.emulator;
    const oss = emu.requests().filter((r) => r.action === 'PutObject' || r.action === 'GetObject');
    expect(oss.map((r) => [r.action, r.path, r.status, r.accessKeyId])).toEqual([
      ['PutObject', '/ada/hello.txt', 200, summary.accessKeyId],
      ['GetObject', '/ada/hello.txt', 200, summary.accessKeyId],
    ]);
    expect(oss.every((r) => r.signatureVersion === 'oss-v1' || r.signatureVersion === 'oss-v4')).toBe(true);
    // The vended session is ada's: the role's session named after her.
    const vended = emu.issued().find((c) => c.accessKeyId === summary.accessKeyId);
    expect(vended).toMatchObject({ roleName: 'browser-uploads', sessionName: 'ada' });
  });

  it('the session policy holds in the browser: ada cannot write under grace\'s prefix', async () => {
    const { state, summary } = await upload({ token: 'demo-token-ada', key: 'grace/not-yours.txt', content: 'x' });
    expect(state).toBe('error');
    expect(summary).toMatchObject({ code: 'AccessDenied', status: 403 });
  });

  it('a second user gets her own credentials; no new AssumeRole for a user already served', async () => {
    const before = example!.emulator.callCount('AssumeRole');
    const { state, summary } = await upload({ token: 'demo-token-grace', key: 'grace/notes.txt', content: 'grace was here' });
    expect(state, JSON.stringify(summary)).toBe('done');
    expect(example!.emulator.callCount('AssumeRole')).toBe(before + 1);
    expect(example!.emulator.issued().find((c) => c.accessKeyId === summary.accessKeyId)?.sessionName).toBe('grace');
    const again = await upload({ token: 'demo-token-ada', key: 'ada/second.txt', content: 'again' });
    expect(again.state).toBe('done');
    expect(example!.emulator.callCount('AssumeRole')).toBe(before + 1);
  });

  it('an unknown session token is refused by the vending endpoint, and nothing reaches OSS', async () => {
    const ossBefore = example!.emulator.callCount('PutObject');
    const { state, summary } = await upload({ token: 'not-a-session', key: 'ada/x.txt', content: 'x' });
    expect(state).toBe('error');
    expect(String(summary.message)).toMatch(/403|401|Forbidden|Unauthorized/i);
    expect(example!.emulator.callCount('PutObject')).toBe(ossBefore);
  });

  it('a page from an origin the endpoint does not allow gets a NetworkOrCorsError naming it; nothing reaches STS or OSS', async () => {
    // The same page from http://127.0.0.1:<port> instead of http://localhost:<port>: another origin.
    const other = await openPage(browser!);
    try {
      await other.page.goto(example!.pageUrl.replace('http://localhost:', 'http://127.0.0.1:'), { waitUntil: 'load' });
      await other.page.waitForSelector('html[data-ready="true"]', { timeout: 60_000 });
      const emu = example!.emulator;
      const before = [emu.callCount('AssumeRole'), emu.callCount('PutObject')];
      const { state, summary } = await upload({ token: 'demo-token-ada', key: 'ada/cors.txt', content: 'x' }, other.page);
      expect(state).toBe('error');
      expect(summary).toMatchObject({ code: 'NetworkOrCors' });
      expect(String(summary.message)).toMatch(/from a page of http:\/\/127\.0\.0\.1:\d+: blocked by CORS, or the network/);
      expect([emu.callCount('AssumeRole'), emu.callCount('PutObject')]).toEqual(before);
    } finally {
      await other.page.close();
    }
  });

  it('the page never shows a secret or a session token of vended credentials, and logged no error', async () => {
    const text = await page!.evaluate(() => document.documentElement.outerHTML);
    const secrets = example!.emulator.issued().flatMap((c) => [c.accessKeySecret, c.securityToken]);
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    for (const secret of secrets) expect(text.includes(secret)).toBe(false);
    // The refusals above are answers (403: Chromium logs "status of 403"), not failures; and
    // fromCredentialsUri cancels the body of a refusal it has read enough of (ERR_ABORTED).
    const expected = (e: string) => /status of 40[13]/.test(e) || e === `request failed: GET ${example!.vendUrl} (net::ERR_ABORTED)`;
    expect(log!.errors.filter((e) => !expected(e))).toEqual([]);
  });
});
