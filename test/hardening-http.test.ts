// Issue 7, items 3 and 5: bodies are read with a cap, and no foreign error (which may
// quote the URL with a token in its query) reaches anything printable.
import { describe, it, expect, afterEach, vi } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { createCredentials } from '../src/credentials.js';
import { isCredentialsError } from '../src/errors.js';
import { DEFAULT_MAX_BODY_BYTES, httpCall } from '../src/internal/http.js';
import { sanitizeError, stripUrlSecrets } from '../src/internal/redact.js';
import { fromCredentialsUri } from '../src/providers/credentials-uri.js';
import { bodyExcerpt } from '../src/internal/redact.js';
import { fromEcsMetadata } from '../src/providers/ecs-metadata.js';
import type { RefreshEvent } from '../src/refresh.js';
import { createStsClient } from '../src/sts/client.js';

const MiB = 1024 * 1024;
const ROLE_ARN = 'acs:ram::123456789012:role/test-role';
const TOKEN = 'CAISHardeningToken+/=~*Z9abcdef';
const SECRET = 'HardeningSecret0123456789abcdef';
const stsUser = createCredentials({ accessKeyId: 'STS.HardeningKey', accessKeySecret: SECRET, securityToken: TOKEN, source: 'test' });

type Stats = { written: number; closed: Promise<void> };
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => { s.closeAllConnections(); s.close(resolve); })));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Streams up to `total` bytes of 'a' with backpressure; counts what the server wrote. */
function stream(res: ServerResponse, total: number, headers: Record<string, string> = {}): Stats {
  let done!: () => void;
  const stats: Stats = { written: 0, closed: new Promise<void>((resolve) => (done = resolve)) };
  res.on('close', () => done());
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const pump = (): void => {
    while (!res.destroyed && stats.written < total) {
      stats.written += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  pump();
  return stats;
}

/** A fetch that counts the body bytes the client actually pulled. */
function countingFetch(counter: { bytes: number }): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const counted = response.body!.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          counter.bytes += chunk.byteLength;
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: response.status, headers: response.headers });
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

