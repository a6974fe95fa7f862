/**
 * The local RAM/STS + IoT emulator (src/testing/emulator), driven by
 * (1) raw fetch requests signed with alicred's own signer (src/sts/sign.ts), V1 and V3, and
 * (2) the official Tea clients (@alicloud/sts20150401, @alicloud/iot20180120).
 * Nothing here contacts any address other than 127.0.0.1.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request as httpRequest } from 'node:http';
import * as StsModule from '@alicloud/sts20150401';
import StsPackage, { AssumeRoleRequest } from '@alicloud/sts20150401';
import * as IotModule from '@alicloud/iot20180120';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as $OpenApi from '@alicloud/openapi-client';
import { buildRpcV1Params, buildV3Headers, percentEncode, rpcStringToSign, signRpcV1, signV3 } from '../src/sts/sign.js';
import { startEmulator, type Emulator, type EmulatorOptions, type Policy } from '../src/testing/emulator/index.js';
import { evaluate, globMatch } from '../src/testing/emulator/policy.js';

process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';

// ---------------------------------------------------------------------------
// Official clients (CJS: the class is `.default` or `.default.default` depending on interop)
// ---------------------------------------------------------------------------

type StsClient = InstanceType<typeof StsModule.default>;
type IotClient = InstanceType<typeof IotModule.default>;
const StsCtor: typeof StsModule.default =
  (StsModule.default as unknown as { default?: typeof StsModule.default }).default ?? StsModule.default;
const IotCtor: typeof IotModule.default =
  (IotModule.default as unknown as { default?: typeof IotModule.default }).default ?? IotModule.default;

type TeaKey = { accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined };

/** How an official openapi-core client (sts20150401 >= 1.2) reaches the emulator. */
function stsClient(emu: Emulator, key: TeaKey, v1 = false): StsClient {
  return new StsCtor(
    new $OpenApiUtil.Config({
      accessKeyId: key.accessKeyId,
      accessKeySecret: key.accessKeySecret,
      ...(key.securityToken ? { securityToken: key.securityToken } : {}),
      endpoint: emu.host,
      protocol: 'http',
      ...(v1 ? { signatureAlgorithm: 'v2' } : {}),
    }),
  );
}

/** How an official openapi-client client (iot20180120) reaches the emulator. */
function iotClient(emu: Emulator, key: TeaKey, v1 = false): IotClient {
  return new IotCtor(
    new $OpenApi.Config({
      accessKeyId: key.accessKeyId,
      accessKeySecret: key.accessKeySecret,
      ...(key.securityToken ? { securityToken: key.securityToken } : {}),
      endpoint: emu.host,
      protocol: 'http',
      ...(v1 ? { signatureAlgorithm: 'v2' } : {}),
    }),
  );
}

type TeaError = { code?: string; statusCode?: number; message: string; data?: Record<string, unknown> };
async function teaError(promise: Promise<unknown>): Promise<TeaError> {
  try {
    await promise;
  } catch (error) {
    return error as TeaError;
  }
  throw new Error('expected the call to fail');
}

// ---------------------------------------------------------------------------
// Raw signed requests (alicred's signer)
// ---------------------------------------------------------------------------

const STS_VERSION = '2015-04-01';
const IOT_VERSION = '2018-01-20';

type Key = { accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined };

