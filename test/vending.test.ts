/**
 * createVendingHandler end to end against the emulator (real STS calls, signatures and session
 * policies judged by it), toNodeListener on a real http server, and both alicred's
 * fromCredentialsUri and the peer @alicloud/credentials reading the answer. Everything on
 * 127.0.0.1; the peer runs in a child process whose network is fenced to loopback
 * (test/reliability/peer-preload.mjs).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import RPCClient from '@alicloud/pop-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  createCredentials,
  createStsClient,
  createVendingHandler,
  fromCredentialsUri,
  fromStatic,
  type CredentialProvider,
  type VendingHandlerOptions,
} from '../src/index.js';
import { toNodeListener, type NodeListenerOptions } from '../src/node/index.js';
import { startEmulator, type Emulator } from '../src/testing/index.js';
import { configErrorOf } from './helpers.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const PRELOAD = join(root, 'test', 'reliability', 'peer-preload.mjs');
const CHILD = join(root, 'test', 'reliability', 'peer-child.mjs');

const vendor = { accessKeyId: 'LTAI5tVendorServer000001', accessKeySecret: 'vendor-server-secret-0123' };
const PAGE = 'https://app.example.com';
const IOT_VERSION = '2018-01-20';
const TOKENS: Record<string, string> = { 'Bearer alice-token': 'user-alice', 'Bearer bob-token': 'user-bob', 'Bearer bad-name': 'no spaces allowed' };
const iotRead = { Version: '1', Statement: [{ Effect: 'Allow', Action: 'iot:Query*', Resource: '*' }] };

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({
    users: [
      { name: 'vendor', ...vendor },
      { name: 'stranger', accessKeyId: 'LTAI5tStranger0000000001', accessKeySecret: 'stranger-secret-0123' },
    ],
    roles: [
      { name: 'web', trustedUsers: ['vendor'], policies: [{ Statement: [{ Effect: 'Allow', Action: ['iot:*', 'oss:*'] }] }] },
      { name: 'locked', trustedUsers: ['stranger'] },
    ],
  });
  if (!emu.url.startsWith('http://127.0.0.1:')) throw new Error(`refusing to contact ${emu.url}`);
});
afterAll(async () => {
  await emu?.close();
});

/** A source that counts its calls. */
function countingSource(): CredentialProvider & { calls: number } {
  const inner = fromStatic(vendor);
  const source = Object.assign(async () => {
    source.calls++;
    return inner();
  }, { calls: 0 });
  return source;
}

/** The token of a request: its Authorization header, or (for clients that send no header) `?token=`. */
function tokenOf(request: Request): string | null {
  const query = new URL(request.url).searchParams.get('token');
  return request.headers.get('authorization') ?? (query === null ? null : `Bearer ${query}`);
}

const warnings: string[] = [];
afterEach(() => {
  warnings.length = 0;
});

/** A handler of role `web` with the usual callers, IoT reads only unless `?scope=full`. */
function handler(overrides: Partial<VendingHandlerOptions> = {}) {
  const source = countingSource();
  const vend = createVendingHandler({
    source,
    roleArn: emu.roleArn('web'),
    allowOrigins: [PAGE, 'http://localhost:5173'],
    authorize: async (request) => {
      const token = tokenOf(request);
      if (token === 'Bearer peer-token') return { sessionName: 'peer' };
      const name = token === null ? undefined : TOKENS[token];
      return name === undefined ? null : { sessionName: name };
    },
    policyFor: (request) => {
      const scope = new URL(request.url).searchParams.get('scope');
      if (scope === 'full') return null;
      if (scope !== null) return { Version: '1', Statement: [{ Effect: 'Allow', Action: `iot:${scope}`, Resource: '*' }] };
      return JSON.stringify(iotRead);
    },
    sts: { endpoint: emu.stsEndpoint, env: {} },
    logger: { warn: (m: string) => warnings.push(m) },
    ...overrides,
  });
  return { vend, source };
}

function get(path = '/vend', headers: Record<string, string> = {}, method = 'GET'): Request {
  return new Request(`https://api.example.com${path}`, { method, headers });
}

type Answer = { Code: string; AccessKeyId: string; AccessKeySecret: string; SecurityToken: string; Expiration: string; Message?: string };
async function body(response: Response): Promise<Answer> {
  return (await response.json()) as Answer;
}

