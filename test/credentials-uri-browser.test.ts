/**
 * fromCredentialsUri as a browser page uses it, simulated in Node: `globalThis.location` (and
 * `document`) defined by the test and restored after each. Relative URIs, the transport rule
 * on the resolved URL, NetworkOrCorsError for a failed cross-origin fetch (not retried),
 * headers given by a function at each fetch, and fetch's `credentials` mode. Hosts that are
 * not loopback are only ever given to an injected fetch that records calls.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, CredentialsProviderError, NetworkOrCorsError, fromCredentialsUri, isCredentialsError, type FromCredentialsUriOptions } from '../src/index.js';
import { startEmulator, type Emulator } from '../src/testing/index.js';
import { configErrorOf, failure } from './helpers.js';

const future = (ms = 3600_000) => new Date(Date.now() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const ANSWER = () => ({ Code: 'Success', AccessKeyId: 'STS.browser', AccessKeySecret: 's', SecurityToken: 't', Expiration: future() });

type Call = { url: string; init: RequestInit | undefined };

/** A fetch that records each call and answers 200 with credentials, or throws `error`. */
function fakeFetch(error?: Error) {
  const calls: Call[] = [];
  const f = vi.fn(async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(input), init });
    if (error !== undefined) throw error;
    return new Response(JSON.stringify(ANSWER()), { status: 200, headers: { 'content-type': 'application/json' } });
  });
  return { fetch: f as unknown as typeof fetch, calls };
}

const g = globalThis as Record<string, unknown>;
const saved = { location: Object.getOwnPropertyDescriptor(globalThis, 'location'), document: Object.getOwnPropertyDescriptor(globalThis, 'document') };

/** Pretends to be a page at `href` (and, unless `document: false`, to have a DOM). */
function browserPage(href: string | undefined, { document = true } = {}): void {
  if (href !== undefined) Object.defineProperty(globalThis, 'location', { value: { href }, configurable: true, writable: true });
  if (document) Object.defineProperty(globalThis, 'document', { value: {}, configurable: true, writable: true });
}

const providers: { close(): void }[] = [];
function uriProvider(options: FromCredentialsUriOptions) {
  // Quick retries: the retry count is what these tests look at.
  const provider = fromCredentialsUri({ env: {}, refresh: { retry: { minDelayMs: 1, maxDelayMs: 2 } }, ...options });
  providers.push(provider);
  return provider;
}

afterEach(() => {
  for (const p of providers.splice(0)) p.close();
  for (const key of ['location', 'document'] as const) {
    const descriptor = saved[key];
    if (descriptor === undefined) delete g[key];
    else Object.defineProperty(globalThis, key, descriptor);
  }
});

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ credentialsUri: { roleName: 'web', path: '/vend' }, cors: { allowOrigins: ['http://127.0.0.1:5173'] } });
  if (!emu.url.startsWith('http://127.0.0.1:')) throw new Error(`refusing to contact ${emu.url}`);
});
afterAll(async () => {
  await emu?.close();
});

describe('fromCredentialsUri in a browser page: relative URIs', () => {
  it('resolves a relative URI against the page address (when the provider is made)', async () => {
    browserPage('https://app.example.com/dash/index.html?tab=1');
    for (const [uri, expected] of [
      ['/vend', 'https://app.example.com/vend'],
      ['vend?scope=upload', 'https://app.example.com/dash/vend?scope=upload'],
      ['//api.example.com/v1/creds', 'https://api.example.com/v1/creds'],
    ] as const) {
      const rec = fakeFetch();
      const creds = await uriProvider({ uri, fetch: rec.fetch })();
      expect(creds.accessKeyId).toBe('STS.browser');
      expect(rec.calls.map((c) => c.url)).toEqual([expected]);
    }
  });

  it('reaches a real endpoint through a relative URI on a loopback page (the emulator)', async () => {
    browserPage(`${emu.url}/app/`);
    const before = emu.callCount('CredentialsUri');
    const creds = await uriProvider({ uri: '/vend' })();
    expect(creds.accessKeyId).toMatch(/^STS\./);
    expect(emu.callCount('CredentialsUri') - before).toBe(1);
  });

  it('applies the transport rule to the resolved URL, and says when the page itself is served over http', () => {
    browserPage('http://intranet.example/app/');
    const e = configErrorOf(() => fromCredentialsUri({ uri: '/vend', env: {} }));
    expect(e).toMatchObject({ field: 'uri', code: 'InvalidUri' });
    expect(e.message).toMatch(/http:\/\/intranet\.example\/vend, resolved against this page/);
    expect(e.message).toMatch(/the page itself is on plain http \(intranet\.example\): use https/);
    // An https page asking a plain-http host: refused, without the page remark.
    browserPage('https://app.example.com/');
    const other = configErrorOf(() => fromCredentialsUri({ uri: 'http://api.example.com/vend', env: {} }));
    expect(other.message).toMatch(/plain http to a host that is not loopback/);
    expect(other.message).not.toMatch(/page itself/);
  });

  it('outside a browser a relative URI stays a ConfigError: not an absolute URL', () => {
    expect(g.location).toBeUndefined();
    const e = configErrorOf(() => fromCredentialsUri({ uri: '/vend', env: {} }));
    expect(e.message).toMatch(/uri is not an absolute URL/);
  });

  it('a relative env value resolves the same way in a page', async () => {
    browserPage('https://app.example.com/');
    const rec = fakeFetch();
    await uriProvider({ env: { ALIBABA_CLOUD_CREDENTIALS_URI: '/from-env' }, fetch: rec.fetch })();
    expect(rec.calls[0]!.url).toBe('https://app.example.com/from-env');
  });
});

