/**
 * Hardening of the refresh engine and chain() (issue 7, items 1, 2, 7, 8, 12): idle providers
 * go quiet, unmet demands back off, a throwing logger changes nothing, whatever a source
 * returns or throws is checked, and only real network failures are retried.
 * Time is simulated with vitest fake timers.
 */
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  CredentialsError,
  chain,
  createCredentials,
  fromOidc,
  fromRamRole,
  fromStatic,
  isCredentials,
  isRetryableError,
  refreshing,
  type CredentialProvider,
  type Credentials,
  type RefreshEvent,
  type RefreshOptions,
  type StsClient,
} from '../src/index.js';
import { fakeCredentialSource } from '../src/testing/index.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const SECRET = 'sEcReT-VALUE-0123456789abcdef';
const TOKEN = 'ToKeN-VALUE-abcdefghijklmnopqrstuvwxyz';

const flush = () => vi.advanceTimersByTimeAsync(0);

function setup(lifetimeMs = 900 * SECOND, options: RefreshOptions = {}) {
  const source = fakeCredentialSource({ lifetimeMs });
  const events: RefreshEvent[] = [];
  const warn = vi.fn();
  const provider = refreshing(source, { random: () => 0.5, logger: { warn }, onEvent: (e) => events.push(e), ...options });
  return { source, provider, events, warn };
}

