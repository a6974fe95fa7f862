/**
 * The STS client against a real HTTP server on 127.0.0.1 (real fetch, real sockets): request
 * shape and signatures (recomputed with the official @alicloud/openapi-util), answers,
 * error mapping, clock skew, timeouts and aborts. Plus byte-exact reproduction of the
 * reference vectors through an injected fetch, and a comparison with the official
 * @alicloud/sts20150401 client.
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach, vi } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import * as OpenApiUtilModule from '@alicloud/openapi-util';
import * as $tea from '@alicloud/tea-typescript';
import * as StsModule from '@alicloud/sts20150401';
import * as OpenApiCore from '@alicloud/openapi-core';
import nock from 'nock';
import { createCredentials, type Credentials } from '../src/credentials.js';
import { ConfigError, StsError } from '../src/errors.js';
import { isRetryableError } from '../src/refresh.js';
import {
  createStsClient,
  ASSUME_ROLE_SOURCE,
  ASSUME_ROLE_WITH_OIDC_SOURCE,
  type StsClient,
  type StsClientOptions,
} from '../src/sts/client.js';
import { signV3, signRpcV1, rpcStringToSign, EMPTY_BODY_SHA256 } from '../src/sts/sign.js';

// ---------------------------------------------------------------------------
// Official helpers (CJS interop as in sts-sign.test.ts)
// ---------------------------------------------------------------------------

type OpenApiUtilClient = typeof OpenApiUtilModule.default;
const OpenApiUtil: OpenApiUtilClient =
  (OpenApiUtilModule.default as unknown as { default?: OpenApiUtilClient }).default ?? OpenApiUtilModule.default;

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const AK = 'LTAI5tFAKEFAKEFAKE0001';
const SECRET = 'FakeSecret0123456789abcdefABCDE';
const STS_AK = 'STS.NFakeAK0000001';
const STS_SECRET = 'FakeStsSecret0123456789';
const TOKEN = 'CAISFakeSecurityToken+/=~*Z9';
const ROLE_ARN = 'acs:ram::123456789012:role/test-role';
const PROVIDER_ARN = 'acs:ram::123456789012:oidc-provider/ack-rrsa-c123';
const OIDC_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.T0lEQy1TSUdOQVRVUkU';
const POLICY =
  '{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:Get*"],"Resource":["acs:oss:*:*:my-bucket/*"]}]}';

const user = createCredentials({ accessKeyId: AK, accessKeySecret: SECRET, source: 'test' });
const stsUser = createCredentials({ accessKeyId: STS_AK, accessKeySecret: STS_SECRET, securityToken: TOKEN, source: 'test' });
const secretOf = new Map([
  [AK, SECRET],
  [STS_AK, STS_SECRET],
]);

const T0 = Date.UTC(2025, 0, 15, 8, 0, 0); // a whole second

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function credentialsBody(expiration: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    RequestId: 'REQ-OK-1',
    Credentials: {
      AccessKeyId: 'STS.NNewKey0001',
      AccessKeySecret: 'NewSecret0001',
      SecurityToken: 'NewToken0001',
      Expiration: expiration,
    },
    AssumedRoleUser: { Arn: 'acs:ram::123456789012:role/test-role/vector-session', AssumedRoleId: '3000:vector-session' },
    ...extra,
  };
}

// ---------------------------------------------------------------------------
// Loopback server
// ---------------------------------------------------------------------------

type Captured = {
  method: string;
  url: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
  form: Record<string, string>;
};

type Reply = {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON. */
  body?: string | Record<string, unknown>;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
  /** Never answer. */
  hang?: boolean;
  /** Wait this long first. */
  delayMs?: number;
  /** Send no Date header. */
  noDate?: boolean;
};

let server: Server;
let base: string;
let requests: Captured[] = [];
let reply: (req: Captured) => Reply = () => ({ body: credentialsBody(iso(Date.now() + 3600_000)) });

function record(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of search) out[k] = v;
  return out;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

async function respond(res: ServerResponse, r: Reply): Promise<void> {
  if (r.delayMs) await new Promise((f) => setTimeout(f, r.delayMs));
  if (r.reset) {
    res.socket?.destroy();
    return;
  }
  if (r.hang) return;
  if (r.noDate) res.sendDate = false;
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {});
  res.writeHead(r.status ?? 200, {
    'content-type': typeof r.body === 'string' ? 'text/plain' : 'application/json;charset=utf-8',
    ...r.headers,
  });
  res.end(text);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const body = Buffer.concat(chunks).toString('utf8');
      const captured: Captured = {
        method: req.method ?? '',
        url,
        path: q === -1 ? url : url.slice(0, q),
        query: q === -1 ? {} : record(new URLSearchParams(url.slice(q + 1))),
        headers: req.headers,
        body,
        form: (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
          ? record(new URLSearchParams(body))
          : {},
      };
      requests.push(captured);
      void respond(res, reply(captured));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = [];
  reply = () => ({ body: credentialsBody(iso(Date.now() + 3600_000)) });
});

function client(options: StsClientOptions = {}): StsClient {
  return createStsClient({ endpoint: base, env: {}, ...options });
}

function only(): Captured {
  expect(requests).toHaveLength(1);
  return requests[0]!;
}

/** Recomputes the V3 signature of a captured request, with ours and with the official code. */
async function verifyV3(req: Captured): Promise<{ ours: string; official: string; sent: string }> {
  const sent = headerValue(req.headers, 'authorization') ?? '';
  const m = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(sent);
  expect(m, `Authorization: ${sent}`).not.toBeNull();
  const [, accessKeyId, signedHeaders] = m as unknown as [string, string, string, string];
  const secret = secretOf.get(accessKeyId)!;
  const headers: Record<string, string> = {};
  for (const name of signedHeaders.split(';')) headers[name] = headerValue(req.headers, name) ?? '';
  const ours = await signV3({
    method: req.method,
    pathname: req.path,
    query: req.query,
    headers,
    body: req.body,
    accessKeyId,
    accessKeySecret: secret,
  });
  const request = new $tea.Request();
  request.method = req.method;
  request.pathname = req.path;
  request.query = { ...req.query };
  request.headers = { ...headers };
  const payload = OpenApiUtil.hexEncode(OpenApiUtil.hash(Buffer.from(req.body, 'utf8'), 'ACS3-HMAC-SHA256'));
  expect(payload).toBe(headers['x-acs-content-sha256']);
  const official = OpenApiUtil.getAuthorization(request, 'ACS3-HMAC-SHA256', payload, accessKeyId, secret);
  return { ours: ours.authorization, official, sent };
}