describe('item 3: bodies are read with a byte cap', () => {
  it('STS: a 400 MiB answer stops near the 1 MiB cap -> ResponseTooLarge, not retryable', async () => {
    let stats: Stats | undefined;
    const base = await serve((_req, res) => {
      stats = stream(res, 400 * MiB);
    });
    const counter = { bytes: 0 };
    const before = process.memoryUsage();
    const sts = createStsClient({ endpoint: base, env: {}, timeoutMs: 5000, fetch: countingFetch(counter) });
    const started = Date.now();
    const error = await rejection(sts.assumeRole(stsUser, { roleArn: ROLE_ARN, roleSessionName: 'cap' }));
    const after = process.memoryUsage();
    expect(isCredentialsError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'StsError', code: 'ResponseTooLarge', retryable: false, httpStatus: 200 });
    expect(error.message).toContain(`${base}`);
    expect(error.message).toContain(`limit is ${DEFAULT_MAX_BODY_BYTES} bytes`);
    expect(error.message).not.toContain('?');
    expect(Date.now() - started).toBeLessThan(4000);
    // The client read at most the cap plus a chunk; the server was stopped soon after.
    expect(counter.bytes).toBeGreaterThan(DEFAULT_MAX_BODY_BYTES);
    expect(counter.bytes).toBeLessThan(DEFAULT_MAX_BODY_BYTES + 256 * 1024);
    await Promise.race([stats!.closed, new Promise((r) => setTimeout(r, 2000))]);
    expect(stats!.written).toBeLessThan(48 * MiB);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(64 * MiB);
    console.info(
      `[hardening] 400 MiB STS answer: client read ${counter.bytes} B, server wrote ${stats!.written} B before the cancel, ` +
        `arrayBuffers +${((after.arrayBuffers - before.arrayBuffers) / MiB).toFixed(1)} MiB, rss +${((after.rss - before.rss) / MiB).toFixed(1)} MiB`,
    );
  });

  it('a Content-Length above the cap is refused before reading the body', async () => {
    const base = await serve((_req, res) => void stream(res, 2 * MiB, { 'content-length': String(400 * MiB) }));
    const counter = { bytes: 0 };
    const error = await rejection(
      fromCredentialsUri({ uri: `${base}/creds?token=abc123456`, fetch: countingFetch(counter), refresh: { retry: false } })(),
    );
    expect(error).toMatchObject({ code: 'ResponseTooLarge', retryable: false, provider: 'credentials-uri' });
    expect(error.message).toContain(`${400 * MiB} bytes (Content-Length)`);
    expect(error.message).toContain(`${base}/creds`);
    expect(error.message).not.toContain('abc123456');
    expect(counter.bytes).toBe(0);
  });

  it('credentials URI: an 8 MB answer is a typed ResponseTooLarge, not a stack overflow', async () => {
    const base = await serve((_req, res) => void stream(res, 8 * 1000 * 1000));
    const error = await rejection(fromCredentialsUri({ uri: `${base}/creds`, refresh: { retry: false } })());
    expect(error).toMatchObject({ code: 'ResponseTooLarge', retryable: false });
    expect(error.message).not.toMatch(/call stack/);
    expect(error.message).toMatch(/fromCredentialsUri: GET http:\/\/127\.0\.0\.1:\d+\/creds answered HTTP 200 with a body of more than 1048576 bytes/);
  });

  it('ECS metadata: an endless credentials answer is a typed ResponseTooLarge', async () => {
    const base = await serve((req, res) => {
      if (req.method === 'PUT') res.end('ecs-token-abcdef');
      else void stream(res, 400 * MiB);
    });
    const provider = fromEcsMetadata({ endpoint: base, roleName: 'app-role', env: {}, retries: 0 });
    const error = await rejection(provider());
    provider.close();
    expect(error).toMatchObject({ code: 'ResponseTooLarge', retryable: false, provider: 'ecs-metadata' });
    expect(error.message).not.toContain('ecs-token-abcdef');
  });

  it('a body under the cap is decoded as UTF-8, even split inside a character', async () => {
    const bytes = Buffer.from('{"x":"中文"}');
    const base = await serve((_req, res) => {
      res.write(bytes.subarray(0, 8)); // cuts the first character after one byte
      setTimeout(() => res.end(bytes.subarray(8)), 20);
    });
    const answer = await httpCall({ url: base, method: 'GET', headers: {}, timeoutMs: 2000, provider: 't', describe: 'GET t' });
    expect(answer.text).toBe('{"x":"中文"}');
  });

  it('the time limit covers a body that stalls after the headers', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200);
      res.write('{"Code":');
    });
    const error = await rejection(httpCall({ url: base, method: 'GET', headers: {}, timeoutMs: 200, provider: 't', describe: 'GET t' }));
    expect(error).toMatchObject({ code: 'Timeout', retryable: true });
  });

  it('without a body stream, arrayBuffer is read and checked', async () => {
    const big = { status: 200, type: 'basic', headers: new Headers(), body: null, arrayBuffer: async () => new ArrayBuffer(2 * MiB) };
    const error = await rejection(
      httpCall({ url: 'http://127.0.0.1:9/', method: 'GET', headers: {}, timeoutMs: 1000, provider: 't', describe: 'GET t', fetch: async () => big as unknown as Response }),
    );
    expect(error).toMatchObject({ code: 'ResponseTooLarge' });
  });

  it('the STS time limit timer is unref-ed: it never holds the process', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    let started!: () => void;
    const called = new Promise<void>((resolve) => (started = resolve));
    const sts = createStsClient({ env: {}, timeoutMs: 12_345, fetch: () => (started(), new Promise<Response>(() => {})) });
    const controller = new AbortController();
    const pending = rejection(sts.getCallerIdentity(stsUser, { signal: controller.signal }));
    await called;
    const index = spy.mock.calls.findIndex((args) => args[1] === 12_345);
    const handle = spy.mock.results[index]!.value as { hasRef(): boolean };
    spy.mockRestore();
    expect(handle.hasRef()).toBe(false);
    controller.abort(new Error('done'));
    await pending;
  });

  it('excerpts look at a bounded prefix only: no regex over a huge body', () => {
    const huge = 'a'.repeat(8e6);
    expect(bodyExcerpt(huge, { max: 120, unknownSecrets: true })).toMatch(/…$/);
    expect(bodyExcerpt(huge, { secrets: [SECRET] })).toMatch(/…$/);
    expect(bodyExcerpt(`${' '.repeat(5000)}x`, { max: 120, unknownSecrets: true })).toBe('…');
  });
});

