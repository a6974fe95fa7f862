/**
 * Options that agree: one top-level `logger` and one clock reach every part of a provider;
 * explicit options are checked when a provider is built, env and file values when it is
 * called; defaultProvider() itself never throws.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, fromCredentialsUri, fromOidc, fromRamRole, fromStatic } from '../src/index.js';
import { defaultProvider, fromOidcTokenFile } from '../src/node/index.js';
import { failure } from './helpers.js';

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'alicred-options-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

/** A fetch answering AssumeRole with credentials that claim to live 24 h, recording the request. */
function longLivedSts() {
  const seen: { date: string | null }[] = [];
  const fetchImpl = (async (_url: string, init: RequestInit) => {
    seen.push({ date: new Headers(init.headers).get('x-acs-date') });
    const expiration = new Date(Date.now() + 24 * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return new Response(
      JSON.stringify({ RequestId: 'r1', Credentials: { AccessKeyId: 'STS.long', AccessKeySecret: 's', SecurityToken: 't', Expiration: expiration } }),
      { status: 200, headers: { 'content-type': 'application/json' } },
    );
  }) as unknown as typeof fetch;
  return { seen, fetchImpl };
}

describe('one logger', () => {
  it("fromRamRole's top-level logger gets the STS client's warnings (a clamped lifetime)", async () => {
    const { fetchImpl } = longLivedSts();
    const warn = vi.fn();
    const provider = fromRamRole({
      source: fromStatic({ accessKeyId: 'LTAI5tLogger', accessKeySecret: 'secret' }),
      roleArn: 'acs:ram::1234567890123456:role/app',
      durationSeconds: 900,
      sts: { endpoint: 'http://127.0.0.1:9', fetch: fetchImpl },
      cache: false,
      logger: { warn },
    });
    const creds = await provider();
    expect(creds.expiration!.getTime() - Date.now()).toBeLessThanOrEqual(900_000);
    expect(warn).toHaveBeenCalled();
    expect(String(warn.mock.calls[0]![0])).toMatch(/900/);
    provider.close();
  });

  it("a credentials URI's top-level logger gets the engine's warnings too", async () => {
    let calls = 0;
    const fetchImpl = (async () => {
      calls++;
      if (calls > 1) return new Response('down', { status: 503 });
      const expiration = new Date(Date.now() + 1500).toISOString();
      return new Response(JSON.stringify({ AccessKeyId: 'STS.u', AccessKeySecret: 's', SecurityToken: 't', Expiration: expiration }), { status: 200 });
    }) as unknown as typeof fetch;
    const warn = vi.fn();
    vi.useFakeTimers();
    try {
      const provider = fromCredentialsUri({ uri: 'http://127.0.0.1:9/creds', fetch: fetchImpl, logger: { warn }, refresh: { retry: false } });
      await provider();
      await vi.advanceTimersByTimeAsync(900); // advisory window of a 1.5 s credential
      await provider();
      await vi.advanceTimersByTimeAsync(50);
      expect(warn.mock.calls.some(([m]) => /refreshing credentials from credentials-uri failed/.test(String(m)))).toBe(true);
      provider.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('one clock', () => {
  it("refresh.clock also drives the STS client fromRamRole creates (request timestamps)", async () => {
    const { seen, fetchImpl } = longLivedSts();
    const simulated = Date.UTC(2031, 0, 2, 3, 4, 5);
    const provider = fromRamRole({
      source: fromStatic({ accessKeyId: 'LTAI5tClock', accessKeySecret: 'secret' }),
      roleArn: 'acs:ram::1234567890123456:role/app',
      sts: { endpoint: 'http://127.0.0.1:9', fetch: fetchImpl },
      cache: false,
      refresh: { clock: () => simulated, backgroundTimer: false },
    });
    await provider().catch(() => {});
    expect(seen[0]!.date).toBe('2031-01-02T03:04:05Z');
  });
});

describe('shared STS clients', () => {
  it('providers made with one options object share one client, and still sign with their own identity', async () => {
    const seen: string[] = [];
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      seen.push(new Headers(init.headers).get('authorization') ?? '');
      const expiration = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      return new Response(JSON.stringify({ RequestId: 'r', Credentials: { AccessKeyId: `STS.s${seen.length}`, AccessKeySecret: 's', SecurityToken: 't', Expiration: expiration } }), { status: 200 });
    }) as unknown as typeof fetch;
    const sts = { endpoint: 'http://127.0.0.1:9', fetch: fetchImpl };
    const make = (id: string) =>
      fromRamRole({ source: fromStatic({ accessKeyId: id, accessKeySecret: 'secret' }), roleArn: 'acs:ram::1234567890123456:role/app', sts, cache: false, refresh: { backgroundTimer: false } });
    const a = make('LTAI5tTenantA');
    const b = make('LTAI5tTenantB');
    await a();
    await b();
    expect(seen).toHaveLength(2);
    expect(seen[0]).toContain('LTAI5tTenantA');
    expect(seen[1]).toContain('LTAI5tTenantB');
    // A different logger gets a client of its own (it must receive that client's warnings).
    const warn = vi.fn();
    const c = fromRamRole({ source: fromStatic({ accessKeyId: 'LTAI5tTenantC', accessKeySecret: 'secret' }), roleArn: 'acs:ram::1234567890123456:role/app', sts, cache: false, logger: { warn } });
    await c();
    expect(seen[2]).toContain('LTAI5tTenantC');
    c.close();
  });

  it('one options object serves a role provider and an OIDC provider, each with a client of the operation it calls', async () => {
    const actions: string[] = [];
    const fetchImpl = (async (url: string, init: RequestInit) => {
      const action = new Headers(init.headers).get('x-acs-action') ?? new URL(url).searchParams.get('Action') ?? '?';
      actions.push(action);
      const expiration = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      return new Response(JSON.stringify({ RequestId: 'r', Credentials: { AccessKeyId: `STS.${action}`, AccessKeySecret: 's', SecurityToken: 't', Expiration: expiration } }), { status: 200 });
    }) as unknown as typeof fetch;
    const sts = { endpoint: 'http://127.0.0.1:9', fetch: fetchImpl };
    const roleArn = 'acs:ram::1234567890123456:role/app';
    const role = fromRamRole({ source: fromStatic({ accessKeyId: 'LTAI5tTenantA', accessKeySecret: 'secret' }), roleArn, sts, cache: false, refresh: { backgroundTimer: false } });
    const oidc = fromOidc({ roleArn, oidcProviderArn: 'acs:ram::1234567890123456:oidc-provider/ack', token: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', sts, cache: false, refresh: { backgroundTimer: false } });
    const again = fromRamRole({ source: fromStatic({ accessKeyId: 'LTAI5tTenantB', accessKeySecret: 'secret' }), roleArn, sts, cache: false, refresh: { backgroundTimer: false } });
    expect((await role()).accessKeyId).toBe('STS.AssumeRole');
    expect((await oidc()).accessKeyId).toBe('STS.AssumeRoleWithOIDC');
    expect((await again()).accessKeyId).toBe('STS.AssumeRole');
    expect(actions).toEqual(['AssumeRole', 'AssumeRoleWithOIDC', 'AssumeRole']);
  });

  it('a client passed in is used as it is, and one without the operation a provider calls is refused by name', async () => {
    const roleArn = 'acs:ram::1234567890123456:role/app';
    const expiration = new Date(Date.now() + 3600_000);
    const oidcOnly = {
      endpoint: 'http://127.0.0.1:9',
      assumeRoleWithOidc: vi.fn(async () => ({ accessKeyId: 'STS.fake', accessKeySecret: 's', securityToken: 't', expiration })),
    };
    const oidc = fromOidc({ roleArn, oidcProviderArn: 'acs:ram::1234567890123456:oidc-provider/ack', token: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', sts: oidcOnly as never, cache: false, refresh: { backgroundTimer: false } });
    expect((await oidc()).accessKeyId).toBe('STS.fake');
    expect(oidcOnly.assumeRoleWithOidc).toHaveBeenCalledTimes(1);
    let error: unknown;
    try {
      fromRamRole({ source: fromStatic({ accessKeyId: 'LTAI5tTenantA', accessKeySecret: 'secret' }), roleArn, sts: oidcOnly as never });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ field: 'sts', provider: 'fromRamRole' });
    expect((error as Error).message).toContain('sts has no assumeRole method');
  });
});

describe('when options are checked', () => {
  const rrsa = {
    ALIBABA_CLOUD_ROLE_ARN: 'acs:ram::1234567890123456:role/app',
    ALIBABA_CLOUD_OIDC_PROVIDER_ARN: 'acs:ram::1234567890123456:oidc-provider/ack',
    ALIBABA_CLOUD_OIDC_TOKEN_FILE: '/nonexistent/token',
  };

  it('fromOidcTokenFile: a bad explicit option is a ConfigError when the provider is built', () => {
    expect(() => fromOidcTokenFile({ env: rrsa, roleArn: 'not-an-arn' })).toThrow(ConfigError);
    expect(() => fromOidcTokenFile({ env: rrsa, durationSeconds: 5 })).toThrow(ConfigError);
  });

  it('fromOidcTokenFile: a bad value from the environment is reported by the call, naming the variable', async () => {
    const provider = fromOidcTokenFile({ env: { ...rrsa, ALIBABA_CLOUD_ROLE_ARN: 'not-an-arn' } });
    const e = await failure(provider());
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).field).toBe('ALIBABA_CLOUD_ROLE_ARN');
  });

  it('defaultProvider() never throws; a link with bad options stops the chain with its ConfigError when reached', async () => {
    const env = { ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'false' };
    let provider: ReturnType<typeof defaultProvider> | undefined;
    expect(() => {
      provider = defaultProvider({ env, homedir: home, ecsMetadata: { timeoutMs: -1, endpoint: 'http://127.0.0.1:9' } });
    }).not.toThrow();
    const e = await failure(provider!());
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).field).toBe('timeoutMs');
    // Earlier links still answer first.
    const withEnv = defaultProvider({
      env: { ...env, ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tEnv', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's' },
      homedir: home,
      ecsMetadata: { timeoutMs: -1 },
    });
    expect((await withEnv()).source).toBe('env');
  });
});
