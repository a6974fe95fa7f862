import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  chain,
  ConfigError,
  CredentialsChainError,
  CredentialsError,
  CredentialsProviderError,
  fromEnv,
  fromStatic,
  refreshing,
  StsError,
} from '../src/index.js';
import { fakeCredentialSource } from '../src/testing/index.js';

const SECRET = 'env-secret-0123456789';

describe('fromStatic', () => {
  it('returns the keys it was given, tagged static', async () => {
    const c = await fromStatic({ accessKeyId: 'LTAI5tStatic', accessKeySecret: SECRET })();
    expect(c.accessKeyId).toBe('LTAI5tStatic');
    expect(c.accessKeySecret).toBe(SECRET);
    expect(c.source).toBe('static');
  });

  it('rejects missing or empty fields up front with a ConfigError naming the field', () => {
    expect(() => fromStatic({ accessKeyId: '', accessKeySecret: SECRET })).toThrow(ConfigError);
    try {
      fromStatic({ accessKeyId: 'LTAI', accessKeySecret: '  ' });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).field).toBe('accessKeySecret');
      expect((e as Error).message).toContain("'accessKeySecret'");
    }
    expect(() => fromStatic({ accessKeyId: 'a', accessKeySecret: 'b', securityToken: '' })).toThrow(/securityToken/);
    expect(() => fromStatic({ accessKeyId: 'a', accessKeySecret: 'b', expiration: new Date('nope') })).toThrow(/expiration/);
  });

  it('refuses to hand out keys past their expiration', async () => {
    let now = Date.UTC(2026, 0, 1);
    const provider = fromStatic({
      accessKeyId: 'STS.a',
      accessKeySecret: SECRET,
      securityToken: 'tok',
      expiration: new Date(now + 60_000),
      clock: () => now,
    });
    await expect(provider()).resolves.toBeDefined();
    await expect(provider({ minValidityMs: 120_000 })).rejects.toMatchObject({ code: 'ExpiredCredentials' });
    now += 60_000;
    const err = await provider().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect((err as Error).message).not.toContain(SECRET);
  });
});

describe('fromEnv', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('reads the three variables from an env object', async () => {
    const c = await fromEnv({
      env: {
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tEnv',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET,
        ALIBABA_CLOUD_SECURITY_TOKEN: 'tok',
      },
    })();
    expect([c.accessKeyId, c.accessKeySecret, c.securityToken, c.source]).toEqual(['LTAI5tEnv', SECRET, 'tok', 'env']);
  });

  it('defaults to process.env and reads it at each call', async () => {
    const provider = fromEnv();
    vi.stubEnv('ALIBABA_CLOUD_ACCESS_KEY_ID', 'LTAI5tOne');
    vi.stubEnv('ALIBABA_CLOUD_ACCESS_KEY_SECRET', SECRET);
    expect((await provider()).accessKeyId).toBe('LTAI5tOne');
    vi.stubEnv('ALIBABA_CLOUD_ACCESS_KEY_ID', 'LTAI5tTwo');
    expect((await provider()).accessKeyId).toBe('LTAI5tTwo');
  });

  it('is "not configured" (tryNext) when neither variable is set', async () => {
    const err = await fromEnv({ env: {} })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsProviderError);
    expect(err).not.toBeInstanceOf(ConfigError);
    expect((err as CredentialsProviderError).tryNext).toBe(true);
    expect((err as CredentialsProviderError).provider).toBe('env');
  });

  it('treats empty or blank values as unset', async () => {
    const err = await fromEnv({ env: { ALIBABA_CLOUD_ACCESS_KEY_ID: '', ALIBABA_CLOUD_ACCESS_KEY_SECRET: '  ' } })().catch(
      (e: unknown) => e,
    );
    expect((err as CredentialsProviderError).tryNext).toBe(true);
  });

  it('an ID without the secret is a ConfigError naming the missing variable, and the reverse', async () => {
    const noSecret = await fromEnv({ env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5t' } })().catch((e: unknown) => e);
    expect(noSecret).toBeInstanceOf(ConfigError);
    expect((noSecret as ConfigError).field).toBe('ALIBABA_CLOUD_ACCESS_KEY_SECRET');
    expect((noSecret as ConfigError).tryNext).toBe(false);
    expect((noSecret as Error).message).toContain('ALIBABA_CLOUD_ACCESS_KEY_SECRET');

    const noId = await fromEnv({ env: { ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRET } })().catch((e: unknown) => e);
    expect(noId).toBeInstanceOf(ConfigError);
    expect((noId as ConfigError).field).toBe('ALIBABA_CLOUD_ACCESS_KEY_ID');
    expect((noId as Error).message).not.toContain(SECRET);
    expect(inspect(noId)).not.toContain(SECRET);
  });

  it('declines (tryNext) on a runtime without process.env', async () => {
    const saved = globalThis.process;
    // Simulate an edge runtime: no global process at all.
    Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
    let err: unknown;
    try {
      err = await fromEnv()().catch((e: unknown) => e);
    } finally {
      Object.defineProperty(globalThis, 'process', { value: saved, configurable: true, writable: true });
    }
    expect((err as CredentialsProviderError).tryNext).toBe(true);
    expect((err as Error).message).toMatch(/pass \{ env \}/);
  });
});

