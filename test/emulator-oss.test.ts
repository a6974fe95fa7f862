/**
 * The emulator's OSS endpoint (src/testing/emulator/oss*.ts), driven by the real ali-oss
 * client (V1 and V4 signing, signed URLs) with a RAM user's key and with STS credentials the
 * emulator issued (fromRamRole + toOssOptions), and by plain fetch for signed URLs.
 * Nothing here contacts any address other than 127.0.0.1.
 */
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStsCache, fromRamRole, fromStatic, type CredentialProvider } from '../src/index.js';
import { toOssOptions } from '../src/adapters/oss.js';
import { startEmulator, type Emulator, type EmulatorOptions, type Policy } from '../src/testing/index.js';

process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';

// ---------------------------------------------------------------------------
// ali-oss (CJS, no bundled types): the few methods used here
// ---------------------------------------------------------------------------

type OssResponse = { status: number; headers: Record<string, string> };
type OssListing = {
  res: OssResponse;
  objects: { name: string; size: number; etag: string; lastModified: string; owner: { id: string } }[];
  prefixes: string[] | null;
  nextMarker: string | null;
  isTruncated: boolean;
};
type UrllibRequest = (url: string, params: { method: string; headers: Record<string, string> }) => Promise<unknown>;
type OssClient = {
  put(name: string, body: Buffer, options?: { meta?: Record<string, string>; mime?: string }): Promise<{ name: string; res: OssResponse }>;
  get(name: string): Promise<{ content: Buffer; res: OssResponse }>;
  head(name: string): Promise<{ meta: Record<string, string> | null; res: OssResponse; status: number }>;
  delete(name: string): Promise<{ res: OssResponse }>;
  list(query: Record<string, string | number> | null, options?: object): Promise<OssListing>;
  signatureUrl(name: string, options?: { expires?: number; method?: string }): string;
  signatureUrlV4(method: string, expires: number, request?: object, objectName?: string): Promise<string>;
  urllib: { request: UrllibRequest };
};
type OssError = Error & { code?: string; status?: number; requestId?: string; ecCode?: string };

const require = createRequire(import.meta.url);
const OSS = require('ali-oss') as new (options: Record<string, unknown>) => OssClient;

const REGION = 'oss-cn-hangzhou';

type Key = { accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined };

/** A client the recommended way: the emulator's IP endpoint, the bucket and region as for OSS. */
function client(e: Emulator, key: Key, bucket: string, v4 = false, extra: Record<string, unknown> = {}): OssClient {
  return new OSS({
    endpoint: e.url,
    region: REGION,
    bucket,
    accessKeyId: key.accessKeyId,
    accessKeySecret: key.accessKeySecret,
    // A long interval without a refresh function: no refresh, and no ali-oss warning.
    ...(key.securityToken ? { stsToken: key.securityToken, refreshSTSTokenInterval: 3_600_000 } : {}),
    authorizationV4: v4,
    ...extra,
  });
}

/** A client that only signs URLs: path style, so the bucket is in the URL a plain fetch sends. */
function presigner(e: Emulator, key: Key, bucket: string): OssClient {
  return client(e, key, bucket, false, { sldEnable: true });
}

/**
 * A V1 signed URL: ali-oss refuses signatureUrl() with an IP endpoint, so sign with a name that
 * never resolves (nothing connects to it) and point the URL at the emulator. V1 does not sign the host.
 */
function v1Url(e: Emulator, key: Key, bucket: string, name: string, expires = 60): string {
  const signer = client(e, key, bucket, false, { endpoint: 'http://oss.emulator.invalid', sldEnable: true });
  const url = new URL(signer.signatureUrl(name, { expires }));
  expect(url.pathname.startsWith(`/${bucket}/`)).toBe(true);
  return `${e.url}${url.pathname}${url.search}`;
}

async function ossError(promise: Promise<unknown>): Promise<OssError> {
  try {
    await promise;
  } catch (error) {
    return error as OssError;
  }
  throw new Error('expected the OSS call to fail');
}

/** A fetch and the OSS error code of its XML body, if any. */
async function fetchCode(url: string, init?: RequestInit): Promise<{ status: number; code: string | undefined; text: string }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1], text };
}

