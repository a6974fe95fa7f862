/**
 * One chain: chain() and defaultProvider share createChain(): peek() of the link that
 * answered, close() of every link, and (defaultProvider) asking the last link first.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { chain, ConfigError, createChain, CredentialsChainError, CredentialsProviderError, fromStatic, refreshing } from '../src/index.js';
import { defaultProvider } from '../src/node/index.js';
import { fakeCredentialSource, startEmulator } from '../src/testing/index.js';

const notConfigured = (provider: string) => async () => {
  throw new CredentialsProviderError(`${provider} is not configured`, { provider, tryNext: true });
};

describe('chain(): peek() and close()', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 30, 12) });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('peek() is undefined before an answer, then the answering link peek(), never an expired value', async () => {
    const source = fakeCredentialSource({ lifetimeMs: 900_000 });
    const refreshingLink = refreshing(source, { backgroundTimer: false });
    const c = chain(notConfigured('first'), refreshingLink);
    expect(c.peek()).toBeUndefined();
    const got = await c();
    expect(c.peek()).toBe(got);
    await vi.advanceTimersByTimeAsync(850_000); // inside the mandatory window
    expect(c.peek()).toBeUndefined();
  });

  it('peek() of a link without peek(): what it returned, until that expires', async () => {
    let n = 0;
    const plain = async () => ({
      accessKeyId: `STS.plain${++n}`,
      accessKeySecret: 'secret',
      securityToken: 'token',
      expiration: new Date(Date.now() + 60_000),
      source: 'plain',
    });
    const c = chain(plain);
    const got = await c();
    expect(c.peek()?.accessKeyId).toBe(got.accessKeyId);
    await vi.advanceTimersByTimeAsync(61_000);
    expect(c.peek()).toBeUndefined();
    const keys = chain(fromStatic({ accessKeyId: 'LTAI5tKey', accessKeySecret: 's' }));
    await keys();
    await vi.advanceTimersByTimeAsync(365 * 24 * 3600_000);
    expect(keys.peek()?.accessKeyId).toBe('LTAI5tKey');
  });

  it('close() closes every link that has close()', async () => {
    const a = refreshing(fakeCredentialSource());
    const b = refreshing(fakeCredentialSource());
    const c = chain(a, b);
    await a();
    await b();
    a.peek(); // used since their credentials arrived: each arms its timer
    b.peek();
    expect(vi.getTimerCount()).toBe(2);
    c.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses a link that is not a function, naming it', () => {
    expect(() => chain(fromStatic({ accessKeyId: 'a', accessKeySecret: 'b' }), undefined as never)).toThrow(ConfigError);
    expect(() => chain(undefined as never)).toThrow(/link 1/);
  });

  it('uses the given link names in the error', async () => {
    const c = createChain([notConfigured('x'), notConfigured('y')], { name: 'mine', linkNames: ['one', 'two'] });
    const e = (await c().catch((x: unknown) => x)) as CredentialsChainError;
    expect(e.attempts.map((a) => a.provider)).toEqual(['one', 'two']);
    expect(e.provider).toBe('mine');
  });

  it('without rememberLastLink every call walks from the start; with it, the last link is asked first', async () => {
    let firstConfigured = false;
    const first = async () => {
      if (!firstConfigured) throw new CredentialsProviderError('off', { provider: 'first', tryNext: true });
      return fromStatic({ accessKeyId: 'LTAI5tFirst', accessKeySecret: 's' })();
    };
    const second = fromStatic({ accessKeyId: 'LTAI5tSecond', accessKeySecret: 's' });
    const walking = createChain([first, second]);
    const remembering = createChain([first, second], { rememberLastLink: true });
    expect((await walking()).accessKeyId).toBe('LTAI5tSecond');
    expect((await remembering()).accessKeyId).toBe('LTAI5tSecond');
    firstConfigured = true;
    expect((await walking()).accessKeyId).toBe('LTAI5tFirst');
    expect((await remembering()).accessKeyId).toBe('LTAI5tSecond');
    // forceRefresh walks again.
    expect((await remembering({ forceRefresh: true })).accessKeyId).toBe('LTAI5tFirst');
  });
});

describe('defaultProvider asks the link that answered first', () => {
  it('a CLI config that turns malformed mid-run does not break a process served by ECS metadata', async () => {
    const home = await mkdtemp(join(tmpdir(), 'alicred-remember-'));
    const emu = await startEmulator({ ecs: { roleName: 'ecs-app', lifetimeSeconds: 3600 }, roles: [{ name: 'ecs-app' }] });
    try {
      const provider = defaultProvider({ env: {}, homedir: home, ecsMetadata: { endpoint: emu.metadataEndpoint } });
      expect((await provider()).source).toBe('ecs-metadata');
      await mkdir(join(home, '.aliyun'), { recursive: true });
      await writeFile(join(home, '.aliyun', 'config.json'), '{ "current": "x", "profiles": [ {', { mode: 0o600 });
      // Warm calls go to the ECS link: the broken file is not read.
      expect((await provider()).source).toBe('ecs-metadata');
      // A full walk (forceRefresh) does read it, and reports it.
      await expect(provider({ forceRefresh: true })).rejects.toBeInstanceOf(ConfigError);
      provider.close();
    } finally {
      await emu.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
