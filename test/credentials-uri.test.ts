/**
 * fromCredentialsUri against the emulator's credentials-URI endpoint (real HTTP on
 * 127.0.0.1 only). URIs that must not be contacted (https hosts, LAN addresses) are tested
 * with an injected fetch that records calls, or refused before any request.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, CredentialsProviderError } from '../src/errors.js';
import {
  fromCredentialsUri,
  validateCredentialsUri,
  type FromCredentialsUriOptions,
} from '../src/providers/credentials-uri.js';
import { createStsClient } from '../src/sts/client.js';
import { startEmulator, type Emulator } from '../src/testing/emulator/index.js';
import { failure, configErrorOf as configError } from './helpers.js';
import { bodyExcerpt } from '../src/internal/redact.js';

/** How credentials answers are excerpted: unknown secrets may be in them. */
const ANSWER = { max: 120, unknownSecrets: true } as const;

const ROLE = 'vended-role';
const TOKEN = 'Bearer local-vending-token-0123456789';
const SECRET = 'sEcReTvAlUe0123456789';

let emu: Emulator; // requires the Authorization header
let open: Emulator; // no header required, short lifetimes (3600 s / 1200 = 3 s)

beforeAll(async () => {
  emu = await startEmulator({
    roles: [{ name: ROLE, policies: [{ Statement: [{ Effect: 'Allow', Action: 'iot:Query*' }] }] }],
    credentialsUri: { roleName: ROLE, requireHeader: { name: 'Authorization', value: TOKEN } },
  });
  open = await startEmulator({ credentialsUri: { roleName: ROLE, path: '/v1/creds' }, timeScale: 1200 });
  for (const e of [emu, open]) if (!e.url.startsWith('http://127.0.0.1:')) throw new Error(`refusing to contact ${e.url}`);
});
afterAll(async () => {
  await emu.close();
  await open.close();
});

const providers: { close(): void }[] = [];
function uriProvider(options: FromCredentialsUriOptions) {
  const provider = fromCredentialsUri({ env: {}, ...options });
  providers.push(provider);
  return provider;
}
afterEach(() => {
  for (const p of providers.splice(0)) p.close();
});

const future = (ms = 3600_000) => new Date(Date.now() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A fetch that never touches the network: records each call and answers with `body`. */
function recordingFetch(body: unknown = { Code: 'Success', AccessKeyId: 'STS.rec', AccessKeySecret: 's', SecurityToken: 't', Expiration: future() }) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const f = vi.fn(async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(input), init });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  });
  return { fetch: f as unknown as typeof fetch, calls };
}

describe('fromCredentialsUri: where the URI comes from', () => {
  it('defaults to env ALIBABA_CLOUD_CREDENTIALS_URI; one GET, then cached', async () => {
    const before = open.callCount('CredentialsUri');
    const provider = uriProvider({ env: { ALIBABA_CLOUD_CREDENTIALS_URI: ` ${open.credentialsUri} ` } });
    const creds = await provider();
    expect(creds).toMatchObject({ source: 'credentials-uri' });
    expect(creds.accessKeyId).toMatch(/^STS\./);
    expect(creds.securityToken).toBeTruthy();
    expect(await provider()).toBe(creds);
    expect(open.callCount('CredentialsUri') - before).toBe(1);
    expect(open.requests().at(-1)).toMatchObject({ action: 'CredentialsUri', method: 'GET', path: '/v1/creds', status: 200 });
  });

  it('the uri option wins over the env variable', async () => {
    const provider = uriProvider({ uri: open.credentialsUri, env: { ALIBABA_CLOUD_CREDENTIALS_URI: 'http://127.0.0.1:9/never' } });
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
  });

  it('unset (or blank): not configured, tryNext, without any request', async () => {
    for (const env of [{}, { ALIBABA_CLOUD_CREDENTIALS_URI: '   ' }]) {
      const rec = recordingFetch();
      const e = await failure(uriProvider({ env, fetch: rec.fetch })());
      expect(e).toBeInstanceOf(CredentialsProviderError);
      expect(e).toMatchObject({ tryNext: true, provider: 'credentials-uri' });
      expect(e.message).toMatch(/ALIBABA_CLOUD_CREDENTIALS_URI is not set/);
      expect(rec.calls).toHaveLength(0);
    }
  });

  it('building the provider makes no request and never throws for an unset env variable', () => {
    const rec = recordingFetch();
    expect(() => fromCredentialsUri({ env: {}, fetch: rec.fetch }).close()).not.toThrow();
    expect(rec.calls).toHaveLength(0);
  });
});