const corsHeaders = (r: Response) => {
  const names: string[] = [];
  r.headers.forEach((_value, name) => names.push(name));
  return names.filter((k) => k.startsWith('access-control-'));
};

function iot(answer: Answer) {
  return new RPCClient({
    accessKeyId: answer.AccessKeyId,
    accessKeySecret: answer.AccessKeySecret,
    securityToken: answer.SecurityToken,
    endpoint: emu.url,
    apiVersion: IOT_VERSION,
  });
}
const call = (client: RPCClient, action: string) =>
  client.request<{ Success?: boolean }>(action, { ProductKey: 'a1', DeviceName: 'd1', CurrentPage: 1, PageSize: 10 }, { method: 'POST' }).then(
    (r) => (r.Success === true ? 'ok' : 'no'),
    (e: { code?: string }) => e.code ?? 'error',
  );

/** What no error body may show: account, ARNs, STS codes and messages, policies. */
function expectGeneric(text: string): void {
  expect(text).not.toMatch(/1234567890123456|acs:|arn|NoPermission|EntityNotExist|ServiceUnavailable\.|Statement|iot:|role|RequestId/i);
  expect(text.length).toBeLessThan(120);
}

describe('createVendingHandler: an authorized caller', () => {
  it('gets working credentials of its own session (GetCallerIdentity shows the session name), no-store JSON', async () => {
    const { vend } = handler();
    const response = await vend(get('/vend', { Authorization: 'Bearer alice-token' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('vary')).toBe('Origin');
    expect(corsHeaders(response)).toEqual([]); // no Origin: no CORS
    const answer = await body(response);
    expect(answer).toMatchObject({ Code: 'Success', AccessKeyId: expect.stringMatching(/^STS\./) });
    expect(answer.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const lifetime = Date.parse(answer.Expiration) - Date.now();
    expect(lifetime).toBeGreaterThan(850_000);
    expect(lifetime).toBeLessThanOrEqual(900_000);
    const creds = createCredentials({ accessKeyId: answer.AccessKeyId, accessKeySecret: answer.AccessKeySecret, securityToken: answer.SecurityToken, source: 'test' });
    const who = await createStsClient({ endpoint: emu.stsEndpoint, env: {} }).getCallerIdentity(creds);
    expect(who.arn).toBe(`acs:ram::${emu.accountId}:assumed-role/web/user-alice`);
    expect(emu.issued().find((i) => i.accessKeyId === answer.AccessKeyId)?.sessionName).toBe('user-alice');
  });

  it('the session policy is applied: reads allowed, a write refused; null gives the full role', async () => {
    const { vend } = handler();
    const narrow = iot(await body(await vend(get('/vend', { Authorization: 'Bearer alice-token' }))));
    expect(await call(narrow, 'QueryProductList')).toBe('ok');
    expect(await call(narrow, 'DeleteProduct')).toBe('Forbidden.RAM');
    const full = iot(await body(await vend(get('/vend?scope=full', { Authorization: 'Bearer alice-token' }))));
    expect(await call(full, 'DeleteProduct')).toBe('ok');
    const other = iot(await body(await vend(get('/vend?scope=DeleteProduct', { Authorization: 'Bearer alice-token' }))));
    expect(await call(other, 'DeleteProduct')).toBe('ok');
    expect(await call(other, 'QueryProductList')).toBe('Forbidden.RAM');
  });

  it('caches per caller: two calls make one AssumeRole; another caller or another policy gets its own', async () => {
    const { vend } = handler();
    const before = emu.callCount('AssumeRole');
    const a1 = await body(await vend(get('/vend', { Authorization: 'Bearer alice-token' })));
    const a2 = await body(await vend(get('/vend', { Authorization: 'Bearer alice-token' })));
    expect(a2.AccessKeyId).toBe(a1.AccessKeyId);
    expect(emu.callCount('AssumeRole') - before).toBe(1);
    const b = await body(await vend(get('/vend', { Authorization: 'Bearer bob-token' })));
    expect(b.AccessKeyId).not.toBe(a1.AccessKeyId);
    expect(emu.issued().find((i) => i.accessKeyId === b.AccessKeyId)?.sessionName).toBe('user-bob');
    const a3 = await body(await vend(get('/vend?scope=full', { Authorization: 'Bearer alice-token' })));
    expect(a3.AccessKeyId).not.toBe(a1.AccessKeyId);
    expect(emu.callCount('AssumeRole') - before).toBe(3);
    // Concurrent first calls of one caller share one AssumeRole too.
    const { vend: fresh } = handler();
    const all = await Promise.all(Array.from({ length: 10 }, () => fresh(get('/vend', { Authorization: 'Bearer bob-token' })).then(body)));
    expect(new Set(all.map((x) => x.AccessKeyId)).size).toBe(1);
    expect(emu.callCount('AssumeRole') - before).toBe(4);
  });

  it('caps AssumeRole calls per caller (429 with Retry-After), others unaffected, and the window slides', async () => {
    let now = 1_000_000;
    const { vend } = handler({ maxAssumeRolePerCaller: 2, rateWindowSeconds: 60, clock: () => now });
    const alice = (scope: string) => vend(get(`/vend?scope=${scope}`, { Authorization: 'Bearer alice-token' }));
    expect((await alice('QueryProductList')).status).toBe(200);
    now += 10_000;
    expect((await alice('QueryDeviceDetail')).status).toBe(200);
    const before = emu.callCount('AssumeRole');
    const limited = await alice('DeleteProduct');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('50');
    expectGeneric(await limited.text());
    expect(emu.callCount('AssumeRole')).toBe(before);
    expect(warnings.some((w) => /user-alice is over its cap of 2/.test(w))).toBe(true);
    // Cached answers are not AssumeRole calls: still served.
    expect((await alice('QueryProductList')).status).toBe(200);
    expect((await vend(get('/vend', { Authorization: 'Bearer bob-token' }))).status).toBe(200);
    now += 50_001; // the first call left the window
    expect((await alice('DeleteProduct')).status).toBe(200);
    expect((await alice('UpdateProduct')).status).toBe(429);
  });
});

describe('createVendingHandler: refusals', () => {
  it('401 without credentials, 403 with wrong ones; neither calls the source or STS', async () => {
    const { vend, source } = handler();
    const before = emu.callCount();
    const none = await vend(get());
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await body(none)).toEqual({ Code: 'Unauthorized', Message: 'authentication required' });
    const wrong = await vend(get('/vend', { Authorization: 'Bearer nope' }));
    expect(wrong.status).toBe(403);
    expect(await body(wrong)).toEqual({ Code: 'Forbidden', Message: 'not allowed' });
    expect((await vend(get('/vend', { Cookie: 'sid=unknown' }))).status).toBe(403);
    expect(source.calls).toBe(0);
    expect(emu.callCount()).toBe(before);
  });

  it('a request from an Origin not allowed: 403 without any CORS header, before authorize', async () => {
    let asked = 0;
    const { vend, source } = handler({ authorize: async () => (asked++, { sessionName: 'user-alice' }) });
    for (const origin of ['https://evil.example', 'null', 'https://app.example.com:8443', 'http://app.example.com']) {
      const response = await vend(get('/vend', { Authorization: 'Bearer alice-token', Origin: origin }));
      expect(response.status).toBe(403);
      expect(corsHeaders(response)).toEqual([]);
      expectGeneric(await response.text());
      const preflight = await vend(get('/vend', { Origin: origin, 'Access-Control-Request-Method': 'GET' }, 'OPTIONS'));
      expect(preflight.status).toBe(403);
      expect(corsHeaders(preflight)).toEqual([]);
    }
    expect(asked).toBe(0);
    expect(source.calls).toBe(0);
  });

  it('only GET and OPTIONS: others 405 with Allow', async () => {
    const { vend, source } = handler();
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD', 'PATCH']) {
      const response = await vend(get('/vend', { Authorization: 'Bearer alice-token', Origin: PAGE }, method));
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, OPTIONS');
      expect(response.headers.get('access-control-allow-origin')).toBe(PAGE);
    }
    expect(source.calls).toBe(0);
  });
});

describe('createVendingHandler: CORS', () => {
  it('an allowed Origin gets its origin echoed, Date exposed, and no credentials flag unless asked', async () => {
    const { vend } = handler();
    const response = await vend(get('/vend', { Authorization: 'Bearer alice-token', Origin: PAGE }));
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(response.headers.get('access-control-expose-headers')).toMatch(/Date/);
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('vary')).toBe('Origin');
    const refused = await vend(get('/vend', { Origin: 'http://localhost:5173' }));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('http://localhost:5173'); // the page can read the 401
    const { vend: withCookies } = handler({ allowCredentials: true });
    const credentialed = await withCookies(get('/vend', { Authorization: 'Bearer alice-token', Origin: PAGE }));
    expect(credentialed.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('answers a preflight 204: method GET, Authorization and the configured headers, max age', async () => {
    const { vend, source } = handler({ allowHeaders: ['X-Session-Token'], maxAgeSeconds: 300 });
    const response = await vend(get('/vend', { Origin: PAGE, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' }, 'OPTIONS'));
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(response.headers.get('access-control-allow-methods')).toBe('GET');
    expect(response.headers.get('access-control-allow-headers')).toBe('Authorization, X-Session-Token');
    expect(response.headers.get('access-control-max-age')).toBe('300');
    expect(response.headers.get('vary')).toBe('Origin');
    expect(await response.text()).toBe('');
    expect(source.calls).toBe(0);
    // A configured header counts as presented credentials: 403, not 401.
    expect((await vend(get('/vend', { 'X-Session-Token': 'zzz' }))).status).toBe(403);
  });
});

describe('createVendingHandler: failures answer generic bodies and log the reason', () => {
  it('STS refusing the role: 500, no ARN, account or STS message in the body; the reason logged', async () => {
    const { vend } = handler({ roleArn: emu.roleArn('locked') });
    const response = await vend(get('/vend', { Authorization: 'Bearer alice-token', Origin: PAGE }));
    expect(response.status).toBe(500);
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ Code: 'InternalError', Message: 'the credentials could not be issued' });
    expectGeneric(text);
    expect(warnings.join('\n')).toMatch(/could not issue credentials for session user-alice: .*NoPermission/);
    expect(warnings.join('\n')).not.toContain(vendor.accessKeySecret);
  });

  it('a retryable STS failure: 503 with Retry-After, generic', async () => {
    const { vend } = handler();
    emu.inject({ action: 'AssumeRole', status: 503, count: 1 });
    const response = await vend(get('/vend', { Authorization: 'Bearer bob-token' }));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expectGeneric(await response.text());
    expect((await vend(get('/vend', { Authorization: 'Bearer bob-token' }))).status).toBe(200);
  });

  it('a session name STS would refuse: 500, logged, no STS call', async () => {
    const { vend, source } = handler();
    const before = emu.callCount('AssumeRole');
    const response = await vend(get('/vend', { Authorization: 'Bearer bad-name' }));
    expect(response.status).toBe(500);
    expectGeneric(await response.text());
    expect(warnings.join('\n')).toMatch(/session name "no spaces allowed", which STS refuses/);
    expect(emu.callCount('AssumeRole')).toBe(before);
    expect(source.calls).toBe(0);
  });

  it('authorize or policyFor throwing, policyFor returning undefined or a bad policy: 500, logged, no STS call', async () => {
    const before = emu.callCount('AssumeRole');
    const cases: [Partial<VendingHandlerOptions>, RegExp][] = [
      [{ authorize: async () => { throw new Error('session store down'); } }, /authorize threw: session store down/],
      [{ policyFor: () => { throw new Error('no policy for you'); } }, /policyFor for session user-alice: no policy for you/],
      [{ policyFor: () => undefined as unknown as null }, /returned undefined: return a policy, or null/],
      [{ policyFor: () => 'not json' }, /policy: must be valid JSON/],
      [{ policyFor: () => ({ Statement: 'x'.repeat(3000) }) }, /policy: must be 1-2048 characters/],
      [{ authorize: async () => ({ name: 'x' }) as unknown as { sessionName: string } }, /no sessionName string/],
    ];
    for (const [overrides, logged] of cases) {
      const { vend } = handler(overrides);
      const response = await vend(get('/vend', { Authorization: 'Bearer alice-token' }));
      expect(response.status).toBe(500);
      expectGeneric(await response.text());
      expect(warnings.join('\n')).toMatch(logged);
    }
    expect(emu.callCount('AssumeRole')).toBe(before);
  });
});

describe('createVendingHandler: options checked at creation', () => {
  const base = (): VendingHandlerOptions => ({
    source: fromStatic(vendor),
    roleArn: emu.roleArn('web'),
    allowOrigins: [],
    authorize: async () => null,
    policyFor: () => null,
    sts: { endpoint: emu.stsEndpoint, env: {} },
  });
  it.each([
    ['policyFor missing', { policyFor: undefined }, 'policyFor', /policyFor is required/],
    ['authorize missing', { authorize: undefined }, 'authorize', /authorize is required/],
    ['source missing', { source: undefined }, 'source', /source is required/],
    ["'*' among the origins", { allowOrigins: ['*'] }, 'allowOrigins', /must not contain "\*"/],
    ['allowOrigins missing', { allowOrigins: undefined }, 'allowOrigins', /must be an array/],
    ['an origin with a path', { allowOrigins: ['https://app.example.com/'] }, 'allowOrigins', /not an origin as browsers send it/],
    ['an http origin not loopback', { allowOrigins: ['http://app.example.com'] }, 'allowOrigins', /plain http/],
    ['a bad role ARN', { roleArn: 'web' }, 'roleArn', /not a role ARN/],
    ['a duration under 900 s', { durationSeconds: 60 }, 'durationSeconds', /out of range/],
    ['a bad allowHeaders', { allowHeaders: ['Bad Header'] }, 'allowHeaders', /header names/],
    ['a zero cap', { maxAssumeRolePerCaller: 0 }, 'maxAssumeRolePerCaller', /positive/],
  ])('%s: ConfigError', (_name, overrides, field, message) => {
    const e = configErrorOf(() => createVendingHandler({ ...base(), ...(overrides as Partial<VendingHandlerOptions>) }));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
  });

  it('accepts loopback http origins and an empty list', () => {
    expect(() => createVendingHandler({ ...base(), allowOrigins: ['http://localhost:5173', 'http://127.0.0.1:8080', 'http://[::1]:3000'] })).not.toThrow();
  });
});

// --- over real HTTP: toNodeListener ---

const servers: Server[] = [];
async function serve(listener: ReturnType<typeof toNodeListener>): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** One raw HTTP exchange (for requests fetch will not make). */
function raw(base: string, text: string): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolvePromise, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(text));
    let out = '';
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('end', () => resolvePromise(out));
    socket.on('error', reject);
  });
}

