import { describe, it, expect, vi } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { createCredentials } from '../src/credentials.js';
import {
  validateAssumeRoleParams,
  validateAssumeRoleWithOidcParams,
  type AssumeRoleParams,
  type AssumeRoleWithOidcParams,
} from '../src/sts/validate.js';
import { createStsClient } from '../src/sts/client.js';
import { configErrorOf } from './helpers.js';

const ROLE_ARN = 'acs:ram::123456789012:role/test-role';
const PROVIDER_ARN = 'acs:ram::123456789012:oidc-provider/ack-rrsa-c123';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtc3ViamVjdCJ9.U0VDUkVULVNJR05BVFVSRQ';
const POLICY = '{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*"}]}';
const POLICY_2048 = `{"Version":"1","Statement":[],"x":"${'a'.repeat(2048 - 37)}"}`;

const base: AssumeRoleParams = { roleArn: ROLE_ARN, roleSessionName: 'vector-session' };
const oidcBase: AssumeRoleWithOidcParams = {
  roleArn: ROLE_ARN,
  oidcProviderArn: PROVIDER_ARN,
  oidcToken: TOKEN,
  roleSessionName: 'rrsa-session',
};

describe('validateAssumeRoleParams: accepted', () => {
  it.each<[string, Partial<AssumeRoleParams>]>([
    ['the minimum', {}],
    ['role in any case', { roleArn: 'acs:ram::123456789012:ROLE/Test-Role' }],
    ['16-digit account, dotted role name', { roleArn: 'acs:ram::1234567890123456:role/my.role_name-1' }],
    ['64-char role name', { roleArn: `acs:ram::1:role/${'r'.repeat(64)}` }],
    ['session name of 2 chars', { roleSessionName: 'ab' }],
    ['session name of 64 chars with . @ - _', { roleSessionName: `a.b@c-d_${'x'.repeat(56)}` }],
    ['duration 900', { durationSeconds: 900 }],
    ['duration 43200', { durationSeconds: 43200 }],
    ['a policy', { policy: POLICY }],
    ['a policy of exactly 2048 chars', { policy: POLICY_2048 }],
    ['external id with every allowed char', { externalId: 'aZ09_+=,.@:/-' }],
    ['external id of 1224 chars', { externalId: 'e'.repeat(1224) }],
    ['source identity with every allowed char', { sourceIdentity: 'aZ09_+=,.@-' }],
    ['undefined optionals', { durationSeconds: undefined, policy: undefined, externalId: undefined, sourceIdentity: undefined }],
  ])('%s', (_name, patch) => {
    expect(() => validateAssumeRoleParams({ ...base, ...patch })).not.toThrow();
  });

  it('the 2048-char policy really is 2048 chars', () => {
    expect(POLICY_2048.length).toBe(2048);
    expect(() => validateAssumeRoleParams({ ...base, policy: `${POLICY_2048} ` })).toThrow(/1-2048/);
  });
});

describe('validateAssumeRoleParams: refused', () => {
  const table: Array<[string, Partial<AssumeRoleParams>, string, RegExp]> = [
    ['roleArn missing', { roleArn: undefined as unknown as string }, 'roleArn', /must be a string/],
    ['roleArn a bare name', { roleArn: 'test-role' }, 'roleArn', /acs:ram::<account id>:role\/<role name>/],
    ['roleArn with a non-numeric account', { roleArn: 'acs:ram::abc:role/x' }, 'roleArn', /account id: digits/],
    ['roleArn of a user', { roleArn: 'acs:ram::123456789012:user/alice' }, 'roleArn', /not a role ARN/],
    ['roleArn with a region', { roleArn: 'acs:ram:cn-hangzhou:123:role/x' }, 'roleArn', /not a role ARN/],
    ['roleArn with a space', { roleArn: `${ROLE_ARN} ` }, 'roleArn', /not a role ARN/],
    ['roleArn with a 65-char name', { roleArn: `acs:ram::1:role/${'r'.repeat(65)}` }, 'roleArn', /1-64/],
    ['roleArn without a name', { roleArn: 'acs:ram::1:role/' }, 'roleArn', /not a role ARN/],
    ['session name of 1 char', { roleSessionName: 'a' }, 'roleSessionName', /2-64 characters/],
    ['session name of 65 chars', { roleSessionName: 'x'.repeat(65) }, 'roleSessionName', /2-64 characters/],
    ['session name with *', { roleSessionName: 'abc*abc' }, 'roleSessionName', /letters, digits, "\.", "@", "-", "_"/],
    ['session name with a space', { roleSessionName: 'my session' }, 'roleSessionName', /2-64/],
    ['session name non-ASCII', { roleSessionName: 'sessión' }, 'roleSessionName', /2-64/],
    ['session name empty', { roleSessionName: '' }, 'roleSessionName', /2-64/],
    ['duration 899', { durationSeconds: 899 }, 'durationSeconds', /900 s to 43200 s/],
    ['duration 43201', { durationSeconds: 43201 }, 'durationSeconds', /out of range/],
    ['duration fractional', { durationSeconds: 3600.5 }, 'durationSeconds', /integer/],
    ['duration NaN', { durationSeconds: Number.NaN }, 'durationSeconds', /integer/],
    ['duration as a string', { durationSeconds: '3600' as unknown as number }, 'durationSeconds', /integer/],
    ['policy empty', { policy: '' }, 'policy', /1-2048 characters/],
    ['policy too long', { policy: `{"x":"${'a'.repeat(2048)}"}` }, 'policy', /1-2048 characters/],
    ['policy not JSON', { policy: '{"Version":"1",SECRET-POLICY' }, 'policy', /valid JSON/],
    ['policy a JSON array', { policy: '["SECRET-POLICY"]' }, 'policy', /JSON object/],
    ['policy a JSON string', { policy: '"SECRET-POLICY"' }, 'policy', /JSON object/],
    ['external id of 1 char', { externalId: 'S' }, 'externalId', /2-1224 characters/],
    ['external id too long', { externalId: 'S'.repeat(1225) }, 'externalId', /2-1224/],
    ['external id with a space', { externalId: 'SECRET EXT' }, 'externalId', /2-1224/],
    ['external id with #', { externalId: 'SECRET#EXT' }, 'externalId', /2-1224/],
    ['source identity of 1 char', { sourceIdentity: 'S' }, 'sourceIdentity', /2-64 characters/],
    ['source identity too long', { sourceIdentity: 'S'.repeat(65) }, 'sourceIdentity', /2-64/],
    ['source identity with a reserved prefix', { sourceIdentity: 'acs:SECRET' }, 'sourceIdentity', /reserved prefixes/],
    ['source identity with aliyun:', { sourceIdentity: 'Aliyun:SECRET' }, 'sourceIdentity', /reserved prefixes/],
    ['source identity with alibabacloud:', { sourceIdentity: 'alibabacloud:SECRET' }, 'sourceIdentity', /reserved prefixes/],
    ['source identity with /', { sourceIdentity: 'SECRET/x' }, 'sourceIdentity', /2-64/],
  ];

  it.each(table)('%s', (_name, patch, field, message) => {
    const error = configErrorOf(() => validateAssumeRoleParams({ ...base, ...patch }));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`${field}:`)).toBe(true);
    expect(error.retryable).toBe(false);
    // Policy, external id and source identity values never appear.
    expect(error.message).not.toContain('SECRET');
  });

  it('refuses a missing parameter object', () => {
    const error = configErrorOf(() => validateAssumeRoleParams(undefined as unknown as AssumeRoleParams));
    expect(error.field).toBe('params');
  });
});