describe('chain', () => {
  const notConfigured = (provider: string) => async () => {
    throw new CredentialsProviderError(`${provider} is not configured`, { provider, tryNext: true });
  };

  it('returns the first provider that yields', async () => {
    const second = vi.fn(fromStatic({ accessKeyId: 'LTAI2', accessKeySecret: 's' }));
    const third = vi.fn(fromStatic({ accessKeyId: 'LTAI3', accessKeySecret: 's' }));
    const c = await chain(notConfigured('a'), second, third)();
    expect(c.accessKeyId).toBe('LTAI2');
    expect(third).not.toHaveBeenCalled();
  });

  it('stops at a provider that is configured but broken', async () => {
    const broken = async () => {
      throw new StsError('You are not authorized', { code: 'NoPermission', httpStatus: 403 });
    };
    const after = vi.fn(fromStatic({ accessKeyId: 'LTAI3', accessKeySecret: 's' }));
    await expect(chain(notConfigured('a'), broken, after)()).rejects.toMatchObject({ code: 'NoPermission' });
    expect(after).not.toHaveBeenCalled();
    // Plain errors stop the chain too.
    await expect(chain(async () => { throw new Error('boom'); }, after)()).rejects.toThrow('boom');
    expect(after).not.toHaveBeenCalled();
  });

  it('a ConfigError stops the chain', async () => {
    const after = vi.fn(fromStatic({ accessKeyId: 'LTAI3', accessKeySecret: 's' }));
    const env = fromEnv({ env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI' } });
    await expect(chain(env, after)()).rejects.toBeInstanceOf(ConfigError);
    expect(after).not.toHaveBeenCalled();
  });

  it('when all decline, the error lists every link and its reason', async () => {
    const anonymous = async () => {
      throw new CredentialsProviderError('nothing here', { tryNext: true });
    };
    const err = await chain(fromEnv({ env: {} }), notConfigured('profile'), anonymous)().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsChainError);
    const chainError = err as CredentialsChainError;
    expect(chainError.tryNext).toBe(true);
    expect(chainError.attempts.map((a) => a.provider)).toEqual(['env', 'profile', 'anonymous']);
    expect(chainError.message).toContain('- env: fromEnv: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set');
    expect(chainError.message).toContain('- profile: profile is not configured');
    expect(chainError.message).toContain('- anonymous: nothing here');
  });

  it('an empty chain says so', async () => {
    await expect(chain()()).rejects.toThrow(/no providers/);
  });

  it('never pins to the link that answered before', async () => {
    const env: Record<string, string | undefined> = {};
    const provider = chain(fromEnv({ env }), fromStatic({ accessKeyId: 'LTAIstatic', accessKeySecret: 's' }));
    expect((await provider()).source).toBe('static');
    env.ALIBABA_CLOUD_ACCESS_KEY_ID = 'LTAIenv';
    env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = SECRET;
    expect((await provider()).source).toBe('env');
    delete env.ALIBABA_CLOUD_ACCESS_KEY_ID;
    delete env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
    expect((await provider()).source).toBe('static');
  });

  it('after a complete failure, a later call sees newly configured sources', async () => {
    const env: Record<string, string | undefined> = {};
    const provider = chain(fromEnv({ env }), notConfigured('uri'));
    await expect(provider()).rejects.toBeInstanceOf(CredentialsChainError);
    env.ALIBABA_CLOUD_ACCESS_KEY_ID = 'LTAIenv';
    env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = SECRET;
    expect((await provider()).source).toBe('env');
  });

  it('nests: an inner chain that declines lets the outer one continue', async () => {
    const inner = chain(notConfigured('a'), notConfigured('b'));
    const c = await chain(inner, fromStatic({ accessKeyId: 'LTAIouter', accessKeySecret: 's' }))();
    expect(c.accessKeyId).toBe('LTAIouter');
  });

  it('passes call options through and honours an aborted signal', async () => {
    const seen = vi.fn(async () => fromStatic({ accessKeyId: 'x', accessKeySecret: 'y' })());
    await chain(seen)({ forceRefresh: true });
    expect(seen).toHaveBeenCalledWith({ forceRefresh: true });
    await expect(chain(seen)({ signal: AbortSignal.abort(new Error('stop')) })).rejects.toThrow('stop');
  });

  it('composes with refreshing: a refreshing link that is not configured is skipped', async () => {
    const refreshingEnv = refreshing(fromEnv({ env: {} }));
    const source = fakeCredentialSource({ lifetimeMs: 3_600_000 });
    const provider = chain(refreshingEnv, refreshing(source, { backgroundTimer: false }));
    expect((await provider()).source).toBe('fake');
  });
});

describe('errors', () => {
  it('form one tree with codes, causes and retryability', () => {
    const cause = new Error('socket hang up');
    const sts = new StsError('Request was denied due to user flow control.', {
      code: 'Throttling.User',
      requestId: 'req-1',
      httpStatus: 400,
      retryable: true,
      cause,
    });
    expect(sts).toBeInstanceOf(CredentialsProviderError);
    expect(sts).toBeInstanceOf(CredentialsError);
    expect(sts).toBeInstanceOf(Error);
    expect([sts.name, sts.code, sts.requestId, sts.httpStatus, sts.retryable, sts.tryNext]).toEqual([
      'StsError',
      'Throttling.User',
      'req-1',
      400,
      true,
      false,
    ]);
    expect(sts.cause).toBe(cause);
    const config = new ConfigError('bad', { file: '/home/u/.alibabacloud/credentials', line: 3, field: 'type' });
    expect([config.name, config.file, config.line, config.field, config.retryable, config.tryNext]).toEqual([
      'ConfigError',
      '/home/u/.alibabacloud/credentials',
      3,
      'type',
      false,
      false,
    ]);
    expect(new CredentialsError('x').code).toBe('CredentialsError');
    expect(new CredentialsError('x')).not.toHaveProperty('cause');
  });
});