function isoSeconds(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

let nonceCounter = 0;
function freshNonce(): string {
  nonceCounter += 1;
  return `nonce-${Date.now()}-${nonceCounter}-${Math.random().toString(36).slice(2)}`;
}

function encode(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
}

function assertLocal(emu: Emulator): void {
  if (!emu.url.startsWith('http://127.0.0.1:')) throw new Error(`refusing to contact ${emu.url}`);
}

type V1Options = {
  version?: string;
  method?: 'GET' | 'POST';
  /** Where operation parameters go; common parameters stay in the query. */
  placement?: 'query' | 'form';
  /** Timestamp in epoch ms. */
  at?: number;
  nonce?: string;
  /** `null` leaves Format out (the service then answers XML). */
  format?: string | null;
  /** Sign with this secret instead of the key's. */
  signWith?: string;
  /** Change the sent parameters after signing. */
  tamper?: (sent: Record<string, string>) => void;
};

const RPC_COMMON = new Set([
  'Action', 'Version', 'Format', 'Timestamp', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce',
  'AccessKeyId', 'SecurityToken', 'Signature',
]);

/** A V1 (HMAC-SHA1 RPC) request. */
async function callV1(
  emu: Emulator,
  key: Key,
  action: string,
  params: Record<string, string | undefined> = {},
  options: V1Options = {},
): Promise<Response> {
  assertLocal(emu);
  const method = options.method ?? 'POST';
  const signed = buildRpcV1Params({
    action,
    version: options.version ?? STS_VERSION,
    accessKeyId: key.accessKeyId,
    securityToken: key.securityToken,
    params,
    timestamp: isoSeconds(options.at),
    nonce: options.nonce ?? freshNonce(),
    ...(options.format !== undefined && options.format !== null ? { format: options.format } : {}),
  });
  if (options.format === null) delete signed.Format;
  const signature = await signRpcV1({ method, params: signed, accessKeySecret: options.signWith ?? key.accessKeySecret });
  const sent: Record<string, string> = { ...signed, Signature: signature };
  options.tamper?.(sent);
  if (options.placement === 'form') {
    const query: Record<string, string> = {};
    const form: Record<string, string> = {};
    for (const [k, v] of Object.entries(sent)) (RPC_COMMON.has(k) ? query : form)[k] = v;
    return fetch(`${emu.url}/?${encode(query)}`, {
      method,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: encode(form),
    });
  }
  return fetch(`${emu.url}/?${encode(sent)}`, { method });
}

type V3Options = {
  version?: string;
  placement?: 'query' | 'form';
  /** x-acs-date in epoch ms. */
  at?: number;
  nonce?: string;
  signWith?: string;
  /** Change the headers after signing. */
  tamperHeaders?: (headers: Record<string, string>) => void;
  /** Change the sent query after signing. */
  tamperQuery?: (query: Record<string, string>) => void;
};

/** A V3 (ACS3-HMAC-SHA256) request; an STS token goes in x-acs-security-token. */
async function callV3(
  emu: Emulator,
  key: Key,
  action: string,
  params: Record<string, string> = {},
  options: V3Options = {},
): Promise<Response> {
  assertLocal(emu);
  const form = options.placement === 'form';
  const body = form ? encode(params) : '';
  const query: Record<string, string> = form ? {} : { ...params };
  const headers = buildV3Headers({
    host: emu.host,
    action,
    version: options.version ?? STS_VERSION,
    date: isoSeconds(options.at),
    nonce: options.nonce ?? freshNonce(),
    ...(form ? { contentType: 'application/x-www-form-urlencoded' } : {}),
  });
  const signed = await signV3({
    method: 'POST',
    pathname: '/',
    query,
    headers,
    body,
    accessKeyId: key.accessKeyId,
    accessKeySecret: options.signWith ?? key.accessKeySecret,
    securityToken: key.securityToken,
  });
  const sentHeaders: Record<string, string> = { ...signed.headers };
  delete sentHeaders.host; // fetch sets Host itself, to the same value
  options.tamperHeaders?.(sentHeaders);
  options.tamperQuery?.(query);
  const qs = encode(query);
  return fetch(`${emu.url}/${qs ? `?${qs}` : ''}`, { method: 'POST', headers: sentHeaders, ...(form ? { body } : {}) });
}

/** An anonymous RPC request (AssumeRoleWithOIDC); parameters in a form body, as credentials-nodejs sends them. */
async function callAnonymous(
  emu: Emulator,
  action: string,
  params: Record<string, string>,
  options: { at?: number; placement?: 'query' | 'form' } = {},
): Promise<Response> {
  assertLocal(emu);
  const common = { Version: STS_VERSION, Action: action, Format: 'JSON', Timestamp: isoSeconds(options.at) };
  if (options.placement === 'query') return fetch(`${emu.url}/?${encode({ ...common, ...params })}`, { method: 'POST' });
  return fetch(`${emu.url}/?${encode(common)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: encode(params),
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;
async function json(res: Response): Promise<{ status: number; body: Body }> {
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Body };
}

function keyOf(body: Body): Key {
  return {
    accessKeyId: body.Credentials.AccessKeyId,
    accessKeySecret: body.Credentials.AccessKeySecret,
    securityToken: body.Credentials.SecurityToken,
  };
}

async function expectError(res: Promise<Response>, status: number, code: string): Promise<Body> {
  const { status: got, body } = await json(await res);
  expect({ status: got, code: body.Code }).toEqual({ status, code });
  return body;
}

// ---------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------

const ALICE = { name: 'alice', accessKeyId: 'LTAI5tAlice000000000001', accessKeySecret: 'alice-secret-0123456789' };
const BOB = { name: 'bob', accessKeyId: 'LTAI5tBob00000000000002', accessKeySecret: 'bob-secret-0123456789' };
const CAROL = { name: 'carol', accessKeyId: 'LTAI5tCarol000000000003', accessKeySecret: 'carol-secret-012345678' };
const DAVE = { name: 'dave', accessKeyId: 'LTAI5tDave0000000000004', accessKeySecret: 'dave-secret-0123456789' };

const allow = (...actions: string[]): Policy => ({ Statement: [{ Effect: 'Allow', Action: actions }] });
const deny = (...actions: string[]): Policy => ({ Statement: [{ Effect: 'Deny', Action: actions }] });

function fixture(extra: Partial<EmulatorOptions> = {}): EmulatorOptions {
  return {
    users: [
      ALICE, // no policies: may do everything
      { ...BOB, policies: [allow('*'), deny('sts:AssumeRole')] },
      { ...CAROL, disabled: true },
      {
        ...DAVE,
        policies: [
          { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'acs:ram::*:role/iot-reader' }] },
          allow('iot:QueryProductList'),
        ],
      },
    ],
    roles: [
      { name: 'iot-reader', trustedUsers: ['alice', 'bob', 'dave'], maxSessionDuration: 7200, policies: [allow('iot:Query*', 'sts:AssumeRole')] },
      { name: 'iot-admin', trustedUsers: ['alice'], policies: [allow('iot:*', 'sts:AssumeRole'), deny('iot:Delete*')] },
      { name: 'untrusting', trustedUsers: [] },
      { name: 'other-reader', trustedUsers: ['alice'] },
      { name: 'chained', trustedRoles: ['iot-reader'], policies: [allow('iot:QueryProductList')] },
      { name: 'by-origin', trustedUsers: ['alice'], policies: [allow('iot:QueryDeviceDetail')] },
      { name: 'no-sts', trustedUsers: ['alice'], policies: [allow('iot:*')] },
      { name: 'oidc-role', trustedOidcProviders: ['ack-rrsa'], policies: [allow('iot:QueryProductList')] },
      { name: 'oidc-other', trustedOidcProviders: ['other-idp'] },
    ],
    oidcProviders: [
      { name: 'ack-rrsa' },
      { name: 'other-idp', issuerUrl: 'https://idp.example.invalid', clientIds: ['my-app'] },
    ],
    ...extra,
  };
}

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator(fixture());
});
afterAll(async () => {
  await emu.close();
});
afterEach(() => {
  emu.clearFaults();
});

async function assume(caller: Key, role: string, params: Record<string, string> = {}, v3 = true): Promise<Key> {
  const call = v3 ? callV3 : callV1;
  const { status, body } = await json(await call(emu, caller, 'AssumeRole', { RoleArn: emu.roleArn(role), RoleSessionName: 'test', ...params }));
  expect(status, JSON.stringify(body)).toBe(200);
  return keyOf(body);
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe('startEmulator: handle', () => {
  it('listens on 127.0.0.1 and a free port, with consistent endpoints and ARNs', () => {
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emu.host).toBe(`127.0.0.1:${emu.port}`);
    expect(emu.stsEndpoint).toBe(emu.url);
    expect(emu.productEndpoint).toBe(emu.url);
    expect(emu.accountId).toBe('1234567890123456');
    expect(emu.roleArn('IoT-Reader')).toBe('acs:ram::1234567890123456:role/iot-reader');
    expect(emu.oidcProviderArn('ack-rrsa')).toBe('acs:ram::1234567890123456:oidc-provider/ack-rrsa');
  });

  it('rejects invalid options with a TypeError', async () => {
    await expect(startEmulator({ timeScale: 0.5 })).rejects.toThrow(TypeError);
    await expect(startEmulator({ users: [ALICE, { ...BOB, accessKeyId: ALICE.accessKeyId }] })).rejects.toThrow(/duplicate accessKeyId/);
    await expect(startEmulator({ users: [{ ...ALICE, accessKeyId: 'STS.x' }] })).rejects.toThrow(/reserved/);
    await expect(startEmulator({ roles: [{ name: 'r', trustedUsers: ['nobody'] }] })).rejects.toThrow(/unknown user/);
    await expect(startEmulator({ roles: [{ name: 'r', maxSessionDuration: 100 }] })).rejects.toThrow(/maxSessionDuration/);
    await expect(startEmulator({ roles: [{ name: 'r', trustedOidcProviders: ['x'] }] })).rejects.toThrow(/OIDC provider/);
    await expect(
      startEmulator({ roles: [{ name: 'r', policies: [{ Statement: [{ Effect: 'Maybe' as 'Allow', Action: 'x' }] }] }] }),
    ).rejects.toThrow(/Effect/);
  });
});

describe('AssumeRole', () => {
  it('V1 GET with query parameters: the exact success shape, Date header and request id', async () => {
    const before = Date.now();
    const res = await callV1(emu, ALICE, 'AssumeRole', { RoleArn: emu.roleArn('iot-reader'), RoleSessionName: 'alice-s1', DurationSeconds: '900' }, { method: 'GET' });
    const { status, body } = await json(res);
    expect(status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json;charset=utf-8');
    expect(res.headers.get('x-acs-request-id')).toBe(body.RequestId);
    expect(Object.keys(body).sort()).toEqual(['AssumedRoleUser', 'Credentials', 'RequestId']);
    expect(body.RequestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    expect(Object.keys(body.Credentials).sort()).toEqual(['AccessKeyId', 'AccessKeySecret', 'Expiration', 'SecurityToken']);
    expect(body.Credentials.AccessKeyId).toMatch(/^STS\.[1-9A-Za-z]{25}$/);
    expect(body.Credentials.Expiration).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const expiresIn = Date.parse(body.Credentials.Expiration) - before;
    expect(expiresIn).toBeGreaterThan(898_000);
    expect(expiresIn).toBeLessThanOrEqual(901_000);
    expect(body.AssumedRoleUser.Arn).toBe('acs:ram::1234567890123456:role/iot-reader/alice-s1');
    expect(body.AssumedRoleUser.AssumedRoleId).toMatch(/^\d{19}:alice-s1$/);
    const date = res.headers.get('date');
    expect(date).not.toBeNull();
    expect(Math.abs(Date.parse(date!) - Date.now())).toBeLessThan(5_000);
  });

  it('V1 POST with the operation parameters in a form body (credentials-nodejs style)', async () => {
    const res = await callV1(emu, ALICE, 'AssumeRole', { RoleArn: emu.roleArn('iot-reader'), RoleSessionName: 'form-session' }, { placement: 'form' });
    const { status, body } = await json(res);
    expect(status).toBe(200);
    expect(body.AssumedRoleUser.Arn).toMatch(/\/form-session$/);
    const expiresIn = Date.parse(body.Credentials.Expiration) - Date.now();
    expect(expiresIn).toBeGreaterThan(3_590_000); // default 3600 s
  });

  it('V1 without Format answers XML, like the service', async () => {
    const res = await callV1(emu, ALICE, 'AssumeRole', { RoleArn: emu.roleArn('iot-reader'), RoleSessionName: 'xml-session' }, { format: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml;charset=utf-8');
    const text = await res.text();
    expect(text).toMatch(/^<\?xml version='1.0' encoding='UTF-8'\?><AssumeRoleResponse>/);
    expect(text).toMatch(/<Credentials><AccessKeyId>STS\./);
    const err = await callV1(emu, ALICE, 'AssumeRole', { RoleArn: emu.roleArn('nope'), RoleSessionName: 'xml-session' }, { format: 'XML' });
    expect(err.status).toBe(404);
    expect(await err.text()).toMatch(/<Error><RequestId>[^<]+<\/RequestId><HostId>[^<]+<\/HostId><Code>EntityNotExist.Role<\/Code>/);
  });

  it('V3 with query parameters and with a form body', async () => {
    for (const placement of ['query', 'form'] as const) {
      const { status, body } = await json(
        await callV3(emu, ALICE, 'AssumeRole', { RoleArn: emu.roleArn('iot-reader'), RoleSessionName: `v3-${placement}`, DurationSeconds: '7200' }, { placement }),
      );
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.AssumedRoleUser.Arn).toMatch(new RegExp(`/v3-${placement}$`));
      expect(Date.parse(body.Credentials.Expiration) - Date.now()).toBeGreaterThan(7_190_000);
    }
  });

  it('issued credentials are callers themselves, with V1 and V3 (GetCallerIdentity)', async () => {
    const sts = await assume(ALICE, 'iot-reader', { RoleSessionName: 'who-am-i' });
    for (const call of [callV1, callV3]) {
      const { status, body } = await json(await call(emu, sts, 'GetCallerIdentity'));
      expect(status).toBe(200);
      expect(body).toMatchObject({
        AccountId: '1234567890123456',
        Arn: 'acs:ram::1234567890123456:assumed-role/iot-reader/who-am-i',
        IdentityType: 'AssumedRoleUser',
      });
      expect(body.PrincipalId).toBe(`${body.RoleId}:who-am-i`);
    }
    const { body } = await json(await callV3(emu, ALICE, 'GetCallerIdentity'));
    expect(body).toMatchObject({ Arn: 'acs:ram::1234567890123456:user/alice', IdentityType: 'RAMUser', AccountId: '1234567890123456' });
    expect(body.UserId).toBe(body.PrincipalId);
  });

  it('carries SourceIdentity through a role chain', async () => {
    const { body } = await json(
      await callV3(emu, ALICE, 'AssumeRole', { RoleArn: emu.roleArn('iot-reader'), RoleSessionName: 'src', SourceIdentity: 'alice@corp' }),
    );
    expect(body.SourceIdentity).toBe('alice@corp');
    const chained = await json(await callV3(emu, keyOf(body), 'AssumeRole', { RoleArn: emu.roleArn('chained'), RoleSessionName: 'src2' }));
    expect(chained.body.SourceIdentity).toBe('alice@corp');
    await expectError(
      callV3(emu, keyOf(body), 'AssumeRole', { RoleArn: emu.roleArn('chained'), RoleSessionName: 'src3', SourceIdentity: 'mallory' }),
      400,
      'InvalidParameter.SourceIdentity',
    );
  });
});

describe('rejections (error shape, codes and statuses)', () => {
  it('uses the service error body {RequestId, HostId, Code, Message, Recommend}', async () => {
    const res = await callV3(emu, ALICE, 'AssumeRole', { RoleArn: emu.roleArn('missing-role'), RoleSessionName: 'sess' });
    const { status, body } = await json(res);
    expect(status).toBe(404);
    expect(Object.keys(body)).toEqual(['RequestId', 'HostId', 'Code', 'Message', 'Recommend']);
    expect(body).toMatchObject({ Code: 'EntityNotExist.Role', Message: 'The specified Role not exists .', HostId: emu.host });
    expect(body.Recommend).toContain(body.RequestId);
    expect(res.headers.get('x-acs-request-id')).toBe(body.RequestId);
    expect(res.headers.get('date')).not.toBeNull();
  });

  it('unknown AccessKeyId: InvalidAccessKeyId.NotFound (404), V1 and V3', async () => {
    const ghost = { accessKeyId: 'LTAI5tGhost000000000000', accessKeySecret: 'x' };
    await expectError(callV1(emu, ghost, 'GetCallerIdentity'), 404, 'InvalidAccessKeyId.NotFound');
    await expectError(callV3(emu, ghost, 'GetCallerIdentity'), 404, 'InvalidAccessKeyId.NotFound');
  });

  it('disabled key: InvalidAccessKeyId.Inactive', async () => {
    const body = await expectError(callV3(emu, CAROL, 'GetCallerIdentity'), 400, 'InvalidAccessKeyId.Inactive');
    expect(body.Message).toBe('Specified access key is disabled.');
  });

  it('wrong secret: SignatureDoesNotMatch (400) with the server string to sign, V1', async () => {
    const nonce = freshNonce();
    const at = Date.now();
    const body = await expectError(
      callV1(emu, ALICE, 'GetCallerIdentity', {}, { signWith: 'wrong-secret', nonce, at }),
      400,
      'SignatureDoesNotMatch',
    );
    const params = buildRpcV1Params({ action: 'GetCallerIdentity', version: STS_VERSION, accessKeyId: ALICE.accessKeyId, params: {}, timestamp: isoSeconds(at), nonce });
    expect(body.Message).toBe(
      `Specified signature is not matched with our calculation. server string to sign is:${rpcStringToSign('POST', params)}`,
    );
  });

  it('wrong secret or tampered request: SignatureDoesNotMatch, V3', async () => {
    const body = await expectError(callV3(emu, ALICE, 'GetCallerIdentity', {}, { signWith: 'wrong-secret' }), 400, 'SignatureDoesNotMatch');
    expect(body.Message).toMatch(/server string to sign is:ACS3-HMAC-SHA256\n[0-9a-f]{64}$/);
    const params = { RoleArn: emu.roleArn('iot-reader'), RoleSessionName: 'sess' };
    await expectError(
      callV3(emu, ALICE, 'AssumeRole', params, { tamperQuery: (q) => (q.RoleSessionName = 'other') }),
      400,
      'SignatureDoesNotMatch',
    );
    await expectError(
      callV3(emu, ALICE, 'AssumeRole', params, { placement: 'form', tamperHeaders: (h) => (h['x-acs-content-sha256'] = '0'.repeat(64)) }),
      400,
      'SignatureDoesNotMatch',
    );
  });

  it('tampered V1 parameter (query or form body): SignatureDoesNotMatch', async () => {
    const params = { RoleArn: emu.roleArn('iot-reader'), RoleSessionName: 'good' };
    for (const placement of ['query', 'form'] as const) {
      await expectError(
        callV1(emu, ALICE, 'AssumeRole', params, { placement, tamper: (s) => (s.RoleSessionName = 'evil') }),
        400,
        'SignatureDoesNotMatch',
      );
    }
  });

  it('malformed V3 Authorization or missing V1 fields', async () => {
    await expectError(
      callV3(emu, ALICE, 'GetCallerIdentity', {}, { tamperHeaders: (h) => (h.Authorization = 'ACS3-HMAC-SHA256 garbage') }),
      400,
      'IncompleteSignature',
    );
    await expectError(
      callV3(emu, ALICE, 'GetCallerIdentity', {}, { tamperHeaders: (h) => (h.Authorization = h.Authorization!.replace('ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3')) }),
      400,
      'InvalidSignatureMethod',
    );
    await expectError(callV1(emu, ALICE, 'GetCallerIdentity', {}, { tamper: (s) => delete s.SignatureNonce }), 400, 'MissingSignatureNonce');
    await expectError(callV1(emu, ALICE, 'GetCallerIdentity', {}, { tamper: (s) => delete s.Signature }), 400, 'MissingSignature');
    const res = await fetch(`${emu.url}/?${encode({ Action: 'GetCallerIdentity', Version: STS_VERSION, Format: 'JSON' })}`);
    await expectError(Promise.resolve(res), 400, 'MissingAccessKeyId');
  });

  it('STS key without token, with a malformed one or another session\'s: MissingSecurityToken / InvalidSecurityToken.*', async () => {
    const a = await assume(ALICE, 'iot-reader');
    const b = await assume(ALICE, 'iot-reader');
    for (const call of [callV1, callV3]) {
      await expectError(call(emu, { ...a, securityToken: undefined }, 'GetCallerIdentity'), 400, 'MissingSecurityToken');
      await expectError(call(emu, { ...a, securityToken: 'CAISnot-a-real-token' }, 'GetCallerIdentity'), 400, 'InvalidSecurityToken.Malformed');
      await expectError(call(emu, { ...a, securityToken: b.securityToken }, 'GetCallerIdentity'), 400, 'InvalidSecurityToken.MismatchWithAccessKey');
    }
  });

  it('stale or malformed timestamp: InvalidTimeStamp.Expired / .Format (V1 Timestamp, V3 x-acs-date)', async () => {
    const stale = Date.now() - 16 * 60_000;
    const future = Date.now() + 16 * 60_000;
    await expectError(callV1(emu, ALICE, 'GetCallerIdentity', {}, { at: stale }), 400, 'InvalidTimeStamp.Expired');
    await expectError(callV3(emu, ALICE, 'GetCallerIdentity', {}, { at: future }), 400, 'InvalidTimeStamp.Expired');
    // 14 minutes off is still accepted.
    expect((await callV3(emu, ALICE, 'GetCallerIdentity', {}, { at: Date.now() - 14 * 60_000 })).status).toBe(200);
    await expectError(
      callV1(emu, ALICE, 'GetCallerIdentity', {}, { tamper: (s) => (s.Timestamp = '15/01/2025 08:00') }),
      400,
      'InvalidTimeStamp.Format',
    );
  });

  it('reused nonce: SignatureNonceUsed, V1 and V3', async () => {
    for (const call of [callV1, callV3]) {
      const nonce = freshNonce();
      expect((await call(emu, ALICE, 'GetCallerIdentity', {}, { nonce })).status).toBe(200);
      await expectError(call(emu, ALICE, 'GetCallerIdentity', {}, { nonce }), 400, 'SignatureNonceUsed');
    }
  });

  it('a rejected signature does not burn the nonce', async () => {
    const nonce = freshNonce();
    await expectError(callV3(emu, ALICE, 'GetCallerIdentity', {}, { nonce, signWith: 'bad' }), 400, 'SignatureDoesNotMatch');
    expect((await callV3(emu, ALICE, 'GetCallerIdentity', {}, { nonce })).status).toBe(200);
  });

  it('role not found (unknown name or other account): EntityNotExist.Role (404)', async () => {
    await expectError(callV1(emu, ALICE, 'AssumeRole', { RoleArn: emu.roleArn('ghost'), RoleSessionName: 'sess' }), 404, 'EntityNotExist.Role');
    await expectError(
      callV1(emu, ALICE, 'AssumeRole', { RoleArn: 'acs:ram::999999999999:role/iot-reader', RoleSessionName: 'sess' }),
      404,
      'EntityNotExist.Role',
    );
  });

  it('caller not trusted by the role: NoPermission (403)', async () => {
    const body = await expectError(
      callV3(emu, ALICE, 'AssumeRole', { RoleArn: emu.roleArn('untrusting'), RoleSessionName: 'sess' }),
      403,
      'NoPermission',
    );
    expect(body.Message).toMatch(/^No permission perform sts:AssumeRole on this Role/);
    expect(body.AccessDeniedDetail).toBeUndefined();
  });

  it('DurationSeconds < 900, > the role maximum or not a number: InvalidParameter.DurationSeconds', async () => {
    const base = { RoleArn: emu.roleArn('iot-reader'), RoleSessionName: 'sess' };
    const low = await expectError(callV1(emu, ALICE, 'AssumeRole', { ...base, DurationSeconds: '899' }), 400, 'InvalidParameter.DurationSeconds');
    expect(low.Message).toBe('The Min/Max value of DurationSeconds is 15min/1hr.');
    const high = await expectError(callV1(emu, ALICE, 'AssumeRole', { ...base, DurationSeconds: '7201' }), 400, 'InvalidParameter.DurationSeconds');
    expect(high.Message).toBe('The Min/Max value of DurationSeconds is 15min/2hr.');
    await expectError(
      callV1(emu, ALICE, 'AssumeRole', { RoleArn: emu.roleArn('iot-admin'), RoleSessionName: 'sess', DurationSeconds: '3601' }),
      400,
      'InvalidParameter.DurationSeconds',
    );
    await expectError(callV3(emu, ALICE, 'AssumeRole', { ...base, DurationSeconds: '1h' }), 400, 'InvalidParameter.DurationSeconds');
    expect((await callV1(emu, ALICE, 'AssumeRole', { ...base, DurationSeconds: '900' })).status).toBe(200);
  });

  it('bad RoleSessionName: InvalidParameter.RoleSessionName', async () => {
    for (const name of ['a', 'abc*abc', 'x'.repeat(65), 'nön-ascii', 'with space']) {
      await expectError(
        callV3(emu, ALICE, 'AssumeRole', { RoleArn: emu.roleArn('iot-reader'), RoleSessionName: name }),
        400,
        'InvalidParameter.RoleSessionName',
      );
    }
    expect((await callV3(emu, ALICE, 'AssumeRole', { RoleArn: emu.roleArn('iot-reader'), RoleSessionName: 'a.b@c_d-e' })).status).toBe(200);
  });

  it('invalid session Policy: InvalidParameter.PolicyGrammar; too long: InvalidParameter', async () => {
    const base = { RoleArn: emu.roleArn('iot-reader'), RoleSessionName: 'sess' };
    for (const policy of ['{', '[]', '{"Statement":[]}', '{"Statement":[{"Effect":"Allow"}]}', '{"Version":"2","Statement":[{"Effect":"Allow","Action":"*"}]}']) {
      await expectError(callV1(emu, ALICE, 'AssumeRole', { ...base, Policy: policy }), 400, 'InvalidParameter.PolicyGrammar');
    }
    const long = JSON.stringify({ Statement: [{ Effect: 'Allow', Action: Array.from({ length: 200 }, (_, i) => `iot:Action${i}`) }] });
    await expectError(callV1(emu, ALICE, 'AssumeRole', { ...base, Policy: long }), 400, 'InvalidParameter');
  });

  it('bad or missing RoleArn, unknown action, another product (signature judged, then not modelled)', async () => {
    await expectError(callV3(emu, ALICE, 'AssumeRole', { RoleArn: 'arn:aws:iam::1:role/x', RoleSessionName: 'sess' }), 400, 'InvalidParameter.RoleArn');
    await expectError(callV3(emu, ALICE, 'AssumeRole', { RoleSessionName: 'sess' }), 400, 'MissingRoleArn');
    await expectError(callV3(emu, ALICE, 'AssumeRole', { RoleArn: emu.roleArn('iot-reader') }), 400, 'MissingRoleSessionName');
    await expectError(callV3(emu, ALICE, 'AssumeRoleWithSAML'), 404, 'InvalidAction.NotFound');
    // Another product's API: judged like any request, then answered plainly as not modelled.
    const notModeled = await expectError(callV3(emu, ALICE, 'DescribeRegions', {}, { version: '2014-05-26' }), 501, 'Emulator.ProductNotModeled');
    expect(notModeled.Message).toMatch(/does not model the API version 2014-05-26 \(action DescribeRegions\); the request was signed correctly/);
    await expectError(callV3(emu, { ...ALICE, accessKeySecret: 'wrong-secret' }, 'DescribeRegions', {}, { version: '2014-05-26' }), 400, 'SignatureDoesNotMatch');
  });

  it('revoke(): a revoked user key or STS key is no longer found', async () => {
    const local = await startEmulator(fixture());
    try {
      const sts = keyOf(
        (await json(await callV3(local, ALICE, 'AssumeRole', { RoleArn: local.roleArn('iot-reader'), RoleSessionName: 'sess' }))).body,
      );
      expect(local.revoke(sts.accessKeyId)).toBe(true);
      expect(local.revoke(sts.accessKeyId)).toBe(false);
      const r1 = await json(await callV3(local, sts, 'GetCallerIdentity'));
      expect([r1.status, r1.body.Code]).toEqual([404, 'InvalidAccessKeyId.NotFound']);
      expect(local.revoke(ALICE.accessKeyId)).toBe(true);
      const r2 = await json(await callV1(local, ALICE, 'GetCallerIdentity'));
      expect([r2.status, r2.body.Code]).toEqual([404, 'InvalidAccessKeyId.NotFound']);
      expect(local.revoke('LTAI-unknown')).toBe(false);
    } finally {
      await local.close();
    }
  });
});

describe('trust and policies', () => {
  it('the caller\'s own policy must allow sts:AssumeRole (Deny wins; resource-scoped Allow)', async () => {
    const body = await expectError(
      callV3(emu, BOB, 'AssumeRole', { RoleArn: emu.roleArn('iot-reader'), RoleSessionName: 'sess' }),
      403,
      'NoPermission',
    );
    expect(body.Message).toBe('You are not authorized to do this action. You should be authorized by RAM.');
    expect(body.AccessDeniedDetail).toMatchObject({ AuthAction: 'sts:AssumeRole', NoPermissionType: 'ExplicitDeny', AuthPrincipalDisplayName: 'bob' });
    // dave's Allow is scoped to the iot-reader ARN: iot-reader works, iot-admin is an implicit deny
    // (checked before the trust policy, which would refuse dave too).
    await assume(DAVE, 'iot-reader');
    const denied = await expectError(
      callV3(emu, DAVE, 'AssumeRole', { RoleArn: emu.roleArn('iot-admin'), RoleSessionName: 'sess' }),
      403,
      'NoPermission',
    );
    expect(denied.AccessDeniedDetail).toMatchObject({ NoPermissionType: 'ImplicitDeny' });
  });

  it('role chaining: trusted by role name, or by the user at the root of the chain', async () => {
    const reader = await assume(ALICE, 'iot-reader');
    const chained = await assume(reader, 'chained', {}, false);
    const who = await json(await callV1(emu, chained, 'GetCallerIdentity'));
    expect(who.body.Arn).toBe('acs:ram::1234567890123456:assumed-role/chained/test');
    // by-origin trusts alice; iot-admin's session of alice may assume it (iot-admin allows sts:AssumeRole).
    const admin = await assume(ALICE, 'iot-admin');
    await assume(admin, 'by-origin');
    // iot-admin is not trusted by 'chained' (only iot-reader is), and alice's session of no-sts lacks sts:AssumeRole.
    await expectError(callV3(emu, admin, 'AssumeRole', { RoleArn: emu.roleArn('chained'), RoleSessionName: 'sess' }), 403, 'NoPermission');
    const noSts = await assume(ALICE, 'no-sts');
    const body = await expectError(
      callV3(emu, noSts, 'AssumeRole', { RoleArn: emu.roleArn('by-origin'), RoleSessionName: 'sess' }),
      403,
      'NoPermission',
    );
    expect(body.Message).toMatch(/authorized by RAM/);
  });

  it('product API: role policy allows, Deny wins, session policy narrows (intersection)', async () => {
    const reader = await assume(ALICE, 'iot-reader');
    expect((await callV3(emu, reader, 'QueryProductList', {}, { version: IOT_VERSION })).status).toBe(200);
    expect((await callV1(emu, reader, 'QueryDeviceDetail', { ProductKey: 'a1EmuLamp01', DeviceName: 'd1' }, { version: IOT_VERSION })).status).toBe(200);
    const forbidden = await expectError(callV3(emu, reader, 'RegisterDevice', { ProductKey: 'a1EmuLamp01' }, { version: IOT_VERSION }), 403, 'Forbidden.RAM');
    expect(forbidden.AccessDeniedDetail).toMatchObject({ AuthAction: 'iot:RegisterDevice', NoPermissionType: 'ImplicitDeny' });

    const admin = await assume(ALICE, 'iot-admin');
    expect((await callV3(emu, admin, 'RegisterDevice', {}, { version: IOT_VERSION })).status).toBe(200);
    const explicit = await expectError(callV3(emu, admin, 'DeleteDevice', {}, { version: IOT_VERSION }), 403, 'Forbidden.RAM');
    expect(explicit.AccessDeniedDetail.NoPermissionType).toBe('ExplicitDeny');

    const narrowed = await assume(ALICE, 'iot-admin', { Policy: JSON.stringify(allow('iot:QueryProductList')) });
    expect((await callV3(emu, narrowed, 'QueryProductList', {}, { version: IOT_VERSION })).status).toBe(200);
    const sp = await expectError(callV3(emu, narrowed, 'RegisterDevice', {}, { version: IOT_VERSION }), 403, 'Forbidden.RAM');
    expect(sp.AccessDeniedDetail.PolicyType).toBe('SessionPolicy');
    // A session policy cannot widen: iot-reader does not allow RegisterDevice even if the session policy does.
    const widened = await assume(ALICE, 'iot-reader', { Policy: JSON.stringify(allow('iot:*')) });
    await expectError(callV3(emu, widened, 'RegisterDevice', {}, { version: IOT_VERSION }), 403, 'Forbidden.RAM');
  });

  it('product API with user keys: no policies = all; own policies apply', async () => {
    expect((await callV3(emu, ALICE, 'DeleteDevice', {}, { version: IOT_VERSION })).status).toBe(200);
    expect((await callV3(emu, DAVE, 'QueryProductList', {}, { version: IOT_VERSION })).status).toBe(200);
    await expectError(callV3(emu, DAVE, 'QueryDeviceDetail', {}, { version: IOT_VERSION }), 403, 'Forbidden.RAM');
  });

  it('wildcard action matching (unit)', () => {
    expect(globMatch('iot:*', 'iot:QueryProductList')).toBe(true);
    expect(globMatch('iot:Query*', 'iot:QueryProductList')).toBe(true);
    expect(globMatch('iot:query*', 'iot:QueryProductList')).toBe(true);
    expect(globMatch('iot:Query*', 'iot:DeleteDevice')).toBe(false);
    expect(globMatch('*', 'sts:AssumeRole')).toBe(true);
    expect(globMatch('iot:Query?roductList', 'iot:QueryProductList')).toBe(true);
    expect(globMatch('iot:Query.List', 'iot:QueryXList')).toBe(false);
    expect(evaluate([], 'anything', undefined)).toBe('Allow');
    expect(evaluate([[]], 'anything', undefined)).toBe('ImplicitDeny');
    expect(evaluate([[allow('*')], [allow('iot:*'), deny('iot:Delete*')]], 'iot:DeleteDevice', undefined)).toBe('ExplicitDeny');
  });
});

describe('expiry', () => {
  it('timeScale: Expiration = now + DurationSeconds*1000/timeScale, and the token then expires (real time)', async () => {
    const fast = await startEmulator(fixture({ timeScale: 1800 }));
    try {
      const res = await callV3(fast, ALICE, 'AssumeRole', { RoleArn: fast.roleArn('iot-reader'), RoleSessionName: 'sess', DurationSeconds: '900' });
      const { body } = await json(res);
      const lifetime = Date.parse(body.Credentials.Expiration) - Date.parse(res.headers.get('date')!);
      expect(lifetime).toBeGreaterThanOrEqual(0);
      expect(lifetime).toBeLessThanOrEqual(2_000); // 900 s / 1800 = 0.5 s, at second precision
      const sts = keyOf(body);
      expect((await callV3(fast, sts, 'QueryProductList', {}, { version: IOT_VERSION })).status).toBe(200);
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(body.Credentials.Expiration) - Date.now()) + 50));
      const expired = await json(await callV3(fast, sts, 'QueryProductList', {}, { version: IOT_VERSION }));
      expect([expired.status, expired.body.Code]).toEqual([400, 'InvalidSecurityToken.Expired']);
    } finally {
      await fast.close();
    }
  });

  it('an injected clock drives expiry: STS and the product API answer InvalidSecurityToken.Expired', async () => {
    let offset = 0;
    const local = await startEmulator(fixture({ timeScale: 100, clock: () => Date.now() + offset }));
    try {
      const { body, status } = await json(
        await callV1(local, ALICE, 'AssumeRole', { RoleArn: local.roleArn('iot-reader'), RoleSessionName: 'sess', DurationSeconds: '900' }),
      );
      expect(status).toBe(200);
      const sts = keyOf(body);
      expect((await callV1(local, sts, 'GetCallerIdentity')).status).toBe(200);
      offset = 10_000; // 900 s / 100 = 9 s later
      for (const call of [callV1, callV3]) {
        const at = Date.now() + offset;
        await expectError(call(local, sts, 'GetCallerIdentity', {}, { at }), 400, 'InvalidSecurityToken.Expired');
        await expectError(call(local, sts, 'QueryProductList', {}, { at, version: IOT_VERSION }), 400, 'InvalidSecurityToken.Expired');
      }
      // The official IoT client sees the same code.
      const err = await teaError(iotClient(local, sts).queryProductList(new IotModule.QueryProductListRequest({ currentPage: 1, pageSize: 10 })));
      // Its x-acs-date is the real time, 10 s behind the emulator clock: still within the skew, so the token check answers.
      expect([err.code, err.statusCode]).toEqual(['InvalidSecurityToken.Expired', 400]);
    } finally {
      await local.close();
    }
  });
});

describe('AssumeRoleWithOIDC (anonymous)', () => {
  function oidcParams(token: string, role = 'oidc-role', provider = 'ack-rrsa'): Record<string, string> {
    return {
      OIDCProviderArn: emu.oidcProviderArn(provider),
      OIDCToken: token,
      RoleArn: emu.roleArn(role),
      RoleSessionName: 'rrsa-session',
      DurationSeconds: '3600',
    };
  }

  it('mints a JWT-shaped token and exchanges it, form body or query; the credentials work', async () => {
    const token = emu.mintOidcToken({ subject: 'system:serviceaccount:default:app' });
    const parts = token.split('.');
    expect(parts).toHaveLength(3);
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ iss: 'https://oidc.emulator.invalid/ack-rrsa', sub: 'system:serviceaccount:default:app', aud: 'sts.aliyuncs.com' });
    expect(claims.exp - claims.iat).toBe(3600);
    for (const placement of ['form', 'query'] as const) {
      const res = await callAnonymous(emu, 'AssumeRoleWithOIDC', oidcParams(token), { placement });
      const { status, body } = await json(res);
      expect(status, JSON.stringify(body)).toBe(200);
      expect(Object.keys(body).sort()).toEqual(['AssumedRoleUser', 'Credentials', 'OIDCTokenInfo', 'RequestId']);
      expect(body.OIDCTokenInfo).toMatchObject({ Subject: 'system:serviceaccount:default:app', ClientIds: 'sts.aliyuncs.com', Issuer: claims.iss });
      expect(body.AssumedRoleUser.Arn).toBe('acs:ram::1234567890123456:role/oidc-role/rrsa-session');
      const sts = keyOf(body);
      expect((await callV3(emu, sts, 'QueryProductList', {}, { version: IOT_VERSION })).status).toBe(200);
      await expectError(callV3(emu, sts, 'QueryDeviceDetail', {}, { version: IOT_VERSION }), 403, 'Forbidden.RAM');
    }
    expect(emu.requests().filter((r) => r.action === 'AssumeRoleWithOIDC').every((r) => r.signatureVersion === 'anonymous')).toBe(true);
  });

  it('rejects expired, tampered, foreign, wrong-audience and garbage tokens (401 AuthenticationFail.*)', async () => {
    const expired = emu.mintOidcToken({ subject: 'app', expiresInSeconds: -5 });
    await expectError(callAnonymous(emu, 'AssumeRoleWithOIDC', oidcParams(expired)), 401, 'AuthenticationFail.OIDCToken.Expired');

    const good = emu.mintOidcToken({ subject: 'app' });
    const [h, p] = good.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'admin' })).toString('base64url')}.${good.split('.')[2]}`;
    await expectError(callAnonymous(emu, 'AssumeRoleWithOIDC', oidcParams(forged)), 401, 'AuthenticationFail.OIDCToken.InvalidSignature');

    const other = await startEmulator(fixture());
    try {
      const foreign = other.mintOidcToken({ subject: 'app' });
      await expectError(callAnonymous(emu, 'AssumeRoleWithOIDC', oidcParams(foreign)), 401, 'AuthenticationFail.OIDCToken.InvalidSignature');
    } finally {
      await other.close();
    }

    const wrongAud = emu.mintOidcToken({ subject: 'app', audience: 'someone-else' });
    await expectError(callAnonymous(emu, 'AssumeRoleWithOIDC', oidcParams(wrongAud)), 401, 'AuthenticationFail.OIDCToken.AudienceNotMatch');

    await expectError(callAnonymous(emu, 'AssumeRoleWithOIDC', oidcParams('not-a-jwt')), 401, 'AuthenticationFail.OIDCToken.Invalid');

    // A token of other-idp presented as ack-rrsa: issuer mismatch.
    const otherIdp = emu.mintOidcToken({ subject: 'app', providerName: 'other-idp' });
    await expectError(callAnonymous(emu, 'AssumeRoleWithOIDC', oidcParams(otherIdp)), 401, 'AuthenticationFail.OIDCToken.Invalid');
  });

  it('unknown provider, untrusted provider, unknown role, bad parameters', async () => {
    const token = emu.mintOidcToken({ subject: 'app' });
    const noProvider = await expectError(callAnonymous(emu, 'AssumeRoleWithOIDC', oidcParams(token, 'oidc-role', 'ghost')), 401, 'AuthenticationFail.NoPermission');
    expect(noProvider.Message).toBe('No such OIDC Provider registered.');
    await expectError(callAnonymous(emu, 'AssumeRoleWithOIDC', oidcParams(token, 'oidc-other')), 401, 'AuthenticationFail.NoPermission');
    await expectError(callAnonymous(emu, 'AssumeRoleWithOIDC', oidcParams(token, 'ghost-role')), 404, 'EntityNotExist.Role');
    await expectError(callAnonymous(emu, 'AssumeRoleWithOIDC', { ...oidcParams(token), DurationSeconds: '600' }), 400, 'InvalidParameter.DurationSeconds');
    await expectError(callAnonymous(emu, 'AssumeRoleWithOIDC', { ...oidcParams(token), RoleSessionName: 'x' }), 400, 'InvalidParameter.RoleSessionName');
    const { OIDCToken: _omit, ...noToken } = oidcParams(token);
    await expectError(callAnonymous(emu, 'AssumeRoleWithOIDC', noToken), 400, 'MissingOIDCToken');

    const otherIdpToken = emu.mintOidcToken({ subject: 'app', providerName: 'other-idp' });
    const ok = await json(await callAnonymous(emu, 'AssumeRoleWithOIDC', oidcParams(otherIdpToken, 'oidc-other', 'other-idp')));
    expect(ok.status).toBe(200);
    expect(ok.body.OIDCTokenInfo.ClientIds).toBe('my-app');
    expect(() => emu.mintOidcToken({ subject: 'app', providerName: 'nope' })).toThrow(TypeError);
  });

  it('has a default provider when none is configured', async () => {
    const local = await startEmulator({ roles: [{ name: 'k8s', trustedOidcProviders: ['emulator-oidc'] }] });
    try {
      const res = await callAnonymous(local, 'AssumeRoleWithOIDC', {
        OIDCProviderArn: local.oidcProviderArn('emulator-oidc'),
        OIDCToken: local.mintOidcToken({ subject: 'sa' }),
        RoleArn: local.roleArn('k8s'),
        RoleSessionName: 'pod',
      });
      expect(res.status).toBe(200);
    } finally {
      await local.close();
    }
  });
});