describe('validateAssumeRoleWithOidcParams', () => {
  it('accepts the minimum and all optionals', () => {
    expect(() => validateAssumeRoleWithOidcParams(oidcBase)).not.toThrow();
    expect(() => validateAssumeRoleWithOidcParams({ ...oidcBase, durationSeconds: 3600, policy: POLICY })).not.toThrow();
  });

  const table: Array<[string, Partial<AssumeRoleWithOidcParams>, string, RegExp]> = [
    ['roleArn malformed', { roleArn: 'oidc-role' }, 'roleArn', /not a role ARN/],
    ['provider ARN missing', { oidcProviderArn: undefined as unknown as string }, 'oidcProviderArn', /must be a string/],
    ['provider ARN of a role', { oidcProviderArn: ROLE_ARN }, 'oidcProviderArn', /oidc-provider\/<provider name>/],
    ['provider ARN of a SAML provider', { oidcProviderArn: 'acs:ram::1:saml-provider/x' }, 'oidcProviderArn', /not an OIDC provider ARN/],
    ['token empty', { oidcToken: '' }, 'oidcToken', /is empty/],
    ['token blank', { oidcToken: ' \n ' }, 'oidcToken', /is empty/],
    ['token too short', { oidcToken: 'SEC' }, 'oidcToken', /4-20000/],
    ['token too long', { oidcToken: `SECRET${'x'.repeat(20000)}` }, 'oidcToken', /4-20000/],
    ['token not a string', { oidcToken: 42 as unknown as string }, 'oidcToken', /must be a string/],
    ['session name missing', { roleSessionName: undefined as unknown as string }, 'roleSessionName', /must be a string/],
    ['duration too short', { durationSeconds: 60 }, 'durationSeconds', /out of range/],
    ['policy not JSON', { policy: 'SECRET-POLICY' }, 'policy', /valid JSON/],
  ];

  it.each(table)('%s', (_name, patch, field, message) => {
    const error = configErrorOf(() => validateAssumeRoleWithOidcParams({ ...oidcBase, ...patch }));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('SECRET');
    expect(error.message).not.toContain(TOKEN);
  });
});

describe('the client validates before any request', () => {
  const source = createCredentials({ accessKeyId: 'LTAI5tFAKE', accessKeySecret: 'SECRET-KEY', source: 'test' });

  it('assumeRole: ConfigError and no fetch', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    const sts = createStsClient({ fetch, env: {} });
    const error = await sts.assumeRole(source, { ...base, policy: '{SECRET' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('policy');
    expect((error as ConfigError).message).not.toContain('SECRET');
    expect(fetch).not.toHaveBeenCalled();
  });

  it('assumeRoleWithOidc: ConfigError and no fetch', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    const sts = createStsClient({ fetch, env: {} });
    const error = await sts.assumeRoleWithOidc({ ...oidcBase, oidcProviderArn: 'nope' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('oidcProviderArn');
    expect(fetch).not.toHaveBeenCalled();
  });

  it('source credentials without a secret: ConfigError and no fetch', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    const sts = createStsClient({ fetch, env: {} });
    const empty = createCredentials({ accessKeyId: 'LTAI5tFAKE', accessKeySecret: '', source: 'test' });
    const error = await sts.getCallerIdentity(empty).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('source.accessKeySecret');
    const noId = createCredentials({ accessKeyId: ' ', accessKeySecret: 'x', source: 'test' });
    const error2 = await sts.assumeRole(noId, base).catch((e: unknown) => e);
    expect((error2 as ConfigError).field).toBe('source.accessKeyId');
    expect(fetch).not.toHaveBeenCalled();
  });
});
