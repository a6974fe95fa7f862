// Issue 7, item 12 (part): parameter problems are ConfigErrors raised before any request
// that never quote the value; fetch failures are classified (network: retryable; anything
// else fetch throws: not).
import { describe, it, expect, vi } from 'vitest';
import { inspect } from 'node:util';
import { createCredentials } from '../src/credentials.js';
import { ConfigError, isCredentialsError } from '../src/errors.js';
import { fromCredentialsUri } from '../src/providers/credentials-uri.js';
import { fromOidc } from '../src/providers/oidc.js';
import { fromRamRole } from '../src/providers/ram-role.js';
import { fromStatic } from '../src/providers/static.js';
import { isRetryableError } from '../src/refresh.js';
import { createStsClient } from '../src/sts/client.js';
import { buildV3Headers, percentEncode, signV3 } from '../src/sts/sign.js';
import { validateSourceCredentials } from '../src/sts/validate.js';

const ROLE_ARN = 'acs:ram::123456789012:role/test-role';
const OIDC_ARN = 'acs:ram::123456789012:oidc-provider/params';
const OIDC_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
const TOKEN = 'CAISParamsSecurityToken0123456789';
const SECRET = 'ParamsSecret0123456789abcdef';
const MARK = 'VisibleMarker7d1f'; // part of each bad value: must never show up
const LONE = '\ud800';

const stsUser = createCredentials({ accessKeyId: 'STS.ParamsKey', accessKeySecret: SECRET, securityToken: TOKEN, source: 'test' });

function spyFetch() {
  return vi.fn(async () => new Response('{}', { status: 500 })) as unknown as typeof fetch & ReturnType<typeof vi.fn>;
}

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

function expectQuiet(error: Error, ...values: string[]): void {
  for (const text of [error.message, String(error), inspect(error, { depth: 10 }), JSON.stringify(error)]) {
    for (const value of [MARK, ...values]) expect(text).not.toContain(value);
  }
}

describe('a lone surrogate in a parameter: ConfigError naming the field, before any request, value never quoted', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['policy', { policy: `{"Version":"1","Statement":[],"Note":"${MARK}${LONE}"}` }],
    ['roleSessionName', { roleSessionName: `${MARK}${LONE}` }],
    ['externalId', { externalId: `${MARK}${LONE}` }],
    ['sourceIdentity', { sourceIdentity: `${MARK}${LONE}` }],
    ['roleArn', { roleArn: `${ROLE_ARN}${MARK}${LONE}` }],
  ];

  it.each(cases)('AssumeRole %s (V1 and V3)', async (field, extra) => {
    for (const signatureVersion of ['v1', 'v3'] as const) {
      const f = spyFetch();
      const sts = createStsClient({ endpoint: 'http://127.0.0.1:9', env: {}, signatureVersion, fetch: f });
      const error = await rejection(sts.assumeRole(stsUser, { roleArn: ROLE_ARN, roleSessionName: 'ok-session', ...extra }));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ field, provider: 'sts', retryable: false });
      expect(error.message).toMatch(/lone surrogate/);
      expectQuiet(error, TOKEN, SECRET);
      expect(f).not.toHaveBeenCalled();
    }
  });

  it('fromRamRole checks at creation', () => {
    const make = () =>
      fromRamRole({ source: fromStatic({ accessKeyId: 'LTAI5tParams', accessKeySecret: SECRET }), roleArn: ROLE_ARN, policy: `{"a":"${MARK}${LONE}"}` });
    expect(make).toThrow(ConfigError);
    try {
      make();
    } catch (error) {
      expectQuiet(error as Error);
    }
  });

  it('AssumeRoleWithOIDC: the OIDC token, directly and through fromOidc', async () => {
    const f = spyFetch();
    const sts = createStsClient({ endpoint: 'http://127.0.0.1:9', env: {}, fetch: f });
    const badToken = `${OIDC_TOKEN}${MARK}${LONE}`;
    const direct = await rejection(sts.assumeRoleWithOidc({ roleArn: ROLE_ARN, oidcProviderArn: OIDC_ARN, oidcToken: badToken, roleSessionName: 'oidc' }));
    expect(direct).toMatchObject({ name: 'ConfigError', field: 'oidcToken', provider: 'sts' });
    expectQuiet(direct, OIDC_TOKEN);
    const provider = fromOidc({ roleArn: ROLE_ARN, oidcProviderArn: OIDC_ARN, token: () => badToken, sts, cache: false, refresh: { retry: false } });
    const viaProvider = await rejection(provider());
    provider.close();
    expect(isCredentialsError(viaProvider)).toBe(true);
    expect(viaProvider).toMatchObject({ field: 'oidcToken', retryable: false });
    expectQuiet(viaProvider, OIDC_TOKEN);
    expect(f).not.toHaveBeenCalled();
  });

  it('percentEncode, the second line of defence, names no value either', async () => {
    expect(() => percentEncode(`${TOKEN}${LONE}`)).toThrow(ConfigError);
    const error = await rejection(
      signV3({
        method: 'POST',
        pathname: '/',
        query: { Policy: `${MARK}${LONE}` },
        headers: buildV3Headers({ host: 'h', action: 'AssumeRole', version: '2015-04-01', date: '2025-01-15T08:00:00Z', nonce: 'n' }),
        body: '',
        accessKeyId: 'id',
        accessKeySecret: SECRET,
      }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expectQuiet(error, SECRET);
  });
});