/** Rewrites every request's headers after ali-oss signed it (a tampered request). */
function tamper(c: OssClient, edit: (headers: Record<string, string>) => void): void {
  const inner = c.urllib;
  c.urllib = {
    request: (url, params) => {
      edit(params.headers);
      return inner.request(url, params);
    },
  };
}

const md5Hex = (data: Buffer | string) => createHash('md5').update(data).digest('hex').toUpperCase();

// ---------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------

const allow = (actions: string[], resource?: string[]): Policy => ({
  Statement: [{ Effect: 'Allow', Action: actions, ...(resource ? { Resource: resource } : {}) }],
});

const ALICE = { name: 'alice', accessKeyId: 'LTAI5tOssAlice00000001', accessKeySecret: 'alice-oss-secret-0123456' };
// Bob may use his own bucket only: the policy's Resource scopes it.
const BOB = {
  name: 'bob',
  accessKeyId: 'LTAI5tOssBob0000000002',
  accessKeySecret: 'bob-oss-secret-0123456',
  policies: [allow(['oss:*'], ['acs:oss:*:*:bob-bucket', 'acs:oss:*:*:bob-bucket/*'])],
};

function fixture(extra: Partial<EmulatorOptions> = {}): EmulatorOptions {
  return {
    users: [ALICE, BOB],
    roles: [{ name: 'oss-rw', trustedUsers: ['alice'], policies: [allow(['oss:*'])] }],
    ...extra,
  };
}

let emu: Emulator;
const providers: { close(): void }[] = [];
beforeAll(async () => {
  emu = await startEmulator(fixture());
});
afterAll(async () => {
  for (const p of providers) p.close();
  await emu.close();
});
afterEach(() => emu.clearFaults());

/** STS credentials the emulator issues for the `oss-rw` role (alicred's fromRamRole, real AssumeRole). */
function roleProvider(e: Emulator, extra: Partial<Parameters<typeof fromRamRole>[0]> = {}) {
  const provider = fromRamRole({
    source: fromStatic(ALICE),
    roleArn: e.roleArn('oss-rw'),
    sts: { endpoint: e.stsEndpoint },
    cache: createStsCache(),
    ...extra,
  });
  providers.push(provider);
  return provider;
}

async function stsKey(provider: CredentialProvider): Promise<Key> {
  const c = await provider();
  expect(c.accessKeyId.startsWith('STS.')).toBe(true);
  return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken };
}

/** put / get / head / list / delete, and the answers' shapes. */
async function roundTrip(store: OssClient, prefix: string): Promise<void> {
  const name = `${prefix}/a b+c ü€.txt`;
  const body = Buffer.from(`hello ${prefix}`);
  const put = await store.put(name, body, { meta: { owner: 'tests' } });
  expect(put.res.status).toBe(200);
  expect(put.res.headers.etag).toBe(`"${md5Hex(body)}"`);
  expect(put.res.headers['x-oss-request-id']).toMatch(/^[0-9A-F]{24}$/);

  const got = await store.get(name);
  expect(got.content.toString()).toBe(body.toString());
  expect(got.res.headers['content-type']).toBe('text/plain');
  expect(got.res.headers.etag).toBe(`"${md5Hex(body)}"`);

  const head = await store.head(name);
  expect(head.status).toBe(200);
  expect(head.meta).toEqual({ owner: 'tests' });
  expect(head.res.headers['content-length']).toBe(String(body.length));

  await store.put(`${prefix}/x.bin`, Buffer.alloc(3));
  await store.put(`${prefix}/sub/y.bin`, Buffer.alloc(5));
  await store.put('outside.bin', Buffer.alloc(1));
  const all = await store.list({ prefix: `${prefix}/` });
  expect(all.objects.map((o) => o.name)).toEqual([name, `${prefix}/sub/y.bin`, `${prefix}/x.bin`]);
  expect(all.objects.map((o) => o.size)).toEqual([body.length, 5, 3]);
  expect(all.objects[0]!.owner.id).toBe(emu.accountId);
  expect(all.isTruncated).toBe(false);
  const page = await store.list({ prefix: `${prefix}/`, 'max-keys': 2 });
  expect([page.objects.length, page.isTruncated, page.nextMarker]).toEqual([2, true, `${prefix}/sub/y.bin`]);
  const rest = await store.list({ prefix: `${prefix}/`, marker: page.nextMarker!, 'max-keys': 2 });
  expect([rest.objects.map((o) => o.name), rest.isTruncated]).toEqual([[`${prefix}/x.bin`], false]);
  const tree = await store.list({ prefix: `${prefix}/`, delimiter: '/' });
  expect([tree.objects.length, tree.prefixes]).toEqual([2, [`${prefix}/sub/`]]);

  expect((await store.delete(name)).res.status).toBe(204);
  const gone = await ossError(store.get(name));
  expect([gone.status, gone.code]).toEqual([404, 'NoSuchKey']);
  expect((await ossError(store.head(name))).status).toBe(404);
  expect((await store.delete(name)).res.status).toBe(204); // deleting a missing key succeeds, as on OSS
}