/** Recomputes the V1 signature of a captured request (query + form), with ours and the official code. */
async function verifyV1(req: Captured): Promise<{ ours: string; official: string; sent: string }> {
  const { Signature: sent = '', ...signed } = { ...req.query, ...req.form };
  const secret = secretOf.get(signed.AccessKeyId!)!;
  const ours = await signRpcV1({ method: req.method as 'POST', params: signed, accessKeySecret: secret });
  const official = OpenApiUtil.getRPCSignature(signed, req.method, secret);
  return { ours, official, sent };
}

/** A promise and the function that resolves it. */
function signalled(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

// ---------------------------------------------------------------------------
// Request shape
// ---------------------------------------------------------------------------

describe('V3 requests (default)', () => {
  it('AssumeRole: POST /?params, empty body, signed headers, signature verifies', async () => {
    const sts = client({ userAgent: 'my-app/1.0' });
    const creds = await sts.assumeRole(user, {
      roleArn: ROLE_ARN,
      roleSessionName: 'alice@example.com',
      durationSeconds: 900,
      policy: POLICY,
      externalId: 'abcd1234',
      sourceIdentity: 'alice',
    });
    expect(creds.accessKeyId).toBe('STS.NNewKey0001');

    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/');
    expect(req.body).toBe('');
    expect(req.query).toEqual({
      RoleArn: ROLE_ARN,
      RoleSessionName: 'alice@example.com',
      DurationSeconds: '900',
      Policy: POLICY,
      ExternalId: 'abcd1234',
      SourceIdentity: 'alice',
    });
    // The wire query is RFC 3986 encoded: no '+' for spaces, '*' escaped, '@' escaped.
    expect(req.url).toContain('RoleSessionName=alice%40example.com');
    expect(req.url).not.toMatch(/[*"{}]/);
    expect(req.headers['x-acs-action']).toBe('AssumeRole');
    expect(req.headers['x-acs-version']).toBe('2015-04-01');
    expect(req.headers['x-acs-date']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(req.headers['x-acs-signature-nonce']).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(req.headers['x-acs-content-sha256']).toBe(EMPTY_BODY_SHA256);
    expect(req.headers['x-acs-security-token']).toBeUndefined();
    expect(req.headers['x-acs-accesskey-id']).toBeUndefined();
    expect(req.headers['user-agent']).toBe('my-app/1.0');
    expect(req.headers.accept).toBe('application/json');
    // No V1 leftovers.
    for (const name of ['Action', 'Version', 'Signature', 'AccessKeyId', 'Timestamp', 'SignatureNonce']) {
      expect(req.query[name]).toBeUndefined();
    }

    const { ours, official, sent } = await verifyV3(req);
    expect(sent).toContain(`Credential=${AK},`);
    expect(sent).toContain('SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,');
    expect(ours).toBe(sent);
    expect(official).toBe(sent);
    // The signed host is what fetch sent, port included.
    expect(req.headers.host).toBe(new URL(base).host);
  });

  it('AssumeRole with STS source credentials: x-acs-security-token and x-acs-accesskey-id are sent and signed', async () => {
    await client().assumeRole(stsUser, { roleArn: ROLE_ARN, roleSessionName: 'chained' });
    const req = only();
    expect(req.headers['x-acs-security-token']).toBe(TOKEN);
    expect(req.headers['x-acs-accesskey-id']).toBe(STS_AK);
    const { ours, official, sent } = await verifyV3(req);
    expect(sent).toContain(
      'SignedHeaders=host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version,',
    );
    expect(ours).toBe(sent);
    expect(official).toBe(sent);
  });

  it('a fresh nonce for every request, timestamp from the clock', async () => {
    const sts = client({ clock: () => T0 + 123 });
    await sts.assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 'one' });
    await sts.assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 'one' });
    expect(requests).toHaveLength(2);
    expect(requests[0]!.headers['x-acs-signature-nonce']).not.toBe(requests[1]!.headers['x-acs-signature-nonce']);
    expect(requests[0]!.headers['x-acs-date']).toBe('2025-01-15T08:00:00Z');
  });

  it('GetCallerIdentity: empty query and body, signed', async () => {
    reply = () => ({
      body: {
        RequestId: 'REQ-GCI',
        AccountId: '123456789012',
        Arn: 'acs:ram::123456789012:user/alice',
        IdentityType: 'RAMUser',
        PrincipalId: '2000001',
        UserId: '2000001',
      },
    });
    const identity = await client().getCallerIdentity(user);
    expect(identity).toEqual({
      accountId: '123456789012',
      userId: '2000001',
      arn: 'acs:ram::123456789012:user/alice',
      identityType: 'RAMUser',
      principalId: '2000001',
      roleId: undefined,
      requestId: 'REQ-GCI',
    });
    const req = only();
    expect(req.url).toBe('/');
    expect(req.headers['x-acs-action']).toBe('GetCallerIdentity');
    const { ours, official, sent } = await verifyV3(req);
    expect(ours).toBe(sent);
    expect(official).toBe(sent);
  });

  it('GetCallerIdentity of an assumed role (no UserId)', async () => {
    reply = () => ({
      body: {
        RequestId: 'REQ-GCI2',
        AccountId: '123456789012',
        Arn: 'acs:ram::123456789012:assumed-role/test-role/s',
        IdentityType: 'AssumedRoleUser',
        PrincipalId: '3000:s',
        RoleId: '3000',
      },
    });
    const identity = await client().getCallerIdentity(stsUser);
    expect(identity.userId).toBeUndefined();
    expect(identity.roleId).toBe('3000');
    expect(only().headers['x-acs-security-token']).toBe(TOKEN);
  });

  it('GetCallerIdentity without AccountId is an InvalidResponse', async () => {
    reply = () => ({ body: { RequestId: 'R', Arn: 'acs:ram::1:user/x' } });
    const error = (await rejectionOf(client().getCallerIdentity(user))) as StsError;
    expect(error).toBeInstanceOf(StsError);
    expect(error.code).toBe('InvalidResponse');
    expect(error.message).toContain('AccountId');
  });
});