describe('source credentials with a lone surrogate or a control character', () => {
  const bad: Array<[string, { accessKeyId: string; accessKeySecret: string; securityToken?: string }]> = [
    ['source.securityToken', { accessKeyId: 'STS.ParamsKey', accessKeySecret: SECRET, securityToken: `${TOKEN}${MARK}${LONE}` }],
    ['source.securityToken', { accessKeyId: 'STS.ParamsKey', accessKeySecret: SECRET, securityToken: `${TOKEN}${MARK}\n` }],
    ['source.accessKeySecret', { accessKeyId: 'LTAI5tParams', accessKeySecret: `${SECRET}${MARK}\u0000` }],
    ['source.accessKeySecret', { accessKeyId: 'LTAI5tParams', accessKeySecret: `${SECRET}${MARK}${LONE}` }],
    ['source.accessKeyId', { accessKeyId: `LTAI5t${MARK}\r\nX-Injected: 1`, accessKeySecret: SECRET }],
  ];

  it.each(bad)('%s -> ConfigError before any request (V1 and V3), value never shown', async (field, source) => {
    for (const signatureVersion of ['v1', 'v3'] as const) {
      const f = spyFetch();
      const sts = createStsClient({ endpoint: 'http://127.0.0.1:9', env: {}, signatureVersion, fetch: f });
      const error = await rejection(sts.assumeRole(createCredentials({ ...source, source: 'test' }), { roleArn: ROLE_ARN, roleSessionName: 'src-check' }));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ field, provider: 'sts' });
      expectQuiet(error, SECRET, TOKEN);
      expect(f).not.toHaveBeenCalled();
    }
  });

  it('well-formed keys pass; an empty one is still named', () => {
    expect(() => validateSourceCredentials({ accessKeyId: 'LTAI5t', accessKeySecret: 's中😀', securityToken: TOKEN })).not.toThrow();
    expect(() => validateSourceCredentials({ accessKeyId: ' ', accessKeySecret: 's' })).toThrow(/empty AccessKeyId/);
  });
});

describe('what fetch throws: network failures are retryable, anything else is not', () => {
  const invalidHeader = () => new TypeError(`Headers.append: "${MARK}\n" is an invalid header value.`);
  const networkDown = () =>
    new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });

  it.each([
    ['an invalid header value (TypeError)', invalidHeader, 'RequestFailed', false],
    ['a plain Error from a custom fetch', () => new Error(`boom ${MARK}`), 'RequestFailed', false],
    ['a refused connection', networkDown, 'NetworkError', true],
  ] as const)('%s', async (_name, make, code, retryable) => {
    const sts = createStsClient({ endpoint: 'http://127.0.0.1:9', env: {}, fetch: async () => Promise.reject(make()) });
    const stsError = await rejection(sts.getCallerIdentity(stsUser));
    expect(stsError).toMatchObject({ name: 'StsError', code, retryable });
    expect(isRetryableError(stsError)).toBe(retryable);

    const provider = fromCredentialsUri({ uri: 'http://127.0.0.1:9/creds', fetch: async () => Promise.reject(make()), refresh: { retry: false } });
    const uriError = await rejection(provider());
    provider.close();
    expect(uriError).toMatchObject({ code, retryable });
    expect(isRetryableError(uriError)).toBe(retryable);
  });
});