// ---------------------------------------------------------------------------
// Item 5: secrets through `cause` and events
// ---------------------------------------------------------------------------

const URI_TOKEN = 'UriQueryToken_abcdef123456';
const BEARER = 'Bearer HeaderSecret_98765xyz';
const ECS_TOKEN = 'EcsMetadataToken_abcdef0123';

function encodings(secret: string): string[] {
  const rfc = encodeURIComponent(secret).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return [secret, encodeURIComponent(secret), rfc, new URLSearchParams({ s: secret }).toString().slice(2)];
}

/** Fetch errors that quote the whole URL and the headers, as node-fetch, Deno and proxies do. */
const leaks: Array<[string, (url: string, headers: string) => Error]> = [
  [
    'undici-like (message and cause)',
    (url, headers) =>
      Object.assign(
        new TypeError(`fetch failed for ${url}`, {
          cause: Object.assign(new Error(`connect ECONNRESET ${url} with ${headers}`), { code: 'ECONNRESET', url, headers }),
        }),
        { input: url },
      ),
  ],
  [
    'node-fetch-like FetchError',
    (url, headers) =>
      Object.assign(new Error(`request to ${url} failed, reason: socket hang up (${headers})`), {
        name: 'FetchError',
        code: 'ECONNRESET',
        errno: 'ECONNRESET',
        type: 'system',
        cause: new Error(`while writing ${headers}`),
      }),
  ],
  ['Deno-like', (url) => new TypeError(`error sending request for url (${url}): connection closed before message completed`)],
];

function leakyFetch(make: (url: string, headers: string) => Error, onCall?: (url: string) => Response | undefined): typeof fetch {
  return async (input, init) => {
    const url = String(input);
    const answer = onCall?.(url);
    if (answer) return answer;
    throw make(url, JSON.stringify(init?.headers ?? {}));
  };
}

function expectCleanText(text: string, secrets: string[]): void {
  for (const secret of secrets.flatMap(encodings)) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/(Signature|SecurityToken|token)=(?!\[REDACTED\])[A-Za-z0-9%]/);
}

function expectClean(error: unknown, secrets: string[]): void {
  const e = error as Error;
  const texts = [
    inspect(e, { depth: 10 }),
    String(e),
    e.stack ?? '',
    JSON.stringify(e),
    JSON.stringify(e.cause ?? null),
    inspect(e.cause, { depth: 10 }),
  ];
  for (const text of texts) {
    for (const secret of secrets.flatMap(encodings)) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/Signature=(?!\[REDACTED\])[A-Za-z0-9%]/);
    expect(text).not.toMatch(/SecurityToken=(?!\[REDACTED\])[A-Za-z0-9%]/);
  }
  expect(e.cause).toBeInstanceOf(Error);
}

