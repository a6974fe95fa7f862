/**
 * fromRamRole / fromOidc / toTeaCredential against the local emulator, with requests really
 * signed and verified, and the official Tea clients on top. Real time, short lifetimes
 * (the emulator's timeScale).
 */
import * as OpenApiModule from '@alicloud/openapi-client';
import * as Iot from '@alicloud/iot20180120';
import Sts from '@alicloud/sts20150401';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createStsCache,
  fromOidc,
  fromRamRole,
  fromStatic,
  StsError,
  ConfigError,
  type CredentialProvider,
} from '../src/index.js';
import { toTeaCredential } from '../src/adapters/tea.js';
import { startEmulator, type Emulator } from '../src/testing/index.js';

// CJS packages: the named export or the one under default, whichever the loader gives.
const OpenApi = ((OpenApiModule as unknown as { default?: { Config?: unknown } }).default?.Config
  ? (OpenApiModule as unknown as { default: typeof OpenApiModule }).default
  : OpenApiModule) as { Config: new (m: object) => object };
type AnyCtor = new (config: unknown) => Record<string, (...args: unknown[]) => Promise<{ body?: Record<string, unknown> }>>;
const IotClient = ((Iot as unknown as { default?: AnyCtor }).default ?? Iot) as unknown as AnyCtor;
const StsClient = ((Sts as unknown as { default?: AnyCtor }).default ?? Sts) as unknown as AnyCtor;
const IotModels = Iot as unknown as { QueryProductListRequest: new (m: object) => object };

const A = { name: 'user-a', accessKeyId: 'LTAI5tTestUserA0000001', accessKeySecret: 'test-secret-a-0123456789' };
const B = { name: 'user-b', accessKeyId: 'LTAI5tTestUserB0000002', accessKeySecret: 'test-secret-b-0123456789' };
const allow = (...actions: string[]) => ({ Statement: [{ Effect: 'Allow' as const, Action: actions }] });

let emu: Emulator;
let fast: Emulator; // tokens expire 300x faster: 900 s -> 3 s

const roleOptions = (e: Emulator, extra: Partial<Parameters<typeof fromRamRole>[0]> = {}) => ({
  source: fromStatic(A),
  roleArn: e.roleArn('iot-operator'),
  durationSeconds: 900,
  sts: { endpoint: e.stsEndpoint },
  cache: createStsCache(),
  ...extra,
});

const emulatorOptions = (timeScale: number) => ({
  timeScale,
  users: [
    { ...A, policies: [allow('iot:Query*', 'sts:AssumeRole')] },
    { ...B, policies: [allow('iot:Create*', 'sts:AssumeRole')] },
  ],
  roles: [
    { name: 'iot-operator', trustedUsers: ['user-a'], policies: [allow('iot:*', 'sts:AssumeRole')], maxSessionDuration: 3600, trustedOidcProviders: ['ack-rrsa'] },
    { name: 'auditor', trustedRoles: ['iot-operator'], policies: [allow('iot:Query*')] },
  ],
  oidcProviders: [{ name: 'ack-rrsa' }],
  products: [{ productKey: 'a1TestKey01', productName: 'thermometer' }],
});

beforeAll(async () => {
  emu = await startEmulator(emulatorOptions(1));
  fast = await startEmulator(emulatorOptions(300));
});
afterAll(async () => {
  await emu.close();
  await fast.close();
});

const iotWith = (e: Emulator, provider: CredentialProvider, signatureAlgorithm?: 'v2') =>
  new IotClient(
    new OpenApi.Config({ credential: toTeaCredential(provider), endpoint: e.host, protocol: 'http', signatureAlgorithm }),
  );
const queryProducts = (client: ReturnType<typeof iotWith>) =>
  client.queryProductList!(new IotModels.QueryProductListRequest({ currentPage: 1, pageSize: 10 }));

