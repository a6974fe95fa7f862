import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCredentials, createStsCache, defaultStsCache, fromRamRole, fromStatic, refreshing, stsCacheKey, type StsClient } from '../src/index.js';
import { fakeCredentialSource } from '../src/testing/index.js';

const SECOND = 1000;

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 10, 27, 12) });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('createStsCache', () => {
  it('loads once for concurrent callers of one key and shares the result', async () => {
    const cache = createStsCache();
    const load = fakeCredentialSource({ lifetimeMs: 3600 * SECOND, delayMs: 10 });
    const pending = Array.from({ length: 100 }, () => cache.get('k', () => load()));
    await vi.advanceTimersByTimeAsync(10);
    const results = await Promise.all(pending);
    expect(load.calls).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(await cache.get('k', () => load())).toBe(results[0]);
    expect(load.calls).toBe(1);
  });

  it("keeps an entry until the loading provider's advisory point; a requester with a larger window counts it a miss", async () => {
    const cache = createStsCache();
    const load = fakeCredentialSource({ lifetimeMs: 3600 * SECOND });
    const minute = 60 * SECOND;
    const first = await cache.get('k', () => load(), { advisoryWindowMs: minute });
    await vi.advanceTimersByTimeAsync(50 * minute); // 10 min left
    // The loader (1 min window) still gets it: its advisory point is 59 min.
    expect(await cache.get('k', () => load(), { advisoryWindowMs: minute })).toBe(first);
    expect(load.calls).toBe(1);
    // A provider with the default window (15 min) is refreshing ahead: a hit would hand back
    // the very value it is replacing.
    const second = await cache.get('k', () => load());
    expect(second).not.toBe(first);
    expect(load.calls).toBe(2);
    // Windows given as functions of the lifetime work too.
    await vi.advanceTimersByTimeAsync(40 * minute); // 20 min left of the second
    expect(await cache.get('k', () => load(), { advisoryWindowMs: (l) => l / 10 })).toBe(second);
    expect(await cache.get('k', () => load(), { advisoryWindowMs: (l) => l / 2 })).not.toBe(second);
    expect(load.calls).toBe(3);
  });

  it('role providers with different advisory windows sharing a cache: each gets a value outside its own window', async () => {
    let calls = 0;
    const issue = async () =>
      createCredentials({ accessKeyId: `STS.r${++calls}`, accessKeySecret: 's', securityToken: 't', expiration: new Date(Date.now() + 900 * SECOND), source: 'sts:AssumeRole' });
    const sts = { endpoint: 'http://127.0.0.1:9', assumeRole: issue, assumeRoleWithOidc: issue } as unknown as StsClient;
    const cache = createStsCache();
    const base = { source: fromStatic({ accessKeyId: 'LTAI5tShared', accessKeySecret: 's' }), roleArn: 'acs:ram::123:role/r', durationSeconds: 900, sts, cache };
    const late = fromRamRole({ ...base, refresh: { advisoryWindowMs: 60 * SECOND, backgroundTimer: false } });
    const early = fromRamRole({ ...base, refresh: { backgroundTimer: false } }); // default: 450 s
    await late();
    await vi.advanceTimersByTimeAsync(500 * SECOND); // 400 s left: inside early's window, not late's
    const got = await early();
    expect(calls).toBe(2);
    expect(got.expiration!.getTime() - Date.now()).toBeGreaterThan(450 * SECOND);
    expect((await late()).accessKeyId).toBe('STS.r1');
    expect(calls).toBe(2);
  });

  it('keeps different keys apart', async () => {
    const cache = createStsCache();
    const load = fakeCredentialSource({ lifetimeMs: 3600 * SECOND });
    const a = await cache.get('a', () => load());
    const b = await cache.get('b', () => load());
    expect(a).not.toBe(b);
    expect(cache.size).toBe(2);
  });

  it('serves an entry only until its advisory point, so a refresh gets a new credential', async () => {
    const cache = createStsCache();
    const load = fakeCredentialSource({ lifetimeMs: 900 * SECOND });
    const first = await cache.get('k', () => load());
    await vi.advanceTimersByTimeAsync(449 * SECOND);
    expect(await cache.get('k', () => load())).toBe(first);
    await vi.advanceTimersByTimeAsync(2 * SECOND); // past L/2 = 450 s
    const second = await cache.get('k', () => load());
    expect(second).not.toBe(first);
    expect(load.calls).toBe(2);
  });

  it('uses max(L - 15 min, L/2) as the time to live for long credentials', async () => {
    const cache = createStsCache();
    const load = fakeCredentialSource({ lifetimeMs: 3600 * SECOND });
    const first = await cache.get('k', () => load());
    await vi.advanceTimersByTimeAsync(2699 * SECOND);
    expect(await cache.get('k', () => load())).toBe(first);
    await vi.advanceTimersByTimeAsync(2 * SECOND);
    expect(await cache.get('k', () => load())).not.toBe(first);
  });

  it('forceRefresh loads anew but joins a load in flight', async () => {
    const cache = createStsCache();
    const load = fakeCredentialSource({ lifetimeMs: 3600 * SECOND, delayMs: 10 });
    const p = cache.get('k', () => load());
    await vi.advanceTimersByTimeAsync(10);
    const first = await p;
    const forced = [cache.get('k', () => load(), { forceRefresh: true }), cache.get('k', () => load(), { forceRefresh: true })];
    await vi.advanceTimersByTimeAsync(10);
    const [a, b] = await Promise.all(forced);
    expect(a).toBe(b);
    expect(a).not.toBe(first);
    expect(load.calls).toBe(2);
  });

  it('does not cache failures', async () => {
    const cache = createStsCache();
    const load = fakeCredentialSource({ lifetimeMs: 3600 * SECOND });
    load.failNext(1);
    await expect(cache.get('k', () => load())).rejects.toThrow(/simulated failure/);
    await expect(cache.get('k', () => load())).resolves.toBeDefined();
    expect(load.calls).toBe(2);
  });

  it('a failed load is every waiter\'s answer: 100 waiters, one load', async () => {
    const cache = createStsCache();
    const load = fakeCredentialSource({ lifetimeMs: 3600 * SECOND, delayMs: 10 });
    load.failNext(1);
    const settled = Promise.allSettled(Array.from({ length: 100 }, () => cache.get('k', () => load())));
    await vi.advanceTimersByTimeAsync(10);
    expect((await settled).every((r) => r.status === 'rejected')).toBe(true);
    expect(load.calls).toBe(1);
  });

  it('is bounded', async () => {
    const cache = createStsCache({ max: 3 });
    const load = fakeCredentialSource({ lifetimeMs: 3600 * SECOND });
    for (const k of ['a', 'b', 'c', 'd', 'e']) await cache.get(k, () => load());
    expect(cache.size).toBe(3);
    cache.delete('e');
    expect(cache.size).toBe(2);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it("an aborted caller stops waiting; the load goes on for the others", async () => {
    const cache = createStsCache();
    const load = fakeCredentialSource({ lifetimeMs: 3600 * SECOND, delayMs: 100 });
    const controller = new AbortController();
    const aborted = cache.get('k', () => load(), { signal: controller.signal });
    const other = cache.get('k', () => load());
    controller.abort(new Error('bye'));
    await expect(aborted).rejects.toThrow('bye');
    await vi.advanceTimersByTimeAsync(100);
    await expect(other).resolves.toBeDefined();
    expect(load.calls).toBe(1);
  });

  it('two refreshing providers of one identity share one source call through the cache', async () => {
    const cache = createStsCache();
    const load = fakeCredentialSource({ lifetimeMs: 900 * SECOND, delayMs: 5 });
    const viaCache = (key: string) => refreshing((o) => cache.get(key, () => load(), o), { backgroundTimer: false });
    const a = viaCache('role-x');
    const b = viaCache('role-x');
    const pending = Promise.all([a(), b()]);
    await vi.advanceTimersByTimeAsync(5);
    const [ca, cb] = await pending;
    expect(ca).toBe(cb);
    expect(load.calls).toBe(1);
    // Both refresh at their advisory point: still one new call for the two.
    await vi.advanceTimersByTimeAsync(460 * SECOND);
    await Promise.all([a(), b()]);
    await vi.advanceTimersByTimeAsync(5);
    expect(load.calls).toBe(2);
    expect((await a()).accessKeyId).toBe((await b()).accessKeyId);
  });

  it('delete() or clear() during a load does not fail the callers waiting on it', async () => {
    const cache = createStsCache();
    const load = fakeCredentialSource({ lifetimeMs: 3600 * SECOND, delayMs: 100 });
    const pending = cache.get('k', () => load());
    cache.delete('k');
    cache.clear();
    await vi.advanceTimersByTimeAsync(100);
    await expect(pending).resolves.toMatchObject({ accessKeyId: 'STS.fake-1' });
  });

  it('the process-wide default cache exists', () => {
    expect(typeof defaultStsCache.get).toBe('function');
  });
});

describe('stsCacheKey', () => {
  const source = (secret: string, token?: string) =>
    createCredentials({ accessKeyId: 'LTAI5tUser', accessKeySecret: secret, securityToken: token, source: 'static' });
  const base = { action: 'AssumeRole', endpoint: 'sts.aliyuncs.com', params: { RoleArn: 'acs:ram::1:role/r', RoleSessionName: 's' } };

  it('never contains the secret or the token', async () => {
    const key = await stsCacheKey({ ...base, source: source('the-secret-value', 'the-token-value') });
    expect(key).not.toContain('the-secret-value');
    expect(key).not.toContain('the-token-value');
    expect(key).toContain('LTAI5tUser');
  });

  it('differs when the secret differs, so a mistyped secret is not masked by a cached success', async () => {
    const a = await stsCacheKey({ ...base, source: source('right') });
    const b = await stsCacheKey({ ...base, source: source('wrong') });
    expect(a).not.toBe(b);
  });

  it('differs by every parameter, ignores undefined ones, and is independent of parameter order', async () => {
    const s = source('x');
    const k1 = await stsCacheKey({ ...base, source: s, params: { RoleArn: 'a', RoleSessionName: 's', Policy: undefined } });
    const k2 = await stsCacheKey({ ...base, source: s, params: { RoleSessionName: 's', RoleArn: 'a' } });
    const k3 = await stsCacheKey({ ...base, source: s, params: { RoleArn: 'a', RoleSessionName: 's', DurationSeconds: 900 } });
    const k4 = await stsCacheKey({ ...base, source: s, endpoint: 'sts.cn-hangzhou.aliyuncs.com', params: { RoleArn: 'a', RoleSessionName: 's' } });
    expect(k1).toBe(k2);
    expect(k3).not.toBe(k1);
    expect(k4).not.toBe(k1);
  });
});