/** An StsClient that counts calls and issues `durationSeconds`-long credentials. */
function countingSts(): StsClient & { calls: number } {
  let calls = 0;
  const issue = async (params: { durationSeconds?: number }): Promise<Credentials> => {
    calls++;
    return createCredentials({
      accessKeyId: `STS.counting-${calls}`,
      accessKeySecret: 'secret',
      securityToken: 'token',
      expiration: new Date(Date.now() + (params.durationSeconds ?? 3600) * 1000),
      source: 'sts:AssumeRole',
    });
  };
  const client = {
    endpoint: 'http://127.0.0.1:9', // never contacted: every method is in-process
    get calls() {
      return calls;
    },
    assumeRole: (_s: Credentials, p: { durationSeconds?: number }) => issue(p),
    assumeRoleWithOidc: (p: { durationSeconds?: number }) => issue(p),
    assumeRoleDetailed: () => Promise.reject(new Error('unused')),
    assumeRoleWithOidcDetailed: () => Promise.reject(new Error('unused')),
    getCallerIdentity: () => Promise.reject(new Error('unused')),
  };
  return client as unknown as StsClient & { calls: number };
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('item 1: the timer refreshes only providers that are used', () => {
  it('a provider called once is never refreshed by the timer, and its timer disarms', async () => {
    const { source, provider } = setup();
    await provider();
    await vi.advanceTimersByTimeAsync(3 * 60 * MINUTE);
    expect(source.calls).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an idle daemon stays valid for at most one lifetime after its last call; the next call resumes', async () => {
    const { source, provider, events } = setup();
    await provider();
    await vi.advanceTimersByTimeAsync(60 * SECOND);
    await provider(); // the last call
    await vi.advanceTimersByTimeAsync(10 * 60 * MINUTE);
    // One timer refresh for the period with a call, then quiet.
    expect(source.calls).toBe(2);
    expect(provider.peek()).toBeUndefined();
    const next = await provider();
    expect(next.accessKeyId).toBe('STS.fake-3');
    const start = events.at(-2) as Extract<RefreshEvent, { type: 'refresh-start' }>;
    expect(start.type).toBe('refresh-start');
    expect(['cold', 'mandatory']).toContain(start.reason); // the caller waited: nothing stale was served
    // Resumed: used again, so the timer refreshes it again.
    await provider();
    await vi.advanceTimersByTimeAsync(600 * SECOND);
    expect(source.calls).toBe(4);
    provider.close();
  });

  it('peek() counts as use', async () => {
    const { source, provider } = setup();
    await provider();
    for (let i = 0; i < 60; i++) {
      await vi.advanceTimersByTimeAsync(MINUTE);
      expect(provider.peek()).toBeDefined();
    }
    expect(source.calls).toBeGreaterThanOrEqual(7);
    provider.close();
  });

  it('a value idle past its advisory point is refreshed in the background by the next call', async () => {
    const { source, provider } = setup();
    const first = await provider();
    await vi.advanceTimersByTimeAsync(600 * SECOND); // advisory, timer disarmed
    expect(source.calls).toBe(1);
    expect(await provider()).toBe(first); // served at once
    await flush();
    expect(source.calls).toBe(2);
    expect((await provider()).accessKeyId).toBe('STS.fake-2');
  });

  it('200 dropped providers at 900 s make no STS call after their first', async () => {
    const sts = countingSts();
    for (let i = 0; i < 200; i++) {
      const p = fromRamRole({ source: fromStatic({ accessKeyId: `LTAI${i}`, accessKeySecret: 's' }), roleArn: 'acs:ram::123:role/r', durationSeconds: 900, sts, cache: false });
      await p();
    }
    expect(sts.calls).toBe(200);
    await vi.advanceTimersByTimeAsync(2 * 60 * MINUTE);
    expect(sts.calls).toBe(200);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('item 2: unsatisfiable demands make no source call per request', () => {
  it('minValidityMs beyond durationSeconds is a ConfigError before any STS call', async () => {
    const sts = countingSts();
    const p = fromRamRole({ source: fromStatic({ accessKeyId: 'LTAI1', accessKeySecret: 's' }), roleArn: 'acs:ram::123:role/r', durationSeconds: 900, sts, cache: false });
    const e = await p({ minValidityMs: 901 * SECOND }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).field).toBe('minValidityMs');
    expect(sts.calls).toBe(0);
    const o = fromOidc({ roleArn: 'acs:ram::123:role/r', oidcProviderArn: 'acs:ram::123:oidc-provider/p', token: 'x', durationSeconds: 1000, sts, cache: false });
    await expect(o({ minValidityMs: 2_000 * SECOND })).rejects.toBeInstanceOf(ConfigError);
    expect(sts.calls).toBe(0);
  });

  it('fixed windows at least as long as durationSeconds are refused when the provider is made', () => {
    const base = { source: fromStatic({ accessKeyId: 'LTAI1', accessKeySecret: 's' }), roleArn: 'acs:ram::123:role/r', durationSeconds: 900, sts: countingSts() };
    expect(() => fromRamRole({ ...base, refresh: { mandatoryWindowMs: 900 * SECOND } })).toThrow(ConfigError);
    expect(() => fromRamRole({ ...base, refresh: { advisoryWindowMs: 3600 * SECOND } })).toThrow(/advisoryWindowMs/);
    expect(() => fromRamRole({ ...base, refresh: { advisoryWindowMs: 300 * SECOND } })).not.toThrow();
  });

  it('bad options and bad minValidityMs are ConfigErrors naming the field', async () => {
    const source = fakeCredentialSource();
    for (const [options, field] of [
      [{ refreshTimeoutMs: Number.NaN }, 'refreshTimeoutMs'],
      [{ refreshTimeoutMs: -1 }, 'refreshTimeoutMs'],
      [{ advisoryWindowMs: -5 }, 'advisoryWindowMs'],
      [{ mandatoryWindowMs: Number.POSITIVE_INFINITY }, 'mandatoryWindowMs'],
      [{ retry: { retries: 1e9 } }, 'retry.retries'],
      [{ retry: { minDelayMs: -1 } }, 'retry.minDelayMs'],
      [{ failureBackoff: { initialMs: 0 } }, 'failureBackoff.initialMs'],
      [{ clock: 5 }, 'clock'],
      [{ backgroundTimer: 'yes' }, 'backgroundTimer'],
    ] as [RefreshOptions, string][]) {
      let thrown: unknown;
      try {
        refreshing(source, options);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, field).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).field).toBe(field);
    }
    const p = refreshing(source);
    await expect(p({ minValidityMs: -1 })).rejects.toBeInstanceOf(ConfigError);
    await expect(p({ minValidityMs: 'soon' as unknown as number })).rejects.toBeInstanceOf(ConfigError);
    expect(source.calls).toBe(0);
  });

  it('a minValidityMs longer than any credential of the source: one source call per backoff, growing', async () => {
    const { source, provider } = setup(900 * SECOND, { backgroundTimer: false });
    await provider();
    const errors: unknown[] = [];
    for (let i = 0; i < 200; i++) {
      errors.push(await provider({ minValidityMs: 1000 * SECOND }).catch((e: unknown) => e));
      await vi.advanceTimersByTimeAsync(100);
    }
    // 20 s of requests: the first unmet demand plus a few after growing backoffs (5, 10, 20 s...).
    expect(source.calls).toBeLessThanOrEqual(1 + 4);
    expect(errors.every((e) => e instanceof CredentialsError && e.code === 'InsufficientValidity')).toBe(true);
    // Ordinary callers are still served from the cache, and a smaller demand is still met.
    expect((await provider()).accessKeyId).toMatch(/^STS\.fake-/);
    const calls = source.calls;
    await expect(provider({ minValidityMs: 100 * SECOND })).resolves.toBeDefined();
    expect(source.calls).toBe(calls);
  });

  it('a mandatory window longer than the lifetime does not call the source on every request', async () => {
    const { source, provider } = setup(900 * SECOND, { backgroundTimer: false, advisoryWindowMs: 2000 * SECOND, mandatoryWindowMs: 2000 * SECOND });
    for (let i = 0; i < 100; i++) {
      await provider().catch(() => {});
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(source.calls).toBeLessThanOrEqual(3);
  });

  it('an advisory window longer than the lifetime spaces background refreshes out and warns once', async () => {
    const { source, provider, warn } = setup(900 * SECOND, { advisoryWindowMs: 2000 * SECOND });
    for (let i = 0; i < 100; i++) {
      await provider();
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(source.calls).toBeLessThanOrEqual(3);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/windows/);
    provider.close();
  });
});

describe('item 7: a logger that throws changes nothing', () => {
  it('keeps the typed error and the backoff', async () => {
    const source = fakeCredentialSource({ lifetimeMs: 900 * SECOND });
    const provider = refreshing(source, {
      backgroundTimer: false,
      retry: false,
      logger: {
        warn() {
          throw new Error('logger exploded');
        },
      },
    });
    await provider();
    source.failAlways(new CredentialsError('STS down', { code: 'ServiceUnavailable', retryable: true }));
    await vi.advanceTimersByTimeAsync(850 * SECOND); // mandatory window
    const errors: unknown[] = [];
    for (let i = 0; i < 20; i++) errors.push(await provider().catch((e: unknown) => e));
    expect(errors.every((e) => (e as CredentialsError).code === 'ServiceUnavailable')).toBe(true);
    expect(source.calls).toBe(2); // one refresh, then the backoff holds
    // Background failures do not escape either.
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      await vi.advanceTimersByTimeAsync(20 * SECOND);
      await flush();
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});

describe('item 8: what a source returns or throws is checked', () => {
  const bad: [string, unknown][] = [
    ['an empty object', {}],
    ['no secret', { accessKeyId: 'LTAI5tAbc' }],
    ['undefined', undefined],
    ['null', null],
    ['a string', `LTAI5tAbc:${SECRET}`],
    ['a number', 42],
    ['an array', ['LTAI5tAbc', SECRET]],
    ['a numeric id', { accessKeyId: 12345, accessKeySecret: SECRET }],
    ['an empty secret', { accessKeyId: 'LTAI5tAbc', accessKeySecret: '' }],
    ['a secret with a newline', { accessKeyId: 'LTAI5tAbc', accessKeySecret: `${SECRET}\n` }],
    ['a token that is a number', { accessKeyId: 'LTAI5tAbc', accessKeySecret: SECRET, securityToken: 7 }],
    ['a string expiration', { accessKeyId: 'STS.a', accessKeySecret: SECRET, securityToken: TOKEN, expiration: '2030-01-01T00:00:00Z' }],
    ['a numeric expiration', { accessKeyId: 'STS.a', accessKeySecret: SECRET, securityToken: TOKEN, expiration: Date.now() + 3600_000 }],
    ['an invalid Date', { accessKeyId: 'STS.a', accessKeySecret: SECRET, securityToken: TOKEN, expiration: new Date('nope') }],
    ['null expiration', { accessKeyId: 'STS.a', accessKeySecret: SECRET, securityToken: TOKEN, expiration: null }],
  ];

  for (const [what, value] of bad) {
    it(`refreshing() refuses ${what} with a non-retryable InvalidCredentials error that does not quote it`, async () => {
      let calls = 0;
      const provider = refreshing(async () => {
        calls++;
        return value as Credentials;
      });
      const e = (await provider().catch((x: unknown) => x)) as CredentialsError;
      expect(e).toBeInstanceOf(CredentialsError);
      expect(e.code).toBe('InvalidCredentials');
      expect(e.retryable).toBe(false);
      expect(calls).toBe(1); // not retried
      expect(inspect(e, { depth: 10 })).not.toContain(SECRET);
      expect(inspect(e, { depth: 10 })).not.toContain(TOKEN);
      const c = chain(async () => value as Credentials);
      const ce = (await c().catch((x: unknown) => x)) as CredentialsError;
      expect(ce.code).toBe('InvalidCredentials');
      expect(inspect(ce, { depth: 10 })).not.toContain(SECRET);
    });
  }

  it('a plain object is served as redacted Credentials, by refreshing() and by chain()', async () => {
    const plain = { accessKeyId: 'STS.plain', accessKeySecret: SECRET, securityToken: TOKEN, expiration: new Date(Date.now() + 3600_000) };
    for (const provider of [refreshing(async () => plain as unknown as Credentials), chain(async () => plain as unknown as Credentials)]) {
      const c = await provider();
      expect(isCredentials(c)).toBe(true);
      expect(c.accessKeySecret).toBe(SECRET);
      expect(c.securityToken).toBe(TOKEN);
      expect(JSON.stringify(c)).not.toContain(SECRET);
      expect(inspect(c)).not.toContain(TOKEN);
      expect(String(c)).not.toContain(SECRET);
      expect(c.source).toBeTruthy();
    }
  });

  it('a thrown string or number becomes a typed error that does not echo it', async () => {
    for (const thrown of [`token=${TOKEN}`, 12345678901234, null, { secret: SECRET }]) {
      const provider = refreshing(async () => {
        throw thrown;
      });
      const e = (await provider().catch((x: unknown) => x)) as CredentialsError;
      expect(e).toBeInstanceOf(CredentialsError);
      expect(e.code).toBe('NonErrorThrown');
      expect(inspect(e, { depth: 10 })).not.toContain(TOKEN);
      expect(inspect(e, { depth: 10 })).not.toContain('12345678901234');
      expect(inspect(e, { depth: 10 })).not.toContain(SECRET);
      const c = chain(async () => {
        throw thrown;
      });
      const ce = (await c().catch((x: unknown) => x)) as CredentialsError;
      expect(ce.code).toBe('NonErrorThrown');
      expect(inspect(ce, { depth: 10 })).not.toContain(TOKEN);
    }
  });

  it("fromOidc's token function that throws a string does not echo it", async () => {
    const provider = fromOidc({
      roleArn: 'acs:ram::123:role/r',
      oidcProviderArn: 'acs:ram::123:oidc-provider/p',
      token: () => {
        throw `eyJhbGciOi.${TOKEN}`;
      },
      sts: countingSts(),
      cache: false,
    });
    const e = (await provider().catch((x: unknown) => x)) as CredentialsError;
    expect(e.code).toBe('NonErrorThrown');
    expect(inspect(e, { depth: 10 })).not.toContain(TOKEN);
  });
});

describe('item 5: foreign errors reach callers and observers without secrets', () => {
  it('strips URL queries from the message and replaces the cause by a sanitized stand-in', async () => {
    const events: RefreshEvent[] = [];
    const provider = refreshing(
      async () => {
        const inner = new TypeError(`connect ECONNREFUSED for https://vend.example/creds?token=${TOKEN}`);
        throw new Error(`GET https://user:${SECRET}@vend.example/creds?token=${TOKEN} failed`, { cause: inner });
      },
      { retry: false, onEvent: (e) => events.push(e) },
    );
    const e = (await provider().catch((x: unknown) => x)) as CredentialsError;
    expect(e.code).toBe('RefreshFailed');
    expect(e.message).toContain('https://vend.example/creds?…');
    for (const printed of [inspect(e, { depth: 10 }), String(e), JSON.stringify(e), inspect(events, { depth: 10 })]) {
      expect(printed).not.toContain(TOKEN);
      expect(printed).not.toContain(SECRET);
    }
    const failed = events.find((x) => x.type === 'refresh-failed') as Extract<RefreshEvent, { type: 'refresh-failed' }>;
    expect(failed.error).toBe(e);
    expect((e.cause as Error).cause).toBeInstanceOf(Error); // the chain is kept, sanitized
  });
  it('masks a bare token in a foreign message or cause (no URL, no key=value around it)', async () => {
    const bare = 'CAIS8fKq2Zr0aB7xQ91mNw4tLp3Vh6';
    const provider = refreshing(
      async () => {
        throw new Error(`vault said: denied for ${bare}`, { cause: new Error(bare) });
      },
      { retry: false },
    );
    const e = (await provider().catch((x: unknown) => x)) as CredentialsError;
    expect(inspect(e, { depth: 10 })).not.toContain(bare);
    expect(e.message).toContain('vault said: denied for');
  });
});

describe('item 12: only real network failures are retried', () => {
  it('classifies by shape, not by class', () => {
    expect(isRetryableError(new TypeError('fetch failed'))).toBe(true);
    expect(isRetryableError(new TypeError('Failed to fetch'))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryableError(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
    expect(isRetryableError(new TypeError('Invalid character in header content'))).toBe(false);
    expect(isRetryableError(new CredentialsError('x', { retryable: true }))).toBe(true);
    const cyclic: { name: string; message: string; cause?: unknown } = { name: 'TypeError', message: 'x' };
    cyclic.cause = cyclic;
    expect(isRetryableError(cyclic)).toBe(false);
  });

  it('a TypeError from a bug is not retried and not marked retryable', async () => {
    let calls = 0;
    const provider: CredentialProvider = refreshing(async () => {
      calls++;
      throw new TypeError("Cannot read properties of undefined (reading 'AccessKeyId')");
    });
    const e = (await provider().catch((x: unknown) => x)) as CredentialsError;
    expect(calls).toBe(1);
    expect(e.retryable).toBe(false);
  });
});