describe('fromRamRole against the emulator', () => {
  it('1000 concurrent cold callers make one AssumeRole', async () => {
    const before = emu.callCount('AssumeRole');
    const provider = fromRamRole(roleOptions(emu));
    const results = await Promise.all(Array.from({ length: 1000 }, () => provider()));
    expect(emu.callCount('AssumeRole') - before).toBe(1);
    expect(new Set(results.map((c) => c.accessKeyId)).size).toBe(1);
    expect(results[0]!.accessKeyId).toMatch(/^STS\./);
    expect(results[0]!.securityToken).toBeTruthy();
    provider.close();
  });

  it('two providers of the same role share one AssumeRole through the STS cache', async () => {
    const before = emu.callCount('AssumeRole');
    const cache = createStsCache();
    const one = fromRamRole(roleOptions(emu, { cache }));
    const two = fromRamRole(roleOptions(emu, { cache }));
    const [a, b] = await Promise.all([one(), two()]);
    expect(a).toBe(b);
    expect(emu.callCount('AssumeRole') - before).toBe(1);
    one.close();
    two.close();
  });

  it('a bad secret is StsError SignatureDoesNotMatch, not retried', async () => {
    const before = emu.callCount('AssumeRole');
    const provider = fromRamRole(roleOptions(emu, { source: fromStatic({ ...A, accessKeySecret: 'wrong-secret-value' }) }));
    const err = await provider().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StsError);
    expect((err as StsError).code).toBe('SignatureDoesNotMatch');
    expect((err as StsError).retryable).toBe(false);
    expect((err as Error).message).not.toContain('wrong-secret-value');
    expect(emu.callCount('AssumeRole') - before).toBe(1);
  });

  it('throttling, then success: retried and succeeds', async () => {
    const before = emu.callCount('AssumeRole');
    emu.inject({ action: 'AssumeRole', count: 2, status: 400, code: 'Throttling.User', message: 'Request was denied due to user flow control.' });
    const provider = fromRamRole(roleOptions(emu, { refresh: { retry: { retries: 3, minDelayMs: 10, maxDelayMs: 50 } } }));
    const creds = await provider();
    expect(creds.accessKeyId).toMatch(/^STS\./);
    expect(emu.callCount('AssumeRole') - before).toBe(3);
    provider.close();
  });

  it('a caller the role does not trust is refused with NoPermission', async () => {
    const provider = fromRamRole(roleOptions(emu, { source: fromStatic(B) }));
    await expect(provider()).rejects.toMatchObject({ name: 'StsError', code: 'NoPermission', httpStatus: 403 });
  });

  it('validates parameters before any request', () => {
    const before = emu.callCount();
    expect(() => fromRamRole(roleOptions(emu, { roleArn: 'arn:aws:iam::1:role/x' }))).toThrow(ConfigError);
    expect(() => fromRamRole(roleOptions(emu, { durationSeconds: 60 }))).toThrow(/durationSeconds/);
    expect(() => fromRamRole(roleOptions(emu, { roleSessionName: 'a b' }))).toThrow(/roleSessionName/);
    expect(emu.callCount()).toBe(before);
  });

  it('chains roles: a role assumed with another role\'s credentials', async () => {
    const operator = fromRamRole(roleOptions(emu));
    const auditor = fromRamRole({ source: operator, roleArn: emu.roleArn('auditor'), sts: { endpoint: emu.stsEndpoint }, cache: createStsCache() });
    const creds = await auditor();
    expect(creds.accessKeyId).toMatch(/^STS\./);
    expect(creds.accessKeyId).not.toBe((await operator()).accessKeyId);
    operator.close();
    auditor.close();
  });

  it('minValidityMs gets a new credential even through the shared STS cache', async () => {
    // Simulated clocks (the in-process emulator reads the same Date.now): no sleep.
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    try {
      const cache = createStsCache();
      const provider = fromRamRole(roleOptions(emu, { cache, refresh: { backgroundTimer: false } })); // 900 s sessions, cached for 450 s
      const first = await provider();
      vi.advanceTimersByTime(2_000); // at most 898 s left (Expiration has whole seconds)
      const longer = await provider({ minValidityMs: 898_500 }); // a new one has at least ~899 s
      expect(longer.accessKeyId).not.toBe(first.accessKeyId);
      provider.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('signs with V1 as well', async () => {
    const provider = fromRamRole(roleOptions(emu, { sts: { endpoint: emu.stsEndpoint, signatureVersion: 'v1' } }));
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
    expect(emu.requests().at(-1)).toMatchObject({ action: 'AssumeRole', signatureVersion: 'v1', status: 200 });
    provider.close();
  });
});

describe('fromOidc against the emulator', () => {
  it('assumes the role with a token re-read at every refresh', async () => {
    let reads = 0;
    const provider = fromOidc({
      roleArn: emu.roleArn('iot-operator'),
      oidcProviderArn: emu.oidcProviderArn('ack-rrsa'),
      token: () => {
        reads++;
        return emu.mintOidcToken({ subject: 'system:serviceaccount:default:app', providerName: 'ack-rrsa' });
      },
      sts: { endpoint: emu.stsEndpoint },
      cache: createStsCache(),
    });
    const first = await provider();
    expect(first.accessKeyId).toMatch(/^STS\./);
    const second = await provider({ forceRefresh: true });
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(reads).toBe(2);
    expect(emu.requests().at(-1)).toMatchObject({ action: 'AssumeRoleWithOIDC', signatureVersion: 'anonymous' });
    provider.close();
  });

  it('an empty token is a ConfigError', async () => {
    const provider = fromOidc({
      roleArn: emu.roleArn('iot-operator'),
      oidcProviderArn: emu.oidcProviderArn('ack-rrsa'),
      token: () => '  ',
      sts: { endpoint: emu.stsEndpoint },
    });
    await expect(provider()).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('official Tea clients with toTeaCredential(fromRamRole(...))', () => {
  it('@alicloud/iot20180120 succeeds before and after a refresh (V3 and V1)', async () => {
    const provider = fromRamRole(roleOptions(emu));
    for (const algorithm of [undefined, 'v2'] as const) {
      const iot = iotWith(emu, provider, algorithm);
      const before = await queryProducts(iot);
      expect(before.body?.success).toBe(true);
      const oldKey = provider.peek()!.accessKeyId;
      await provider({ forceRefresh: true });
      expect(provider.peek()!.accessKeyId).not.toBe(oldKey);
      const after = await queryProducts(iot);
      expect(after.body?.success).toBe(true);
    }
    const iotCalls = emu.requests().filter((r) => r.action === 'QueryProductList');
    expect(iotCalls.slice(-4).map((r) => [r.signatureVersion, r.status])).toEqual([
      ['v3', 200],
      ['v3', 200],
      ['v1', 200],
      ['v1', 200],
    ]);
    provider.close();
  });

  it('@alicloud/sts20150401 GetCallerIdentity succeeds before and after a refresh, as the assumed role', async () => {
    const provider = fromRamRole(roleOptions(emu));
    const config = new $OpenApiUtil.Config({ endpoint: emu.host, protocol: 'http' });
    config.credential = toTeaCredential(provider); // typed assignment, no cast
    const sts = new StsClient(config);
    const before = await sts.getCallerIdentity!();
    await provider({ forceRefresh: true });
    const after = await sts.getCallerIdentity!();
    for (const res of [before, after]) {
      expect(String(res.body?.arn)).toContain('assumed-role/iot-operator');
    }
    provider.close();
  });

  it('the product API refuses expired tokens, and our providers never produce one (several expiries)', async () => {
    const provider = fromRamRole(roleOptions(fast));
    const iot = iotWith(fast, provider);
    // Control: a credential kept past its expiry is refused by the product API.
    const stale = await provider();
    const frozen = fromStatic({ accessKeyId: stale.accessKeyId, accessKeySecret: stale.accessKeySecret, securityToken: stale.securityToken! });
    const keys = new Set<string>();
    let failures = 0;
    const until = Date.now() + 7_000; // 3 s sessions: at least two expiries
    while (Date.now() < until) {
      const res = await queryProducts(iot).catch(() => undefined);
      if (res?.body?.success === true) keys.add(provider.peek()?.accessKeyId ?? '');
      else failures++;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(failures).toBe(0);
    expect(keys.size).toBeGreaterThanOrEqual(3);
    const refused = await queryProducts(iotWith(fast, frozen)).catch((e: { code?: string }) => e);
    expect((refused as { code?: string }).code).toBe('InvalidSecurityToken.Expired');
    provider.close();
  }, 30_000);
});