describe('V1 requests', () => {
  it('AssumeRole: common parameters in the query, operation parameters in a form body, all signed', async () => {
    await client({ signatureVersion: 'v1' }).assumeRole(user, {
      roleArn: ROLE_ARN,
      roleSessionName: 'vector-session',
      durationSeconds: 3600,
      policy: POLICY,
      externalId: 'a+b=c,d.e@f:g/h-i_j',
    });
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.headers.authorization).toBeUndefined();
    expect(Object.keys(req.query).sort()).toEqual(
      ['AccessKeyId', 'Action', 'Format', 'Signature', 'SignatureMethod', 'SignatureNonce', 'SignatureVersion', 'Timestamp', 'Version'],
    );
    expect(req.query).toMatchObject({
      AccessKeyId: AK,
      Action: 'AssumeRole',
      Format: 'JSON',
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      Version: '2015-04-01',
    });
    expect(req.query.Timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(req.form).toEqual({
      RoleArn: ROLE_ARN,
      RoleSessionName: 'vector-session',
      DurationSeconds: '3600',
      Policy: POLICY,
      ExternalId: 'a+b=c,d.e@f:g/h-i_j',
    });
    // '+' must be %2B in a form body, or the server reads a space.
    expect(req.body).toContain('ExternalId=a%2Bb%3Dc%2Cd.e%40f%3Ag%2Fh-i_j');
    const { ours, official, sent } = await verifyV1(req);
    expect(ours).toBe(sent);
    expect(official).toBe(sent);
  });

  it('AssumeRole with STS source credentials: SecurityToken goes along, signed', async () => {
    await client({ signatureVersion: 'v1' }).assumeRole(stsUser, { roleArn: ROLE_ARN, roleSessionName: 'chained' });
    const req = only();
    expect(req.query.SecurityToken).toBe(TOKEN);
    expect(req.query.AccessKeyId).toBe(STS_AK);
    const { ours, official, sent } = await verifyV1(req);
    expect(ours).toBe(sent);
    expect(official).toBe(sent);
  });

  it('GetCallerIdentity: everything in the query, no body', async () => {
    reply = () => ({ body: { RequestId: 'R', AccountId: '1', Arn: 'acs:ram::1:root', IdentityType: 'Account' } });
    const identity = await client({ signatureVersion: 'v1' }).getCallerIdentity(stsUser);
    expect(identity.identityType).toBe('Account');
    const req = only();
    expect(req.body).toBe('');
    expect(req.headers['content-type']).toBeUndefined();
    expect(req.query.Action).toBe('GetCallerIdentity');
    expect(req.query.SecurityToken).toBe(TOKEN);
    const { ours, official, sent } = await verifyV1(req);
    expect(ours).toBe(sent);
    expect(official).toBe(sent);
  });
});

describe('AssumeRoleWithOIDC (anonymous)', () => {
  it('sends no AccessKey and no signature; the token goes in the body, never the URL', async () => {
    reply = () => ({
      body: credentialsBody(iso(Date.now() + 3600_000), {
        OIDCTokenInfo: { Issuer: 'https://oidc.example', Subject: 'system:serviceaccount:ns:sa', ClientIds: 'sts.aliyuncs.com' },
      }),
    });
    // Even a V1 client sends OIDC unsigned.
    const sts = client({ signatureVersion: 'v1', clock: () => T0 });
    const result = await sts.assumeRoleWithOidcDetailed({
      roleArn: ROLE_ARN,
      oidcProviderArn: PROVIDER_ARN,
      oidcToken: OIDC_TOKEN,
      roleSessionName: 'rrsa-session',
      durationSeconds: 3600,
      policy: POLICY,
    });
    expect(result.credentials.source).toBe(ASSUME_ROLE_WITH_OIDC_SOURCE);
    expect(result.oidcTokenInfo).toEqual({
      issuer: 'https://oidc.example',
      subject: 'system:serviceaccount:ns:sa',
      clientIds: 'sts.aliyuncs.com',
      expirationTime: undefined,
      issuanceTime: undefined,
    });

    const req = only();
    expect(req.method).toBe('POST');
    expect(req.query).toEqual({
      Action: 'AssumeRoleWithOIDC',
      Format: 'JSON',
      Version: '2015-04-01',
      Timestamp: '2025-01-15T08:00:00Z',
    });
    expect(req.form).toEqual({
      OIDCProviderArn: PROVIDER_ARN,
      OIDCToken: OIDC_TOKEN,
      RoleArn: ROLE_ARN,
      RoleSessionName: 'rrsa-session',
      DurationSeconds: '3600',
      Policy: POLICY,
    });
    expect(req.url).not.toContain(OIDC_TOKEN);
    expect(req.headers.authorization).toBeUndefined();
    for (const h of Object.keys(req.headers)) expect(h.startsWith('x-acs-')).toBe(false);
    for (const p of ['AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureVersion', 'SecurityToken']) {
      expect(req.query[p]).toBeUndefined();
      expect(req.form[p]).toBeUndefined();
    }
  });

  it('assumeRoleWithOidc returns the credentials; optional parameters are left out', async () => {
    const creds = await client().assumeRoleWithOidc({
      roleArn: ROLE_ARN,
      oidcProviderArn: PROVIDER_ARN,
      oidcToken: OIDC_TOKEN,
      roleSessionName: 'rrsa-session',
    });
    expect(creds.securityToken).toBe('NewToken0001');
    expect(Object.keys(only().form).sort()).toEqual(['OIDCProviderArn', 'OIDCToken', 'RoleArn', 'RoleSessionName']);
  });

  it('an error echoing the token does not leak it', async () => {
    reply = () => ({
      status: 401,
      body: { RequestId: 'R-OIDC', Code: 'AuthenticationFail.OIDCToken.Expired', Message: `This JsonWebToken is expired: ${OIDC_TOKEN}` },
    });
    const error = (await rejectionOf(
      client().assumeRoleWithOidc({ roleArn: ROLE_ARN, oidcProviderArn: PROVIDER_ARN, oidcToken: OIDC_TOKEN, roleSessionName: 'rrsa' }),
    )) as StsError;
    expect(error.code).toBe('AuthenticationFail.OIDCToken.Expired');
    expect(error.httpStatus).toBe(401);
    expect(error.retryable).toBe(false);
    expect(error.message).not.toContain(OIDC_TOKEN);
    expect(error.message).toContain('[REDACTED]');
  });
});

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