describe('IoT product API answers', () => {
  it('QueryProductList (paged), QueryDeviceDetail and a generic action', async () => {
    const reader = await assume(ALICE, 'iot-admin');
    const list = await json(await callV3(emu, reader, 'QueryProductList', { CurrentPage: '2', PageSize: '1' }, { version: IOT_VERSION }));
    expect(list.body).toMatchObject({ Success: true, Code: '', Data: { CurrentPage: 2, PageSize: 1, PageCount: 2, Total: 2 } });
    expect(list.body.Data.List.ProductInfo).toEqual([expect.objectContaining({ ProductKey: 'a1EmuGate01', NodeType: 1 })]);
    const detail = await json(await callV3(emu, reader, 'QueryDeviceDetail', { ProductKey: 'a1EmuLamp01', DeviceName: 'lamp-7' }, { version: IOT_VERSION }));
    expect(detail.body).toMatchObject({ Success: true, Data: { ProductKey: 'a1EmuLamp01', DeviceName: 'lamp-7', Status: 'ONLINE' } });
    const missing = await json(await callV3(emu, reader, 'QueryDeviceDetail', { ProductKey: 'nope', DeviceName: 'x' }, { version: IOT_VERSION }));
    expect(missing).toMatchObject({ status: 200, body: { Success: false, Code: 'iot.prod.NotExistedProduct' } });
    const generic = await json(await callV1(emu, reader, 'RegisterDevice', { ProductKey: 'a1EmuLamp01' }, { version: IOT_VERSION }));
    expect(Object.keys(generic.body).sort()).toEqual(['RequestId', 'Success']);
  });

  it('verifies signatures on the product API too', async () => {
    const reader = await assume(ALICE, 'iot-reader');
    await expectError(callV3(emu, reader, 'QueryProductList', {}, { version: IOT_VERSION, signWith: 'nope' }), 400, 'SignatureDoesNotMatch');
    await expectError(callV1(emu, reader, 'QueryProductList', {}, { version: IOT_VERSION, signWith: 'nope' }), 400, 'SignatureDoesNotMatch');
  });
});

