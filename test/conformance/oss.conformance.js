// alicred/oss on the built package, without ali-oss (which not every runtime can load): the
// options toOssOptions adds, its refreshSTSToken, and signOssUrl's rule that a presigned URL
// never outlives the credential that signed it, on a stand-in client with ali-oss's shape.
import { createCredentials, refreshing, fromStatic } from 'alicred';
import { signOssUrl, toOssOptions } from 'alicred/oss';
import { describe, expect, it } from 'vitest';

const HOUR = 3_600_000;

/** A source on a clock the case moves, numbering its credentials. */
function stsLike(lifetimeMs = HOUR) {
  const state = { calls: 0 };
  const provider = refreshing(
    async () => {
      state.calls++;
      return createCredentials({
        accessKeyId: `STS.oss-${state.calls}`,
        accessKeySecret: `oss-secret-${state.calls}-0123456789`,
        securityToken: `oss-token-${state.calls}-0123456789`,
        expiration: new Date(Date.now() + lifetimeMs),
        source: 'oss-test',
      });
    },
    { backgroundTimer: false, retry: false },
  );
  return { state, provider };
}

/** ali-oss's signatureUrl reads `options` synchronously: record what it saw. */
function fakeClient(keys) {
  const seen = [];
  return {
    seen,
    options: { ...keys, bucket: 'conformance', region: 'oss-cn-hangzhou' },
    signatureUrl(name, options) {
      seen.push({ name, options, accessKeyId: this.options.accessKeyId, stsToken: this.options.stsToken });
      return `https://conformance.oss-cn-hangzhou.aliyuncs.com/${name}?OSSAccessKeyId=${this.options.accessKeyId}&Expires=${options.expires}`;
    },
  };
}

describe('alicred/oss', () => {
  it('toOssOptions: the current triple as the seed, refreshSTSTokenInterval 0, the caller\'s options kept', async () => {
    const { provider } = stsLike();
    try {
      const options = await toOssOptions(provider, { region: 'oss-cn-hangzhou', bucket: 'conformance' });
      expect(options).toMatchObject({
        region: 'oss-cn-hangzhou',
        bucket: 'conformance',
        accessKeyId: 'STS.oss-1',
        accessKeySecret: 'oss-secret-1-0123456789',
        stsToken: 'oss-token-1-0123456789',
        refreshSTSTokenInterval: 0,
      });
      const keys = await options.refreshSTSToken();
      expect(Object.keys(keys).sort()).toEqual(['accessKeyId', 'accessKeySecret', 'stsToken']);
      expect(keys.accessKeyId).toBe('STS.oss-1'); // answered from the provider's cache
    } finally {
      provider.close();
    }
  });

  it('toOssOptions refuses options that carry keys or a refresh of their own', async () => {
    const { provider } = stsLike();
    try {
      for (const key of ['accessKeyId', 'stsToken', 'refreshSTSToken', 'refreshSTSTokenInterval']) {
        const error = await toOssOptions(provider, { [key]: 'x' }).then(() => undefined, (e) => e);
        expect(error?.name, key).toBe('ConfigError');
        expect(error?.field, key).toBe(key);
      }
    } finally {
      provider.close();
    }
  });

  it('signOssUrl signs from one snapshot valid for the whole URL life, and puts the client\'s keys back', async () => {
    const { provider } = stsLike();
    try {
      const client = fakeClient({ accessKeyId: 'held-id', accessKeySecret: 'held-secret', stsToken: 'held-token' });
      const url = await signOssUrl(client, provider, 'report.pdf', { expires: 600 });
      expect(url).toContain('OSSAccessKeyId=STS.oss-1');
      expect(client.seen[0]).toMatchObject({ name: 'report.pdf', accessKeyId: 'STS.oss-1', stsToken: 'oss-token-1-0123456789' });
      expect(client.seen[0].options.expires).toBe(600);
      expect(client.options).toMatchObject({ accessKeyId: 'held-id', accessKeySecret: 'held-secret', stsToken: 'held-token' });
    } finally {
      provider.close();
    }
  });

  it('signOssUrl: InsufficientValidity rather than a URL that outlives its credential', async () => {
    const short = async () =>
      createCredentials({ accessKeyId: 'STS.short', accessKeySecret: 'short-secret-0123456789', securityToken: 't', expiration: new Date(Date.now() + 60_000), source: 'short' });
    const client = fakeClient({ accessKeyId: 'x', accessKeySecret: 'y' });
    const error = await signOssUrl(client, short, 'a.txt', { expires: 3600 }).then(() => undefined, (e) => e);
    expect(error?.code).toBe('InsufficientValidity');
    expect(client.seen).toHaveLength(0);
  });

  it('long-lived keys: a seed without a token, and no URL option is lost', async () => {
    const options = await toOssOptions(fromStatic({ accessKeyId: 'LTAI5tOssStatic01', accessKeySecret: 'static-secret-0123456789' }), { secure: true });
    expect(options.stsToken).toBeUndefined();
    expect(options.secure).toBe(true);
    expect(options.accessKeyId).toBe('LTAI5tOssStatic01');
  });
});