describe('fromCredentialsUri in a browser page: a failed cross-origin fetch', () => {
  it('is a NetworkOrCorsError naming both origins and the fix, and is not retried', async () => {
    browserPage('https://app.example.com/dash');
    const rec = fakeFetch(new TypeError('Failed to fetch'));
    const provider = uriProvider({ uri: 'https://api.example.com/vend?t=secret-query-token', fetch: rec.fetch, headers: { Authorization: 'Bearer s3ss10n-t0ken', 'X-Tenant': 'acme' } });
    const e = await failure(provider());
    expect(e).toBeInstanceOf(NetworkOrCorsError);
    expect(e).toBeInstanceOf(CredentialsProviderError);
    expect(e).toMatchObject({ code: 'NetworkOrCors', retryable: false, tryNext: false, provider: 'credentials-uri' });
    expect(e).toMatchObject({ pageOrigin: 'https://app.example.com', endpointOrigin: 'https://api.example.com' });
    expect(e.message).toMatch(/GET https:\/\/api\.example\.com\/vend\?… failed \(Failed to fetch\) from a page of https:\/\/app\.example\.com: blocked by CORS, or the network/);
    expect(e.message).toMatch(/https:\/\/api\.example\.com must allow it \(Access-Control-Allow-Origin: https:\/\/app\.example\.com, Access-Control-Allow-Headers: Authorization, X-Tenant\)/);
    expect(e.message).toMatch(/or serve the page from https:\/\/api\.example\.com$/);
    expect(e.message).toMatch(/Failed to fetch/);
    expect(e.message).not.toMatch(/s3ss10n-t0ken|secret-query-token/);
    expect(rec.calls).toHaveLength(1); // not retried within the refresh
  });

  it("mentions Access-Control-Allow-Credentials when fetchCredentials is 'include'", async () => {
    browserPage('https://app.example.com/');
    const rec = fakeFetch(new TypeError('Load failed'));
    const e = await failure(uriProvider({ uri: 'https://api.example.com/vend', fetch: rec.fetch, fetchCredentials: 'include' })());
    expect(e).toBeInstanceOf(NetworkOrCorsError);
    expect(e.message).toMatch(/Access-Control-Allow-Credentials: true/);
    expect(e.message).not.toMatch(/Access-Control-Allow-Headers/); // only Accept was sent
  });

  it('a page with a DOM but no location: still a NetworkOrCorsError, the page origin unknown', async () => {
    browserPage(undefined);
    const rec = fakeFetch(new TypeError('Failed to fetch'));
    const e = await failure(uriProvider({ uri: 'https://api.example.com/vend', fetch: rec.fetch })());
    expect(e).toBeInstanceOf(NetworkOrCorsError);
    expect(e).toMatchObject({ pageOrigin: 'unknown', endpointOrigin: 'https://api.example.com' });
    expect(rec.calls).toHaveLength(1);
  });

  it('a same-origin failure stays a retryable NetworkError (retried)', async () => {
    browserPage('https://app.example.com/dash');
    const rec = fakeFetch(new TypeError('Failed to fetch'));
    const e = await failure(uriProvider({ uri: '/vend', fetch: rec.fetch })());
    expect(e).not.toBeInstanceOf(NetworkOrCorsError);
    expect(e).toMatchObject({ code: 'NetworkError', retryable: true });
    expect(rec.calls).toHaveLength(3); // the first try and two retries
  });

  it('outside a browser the same failure is a retryable NetworkError', async () => {
    const rec = fakeFetch(new TypeError('fetch failed'));
    const e = await failure(uriProvider({ uri: 'https://api.example.com/vend', fetch: rec.fetch })());
    expect(e).toMatchObject({ code: 'NetworkError', retryable: true });
    expect(rec.calls).toHaveLength(3);
  });

  it('a TypeError that is not a network failure (a bug) is not turned into NetworkOrCors', async () => {
    browserPage('https://app.example.com/');
    const rec = fakeFetch(new TypeError('x is not a function'));
    const e = await failure(uriProvider({ uri: 'https://api.example.com/vend', fetch: rec.fetch })());
    expect(e).toMatchObject({ code: 'RequestFailed', retryable: false });
    expect(isCredentialsError(e)).toBe(true);
  });
});