describe('item 5: no secret through cause, message or event', () => {
  it.each(leaks)('STS V1 and V3 (%s)', async (_name, make) => {
    for (const signatureVersion of ['v1', 'v3'] as const) {
      let seen = '';
      const sts = createStsClient({
        endpoint: 'http://127.0.0.1:9',
        env: {},
        signatureVersion,
        fetch: leakyFetch(make, (url) => void (seen = url) as undefined),
      });
      const error = await rejection(sts.assumeRole(stsUser, { roleArn: ROLE_ARN, roleSessionName: 'leak' }));
      if (signatureVersion === 'v1') expect(seen).toContain('SecurityToken=');
      expect(error).toMatchObject({ code: 'NetworkError', retryable: true });
      expectClean(error, [TOKEN, SECRET]);
    }
  });

  it.each(leaks)('credentials URI with ?token= and a bearer header (%s); also the refresh-failed event', async (_name, make) => {
    const events: RefreshEvent[] = [];
    const provider = fromCredentialsUri({
      uri: `http://127.0.0.1:9/creds?token=${URI_TOKEN}`,
      headers: { Authorization: BEARER },
      fetch: leakyFetch(make),
      refresh: { retry: false, onEvent: (event) => events.push(event) },
    });
    const error = await rejection(provider());
    provider.close();
    expect(error).toMatchObject({ code: 'NetworkError', retryable: true });
    expect(error.message).toContain('http://127.0.0.1:9/creds?…');
    expectClean(error, [URI_TOKEN, BEARER]);
    const failed = events.find((event) => event.type === 'refresh-failed');
    expect(failed).toBeDefined();
    expect(inspect(failed, { depth: 10 })).not.toContain(URI_TOKEN);
  });

  it.each(leaks)('ECS metadata: the metadata token header (%s)', async (_name, make) => {
    const provider = fromEcsMetadata({
      endpoint: 'http://127.0.0.1:9',
      roleName: 'app-role',
      env: {},
      retries: 0,
      disableImdsV1: true,
      fetch: leakyFetch(make, (url) => (url.endsWith('/latest/api/token') ? new Response(ECS_TOKEN) : undefined)),
    });
    const error = await rejection(provider());
    provider.close();
    expect(error).toMatchObject({ code: 'NetworkError', retryable: true });
    expectClean(error, [ECS_TOKEN]);
  });

  it('a proxy page that echoes the request URL: no query in the STS or credentials-URI message', async () => {
    const base = await serve((req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(`<html><body>Bad gateway while fetching http://${req.headers.host}${req.url}</body></html>`);
    });
    const sts = createStsClient({ endpoint: base, env: {}, signatureVersion: 'v1' });
    const stsError = await rejection(sts.assumeRole(stsUser, { roleArn: ROLE_ARN, roleSessionName: 'echo' }));
    expect(stsError).toMatchObject({ code: 'InvalidResponse', httpStatus: 502 });
    expect(stsError.message).toContain('Bad gateway while fetching');
    expect(stsError.message).toContain(`${base}/?…`);
    expectCleanText(inspect(stsError, { depth: 10 }), [TOKEN, SECRET]);
    const provider = fromCredentialsUri({ uri: `${base}/creds?token=${URI_TOKEN}`, refresh: { retry: false } });
    const uriError = await rejection(provider());
    provider.close();
    expect(uriError).toMatchObject({ code: 'HttpError', retryable: true });
    expect(uriError.message).toContain('Bad gateway while fetching');
    expectCleanText(inspect(uriError, { depth: 10 }), [URI_TOKEN]);
  });

  it('stripUrlSecrets drops user info, query and fragment of every URL; sanitizeError bounds the depth', () => {
    expect(stripUrlSecrets('GET https://u:p@h.example/x?SecurityToken=abc&a=1#f failed')).toBe('GET https://h.example/x?… failed');
    expect(stripUrlSecrets('(http://127.0.0.1:9/?token=x): closed')).toBe('(http://127.0.0.1:9/?…): closed');
    expect(stripUrlSecrets('POST /?Signature=abc%2B&x=1')).toBe('POST /?Signature=[REDACTED]&x=1');
    const loop: Error & { cause?: unknown } = new Error('https://h/?token=1234');
    loop.cause = loop;
    const chain = new Error('a', { cause: new Error('b', { cause: new Error('c', { cause: new Error('d') }) }) });
    expect(sanitizeError(loop, []).cause).toBeUndefined();
    expect(inspect(sanitizeError(chain, []), { depth: 10 })).not.toContain('Error: d');
  });
});