describe('fromCredentialsUri: the transport rule (https, or http to loopback only)', () => {
  it('https is accepted (checked here with a recording fetch: nothing leaves the process)', async () => {
    const rec = recordingFetch();
    const provider = uriProvider({ uri: 'https://creds.example.com/v1/credentials?role=app', fetch: rec.fetch, headers: { Authorization: TOKEN } });
    const creds = await provider();
    expect(creds.accessKeyId).toBe('STS.rec');
    expect(rec.calls).toHaveLength(1);
    expect(rec.calls[0]!.url).toBe('https://creds.example.com/v1/credentials?role=app');
    expect(rec.calls[0]!.init).toMatchObject({ method: 'GET', redirect: 'manual', headers: { Authorization: TOKEN, Accept: 'application/json' } });
  });

  it.each(['http://127.0.0.1:8080/c', 'http://localhost:8080/c', 'http://[::1]:8080/c', 'http://127.1.2.3/c', 'HTTPS://Creds.Example.com/c'])(
    'accepts %s',
    (uri) => {
      expect(validateCredentialsUri(uri, 'uri')).toBeInstanceOf(URL);
    },
  );

  it.each([
    ['http://10.0.0.5/creds', /plain http to a host that is not loopback/],
    ['http://169.254.170.2/v2/credentials', /plain http to a host that is not loopback/],
    ['http://100.100.100.200/latest/meta-data', /plain http to a host that is not loopback/],
    ['http://creds.internal:8080/x', /plain http to a host that is not loopback/],
    ['http://127.0.0.1.nip.io/x', /plain http to a host that is not loopback/],
    ['file:///etc/passwd', /scheme file/],
    ['ftp://127.0.0.1/creds', /scheme ftp/],
    ['//127.0.0.1/creds', /not an absolute URL/],
    ['https://user:pw@creds.example.com/x', /user info/],
  ])('refuses %s with a ConfigError naming the field, without any request', async (uri, reason) => {
    const rec = recordingFetch();
    const e = configError(() => fromCredentialsUri({ uri, env: {}, fetch: rec.fetch }));
    expect(e.field).toBe('uri');
    expect(e.message).toMatch(reason);
    expect(e.message).toMatch(/https:\/\/ URL, or http:\/\/ to a loopback host/);
    // the same through the env variable: refused when called, naming the variable
    const viaEnv = uriProvider({ env: { ALIBABA_CLOUD_CREDENTIALS_URI: uri }, fetch: rec.fetch });
    const e2 = await failure(viaEnv());
    expect(e2).toBeInstanceOf(ConfigError);
    expect((e2 as ConfigError).field).toBe('ALIBABA_CLOUD_CREDENTIALS_URI');
    expect(rec.calls).toHaveLength(0);
  });

  it('never shows a query (it may carry a token) or user info in messages', () => {
    const e = configError(() => fromCredentialsUri({ uri: 'http://10.1.2.3/c?token=s3cr3t-query', env: {} }));
    expect(e.message).toContain('http://10.1.2.3/c?…');
    expect(e.message).not.toContain('s3cr3t-query');
    const e2 = configError(() => fromCredentialsUri({ uri: 'https://bob:pa55word@x.example/c', env: {} }));
    expect(e2.message).not.toContain('pa55word');
  });

  it('redirects are not followed', async () => {
    const before = open.callCount('CredentialsUri');
    open.inject({ action: 'CredentialsUri', status: 302, code: 'Found' });
    const e = await failure(uriProvider({ uri: open.credentialsUri })());
    expect(e).toMatchObject({ code: 'Redirect', retryable: false });
    expect(e.message).toMatch(/redirect \(HTTP 302\), which is not followed/);
    expect(open.callCount('CredentialsUri') - before).toBe(1);
  });
});