describe('toNodeListener and fromCredentialsUri over real HTTP', () => {
  it('fromCredentialsUri reads the handler mounted on http.createServer; the credentials work', async () => {
    const { vend } = handler();
    const base = await serve(toNodeListener(vend));
    const provider = fromCredentialsUri({ uri: `${base}/vend`, headers: async () => ({ Authorization: 'Bearer alice-token' }), env: {} });
    try {
      const creds = await provider();
      expect(creds.accessKeyId).toMatch(/^STS\./);
      expect(creds.expiration!.getTime() - Date.now()).toBeGreaterThan(850_000);
      const who = await createStsClient({ endpoint: emu.stsEndpoint, env: {} }).getCallerIdentity(creds);
      expect(who.arn).toMatch(/assumed-role\/web\/user-alice$/);
      // Refused: the provider reports the status, without a retry storm on 403.
      const denied = fromCredentialsUri({ uri: `${base}/vend`, headers: { Authorization: 'Bearer nope' }, env: {} });
      await expect(denied()).rejects.toMatchObject({ code: 'HttpError', retryable: false });
      denied.close();
    } finally {
      provider.close();
    }
  });

  it('the handler sees an absolute URL, the headers and the method; HEAD and a preflight come back whole', async () => {
    let seen: Request | undefined;
    const base = await serve(
      toNodeListener(async (request) => {
        seen = request;
        const headers = new Headers({ 'content-type': 'text/plain' });
        headers.append('set-cookie', 'a=1');
        headers.append('set-cookie', 'b=2');
        return new Response(request.method === 'OPTIONS' ? null : 'hello', { status: request.method === 'OPTIONS' ? 204 : 200, headers });
      }),
    );
    const response = await fetch(`${base}/vend?x=1`, { headers: { 'X-Test': 'yes' } });
    expect(await response.text()).toBe('hello');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(seen!.url).toBe(`${base}/vend?x=1`);
    expect(seen!.headers.get('x-test')).toBe('yes');
    expect(seen!.method).toBe('GET');
    const head = await fetch(`${base}/vend`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const options = await fetch(`${base}/vend`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
  });

  it('never crashes on a handler that throws or returns garbage: 500 generic, the server keeps serving', async () => {
    const logged: string[] = [];
    const options: NodeListenerOptions = { logger: { warn: (m: string) => logged.push(m) } };
    let mode = 'throw';
    const base = await serve(
      toNodeListener(async () => {
        if (mode === 'throw') throw new Error('handler bug: token=abc');
        if (mode === 'garbage') return 'not a response' as unknown as Response;
        if (mode === 'broken-body') {
          const body = new ReadableStream({ pull: (c) => c.error(new Error('stream broke')) });
          return new Response(body, { status: 200 });
        }
        return new Response('fine');
      }, options),
    );
    const first = await fetch(`${base}/`);
    expect(first.status).toBe(500);
    expect(await first.json()).toEqual({ Code: 'InternalError', Message: 'internal error' });
    expect(first.headers.get('cache-control')).toBe('no-store');
    mode = 'garbage';
    expect((await fetch(`${base}/`)).status).toBe(500);
    mode = 'broken-body';
    await expect(fetch(`${base}/`).then((r) => r.text())).rejects.toThrow();
    mode = 'fine';
    expect(await (await fetch(`${base}/`)).text()).toBe('fine');
    expect(logged.join('\n')).toMatch(/the handler threw: handler bug/);
    expect(logged.join('\n')).toMatch(/returned string, not a Response/);
  });

  it('caps header sizes (431) and URL length (414); a request without Host is 400; a body is not forwarded', async () => {
    let called = 0;
    const base = await serve(
      toNodeListener(
        async (request) => {
          called++;
          return new Response(`${request.method} ${request.body === null ? 'no body' : 'body'}`);
        },
        { maxHeaderBytes: 1024, maxUrlBytes: 256 },
      ),
    );
    expect((await fetch(`${base}/`, { headers: { 'X-Big': 'x'.repeat(2000) } })).status).toBe(431);
    expect((await fetch(`${base}/${'p'.repeat(300)}`)).status).toBe(414);
    const noHost = await raw(base, 'GET /vend HTTP/1.0\r\n\r\n');
    expect(noHost).toMatch(/^HTTP\/1\.1 400/);
    const badHost = await raw(base, 'GET /vend HTTP/1.1\r\nHost: evil.example/path\r\nConnection: close\r\n\r\n');
    expect(badHost).toMatch(/^HTTP\/1\.1 400/);
    const trace = await raw(base, 'TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(trace).toMatch(/^HTTP\/1\.1 405/);
    expect(called).toBe(0);
    const post = await fetch(`${base}/`, { method: 'POST', body: 'x'.repeat(10_000) });
    expect(await post.text()).toBe('POST no body');
  });
});

describe('the peer @alicloud/credentials reads the vending answer', () => {
  it('its credentials_uri provider (default chain, ALIBABA_CLOUD_CREDENTIALS_URI) gets the caller its credentials', async () => {
    const { vend } = handler();
    const base = await serve(toNodeListener(vend));
    const home = await mkdtemp(join(tmpdir(), 'alicred-vending-peer-'));
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', PRELOAD, CHILD, JSON.stringify({ steps: [{}] })], {
        cwd: root,
        timeout: 20_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
          ALIBABA_CLOUD_CREDENTIALS_URI: `${base}/vend?token=peer-token`,
          NODE_OPTIONS: `--import=${PRELOAD}`,
        },
      });
      expect(stderr).not.toMatch(/peer-net \{"kind":"leak"/);
      const { calls } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { calls: { ok: boolean; id?: string; token?: boolean }[] };
      expect(calls).toEqual([{ ok: true, id: expect.stringMatching(/^STS\./), token: true }]);
      expect(emu.issued().find((i) => i.accessKeyId === calls[0]!.id)?.sessionName).toBe('peer');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