describe('official clients', () => {
  it('@alicloud/sts20150401: AssumeRole and GetCallerIdentity with V3 (default) and V1 (signatureAlgorithm v2)', async () => {
    for (const v1 of [false, true]) {
      const sts = stsClient(emu, ALICE, v1);
      const r = await sts.assumeRole(new StsModule.AssumeRoleRequest({ roleArn: emu.roleArn('iot-reader'), roleSessionName: `tea-${v1 ? 'v1' : 'v3'}`, durationSeconds: 900 }));
      expect(r.statusCode).toBe(200);
      const c = r.body!.credentials!;
      expect(c.accessKeyId).toMatch(/^STS\./);
      expect(r.body!.assumedRoleUser!.arn).toBe(`acs:ram::1234567890123456:role/iot-reader/tea-${v1 ? 'v1' : 'v3'}`);
      const me = await stsClient(emu, { accessKeyId: c.accessKeyId!, accessKeySecret: c.accessKeySecret!, securityToken: c.securityToken! }, v1).getCallerIdentity();
      expect(me.body!.identityType).toBe('AssumedRoleUser');
      expect(me.body!.arn).toBe(`acs:ram::1234567890123456:assumed-role/iot-reader/tea-${v1 ? 'v1' : 'v3'}`);
      const last = emu.requests().at(-1)!;
      expect(last).toMatchObject({ action: 'GetCallerIdentity', signatureVersion: v1 ? 'v1' : 'v3', status: 200, accessKeyId: c.accessKeyId });
    }
  });

  it('the startEmulator doc example runs as written', async () => {
    // A CJS package: under Node ESM the client class is `.default` of the default import.
    const Sts = (StsPackage as unknown as { default?: typeof StsPackage }).default ?? StsPackage;

    const emu = await startEmulator({
      users: [{ name: 'alice', accessKeyId: 'LTAI5tAlice000000000001', accessKeySecret: 'alice-secret' }],
      roles: [{ name: 'iot-reader', trustedUsers: ['alice'], policies: [{ Statement: [{ Effect: 'Allow', Action: 'iot:Query*' }] }] }],
    });
    try {
      const sts = new Sts(new $OpenApiUtil.Config({
        accessKeyId: 'LTAI5tAlice000000000001', accessKeySecret: 'alice-secret',
        endpoint: emu.host, protocol: 'http',
      }));
      const r = await sts.assumeRole(new AssumeRoleRequest({ roleArn: emu.roleArn('iot-reader'), roleSessionName: 'demo' }));
      expect(r.body?.credentials?.accessKeyId).toMatch(/^STS\./);
      expect(emu.callCount('AssumeRole')).toBe(1);
    } finally {
      await emu.close();
    }
  });

  it('@alicloud/sts20150401 surfaces emulator errors as ClientError with the service code and message format', async () => {
    const err = await teaError(stsClient(emu, ALICE).assumeRole(new StsModule.AssumeRoleRequest({ roleArn: emu.roleArn('ghost'), roleSessionName: 'sess' })));
    expect(err.code).toBe('EntityNotExist.Role');
    expect(err.statusCode).toBe(404);
    expect(err.message).toMatch(/^EntityNotExist\.Role: code: 404, The specified Role not exists \. request id: [0-9A-F-]{36}/);
    const wrong = await teaError(stsClient(emu, { ...ALICE, accessKeySecret: 'wrong' }, true).getCallerIdentity());
    expect(wrong.code).toBe('SignatureDoesNotMatch');
    const trust = await teaError(stsClient(emu, ALICE).assumeRole(new StsModule.AssumeRoleRequest({ roleArn: emu.roleArn('untrusting'), roleSessionName: 'sess' })));
    expect([trust.code, trust.statusCode]).toEqual(['NoPermission', 403]);
  });

  it('@alicloud/sts20150401 assumeRoleWithOIDC (anonymous RPC)', async () => {
    const sts = stsClient(emu, ALICE);
    const r = await sts.assumeRoleWithOIDC(
      new StsModule.AssumeRoleWithOIDCRequest({
        OIDCProviderArn: emu.oidcProviderArn('ack-rrsa'),
        OIDCToken: emu.mintOidcToken({ subject: 'sa:app' }),
        roleArn: emu.roleArn('oidc-role'),
        roleSessionName: 'tea-oidc',
      }),
    );
    expect(r.body!.credentials!.accessKeyId).toMatch(/^STS\./);
    expect(r.body!.OIDCTokenInfo!.subject).toBe('sa:app');
    expect(emu.requests().at(-1)).toMatchObject({ action: 'AssumeRoleWithOIDC', signatureVersion: 'anonymous', status: 200 });
  });

  it('@alicloud/iot20180120 QueryProductList / QueryDeviceDetail with emulator STS credentials, V3 and V1', async () => {
    const r = await stsClient(emu, ALICE).assumeRole(new StsModule.AssumeRoleRequest({ roleArn: emu.roleArn('iot-reader'), roleSessionName: 'iot' }));
    const c = r.body!.credentials!;
    const key = { accessKeyId: c.accessKeyId!, accessKeySecret: c.accessKeySecret!, securityToken: c.securityToken! };
    for (const v1 of [false, true]) {
      const iot = iotClient(emu, key, v1);
      const list = await iot.queryProductList(new IotModule.QueryProductListRequest({ currentPage: 1, pageSize: 10 }));
      expect(list.body.success).toBe(true);
      expect(list.body.data!.total).toBe(2);
      expect(list.body.data!.list!.productInfo!.map((p) => p.productKey)).toEqual(['a1EmuLamp01', 'a1EmuGate01']);
      const detail = await iot.queryDeviceDetail(new IotModule.QueryDeviceDetailRequest({ productKey: 'a1EmuLamp01', deviceName: 'dev-1' }));
      expect(detail.body.data!.deviceName).toBe('dev-1');
      const err = await teaError(iot.deleteDevice(new IotModule.DeleteDeviceRequest({ productKey: 'a1EmuLamp01', deviceName: 'dev-1' })));
      expect([err.code, err.statusCode]).toEqual(['Forbidden.RAM', 403]);
      expect(emu.requests().at(-1)).toMatchObject({ action: 'DeleteDevice', signatureVersion: v1 ? 'v1' : 'v3', code: 'Forbidden.RAM' });
    }
  });
});