describe('fromCredentialsUri: headers', () => {
  it('sends the configured headers (the emulator requires Authorization)', async () => {
    const provider = uriProvider({ uri: emu.credentialsUri, headers: { Authorization: TOKEN } });
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
    expect(emu.requests().at(-1)).toMatchObject({ action: 'CredentialsUri', status: 200 });
  });

  it('without the header: HTTP 401 reported with the service Code, not retried', async () => {
    const before = emu.callCount('CredentialsUri');
    const e = await failure(uriProvider({ uri: emu.credentialsUri })());
    expect(e).toMatchObject({ code: 'HttpError', retryable: false, tryNext: false });
    expect(e.message).toMatch(/answered HTTP 401: "\{"Code":"Unauthorized"/);
    expect(emu.callCount('CredentialsUri') - before).toBe(1);
  });

  it.each(['Bearer x\r\nX-Injected: 1', 'Bearer x\nX-Injected: 1', 'Bearer x\r', 'a\0b'])(
    'a header value with CR/LF/NUL (%j) is a ConfigError that does not echo the value',
    (value) => {
      const rec = recordingFetch();
      const e = configError(() => fromCredentialsUri({ uri: 'https://creds.example.com/c', headers: { Authorization: value }, env: {}, fetch: rec.fetch }));
      expect(e.field).toBe('headers.Authorization');
      expect(e.message).toMatch(/CR, LF or NUL/);
      expect(e.message).not.toContain('Bearer');
      expect(rec.calls).toHaveLength(0);
    },
  );

  it('an invalid header name is a ConfigError', () => {
    const e = configError(() => fromCredentialsUri({ uri: 'https://creds.example.com/c', headers: { 'Bad Name': 'v' }, env: {} }));
    expect(e.field).toBe('headers');
  });

  it('validates timeoutMs and a blank uri up front', () => {
    expect(configError(() => fromCredentialsUri({ uri: 'https://x.example/c', timeoutMs: -1, env: {} })).field).toBe('timeoutMs');
    expect(configError(() => fromCredentialsUri({ uri: '  ', env: {} })).field).toBe('uri');
  });
});

describe('fromCredentialsUri: answers', () => {
  it('Code is optional, but must be "Success" when present', async () => {
    const noCode = recordingFetch({ AccessKeyId: 'STS.nocode', AccessKeySecret: 's', SecurityToken: 't', Expiration: future() });
    expect((await uriProvider({ uri: 'https://x.example/c', fetch: noCode.fetch })()).accessKeyId).toBe('STS.nocode');

    open.inject({
      action: 'CredentialsUri',
      body: JSON.stringify({ Code: 'Failed', Message: 'role not allowed', AccessKeyId: 'STS.x', AccessKeySecret: SECRET, SecurityToken: SECRET, Expiration: future() }),
    });
    const e = await failure(uriProvider({ uri: open.credentialsUri })());
    expect(e).toBeInstanceOf(CredentialsProviderError);
    expect(e).toMatchObject({ code: 'UnsuccessfulResponse', retryable: false });
    expect(e.message).toMatch(/"Failed" instead of Code "Success" \(Message: "role not allowed"\)/);
    expect(e.message).not.toContain(SECRET);
  });

  it('missing fields: InvalidResponse naming them, not their values', async () => {
    open.inject({ action: 'CredentialsUri', body: JSON.stringify({ Code: 'Success', AccessKeyId: 'STS.x', AccessKeySecret: SECRET, SecurityToken: '' }) });
    const e = await failure(uriProvider({ uri: open.credentialsUri })());
    expect(e).toMatchObject({ code: 'InvalidResponse' });
    expect(e.message).toMatch(/without SecurityToken, Expiration/);
    expect(e.message).not.toContain(SECRET);
  });

  it('non-JSON: InvalidResponse with the status and a short excerpt', async () => {
    open.inject({ action: 'CredentialsUri', body: 'html', status: 200 });
    const e = await failure(uriProvider({ uri: open.credentialsUri })());
    expect(e).toMatchObject({ code: 'InvalidResponse' });
    expect(e.message).toMatch(/answered HTTP 200 with a body that is not JSON: "<!DOCTYPE html>.*502 Bad Gateway/);
    expect(e.message.length).toBeLessThan(300);
  });

  it('the excerpt of a broken body never contains a secret', async () => {
    const truncated = `{"Code":"Success","AccessKeyId":"STS.x","AccessKeySecret":"${SECRET}","SecurityToken":"CAIS${'A'.repeat(40)}`;
    open.inject({ action: 'CredentialsUri', body: truncated });
    const e = await failure(uriProvider({ uri: open.credentialsUri })());
    expect(e.message).toMatch(/not JSON/);
    expect(e.message).not.toContain(SECRET);
    expect(e.message).not.toContain('AAAAAAAAAA');
    expect(bodyExcerpt(`token=${SECRET}&x=1`, ANSWER)).not.toContain(SECRET);
    expect(bodyExcerpt(`plain ${'k'.repeat(40)} text`, ANSWER)).toBe('plain [REDACTED] text');
  });

  it('a bad Expiration is InvalidResponse; an expired one is refused', async () => {
    const bad = recordingFetch({ AccessKeyId: 'STS.x', AccessKeySecret: 's', SecurityToken: 't', Expiration: 'tomorrow' });
    const e = await failure(uriProvider({ uri: 'https://x.example/c', fetch: bad.fetch })());
    expect(e).toMatchObject({ code: 'InvalidResponse' });
    expect(e.message).toMatch(/Expiration that is not an ISO 8601 date-time: "tomorrow"/);
    const old = recordingFetch({ AccessKeyId: 'STS.x', AccessKeySecret: 's', SecurityToken: 't', Expiration: future(-60_000) });
    expect(await failure(uriProvider({ uri: 'https://x.example/c', fetch: old.fetch })())).toMatchObject({ code: 'ExpiredCredentials' });
  });

  it('5xx is retried; then served', async () => {
    const before = open.callCount('CredentialsUri');
    open.inject({ action: 'CredentialsUri', status: 503, count: 1 });
    const creds = await uriProvider({ uri: open.credentialsUri, refresh: { retry: { retries: 2, minDelayMs: 10, maxDelayMs: 20 } } })();
    expect(creds.accessKeyId).toMatch(/^STS\./);
    expect(open.callCount('CredentialsUri') - before).toBe(2);
  });

  it('a slow answer times out (retryable Timeout)', async () => {
    open.inject({ action: 'CredentialsUri', latencyMs: 300 });
    const e = await failure(uriProvider({ uri: open.credentialsUri, timeoutMs: 100, refresh: { retry: false } })());
    expect(e).toMatchObject({ code: 'Timeout', retryable: true });
    expect(e.message).toMatch(/timed out after 100 ms/);
  });
});

describe('fromCredentialsUri: refresh', () => {
  it('refreshes before expiry (3 s credentials), never serves an expired one; the credentials are real', async () => {
    const before = open.callCount('CredentialsUri');
    const provider = uriProvider({ uri: open.credentialsUri });
    const seen: string[] = [];
    let calls = 0;
    const end = Date.now() + 4_500;
    while (Date.now() < end) {
      const c = await provider();
      calls++;
      expect(c.expiration!.getTime()).toBeGreaterThan(Date.now());
      if (seen.at(-1) !== c.accessKeyId) seen.push(c.accessKeyId);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(open.callCount('CredentialsUri') - before).toBeLessThanOrEqual(seen.length + 1);
    expect(calls).toBeGreaterThan(100);
    const who = await createStsClient({ endpoint: open.stsEndpoint, env: {} }).getCallerIdentity(await provider());
    expect(who.arn).toBe(`acs:ram::${open.accountId}:assumed-role/${ROLE}/credentials-uri`);
  });

  it('forceRefresh fetches anew; peek and close work', async () => {
    const provider = uriProvider({ uri: emu.credentialsUri, headers: { Authorization: TOKEN } });
    const a = await provider();
    expect(provider.peek()).toBe(a);
    const b = await provider({ forceRefresh: true });
    expect(b.accessKeyId).not.toBe(a.accessKeyId);
    provider.close();
    expect(await provider()).toBe(b);
  });
});