describe('success answers', () => {
  it('assumeRoleDetailed: credentials, assumed role user, request id, server date', async () => {
    const now = Date.now();
    const expiration = iso(now + 3600_000);
    reply = () => ({ body: credentialsBody(expiration, { SourceIdentity: 'alice' }) });
    const result = await client().assumeRoleDetailed(user, { roleArn: ROLE_ARN, roleSessionName: 's1' });
    expect(result.credentials.accessKeyId).toBe('STS.NNewKey0001');
    expect(result.credentials.accessKeySecret).toBe('NewSecret0001');
    expect(result.credentials.securityToken).toBe('NewToken0001');
    expect(result.credentials.source).toBe(ASSUME_ROLE_SOURCE);
    // Same clocks (within the Date header's resolution): Expiration as stated.
    expect(result.credentials.expiration?.toISOString()).toBe(new Date(Date.parse(expiration)).toISOString());
    expect(result.statedExpiration.toISOString()).toBe(new Date(Date.parse(expiration)).toISOString());
    expect(result.clockSkewMs).toBe(0);
    expect(result.serverDate).toBeInstanceOf(Date);
    expect(result.assumedRoleUser).toEqual({
      arn: 'acs:ram::123456789012:role/test-role/vector-session',
      assumedRoleId: '3000:vector-session',
    });
    expect(result.sourceIdentity).toBe('alice');
    expect(result.requestId).toBe('REQ-OK-1');
    // The secret stays redacted.
    expect(JSON.stringify(result.credentials)).not.toContain('NewSecret0001');
  });

  it.each([
    ['with milliseconds', '2025-01-15T09:00:00.250Z', Date.UTC(2025, 0, 15, 9, 0, 0, 250)],
    ['with an offset', '2025-01-15T17:00:00+08:00', Date.UTC(2025, 0, 15, 9)],
    ['with a compact offset', '2025-01-15T04:00:00-0500', Date.UTC(2025, 0, 15, 9)],
    ['without a zone (read as UTC)', '2025-01-15T09:00:00', Date.UTC(2025, 0, 15, 9)],
  ])('Expiration %s is parsed', async (_name, expiration, expected) => {
    reply = () => ({ body: credentialsBody(expiration), noDate: true });
    const creds = await client().assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' });
    expect(creds.expiration?.getTime()).toBe(expected);
  });

  it.each([
    ['missing Credentials', { RequestId: 'R' }, /no Credentials object/],
    ['Credentials not an object', { RequestId: 'R', Credentials: 'x' }, /no Credentials object/],
    [
      'missing SecurityToken',
      { RequestId: 'R', Credentials: { AccessKeyId: 'a', AccessKeySecret: 'b', Expiration: '2025-01-15T09:00:00Z' } },
      /Credentials\.SecurityToken is missing/,
    ],
    [
      'empty AccessKeySecret',
      { RequestId: 'R', Credentials: { AccessKeyId: 'a', AccessKeySecret: '', SecurityToken: 't', Expiration: '2025-01-15T09:00:00Z' } },
      /Credentials\.AccessKeySecret is missing/,
    ],
    [
      'missing Expiration',
      { RequestId: 'R', Credentials: { AccessKeyId: 'a', AccessKeySecret: 'b', SecurityToken: 't' } },
      /Credentials\.Expiration is missing/,
    ],
    [
      'unparseable Expiration',
      { RequestId: 'R', Credentials: { AccessKeyId: 'a', AccessKeySecret: 'b', SecurityToken: 't', Expiration: 'next tuesday' } },
      /Expiration "next tuesday" is not an ISO 8601/,
    ],
    [
      'impossible Expiration',
      { RequestId: 'R', Credentials: { AccessKeyId: 'a', AccessKeySecret: 'b', SecurityToken: 't', Expiration: '2025-02-30T00:00:00Z' } },
      /not an ISO 8601/,
    ],
  ])('%s -> InvalidResponse, not retryable', async (_name, body, message) => {
    reply = () => ({ body });
    const error = (await rejectionOf(client().assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' }))) as StsError;
    expect(error).toBeInstanceOf(StsError);
    expect(error.code).toBe('InvalidResponse');
    expect(error.httpStatus).toBe(200);
    expect(error.retryable).toBe(false);
    expect(error.requestId).toBe('R');
    expect(error.message).toMatch(message);
  });

  it('a 200 that is not JSON -> InvalidResponse with an excerpt', async () => {
    reply = () => ({ body: '<html><body>Captive portal: please log in</body></html>' });
    const error = (await rejectionOf(client().assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' }))) as StsError;
    expect(error.code).toBe('InvalidResponse');
    expect(error.httpStatus).toBe(200);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('Captive portal: please log in');
  });

  it('a 200 carrying an error body is that error', async () => {
    reply = () => ({ body: { RequestId: 'R9', Code: 'Throttling.User', Message: 'Request was denied due to user flow control.' } });
    const error = (await rejectionOf(client().assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' }))) as StsError;
    expect(error.code).toBe('Throttling.User');
    expect(error.retryable).toBe(true);
  });
});

describe('clock skew', () => {
  const LOCAL = T0; // the local clock (injected)

  it('server Date one hour ahead: the expiration moves onto the local clock', async () => {
    const serverNow = LOCAL + 3600_000;
    reply = () => ({
      headers: { date: new Date(serverNow).toUTCString() },
      body: credentialsBody(iso(serverNow + 3600_000)),
    });
    const result = await client({ clock: () => LOCAL }).assumeRoleDetailed(user, { roleArn: ROLE_ARN, roleSessionName: 's1' });
    expect(result.credentials.expiration?.getTime()).toBe(LOCAL + 3600_000);
    expect(result.statedExpiration.getTime()).toBe(serverNow + 3600_000);
    expect(result.serverDate?.getTime()).toBe(serverNow);
    expect(result.clockSkewMs).toBe(3600_000);
  });

  it('server Date 10 minutes behind: moved the other way', async () => {
    const serverNow = LOCAL - 600_000;
    reply = () => ({ headers: { date: new Date(serverNow).toUTCString() }, body: credentialsBody(iso(serverNow + 900_000)) });
    const creds = await client({ clock: () => LOCAL }).assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' });
    expect(creds.expiration?.getTime()).toBe(LOCAL + 900_000);
  });

  // Within the 3600 s asked for (default): an expiration further out is cut (hardening-skew.test.ts).
  it('no Date header: Expiration as stated', async () => {
    reply = () => ({ noDate: true, body: credentialsBody('2025-01-15T08:30:00Z') });
    const result = await client({ clock: () => LOCAL }).assumeRoleDetailed(user, { roleArn: ROLE_ARN, roleSessionName: 's1' });
    expect(result.credentials.expiration?.toISOString()).toBe('2025-01-15T08:30:00.000Z');
    expect(result.serverDate).toBeUndefined();
    expect(result.clockSkewMs).toBe(0);
  });

  it('an unparseable Date header: Expiration as stated', async () => {
    reply = () => ({ headers: { date: 'yesterday-ish' }, body: credentialsBody('2025-01-15T08:30:00Z') });
    const result = await client({ clock: () => LOCAL }).assumeRoleDetailed(user, { roleArn: ROLE_ARN, roleSessionName: 's1' });
    expect(result.credentials.expiration?.toISOString()).toBe('2025-01-15T08:30:00.000Z');
    expect(result.serverDate).toBeUndefined();
  });

  it('a difference within the Date header resolution is not corrected', async () => {
    reply = () => ({ headers: { date: new Date(LOCAL + 1000).toUTCString() }, body: credentialsBody(iso(LOCAL + 3600_000)) });
    const result = await client({ clock: () => LOCAL }).assumeRoleDetailed(user, { roleArn: ROLE_ARN, roleSessionName: 's1' });
    expect(result.credentials.expiration?.getTime()).toBe(LOCAL + 3600_000);
    expect(result.clockSkewMs).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

describe('error answers', () => {
  const table: Array<[string, number, string, string, boolean]> = [
    // [case, status, code, message, retryable]
    ['NoPermission 403', 403, 'NoPermission', 'You are not authorized to do this action. You should be authorized by RAM.', false],
    ['EntityNotExist.Role 404', 404, 'EntityNotExist.Role', 'The specified Role not exists .', false],
    ['InvalidAccessKeyId.NotFound 404', 404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.', false],
    ['InvalidParameter.RoleArn 400', 400, 'InvalidParameter.RoleArn', 'The parameter RoleArn is wrongly formed.', false],
    ['MissingSecurityToken 400', 400, 'MissingSecurityToken', 'SecurityToken is mandatory for this action.', false],
    ['InvalidSecurityToken.Expired 400', 400, 'InvalidSecurityToken.Expired', 'Specified SecurityToken is expired.', false],
    ['InvalidTimeStamp.Expired 400', 400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date header is expired.', false],
    ['Throttling.User 400', 400, 'Throttling.User', 'Request was denied due to user flow control.', true],
    ['Throttling.Api 503', 503, 'Throttling.Api', 'Request was denied due to api flow control.', true],
    ['Rejected.Throttling 400', 400, 'Rejected.Throttling', 'Throttled.', true],
    ['InternalError 500', 500, 'InternalError', 'STS Server Internal Error happened, please send the RequestId to us.', true],
    ['ServiceUnavailable 503', 503, 'ServiceUnavailable', 'The request has failed due to a temporary failure of the server.', true],
    ['unknown code 502', 502, 'SomethingNew', 'New failure.', true],
    ['unknown code 400', 400, 'SomethingElse', 'Other failure.', false],
  ];

  it.each(table)('%s', async (_name, status, code, message, retryable) => {
    reply = () => ({
      status,
      body: {
        RequestId: 'REQ-ERR-1',
        HostId: 'sts.aliyuncs.com',
        Code: code,
        Message: message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${code}`,
      },
    });
    const error = (await rejectionOf(client().assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' }))) as StsError;
    expect(error).toBeInstanceOf(StsError);
    expect(error.code).toBe(code);
    expect(error.httpStatus).toBe(status);
    expect(error.requestId).toBe('REQ-ERR-1');
    expect(error.recommend).toBe(`https://api.aliyun.com/troubleshoot?q=${code}`);
    expect(error.retryable).toBe(retryable);
    expect(isRetryableError(error)).toBe(retryable);
    expect(error.tryNext).toBe(false);
    expect(error.message).toContain(message);
    expect(error.message).toContain(code);
    expect(error.message).toContain('AssumeRole');
    expect(error.message).toContain(`HTTP ${status}`);
    expect(error.message).toContain('REQ-ERR-1');
    expect(error.message).not.toContain(SECRET);
  });

  it('request id from the x-acs-request-id header when the body has none', async () => {
    reply = () => ({ status: 403, headers: { 'x-acs-request-id': 'HDR-REQ' }, body: { Code: 'NoPermission', Message: 'No.' } });
    const error = (await rejectionOf(client().assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' }))) as StsError;
    expect(error.requestId).toBe('HDR-REQ');
  });

  it('an XML error body is understood', async () => {
    reply = () => ({
      status: 404,
      headers: { 'content-type': 'text/xml;charset=utf-8' },
      body: "<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>X-1</RequestId><Code>EntityNotExist.Role</Code><Message>The specified Role not exists .</Message></Error>",
    });
    const error = (await rejectionOf(client().assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' }))) as StsError;
    expect(error.code).toBe('EntityNotExist.Role');
    expect(error.requestId).toBe('X-1');
    expect(error.retryable).toBe(false);
  });

  it('HTML 502 from a proxy -> InvalidResponse with a short, collapsed excerpt, no secrets', async () => {
    const html =
      '<!DOCTYPE html>\n<html>\n  <head><title>502 Bad Gateway</title></head>\n  <body>\n    <center><h1>502   Bad Gateway</h1></center>\n' +
      `    <!-- upstream said: ${TOKEN} / ${SECRET} -->\n` +
      `    <p>${'padding '.repeat(60)}</p>\n  </body>\n</html>`;
    reply = () => ({ status: 502, headers: { 'content-type': 'text/html' }, body: html });
    const error = (await rejectionOf(
      client().assumeRole(stsUser, { roleArn: ROLE_ARN, roleSessionName: 's1' }),
    )) as StsError;
    expect(error).toBeInstanceOf(StsError);
    expect(error.code).toBe('InvalidResponse');
    expect(error.httpStatus).toBe(502);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('HTTP 502');
    expect(error.message).toContain('<title>502 Bad Gateway</title>');
    expect(error.message).toContain('<h1>502 Bad Gateway</h1>');
    expect(error.message).not.toMatch(/\n|\s{2}/);
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).not.toContain(STS_SECRET);
    expect(error.message).toContain('[REDACTED]');
    const excerpt = error.message.slice(error.message.indexOf('<!DOCTYPE'));
    expect(excerpt.length).toBeLessThanOrEqual(200);
    expect(excerpt.endsWith('…')).toBe(true);
  });

  it('an empty 503 -> InvalidResponse, retryable', async () => {
    reply = () => ({ status: 503, body: '' });
    const error = (await rejectionOf(client().getCallerIdentity(user))) as StsError;
    expect(error.code).toBe('InvalidResponse');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('empty body');
  });

  it('a redirect is not followed', async () => {
    reply = () => ({ status: 302, headers: { location: 'https://evil.example/' }, body: 'moved' });
    const error = (await rejectionOf(client().assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' }))) as StsError;
    expect(error.code).toBe('InvalidResponse');
    expect(error.httpStatus).toBe(302);
    expect(requests).toHaveLength(1);
  });

  it('SignatureDoesNotMatch: the server string to sign is left out, a wrong secret is named', async () => {
    let serverStringToSign = '';
    reply = (req) => {
      const { Signature: _s, ...signed } = { ...req.query, ...req.form };
      serverStringToSign = rpcStringToSign('POST', signed);
      return {
        status: 400,
        body: {
          RequestId: 'R-SIG',
          Code: 'SignatureDoesNotMatch',
          Message: `Specified signature is not matched with our calculation. server string to sign is:${serverStringToSign}`,
        },
      };
    };
    const error = (await rejectionOf(
      client({ signatureVersion: 'v1' }).assumeRole(stsUser, { roleArn: ROLE_ARN, roleSessionName: 's1', policy: POLICY }),
    )) as StsError;
    expect(error.code).toBe('SignatureDoesNotMatch');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('the AccessKeySecret is wrong');
    expect(error.message).toContain('characters omitted');
    expect(serverStringToSign).toContain('SecurityToken');
    expect(error.message).not.toContain('SecurityToken%3D');
    expect(error.message).not.toContain('oss%253AGet');
  });

  it('connection reset -> NetworkError, retryable, cause kept', async () => {
    reply = () => ({ reset: true });
    const error = (await rejectionOf(client().assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' }))) as StsError;
    expect(error).toBeInstanceOf(StsError);
    expect(error.code).toBe('NetworkError');
    expect(error.retryable).toBe(true);
    expect(isRetryableError(error)).toBe(true);
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.message).toContain(base);
    expect(error.message).toContain('AssumeRole');
  });

  it('connection refused -> NetworkError, retryable', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const error = (await rejectionOf(
      createStsClient({ endpoint: `http://127.0.0.1:${port}`, env: {} }).getCallerIdentity(user),
    )) as StsError;
    expect(error.code).toBe('NetworkError');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('an injected fetch that throws -> NetworkError', async () => {
    const boom = new TypeError('fetch failed', { cause: Object.assign(new Error(`socket hang up ${SECRET}`), { code: 'ECONNRESET' }) });
    const sts = createStsClient({ env: {}, fetch: async () => Promise.reject(boom) });
    const error = (await rejectionOf(sts.assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' }))) as StsError;
    expect(error.code).toBe('NetworkError');
    // A sanitized stand-in, not the foreign error: its nested message quoted the secret.
    expect(error.cause).not.toBe(boom);
    expect((error.cause as Error).message).toBe('fetch failed');
    expect(JSON.stringify((error.cause as Error).cause)).toContain('ECONNRESET');
    expect(String(((error.cause as Error).cause as Error).message)).not.toContain(SECRET);
    expect(error.message).toContain('ECONNRESET');
    expect(error.message).not.toContain(SECRET);
  });
});

describe('time limits and aborts', () => {
  it('no answer within timeoutMs -> Timeout, retryable', async () => {
    reply = () => ({ hang: true });
    const started = Date.now();
    const error = (await rejectionOf(
      client({ timeoutMs: 150 }).assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' }),
    )) as StsError;
    expect(error).toBeInstanceOf(StsError);
    expect(error.code).toBe('Timeout');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('150 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('the time limit also covers an injected fetch that ignores the signal', async () => {
    const sts = createStsClient({ env: {}, timeoutMs: 50, fetch: () => new Promise<Response>(() => {}) });
    const error = (await rejectionOf(sts.getCallerIdentity(user))) as StsError;
    expect(error.code).toBe('Timeout');
  });

  it('caller abort mid-flight rejects with the caller reason', async () => {
    reply = () => ({ hang: true });
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const pending = client().assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' }, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 50);
    const error = await rejectionOf(pending);
    expect(error).toBe(reason);
    expect(isRetryableError(error)).toBe(false);
  });

  it('abort without a reason gives the AbortError DOMException', async () => {
    reply = () => ({ hang: true });
    const controller = new AbortController();
    const pending = client().getCallerIdentity(user, { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    const error = (await rejectionOf(pending)) as DOMException;
    expect(error.name).toBe('AbortError');
    expect(isRetryableError(error)).toBe(false);
  });

  it('an already-aborted signal: no request at all', async () => {
    const reason = new Error('already');
    const error = await rejectionOf(
      client().assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' }, { signal: AbortSignal.abort(reason) }),
    );
    expect(error).toBe(reason);
    expect(requests).toHaveLength(0);
  });

  describe('timers', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('the timer is cleared after success, failure and abort', async () => {
      vi.useFakeTimers();
      const ok = createStsClient({
        env: {},
        fetch: async () => new Response(JSON.stringify(credentialsBody('2030-01-01T00:00:00Z'))),
      });
      await ok.assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' });
      expect(vi.getTimerCount()).toBe(0);

      const failing = createStsClient({ env: {}, fetch: async () => Promise.reject(new TypeError('fetch failed')) });
      await rejectionOf(failing.assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 's1' }));
      expect(vi.getTimerCount()).toBe(0);

      const controller = new AbortController();
      const called = signalled();
      const hanging = createStsClient({
        env: {},
        fetch: () => {
          called.resolve();
          return new Promise<Response>(() => {});
        },
      });
      const pending = hanging.getCallerIdentity(user, { signal: controller.signal });
      // Signing uses WebCrypto, which settles outside fake time: wait for the fetch itself.
      await called.promise;
      expect(vi.getTimerCount()).toBe(1);
      controller.abort(new Error('stop'));
      await rejectionOf(pending);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('fake timers drive the timeout', async () => {
      vi.useFakeTimers();
      const called = signalled();
      const sts = createStsClient({
        env: {},
        timeoutMs: 10_000,
        fetch: () => {
          called.resolve();
          return new Promise<Response>(() => {});
        },
      });
      const pending = rejectionOf(sts.getCallerIdentity(user));
      await called.promise;
      await vi.advanceTimersByTimeAsync(9_999);
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(((await pending) as StsError).code).toBe('Timeout');
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});

// ---------------------------------------------------------------------------
// Byte compatibility with the reference vectors (sts-api.md §3.4, §4.4)
// ---------------------------------------------------------------------------

describe('reference vectors through the client', () => {
  type Sent = { url: string; init: RequestInit };

  function capturingFetch(sent: Sent[], body: Record<string, unknown>): typeof fetch {
    return async (input, init) => {
      sent.push({ url: String(input), init: init ?? {} });
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    };
  }

  function fixNonce(nonce: string): void {
    vi.spyOn(globalThis.crypto, 'randomUUID').mockReturnValue(nonce as ReturnType<Crypto['randomUUID']>);
  }

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('Vector E (V3 AssumeRole): same Authorization', async () => {
    fixNonce('3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b');
    const sent: Sent[] = [];
    const sts = createStsClient({ env: {}, clock: () => T0, fetch: capturingFetch(sent, credentialsBody('2030-01-01T00:00:00Z')) });
    expect(sts.endpoint).toBe('https://sts.aliyuncs.com');
    await sts.assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 'vector-session', durationSeconds: 3600 });
    const { url, init } = sent[0]!;
    const headers = init.headers as Record<string, string>;
    expect(init.method).toBe('POST');
    expect(init.body).toBeUndefined();
    expect(new URL(url).origin + new URL(url).pathname).toBe('https://sts.aliyuncs.com/');
    expect(record(new URL(url).searchParams)).toEqual({
      RoleArn: ROLE_ARN,
      RoleSessionName: 'vector-session',
      DurationSeconds: '3600',
    });
    expect(headers.Authorization).toBe(
      'ACS3-HMAC-SHA256 Credential=LTAI5tFAKEFAKEFAKE0001,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=b1a76f706f13243493b9f36ae6e507d6091b458487962d6d80d8ae2c7c0f3aab',
    );
    // Host is left to fetch (it derives it from the URL).
    expect(Object.keys(headers).map((h) => h.toLowerCase())).not.toContain('host');
  });

  it('Vector G (V3 GetCallerIdentity with an STS caller): same Authorization', async () => {
    fixNonce('0a1b2c3d4e5f60718293a4b5c6d7e8f9');
    const sent: Sent[] = [];
    const sts = createStsClient({
      region: 'cn-hangzhou',
      env: {},
      clock: () => T0,
      fetch: capturingFetch(sent, { RequestId: 'R', AccountId: '1', Arn: 'acs:ram::1:assumed-role/r/s' }),
    });
    const caller = createCredentials({
      accessKeyId: 'STS.NFakeAK',
      accessKeySecret: 'FakeStsSecret',
      securityToken: 'CAISFakeToken',
      source: 'test',
    });
    await sts.getCallerIdentity(caller);
    const { url, init } = sent[0]!;
    expect(url).toBe('https://sts.cn-hangzhou.aliyuncs.com/');
    const headers = init.headers as Record<string, string>;
    expect(headers['x-acs-security-token']).toBe('CAISFakeToken');
    expect(headers.Authorization).toBe(
      'ACS3-HMAC-SHA256 Credential=STS.NFakeAK,SignedHeaders=host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version,Signature=d6bfa5a66a99eb08eee19f081443b93d98d6730de6324aca0d051a51371c6882',
    );
  });

  it('Vector C (V1 AssumeRole as @alicloud/credentials): same Signature and body', async () => {
    fixNonce('7f1e2d3c4b5a69788796a5b4c3d2e1f0');
    const sent: Sent[] = [];
    const sts = createStsClient({
      signatureVersion: 'v1',
      env: {},
      clock: () => T0,
      fetch: capturingFetch(sent, credentialsBody('2030-01-01T00:00:00Z')),
    });
    await sts.assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 'vector-session', durationSeconds: 3600 });
    const { url, init } = sent[0]!;
    expect(init.body).toBe(
      'RoleArn=acs%3Aram%3A%3A123456789012%3Arole%2Ftest-role&RoleSessionName=vector-session&DurationSeconds=3600',
    );
    expect((init.headers as Record<string, string>)['content-type']).toBe('application/x-www-form-urlencoded');
    const query = record(new URL(url).searchParams);
    expect(query).toEqual({
      Version: '2015-04-01',
      Action: 'AssumeRole',
      Format: 'JSON',
      Timestamp: '2025-01-15T08:00:00Z',
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      SignatureNonce: '7f1e2d3c4b5a69788796a5b4c3d2e1f0',
      AccessKeyId: 'LTAI5tFAKEFAKEFAKE0001',
      Signature: '59koNgw2dP6n0sfXc5kSr27wYAw=',
    });
    expect(url).toContain('Signature=59koNgw2dP6n0sfXc5kSr27wYAw%3D');
  });
});

// ---------------------------------------------------------------------------
// nock: the default global fetch over https
// ---------------------------------------------------------------------------

describe('with nock (global fetch, https endpoint)', () => {
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('calls https://sts.<region>.aliyuncs.com and parses the answer', async () => {
    nock.disableNetConnect();
    let seen: { query: Record<string, string>; auth: string | undefined } | undefined;
    const scope = nock('https://sts.cn-shanghai.aliyuncs.com')
      .post('/')
      .query(true)
      .reply(function (uri) {
        seen = {
          query: record(new URL(uri, 'https://x').searchParams),
          auth: this.req.headers.authorization as string | undefined,
        };
        return [200, credentialsBody('2030-01-01T00:00:00Z'), { 'content-type': 'application/json' }];
      });
    const sts = createStsClient({ env: { ALIBABA_CLOUD_STS_REGION: 'cn-shanghai' } });
    const creds = await sts.assumeRole(user, { roleArn: ROLE_ARN, roleSessionName: 'nocked' });
    expect(creds.accessKeyId).toBe('STS.NNewKey0001');
    expect(scope.isDone()).toBe(true);
    expect(seen?.query.RoleSessionName).toBe('nocked');
    expect(seen?.auth).toMatch(/^ACS3-HMAC-SHA256 Credential=LTAI5tFAKEFAKEFAKE0001,/);
  });
});

// ---------------------------------------------------------------------------
// The official @alicloud/sts20150401 client and ours send the same parameters
// ---------------------------------------------------------------------------

describe('parity with @alicloud/sts20150401', () => {
  type OfficialSts = { assumeRole(request: unknown): Promise<{ body: { credentials: { accessKeyId: string } } }> };
  const StsClass = ((StsModule as unknown as { default: { default?: unknown } }).default.default ??
    (StsModule as unknown as { default: unknown }).default) as new (config: unknown) => OfficialSts;
  const Config = (OpenApiCore as unknown as { $OpenApiUtil: { Config: new (c: Record<string, unknown>) => unknown } })
    .$OpenApiUtil.Config;
  const AssumeRoleRequest = (StsModule as unknown as { AssumeRoleRequest: new (r: Record<string, unknown>) => unknown })
    .AssumeRoleRequest;

  const params = {
    roleArn: ROLE_ARN,
    roleSessionName: 'parity-session',
    durationSeconds: 1800,
    policy: POLICY,
    externalId: 'ext-1234',
  };

  async function official(source: Credentials, signatureAlgorithm: string | undefined): Promise<Captured> {
    requests = [];
    const sts = new StsClass(
      new Config({
        accessKeyId: source.accessKeyId,
        accessKeySecret: source.accessKeySecret,
        securityToken: source.securityToken,
        endpoint: new URL(base).host,
        protocol: 'http',
        signatureAlgorithm,
      }),
    );
    const r = await sts.assumeRole(new AssumeRoleRequest({ ...params }));
    expect(r.body.credentials.accessKeyId).toBe('STS.NNewKey0001');
    return only();
  }

  async function ours(source: Credentials, signatureVersion: 'v1' | 'v3'): Promise<Captured> {
    requests = [];
    await client({ signatureVersion }).assumeRole(source, params);
    return only();
  }

  const volatile = new Set(['Signature', 'SignatureNonce', 'Timestamp']);
  function v1Params(req: Captured): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...req.query, ...req.form })) {
      if (!volatile.has(k)) out[k] = k === 'Format' ? v.toUpperCase() : v;
    }
    return out;
  }
  function signedHeaderNames(req: Captured): string[] {
    return /SignedHeaders=([^,]+)/.exec(headerValue(req.headers, 'authorization') ?? '')![1]!.split(';');
  }

  it.each([
    ['RAM user', user],
    ['STS caller', stsUser],
  ])('V3, %s: same query parameters and signed headers (less x-acs-credentials-provider)', async (_name, source) => {
    const theirs = await official(source, undefined);
    const mine = await ours(source, 'v3');
    expect(mine.query).toEqual(theirs.query);
    expect(mine.body).toBe(theirs.body);
    expect(mine.headers['x-acs-security-token']).toBe(theirs.headers['x-acs-security-token']);
    expect(mine.headers['x-acs-accesskey-id']).toBe(theirs.headers['x-acs-accesskey-id']);
    expect(signedHeaderNames(mine)).toEqual(signedHeaderNames(theirs).filter((h) => h !== 'x-acs-credentials-provider'));
    // Both verify the same way.
    for (const req of [theirs, mine]) {
      const { official: o, sent } = await verifyV3(req);
      expect(o).toBe(sent);
    }
  });

  it.each([
    ['RAM user', user],
    ['STS caller', stsUser],
  ])('V1, %s: same signed parameter set (query vs form placement aside)', async (_name, source) => {
    const theirs = await official(source, 'v2');
    const mine = await ours(source, 'v1');
    expect(v1Params(mine)).toEqual(v1Params(theirs));
    for (const req of [theirs, mine]) {
      const { official: o, sent } = await verifyV1(req);
      expect(o).toBe(sent);
    }
  });
});

// ---------------------------------------------------------------------------
// Universal code
// ---------------------------------------------------------------------------

describe('universal code', () => {
  it.each(['client.ts', 'endpoints.ts', 'validate.ts', 'errors.ts', 'time.ts'])(
    'src/sts/%s uses no Node built-ins, Buffer or process',
    (file) => {
      const text = readFileSync(new URL(`../src/sts/${file}`, import.meta.url), 'utf8');
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      expect(code).not.toMatch(/from\s+['"](node:|fs|path|http|https|crypto|net|os|url|util)['"]/);
      expect(code).not.toMatch(/\brequire\(/);
      expect(code).not.toMatch(/\bBuffer\b/);
      expect(code).not.toMatch(/(^|[^.\w])process\./m);
    },
  );

  it('ConfigError when no fetch exists', async () => {
    const sts = createStsClient({ env: {} });
    vi.stubGlobal('fetch', undefined);
    try {
      const error = await rejectionOf(sts.getCallerIdentity(user));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe('fetch');
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