describe('fromCredentialsUri: headers as a function, fetchCredentials', () => {
  it('calls the headers function before every fetch and sends what it gives then', async () => {
    browserPage('https://app.example.com/');
    const rec = fakeFetch();
    let n = 0;
    const headers = vi.fn(async () => ({ Authorization: `Bearer session-${++n}` }));
    const provider = uriProvider({ uri: '/vend', fetch: rec.fetch, headers });
    await provider();
    await provider(); // cached: no fetch, no call
    await provider({ forceRefresh: true });
    await provider({ forceRefresh: true });
    expect(headers).toHaveBeenCalledTimes(3);
    expect(rec.calls.map((c) => (c.init?.headers as Record<string, string>).Authorization)).toEqual(['Bearer session-1', 'Bearer session-2', 'Bearer session-3']);
    expect(rec.calls.every((c) => (c.init?.headers as Record<string, string>).Accept === 'application/json')).toBe(true);
  });

  it('a synchronous headers function works too; it is called at each retry', async () => {
    let n = 0;
    const rec = { calls: [] as string[] };
    const flaky = (async (_input: string, init?: RequestInit) => {
      rec.calls.push((init?.headers as Record<string, string>)['X-Session']!);
      if (rec.calls.length === 1) return new Response('busy', { status: 503 });
      return new Response(JSON.stringify(ANSWER()), { status: 200 });
    }) as unknown as typeof fetch;
    const creds = await uriProvider({ uri: 'https://api.example.com/vend', fetch: flaky, headers: () => ({ 'X-Session': `s${++n}` }) })();
    expect(creds.accessKeyId).toBe('STS.browser');
    expect(rec.calls).toEqual(['s1', 's2']);
  });

  it('what the function returns is checked like fixed headers (ConfigError), per fetch', async () => {
    const rec = fakeFetch();
    const bad = await failure(uriProvider({ uri: 'https://api.example.com/vend', fetch: rec.fetch, headers: () => ({ Authorization: 'Bearer a\r\nX-Injected: 1' }) })());
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad).toMatchObject({ field: 'headers.Authorization' });
    expect(bad.message).not.toMatch(/X-Injected/);
    const notObject = await failure(uriProvider({ uri: 'https://api.example.com/vend', fetch: rec.fetch, headers: (() => 'token') as unknown as () => Record<string, string> })());
    expect(notObject.message).toMatch(/headers\(\) must return an object/);
    expect(rec.calls).toHaveLength(0);
  });

  it('a headers function that throws fails the call (its error wrapped), without a fetch', async () => {
    const rec = fakeFetch();
    const e = await failure(uriProvider({ uri: 'https://api.example.com/vend', fetch: rec.fetch, headers: () => { throw new Error('signed out'); } })());
    expect(e.message).toMatch(/signed out/);
    expect(rec.calls).toHaveLength(0);
  });

  it("passes fetchCredentials as fetch's credentials, and sends no credentials key without it", async () => {
    for (const mode of ['omit', 'same-origin', 'include'] as const) {
      const rec = fakeFetch();
      await uriProvider({ uri: 'https://api.example.com/vend', fetch: rec.fetch, fetchCredentials: mode })();
      expect(rec.calls[0]!.init).toMatchObject({ credentials: mode, method: 'GET', redirect: 'manual' });
    }
    const rec = fakeFetch();
    await uriProvider({ uri: 'https://api.example.com/vend', fetch: rec.fetch })();
    expect('credentials' in rec.calls[0]!.init!).toBe(false);
    const e = configErrorOf(() => fromCredentialsUri({ uri: 'https://api.example.com/vend', fetchCredentials: 'always' as 'include', env: {} }));
    expect(e.field).toBe('fetchCredentials');
  });
});