describe('faults', () => {
  it('status/code for N calls, then normal service; scoped to an action', async () => {
    emu.inject({ action: 'AssumeRole', count: 2, status: 503, code: 'ServiceUnavailable' });
    const params = { RoleArn: emu.roleArn('iot-reader'), RoleSessionName: 'sess' };
    // Another action is not affected.
    expect((await callV3(emu, ALICE, 'GetCallerIdentity')).status).toBe(200);
    const first = await expectError(callV3(emu, ALICE, 'AssumeRole', params), 503, 'ServiceUnavailable');
    expect(Object.keys(first)).toEqual(['RequestId', 'HostId', 'Code', 'Message', 'Recommend']);
    await expectError(callV1(emu, ALICE, 'AssumeRole', params), 503, 'ServiceUnavailable');
    expect((await callV3(emu, ALICE, 'AssumeRole', params)).status).toBe(200);
    const faulted = emu.requests().filter((r) => r.fault);
    expect(faulted.slice(-2).map((r) => [r.status, r.code])).toEqual([
      [503, 'ServiceUnavailable'],
      [503, 'ServiceUnavailable'],
    ]);
  });

  it('code only (Throttling defaults to 400) and custom message; seen by the official client', async () => {
    emu.inject({ code: 'Throttling.User', message: 'Request was denied due to user flow control.' });
    const err = await teaError(stsClient(emu, ALICE).getCallerIdentity());
    expect([err.code, err.statusCode]).toEqual(['Throttling.User', 400]);
    expect(err.message).toContain('Request was denied due to user flow control.');
    emu.inject({ status: 500 });
    await expectError(callV3(emu, ALICE, 'GetCallerIdentity'), 500, 'InternalError');
  });

  it('latency: the answer is delayed, then normal', async () => {
    emu.inject({ action: 'GetCallerIdentity', latencyMs: 300 });
    const started = performance.now();
    const res = await callV3(emu, ALICE, 'GetCallerIdentity');
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(emu.requests().at(-1)).toMatchObject({ fault: true, status: 200 });
  });

  it('reset: the socket is destroyed (fetch and the official client fail)', async () => {
    emu.inject({ reset: true, count: 2 });
    await expect(callV3(emu, ALICE, 'GetCallerIdentity')).rejects.toThrow();
    const err = await teaError(stsClient(emu, ALICE).getCallerIdentity());
    expect(err.message).toMatch(/socket hang up|ECONNRESET/i);
    expect(emu.requests().at(-1)).toMatchObject({ status: 0, code: 'ConnectionReset', fault: true });
    expect((await callV3(emu, ALICE, 'GetCallerIdentity')).status).toBe(200);
  });

  it('html, malformed-json and literal bodies', async () => {
    emu.inject({ body: 'html' });
    const html = await callV3(emu, ALICE, 'GetCallerIdentity');
    expect(html.status).toBe(502);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await html.text()).toMatch(/^<!DOCTYPE html>/);

    emu.inject({ body: 'html', status: 200 });
    expect((await callV3(emu, ALICE, 'GetCallerIdentity')).status).toBe(200);

    emu.inject({ body: 'malformed-json' });
    const bad = await callV3(emu, ALICE, 'GetCallerIdentity');
    expect(bad.status).toBe(200);
    expect(bad.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await bad.text();
    expect(() => JSON.parse(text)).toThrow(SyntaxError);

    emu.inject({ body: 'malformed-json' });
    const teaErr = await teaError(stsClient(emu, ALICE).getCallerIdentity());
    expect(teaErr.message).toMatch(/JSON/i);

    emu.inject({ body: '{"Unexpected":true}', status: 200 });
    expect(await (await callV3(emu, ALICE, 'GetCallerIdentity')).json()).toEqual({ Unexpected: true });
  });

  it('rejects invalid fault options; clearFaults drops queued faults', async () => {
    expect(() => emu.inject({ count: 0 })).toThrow(TypeError);
    emu.inject({ status: 500, count: 5 });
    emu.clearFaults();
    expect((await callV3(emu, ALICE, 'GetCallerIdentity')).status).toBe(200);
  });
});