// ---------------------------------------------------------------------------

describe('a RAM user key (ali-oss, V1 and V4 headers)', () => {
  it.each([false, true])('put/get/head/list/delete round trip (authorizationV4: %s)', async (v4) => {
    await roundTrip(client(emu, ALICE, v4 ? 'user-v4' : 'user-v1', v4), 'dir');
    const records = emu.requests().filter((r) => r.accessKeyId === ALICE.accessKeyId && r.action !== '');
    const version = v4 ? 'oss-v4' : 'oss-v1';
    const actions = new Set(records.filter((r) => r.signatureVersion === version).map((r) => r.action));
    expect([...actions].sort()).toEqual(['DeleteObject', 'GetObject', 'HeadObject', 'ListObjects', 'PutObject']);
  });

  it('the request log records action, accessKeyId, signatureVersion, status and code', async () => {
    const store = client(emu, ALICE, 'log-bucket', true);
    await store.put('k.txt', Buffer.from('x'));
    await ossError(store.get('missing.txt'));
    const [put, get] = emu.requests().slice(-2);
    expect(put).toMatchObject({ method: 'PUT', path: '/k.txt', action: 'PutObject', version: '', accessKeyId: ALICE.accessKeyId, signatureVersion: 'oss-v4', status: 200, code: undefined });
    expect(get).toMatchObject({ method: 'GET', action: 'GetObject', signatureVersion: 'oss-v4', status: 404, code: 'NoSuchKey' });
    expect(emu.callCount('PutObject')).toBeGreaterThan(0);
  });

  it('NoSuchBucket before a bucket has had an object; buckets are per emulator', async () => {
    const err = await ossError(client(emu, ALICE, 'never-written').get('a.txt'));
    expect([err.status, err.code, err.message]).toEqual([404, 'NoSuchBucket', 'The specified bucket does not exist.']);
    expect((await ossError(client(emu, ALICE, 'never-written').list(null))).code).toBe('NoSuchBucket');
  });

  it.each([false, true])('a wrong secret or an unknown key is refused (authorizationV4: %s)', async (v4) => {
    const wrong = await ossError(client(emu, { ...ALICE, accessKeySecret: 'not-the-secret' }, 'user-v1', v4).get('x'));
    expect([wrong.status, wrong.code]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(wrong.message).not.toContain(ALICE.accessKeySecret);
    const unknown = await ossError(client(emu, { accessKeyId: 'LTAI5tNobody000000009', accessKeySecret: 'x' }, 'user-v1', v4).get('x'));
    expect([unknown.status, unknown.code]).toEqual([403, 'InvalidAccessKeyId']);
  });

  it.each([false, true])('a request altered after ali-oss signed it is refused (authorizationV4: %s)', async (v4) => {
    const forged = client(emu, ALICE, 'user-v1', v4);
    tamper(forged, (h) => {
      h.authorization = h.authorization!.replace(/(.)(.)$/, (_m, a: string, b: string) => `${a}${b === 'A' ? 'B' : 'A'}`);
    });
    expect((await ossError(forged.get('x'))).code).toBe('SignatureDoesNotMatch');
    const retyped = client(emu, ALICE, 'user-v1', v4);
    tamper(retyped, (h) => {
      h['Content-Type'] = 'application/x-evil';
    });
    expect((await ossError(retyped.put('k.txt', Buffer.from('x')))).code).toBe('SignatureDoesNotMatch');
    const malformed = client(emu, ALICE, 'user-v1', v4);
    tamper(malformed, (h) => {
      h.authorization = v4 ? 'OSS4-HMAC-SHA256 Signature=00' : `OSS ${ALICE.accessKeyId}`;
    });
    const err = await ossError(malformed.get('x'));
    expect([err.status, err.code]).toEqual([400, 'InvalidArgument']);
  });

  it('client addressing: cname: true works like the default; sldEnable: true on API calls is refused with a hint', async () => {
    const cname = client(emu, ALICE, 'addressing', false, { cname: true });
    await cname.put('c.txt', Buffer.from('cname'));
    expect((await client(emu, ALICE, 'addressing').get('c.txt')).content.toString()).toBe('cname');
    // ali-oss then sends Host: addressing.oss-cn-hangzhou.aliyuncs.com *and* the path /addressing/c.txt.
    const err = await ossError(client(emu, ALICE, 'addressing', false, { sldEnable: true }).get('c.txt'));
    expect([err.status, err.code]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(err.message).toContain('drop sldEnable for API calls');
  });

  it('a body that does not match its Content-MD5 is refused (InvalidDigest)', async () => {
    const store = client(emu, ALICE, 'user-v1');
    tamper(store, (h) => {
      h['Content-MD5'] = createHash('md5').update('something else').digest('base64');
    });
    // Content-MD5 is signed: changed after signing, the request fails the signature first.
    expect((await ossError(store.put('md5.txt', Buffer.from('x')))).code).toBe('SignatureDoesNotMatch');
    // Signed as sent, a wrong Content-MD5 is then refused by PutObject itself.
    const honest = client(emu, ALICE, 'user-v1');
    const err = await ossError(
      (honest as unknown as { put(n: string, b: Buffer, o: object): Promise<unknown> }).put('md5.txt', Buffer.from('x'), {
        headers: { 'Content-MD5': createHash('md5').update('something else').digest('base64') },
      }),
    );
    expect([err.status, err.code]).toEqual([400, 'InvalidDigest']);
  });

  it('RAM policies with a Resource: Bob may use bob-bucket only (AccessDenied elsewhere)', async () => {
    const own = client(emu, BOB, 'bob-bucket', true);
    await own.put('mine.txt', Buffer.from('ok'));
    expect((await own.list(null)).objects.map((o) => o.name)).toEqual(['mine.txt']);
    const err = await ossError(client(emu, BOB, 'user-v1', true).put('theirs.txt', Buffer.from('no')));
    expect([err.status, err.code]).toEqual([403, 'AccessDenied']);
    expect((await ossError(client(emu, BOB, 'user-v1').list(null))).code).toBe('AccessDenied');
  });

  it('injected faults apply by OSS action and answer in OSS XML', async () => {
    const store = client(emu, ALICE, 'fault-bucket');
    await store.put('f.txt', Buffer.from('x'));
    emu.inject({ action: 'GetObject', status: 503, code: 'ServiceUnavailable', message: 'Please retry.' });
    const err = await ossError(store.get('f.txt'));
    expect([err.status, err.code, err.message]).toEqual([503, 'ServiceUnavailable', 'Please retry.']);
    expect(emu.requests().at(-1)).toMatchObject({ action: 'GetObject', status: 503, code: 'ServiceUnavailable', fault: true });
    expect((await store.get('f.txt')).content.toString()).toBe('x');
  });

  it('operations it does not model are authenticated, then answer NotImplemented (501)', async () => {
    const store = client(emu, ALICE, 'user-v1') as unknown as { getACL(name: string): Promise<unknown> };
    const err = await ossError(store.getACL('x'));
    expect([err.status, err.code]).toEqual([501, 'NotImplemented']);
    expect(emu.requests().at(-1)?.action).toBe('NotImplemented');
    const wrong = client(emu, { ...ALICE, accessKeySecret: 'nope' }, 'user-v1') as unknown as { getACL(name: string): Promise<unknown> };
    expect((await ossError(wrong.getACL('x'))).code).toBe('SignatureDoesNotMatch');
  });
});

describe('STS credentials the emulator issued (fromRamRole)', () => {
  it.each([false, true])('round trip through toOssOptions (authorizationV4: %s)', async (v4) => {
    const provider = roleProvider(emu);
    const store = new OSS(await toOssOptions(provider, { endpoint: emu.url, region: REGION, bucket: v4 ? 'sts-v4' : 'sts-v1', authorizationV4: v4 }));
    await roundTrip(store, 'role');
    const key = (await provider()).accessKeyId;
    const records = emu.requests().filter((r) => r.accessKeyId === key);
    expect(records.length).toBeGreaterThanOrEqual(10);
    expect(records.every((r) => r.signatureVersion === (v4 ? 'oss-v4' : 'oss-v1'))).toBe(true);
    // STS itself still answers on the same port.
    expect(emu.requests().some((r) => r.action === 'AssumeRole' && r.status === 200)).toBe(true);
  });

  it('a session policy denying oss:* is refused with AccessDenied (and its AccessDeniedDetail)', async () => {
    const policy = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Deny', Action: 'oss:*', Resource: '*' }] });
    const key = await stsKey(roleProvider(emu, { policy, roleSessionName: 'denied' }));
    for (const v4 of [false, true]) {
      const err = await ossError(client(emu, key, 'sts-v1', v4).put('denied.txt', Buffer.from('x')));
      expect([err.status, err.code]).toEqual([403, 'AccessDenied']);
    }
    const { status, code, text } = await fetchCode(await presigner(emu, key, 'sts-v1').signatureUrlV4('GET', 60, {}, 'any.txt'));
    expect([status, code]).toEqual([403, 'AccessDenied']);
    expect(text).toContain('<AuthAction>oss:GetObject</AuthAction>');
    expect(text).toContain('<PolicyType>SessionPolicy</PolicyType>');
    expect(text).toContain('<NoPermissionType>ExplicitDeny</NoPermissionType>');
  });

  it('a token of another key, a garbage token, a missing token, or a token on a RAM key are refused', async () => {
    const a = await stsKey(roleProvider(emu, { roleSessionName: 'one' }));
    const b = await stsKey(roleProvider(emu, { roleSessionName: 'two' }));
    for (const v4 of [false, true]) {
      const mismatch = await ossError(client(emu, { ...a, securityToken: b.securityToken }, 'sts-v1', v4).get('x'));
      expect([mismatch.status, mismatch.code]).toEqual([403, 'AccessKeyIdAndSecurityTokenNotMatch']);
      const garbage = await ossError(client(emu, { ...a, securityToken: 'CAISgarbage' }, 'sts-v1', v4).get('x'));
      expect([garbage.status, garbage.code]).toEqual([403, 'InvalidSecurityToken']);
      const none = await ossError(client(emu, { ...a, securityToken: undefined }, 'sts-v1', v4).get('x'));
      expect([none.status, none.code]).toEqual([403, 'InvalidAccessKeyId']);
      const userWithToken = await ossError(client(emu, { ...ALICE, securityToken: a.securityToken }, 'sts-v1', v4).get('x'));
      expect([userWithToken.status, userWithToken.code]).toEqual([403, 'InvalidAccessKeyId']);
    }
  });
});

describe('signed URLs, fetched with plain fetch', () => {
  it('V4 (signatureUrlV4, path style) and V1 (signatureUrl) work with a user key and with STS credentials', async () => {
    const sts = await stsKey(roleProvider(emu, { roleSessionName: 'urls' }));
    for (const key of [ALICE, sts]) {
      await client(emu, key, 'urls', true).put('doc.txt', Buffer.from(`for ${key.accessKeyId}`));
      const v4 = await presigner(emu, key, 'urls').signatureUrlV4('GET', 60, {}, 'doc.txt');
      expect(v4.startsWith(`${emu.url}/urls/doc.txt?`)).toBe(true);
      const v1 = v1Url(emu, key, 'urls', 'doc.txt');
      for (const url of [v4, v1]) {
        const res = await fetch(url);
        expect(res.status, await res.clone().text()).toBe(200);
        expect(await res.text()).toBe(`for ${key.accessKeyId}`);
        expect(res.headers.get('etag')).toBe(`"${md5Hex(`for ${key.accessKeyId}`)}"`);
      }
      const log = emu.requests().slice(-2);
      expect(log.map((r) => [r.action, r.signatureVersion, r.accessKeyId])).toEqual([
        ['GetObject', 'oss-v4', key.accessKeyId],
        ['GetObject', 'oss-v1', key.accessKeyId],
      ]);
    }
  });

  it('a tampered signature, another method, or another key in the path is refused (SignatureDoesNotMatch)', async () => {
    const sts = await stsKey(roleProvider(emu, { roleSessionName: 'tampered' }));
    await client(emu, ALICE, 'urls').put('doc.txt', Buffer.from('x'));
    for (const key of [ALICE, sts] as Key[]) {
      const v4 = await presigner(emu, key, 'urls').signatureUrlV4('GET', 60, {}, 'doc.txt');
      const v1 = v1Url(emu, key, 'urls', 'doc.txt');
      const flipV4 = v4.replace(/x-oss-signature=([0-9a-f])/, (_m, c: string) => `x-oss-signature=${c === '0' ? '1' : '0'}`);
      const flipV1 = v1.replace(/Signature=([A-Za-z0-9])/, (_m, c: string) => `Signature=${c === 'A' ? 'B' : 'A'}`);
      for (const url of [flipV4, flipV1, v4.replace('/doc.txt?', '/other.txt?'), v1.replace('/doc.txt?', '/other.txt?')]) {
        const { status, code, text } = await fetchCode(url);
        expect([status, code], text).toEqual([403, 'SignatureDoesNotMatch']);
        expect(text).toContain('<StringToSign>');
        // Neither the secret nor the security token is quoted back.
        expect(text).not.toContain(key.accessKeySecret);
        if (key.securityToken) {
          expect([text.includes(key.securityToken), text.includes(encodeURIComponent(key.securityToken))]).toEqual([false, false]);
          expect(text).toContain('&lt;security-token&gt;');
        }
      }
    }
    const v4 = await presigner(emu, ALICE, 'urls').signatureUrlV4('GET', 60, {}, 'doc.txt');
    const head = await fetch(v4, { method: 'HEAD' });
    expect(head.status).toBe(403);
    expect(Buffer.from(head.headers.get('x-oss-err')!, 'base64').toString()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });
});

describe('time: request skew, signed URL expiry, token expiry (an injected clock)', () => {
  let offset = 0;
  let timed: Emulator;
  beforeAll(async () => {
    timed = await startEmulator(fixture({ timeScale: 100, clock: () => Date.now() + offset }));
  });
  afterAll(async () => {
    await timed.close();
  });

  it('a signed URL past its expiry is refused: AccessDenied, "Request has expired."', async () => {
    offset = 0;
    await client(timed, ALICE, 'expiring').put('e.txt', Buffer.from('x'));
    const v4 = await presigner(timed, ALICE, 'expiring').signatureUrlV4('GET', 60, {}, 'e.txt');
    const v1 = v1Url(timed, ALICE, 'expiring', 'e.txt', 60);
    for (const url of [v4, v1]) expect((await fetch(url)).status).toBe(200);
    offset = 120_000; // the URLs expired 60 s ago; still within the header skew
    for (const url of [v4, v1]) {
      const { status, code, text } = await fetchCode(url);
      expect([status, code]).toEqual([403, 'AccessDenied']);
      expect(text).toContain('<Message>Request has expired.</Message>');
      expect(text).toContain('<EC>0002-00000069</EC>');
    }
    offset = 0;
  });

  it('an expired STS token is refused with SecurityTokenExpired (V1 and V4)', async () => {
    offset = 0;
    const key = await stsKey(roleProvider(timed, { durationSeconds: 900, roleSessionName: 'short' })); // 900 s / 100 = 9 s
    await client(timed, key, 'tokens').put('t.txt', Buffer.from('x'));
    offset = 10_000;
    for (const v4 of [false, true]) {
      const err = await ossError(client(timed, key, 'tokens', v4).get('t.txt'));
      expect([err.status, err.code, err.ecCode]).toEqual([403, 'SecurityTokenExpired', '0002-00000007']);
    }
    offset = 0;
  });

  it('a request time beyond the allowed skew is refused with RequestTimeTooSkewed', async () => {
    offset = 16 * 60_000;
    for (const v4 of [false, true]) {
      const err = await ossError(client(timed, ALICE, 'expiring', v4).get('e.txt'));
      expect([err.status, err.code]).toEqual([403, 'RequestTimeTooSkewed']);
    }
    offset = 0;
    expect((await client(timed, ALICE, 'expiring').get('e.txt')).content.toString()).toBe('x');
  });
});
