/**
 * alicred/pop-core through the real @alicloud/pop-core RPCClient against the emulator, whose
 * IoT endpoint verifies the RPC (HMAC-SHA1) signature with the secret of the key in the
 * request and refuses a token that is not the current, unexpired one for that key.
 */
import RPCClient from '@alicloud/pop-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPopCoreConfig } from '../src/adapters/pop-core.js';
import { ConfigError, CredentialsProviderError, createCredentials, fromRamRole, fromStatic, createStsCache } from '../src/index.js';
import { startEmulator, type Emulator } from '../src/testing/index.js';
import { acrossRefreshes } from './helpers.js';

const alice = { accessKeyId: 'LTAI5tPopAlice0000000001', accessKeySecret: 'alice-pop-secret' };
const IOT_VERSION = '2018-01-20';

let emu: Emulator; // tokens expire 300x faster: 900 s -> 3 s

beforeAll(async () => {
  emu = await startEmulator({
    timeScale: 300,
    users: [{ name: 'alice', ...alice }],
    roles: [{ name: 'iot-operator', trustedUsers: ['alice'], policies: [{ Statement: [{ Effect: 'Allow', Action: 'iot:*' }] }] }],
  });
});
afterAll(async () => {
  await emu.close();
});

const role = () =>
  fromRamRole({ source: fromStatic(alice), roleArn: emu.roleArn('iot-operator'), durationSeconds: 900, sts: { endpoint: emu.stsEndpoint }, cache: createStsCache() });

type QueryAnswer = { Success?: boolean; Code?: string };
const query = (client: RPCClient, method: 'POST' | 'GET' = 'POST') =>
  client.request<QueryAnswer>('QueryProductList', { CurrentPage: 1, PageSize: 10 }, { method });

describe('toPopCoreConfig with the real RPCClient', () => {
  it('signs every request with the current token across several refreshes, concurrent requests included: none refused', async () => {
    const provider = role();
    // No cast: the config type-checks as pop-core's own Config.
    const client = new RPCClient(toPopCoreConfig(provider, { endpoint: emu.url, apiVersion: IOT_VERSION }));
    // 3 s tokens: at least two refreshes
    const { ok, refused, keys } = await acrossRefreshes(provider, 7_000, () =>
      Array.from({ length: 8 }, async (_, i) => (await query(client, i % 2 === 0 ? 'POST' : 'GET')).Success === true),
    );
    provider.close();
    expect(refused).toBe(0);
    expect(ok).toBeGreaterThan(100);
    expect(keys.size).toBeGreaterThanOrEqual(3);
    // Every request the emulator saw was signed with an issued STS key (RPC V1).
    const iot = emu.requests().filter((r) => r.action === 'QueryProductList' && r.version === IOT_VERSION);
    expect(iot.every((r) => r.accessKeyId?.startsWith('STS.') && r.signatureVersion === 'v1' && r.status === 200)).toBe(true);
  }, 30_000);

  it('control: a token kept past its expiry is refused by the same endpoint', async () => {
    const provider = role();
    const stale = await provider();
    provider.close();
    const frozen = fromStatic({ accessKeyId: stale.accessKeyId, accessKeySecret: stale.accessKeySecret, securityToken: stale.securityToken! });
    await new Promise((resolve) => setTimeout(resolve, 3_200));
    const client = new RPCClient(toPopCoreConfig(frozen, { endpoint: emu.url, apiVersion: IOT_VERSION }));
    const error = (await query(client).catch((e: unknown) => e)) as { code?: string };
    expect(error.code).toBe('InvalidSecurityToken.Expired');
  }, 10_000);

  it('long-lived keys sign too (no token sent)', async () => {
    const client = new RPCClient(toPopCoreConfig(fromStatic(alice), { endpoint: emu.url, apiVersion: IOT_VERSION }));
    expect((await query(client)).Success).toBe(true);
  });

  it('a provider that fails or returns no key fails the request before anything is sent, never unsigned', async () => {
    const before = emu.callCount('QueryProductList');
    const failing = new RPCClient(
      toPopCoreConfig(async () => {
        throw new CredentialsProviderError('no credentials here', { provider: 'test' });
      }, { endpoint: emu.url, apiVersion: IOT_VERSION }),
    );
    await expect(query(failing)).rejects.toThrow('no credentials here');
    const empty = new RPCClient(
      toPopCoreConfig(async () => ({ accessKeyId: '', accessKeySecret: '' }) as never, { endpoint: emu.url, apiVersion: IOT_VERSION }),
    );
    await expect(query(empty)).rejects.toThrow(/toPopCoreConfig: the provider returned something that is not usable credentials: accessKeyId is empty/);
    expect(emu.callCount('QueryProductList')).toBe(before);
  });

  it('a provider that throws a non-Error (maybe a secret) fails the request without showing it', async () => {
    const client = new RPCClient(
      toPopCoreConfig(async () => {
        throw 'LTAI5tSecretThrownAsString';
      }, { endpoint: emu.url, apiVersion: IOT_VERSION }),
    );
    const error = (await query(client).catch((e: unknown) => e)) as CredentialsProviderError;
    expect(error.code).toBe('NonErrorThrown');
    expect(error.message).not.toContain('LTAI5tSecretThrownAsString');
  });

  it('the config carries no secret, and the client itself never holds one', async () => {
    const provider = fromStatic(alice);
    const config = toPopCoreConfig(provider, { endpoint: emu.url, apiVersion: IOT_VERSION });
    expect(JSON.stringify(config)).not.toContain(alice.accessKeySecret);
    expect(config.accessKeyId).toBe('');
    expect(config.accessKeySecret).toBe('');
    const client = new RPCClient(config);
    expect(JSON.stringify(client)).not.toContain(alice.accessKeySecret);
  });

  it('refuses configs that already carry credentials, and non-providers, with a ConfigError naming the field', () => {
    const provider = fromStatic(alice);
    for (const field of ['accessKeyId', 'accessKeySecret', 'secretAccessKey', 'securityToken', 'credentialsProvider']) {
      const error = (() => {
        try {
          toPopCoreConfig(provider, { endpoint: emu.url, apiVersion: IOT_VERSION, [field]: 'x' });
        } catch (e) {
          return e;
        }
      })() as ConfigError;
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.field).toBe(field);
    }
    expect(() => toPopCoreConfig(createCredentials({ ...alice, source: 'test' }) as never, { endpoint: emu.url })).toThrow(/provider must be a credential provider function/);
    expect(() => toPopCoreConfig(provider, null as never)).toThrow(ConfigError);
  });
});