describe('callCount and the request log', () => {
  it('counts every request received, per action and in total, including rejected and faulted ones', async () => {
    const local = await startEmulator(fixture());
    try {
      expect(local.callCount()).toBe(0);
      await callV3(local, ALICE, 'GetCallerIdentity');
      await callV1(local, ALICE, 'AssumeRole', { RoleArn: local.roleArn('iot-reader'), RoleSessionName: 'sess' });
      await callV1(local, ALICE, 'AssumeRole', { RoleArn: local.roleArn('ghost'), RoleSessionName: 'sess' });
      local.inject({ action: 'AssumeRole', status: 503 });
      await callV3(local, ALICE, 'AssumeRole', { RoleArn: local.roleArn('iot-reader'), RoleSessionName: 'sess' });
      await callAnonymous(local, 'AssumeRoleWithOIDC', {});
      expect(local.callCount('AssumeRole')).toBe(3);
      expect(local.callCount('GetCallerIdentity')).toBe(1);
      expect(local.callCount('AssumeRoleWithOIDC')).toBe(1);
      expect(local.callCount('QueryProductList')).toBe(0);
      expect(local.callCount()).toBe(5);
      const log = local.requests();
      expect(log.map((r) => [r.action, r.signatureVersion, r.status, r.code ?? null, r.fault])).toEqual([
        ['GetCallerIdentity', 'v3', 200, null, false],
        ['AssumeRole', 'v1', 200, null, false],
        ['AssumeRole', 'v1', 404, 'EntityNotExist.Role', false],
        ['AssumeRole', 'v3', 503, 'ServiceUnavailable', true],
        ['AssumeRoleWithOIDC', 'anonymous', 400, 'MissingOIDCProviderArn', false],
      ]);
      expect(log[0]).toMatchObject({ accessKeyId: ALICE.accessKeyId, version: STS_VERSION, method: 'POST' });
      expect(log[0]!.time).toBeInstanceOf(Date);
      // requests() returns copies.
      log[0]!.status = 999;
      expect(local.requests()[0]!.status).toBe(200);
    } finally {
      await local.close();
    }
  });
});

describe('close()', () => {
  it('closes keep-alive sockets and pending delayed requests, leaves no timers, is idempotent', async () => {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const local = await startEmulator(fixture());
    const agent = new Agent({ keepAlive: true });
    try {
      // One finished keep-alive request leaves an idle socket open.
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(`${local.url}/?Action=GetCallerIdentity&Version=${STS_VERSION}&Format=JSON`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', reject);
        req.end();
      });
      // One request held by a long latency fault.
      local.inject({ latencyMs: 60_000 });
      const pending = callV3(local, ALICE, 'GetCallerIdentity').then(
        () => 'answered',
        () => 'failed',
      );
      await new Promise((r) => setTimeout(r, 50));
      const started = performance.now();
      await local.close();
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(await pending).toBe('failed');
      await local.close(); // idempotent
      await expect(fetch(`${local.url}/`)).rejects.toThrow();
      const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      expect(timersAfter).toBeLessThanOrEqual(timersBefore);
    } finally {
      agent.destroy();
      await local.close();
    }
  });
});
