/**
 * alicred/oss through the real ali-oss client against the emulator's OSS endpoint, which
 * verifies the V1 and V4 signatures with the secret of the key in the request and refuses a
 * token that is not the current, unexpired one for that key: a run spanning several refreshes
 * with concurrent requests (V1 and V4), presigned URLs that never outlive their credential,
 * and the input checks.
 */
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signOssUrl, toOssOptions } from '../src/adapters/oss.js';
import { ConfigError, CredentialsError, createCredentials, createStsCache, fromRamRole, fromStatic, type CredentialProvider } from '../src/index.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/testing/index.js';
import { acrossRefreshes } from './helpers.js';

const alice = { name: 'alice', accessKeyId: 'LTAI5tOssAdapter000001', accessKeySecret: 'oss-adapter-secret-0123' };
const REGION = 'oss-cn-hangzhou';

let emu: Emulator; // 900 s tokens last 3 s
let real: Emulator; // real time: presigned URLs live as long as they say

beforeAll(async () => {
  const account: EmulatorOptions = {
    users: [{ ...alice, policies: [{ Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole', 'oss:*'] }] }] }],
    roles: [{ name: 'uploader', trustedUsers: ['alice'], maxSessionDuration: 43200, policies: [{ Statement: [{ Effect: 'Allow', Action: 'oss:*' }] }] }],
  };
  emu = await startEmulator({ timeScale: 300, ...account });
  real = await startEmulator(account);
});
afterAll(async () => {
  await emu.close();
  await real.close();
});

const role = (durationSeconds = 900, on: Emulator = emu): ReturnType<typeof fromRamRole> =>
  fromRamRole({ source: fromStatic(alice), roleArn: on.roleArn('uploader'), durationSeconds, sts: { endpoint: on.stsEndpoint }, cache: createStsCache() });

const ossRequests = () => emu.requests().filter((r) => r.signatureVersion === 'oss-v1' || r.signatureVersion === 'oss-v4');

/**
 * A client for presigned URLs: ali-oss will not presign (V1) for an IP endpoint, so it signs
 * for a name that never resolves, path-style (sldEnable); the URL is then sent to the emulator,
 * which serves path-style. V1 signs the bucket and key, not the host.
 */
async function presigner(provider: CredentialProvider, bucket: string) {
  return new OSS(await toOssOptions(provider, { endpoint: 'http://oss.emulator.invalid', region: REGION, bucket, sldEnable: true }));
}
const toEmulator = (url: string, on: Emulator) => {
  const u = new URL(url);
  return `${on.url}${u.pathname}${u.search}`;
};

describe('toOssOptions with the real ali-oss client', () => {
  it.each([false, true])('every request signs with the current token across several refreshes, concurrent ones included (V4: %s): none refused', async (v4) => {
    const provider = role();
    const bucket = v4 ? 'refresh-v4' : 'refresh-v1';
    const store = new OSS(await toOssOptions(provider, { endpoint: emu.url, region: REGION, bucket, authorizationV4: v4 }));
    const before = ossRequests().length;
    // 3 s tokens: at least two refreshes
    const { ok, refused, keys } = await acrossRefreshes(provider, 7_000, (round) =>
      Array.from({ length: 6 }, async (_, i) => {
        const name = `r${round}/obj-${i}.txt`;
        await store.put(name, Buffer.from(`round ${round} object ${i}`));
        return (await store.get(name)).content.toString() === `round ${round} object ${i}`;
      }),
    );
    const listed = await store.list({ prefix: 'r1/', 'max-keys': 100 }, {});
    provider.close();
    expect(refused).toBe(0);
    expect(ok).toBeGreaterThan(50);
    expect(keys.size).toBeGreaterThanOrEqual(3);
    expect(listed.objects?.length).toBe(6);
    const seen = ossRequests().slice(before);
    expect(seen.every((r) => r.status === 200 && r.accessKeyId?.startsWith('STS.') && r.signatureVersion === (v4 ? 'oss-v4' : 'oss-v1'))).toBe(true);
    expect(new Set(seen.map((r) => r.accessKeyId)).size).toBeGreaterThanOrEqual(3);
  }, 30_000);

  it('control: a client holding a token past its expiry is refused by the same endpoint', async () => {
    const provider = role();
    const stale = await provider();
    provider.close();
    const frozen = new OSS({ endpoint: emu.url, region: REGION, bucket: 'refresh-v1', accessKeyId: stale.accessKeyId, accessKeySecret: stale.accessKeySecret, stsToken: stale.securityToken });
    await new Promise((resolve) => setTimeout(resolve, 3_200));
    const error = (await frozen.put('late.txt', Buffer.from('x')).catch((e: unknown) => e)) as { code?: string };
    expect(error.code).toBe('SecurityTokenExpired');
  }, 10_000);

  it('the refresh answers only the three keys, and a provider failure fails the request', async () => {
    const options = await toOssOptions(fromStatic({ accessKeyId: 'STS.x', accessKeySecret: 's', securityToken: 't' }), { region: REGION, bucket: 'b' });
    expect(Object.keys(await options.refreshSTSToken()).sort()).toEqual(['accessKeyId', 'accessKeySecret', 'stsToken']);
    expect(options.refreshSTSTokenInterval).toBe(0);

    let fail = false;
    const good = fromStatic({ accessKeyId: alice.accessKeyId, accessKeySecret: alice.accessKeySecret, securityToken: 'not-a-real-token' });
    const flaky: CredentialProvider = async (o) => {
      if (fail) throw new Error('credentials unavailable');
      return good(o);
    };
    const store = new OSS(await toOssOptions(flaky, { endpoint: emu.url, region: REGION, bucket: 'refresh-v1' }));
    fail = true;
    const before = ossRequests().length;
    await expect(store.put('never.txt', Buffer.from('x'))).rejects.toThrow('credentials unavailable');
    expect(ossRequests().length).toBe(before);
  });

  it('refuses options that already carry keys or a refresh, and non-providers, naming the field', async () => {
    const provider = fromStatic(alice);
    for (const field of ['accessKeyId', 'accessKeySecret', 'stsToken', 'securityToken', 'refreshSTSToken', 'refreshSTSTokenInterval']) {
      const error = (await toOssOptions(provider, { bucket: 'b', [field]: field === 'refreshSTSTokenInterval' ? 0 : 'x' }).catch((e: unknown) => e)) as ConfigError;
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.field).toBe(field);
    }
    await expect(toOssOptions('key' as never)).rejects.toThrow(/provider must be a credential provider function/);
    await expect(toOssOptions(provider, 'bucket' as never)).rejects.toThrow(ConfigError);
  });
});

describe('signOssUrl', () => {
  it('signs from a snapshot valid for the whole life of the URL; the URL works with plain fetch', async () => {
    const provider = role(3600, real);
    const store = new OSS(await toOssOptions(provider, { endpoint: real.url, region: REGION, bucket: 'urls' }));
    await store.put('report.txt', Buffer.from('quarterly numbers'));
    const url = await signOssUrl(await presigner(provider, 'urls'), provider, 'report.txt', { expires: 600 });
    expect(url).toContain('security-token=');
    const response = await fetch(toEmulator(url, real));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('quarterly numbers');
    provider.close();
  });

  it('signs with the provider credentials, not keys the client still holds from an older refresh', async () => {
    const provider = role(3600, real);
    const signer = await presigner(provider, 'urls');
    // The client's own keys are stale decoys; the URL must carry the provider's current key.
    Object.assign((signer as unknown as { options: Record<string, string> }).options, { accessKeyId: 'LTAI5tDecoyHeldKey0001', accessKeySecret: 'decoy' });
    const url = new URL(await signOssUrl(signer, provider, 'report.txt', { expires: 60 }));
    expect(url.searchParams.get('OSSAccessKeyId')).toBe(provider.peek()?.accessKeyId);
    // ...and the client's keys are as they were.
    expect((signer as unknown as { options: Record<string, string> }).options.accessKeyId).toBe('LTAI5tDecoyHeldKey0001');
    provider.close();
  });

  it('a cached credential too close to expiry for the URL is replaced first: the URL carries the fresh one', async () => {
    const provider = role(900); // 3 s here
    const first = await provider();
    await new Promise((resolve) => setTimeout(resolve, 1_300)); // about 1.7 s left
    const url = new URL(await signOssUrl(await presigner(provider, 'urls'), provider, 'report.txt', { expires: 2 }));
    const used = url.searchParams.get('OSSAccessKeyId');
    expect(used).not.toBe(first.accessKeyId);
    expect(used).toBe(provider.peek()?.accessKeyId);
    provider.close();
  });

  it('throws InsufficientValidity rather than mint a URL that outlives its credential', async () => {
    // A role session of 900 s cannot back a URL valid 3000 s, however fresh.
    const provider = role(900, real);
    const signer = await presigner(provider, 'urls');
    const error = (await signOssUrl(signer, provider, 'report.txt', { expires: 3000 }).catch((e: unknown) => e)) as CredentialsError;
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error.code).toBe('InsufficientValidity');
    provider.close();
    // A plain provider function that ignores minValidityMs is checked here too.
    const shortLived: CredentialProvider = async () =>
      createCredentials({ accessKeyId: 'STS.short', accessKeySecret: 's', securityToken: 't', expiration: new Date(Date.now() + 60_000), source: 'test' });
    const checked = (await signOssUrl(signer, shortLived, 'report.txt', { expires: 120 }).catch((e: unknown) => e)) as CredentialsError;
    expect(checked.code).toBe('InsufficientValidity');
  });

  it('refuses bad arguments with a ConfigError', async () => {
    const provider = fromStatic(alice);
    const signer = await presigner(provider, 'urls');
    await expect(signOssUrl({} as never, provider, 'a')).rejects.toThrow(/must be an ali-oss client/);
    await expect(signOssUrl(signer, provider, '')).rejects.toThrow(/name must be a non-empty object name/);
    for (const expires of [0, -1, 1.5, 8 * 24 * 3600, Number.NaN]) {
      await expect(signOssUrl(signer, provider, 'a', { expires })).rejects.toThrow(ConfigError);
    }
  });
});
