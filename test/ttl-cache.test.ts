/**
 * The STS cache's storage (src/internal/ttl-cache.ts): least-recently-used eviction, expiry
 * on an injected clock, single-flight loading, and what delete()/clear()/eviction do to a load
 * in flight. Time is a plain variable read by the injected clock; loads settle when the test
 * says so (deferred promises), so no timers are involved.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCredentials, createStsCache } from '../src/index.js';
import { ttlCache, type Loaded } from '../src/internal/ttl-cache.js';

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** A cache on a hand-moved clock, and a loader that counts its calls and names its values. */
function setup(max = 10) {
  const clock = { now: 1000 };
  const cache = ttlCache<string>(max, () => clock.now);
  let calls = 0;
  /** Loads `<key>#<n>` (n counts every load) kept for `ttl` ms. */
  const loader = (key: string, ttl = 100) => async (): Promise<Loaded<string>> => [`${key}#${++calls}`, ttl];
  return { clock, cache, loader, calls: () => calls };
}

/** Lets settled promises' callbacks run. */
const flush = () => new Promise<void>((ok) => queueMicrotask(ok));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('ttlCache: least recently used eviction', () => {
  it('holds at most max keys, evicting the least recently used', async () => {
    const { cache, loader, calls } = setup(3);
    for (const k of ['a', 'b', 'c', 'd']) await cache.get(k, loader(k));
    expect(cache.size).toBe(3);
    expect(cache.peek('a')).toBeUndefined(); // the oldest went
    expect(cache.peek('b')).toBe('b#2');
    expect(cache.peek('d')).toBe('d#4');
    expect(calls()).toBe(4);
  });

  it('a hit makes its key the most recently used', async () => {
    const { cache, loader, calls } = setup(2);
    await cache.get('a', loader('a'));
    await cache.get('b', loader('b'));
    expect(await cache.get('a', loader('a'))).toBe('a#1'); // hit: a is now newer than b
    await cache.get('c', loader('c'));
    expect(cache.peek('a')).toBe('a#1');
    expect(cache.peek('b')).toBeUndefined();
    expect(calls()).toBe(3);
  });

  it('peek does not make its key the most recently used', async () => {
    const { cache, loader } = setup(2);
    await cache.get('a', loader('a'));
    await cache.get('b', loader('b'));
    expect(cache.peek('a')).toBe('a#1');
    await cache.get('c', loader('c'));
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.peek('b')).toBe('b#2');
  });

  it('a load in flight counts towards max and size', async () => {
    const { cache } = setup(2);
    const a = deferred<Loaded<string>>();
    const b = deferred<Loaded<string>>();
    const pa = cache.get('a', () => a.promise);
    expect(cache.size).toBe(1);
    const pb = cache.get('b', () => b.promise);
    expect(cache.size).toBe(2);
    a.resolve(['A', 100]);
    b.resolve(['B', 100]);
    expect([await pa, await pb]).toEqual(['A', 'B']);
    expect(cache.size).toBe(2);
  });

  it('evicting a load in flight does not fail its waiters: they get its value, which is not kept', async () => {
    const { cache, loader, calls } = setup(1);
    const slow = deferred<Loaded<string>>();
    const waiters = [cache.get('a', () => slow.promise), cache.get('a', () => slow.promise)];
    await cache.get('b', loader('b')); // evicts a's load
    expect(cache.size).toBe(1);
    expect(cache.loading('a')).toBeUndefined();
    slow.resolve(['A', 100]);
    expect(await Promise.all(waiters)).toEqual(['A', 'A']);
    // Not stored, and it did not push b out either.
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.peek('b')).toBe('b#1');
    expect(cache.size).toBe(1);
    expect(calls()).toBe(1);
  });

  it('an evicted load that fails still fails its waiters, and leaves the cache alone', async () => {
    const { cache, loader } = setup(1);
    const slow = deferred<Loaded<string>>();
    const waiter = cache.get('a', () => slow.promise);
    await cache.get('b', loader('b'));
    slow.reject(new Error('boom'));
    await expect(waiter).rejects.toThrow('boom');
    expect(cache.peek('b')).toBe('b#1');
  });
});

describe('ttlCache: time to live', () => {
  it('serves a value until just before now + ttl; at that instant it is gone', async () => {
    const { clock, cache, loader, calls } = setup();
    expect(await cache.get('k', loader('k', 100))).toBe('k#1');
    clock.now += 99;
    expect(cache.peek('k')).toBe('k#1');
    expect(await cache.get('k', loader('k'))).toBe('k#1');
    clock.now += 1; // exactly expiresAt
    expect(cache.peek('k')).toBeUndefined();
    expect(await cache.get('k', loader('k'))).toBe('k#2');
    expect(calls()).toBe(2);
  });

  it('counts the ttl from when the load settles, on the injected clock only', async () => {
    const { clock, cache } = setup();
    const load = deferred<Loaded<string>>();
    const p = cache.get('k', () => load.promise);
    clock.now += 500; // a slow load
    load.resolve(['K', 100]);
    await p;
    vi.spyOn(Date, 'now').mockReturnValue(0); // the wall clock is not consulted
    clock.now += 99;
    expect(cache.peek('k')).toBe('K');
    clock.now += 1;
    expect(cache.peek('k')).toBeUndefined();
    expect(Date.now).not.toHaveBeenCalled();
  });

  it('drops an expired value lazily, when it is next touched', async () => {
    const { clock, cache, loader } = setup();
    await cache.get('k', loader('k', 10));
    clock.now += 10;
    expect(cache.size).toBe(1); // nothing runs on its own
    expect(cache.peek('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('an expired value is reloaded in place, not counted twice', async () => {
    const { clock, cache, loader } = setup();
    await cache.get('k', loader('k', 10));
    clock.now += 10;
    expect(await cache.get('k', loader('k', 10))).toBe('k#2');
    expect(cache.size).toBe(1);
  });

  it.each([0, -5, Number.NaN])('a ttl of %s hands the value out without keeping it', async (ttl) => {
    const { cache, loader, calls } = setup();
    const waiters = [cache.get('k', loader('k', ttl)), cache.get('k', loader('k', ttl))];
    expect(await Promise.all(waiters)).toEqual(['k#1', 'k#1']);
    expect(cache.size).toBe(0);
    expect(cache.peek('k')).toBeUndefined();
    expect(await cache.get('k', loader('k', ttl))).toBe('k#2');
    expect(calls()).toBe(2);
  });

  it('an infinite ttl never expires', async () => {
    const { clock, cache, loader } = setup();
    await cache.get('k', loader('k', Infinity));
    clock.now += 1e15;
    expect(await cache.get('k', loader('k'))).toBe('k#1');
  });
});

describe('ttlCache: single flight', () => {
  it('concurrent gets of one key share one load', async () => {
    const { cache } = setup();
    const load = deferred<Loaded<string>>();
    const fn = vi.fn(() => load.promise);
    const waiters = Array.from({ length: 100 }, () => cache.get('k', fn));
    expect(cache.size).toBe(1);
    load.resolve(['K', 100]);
    const results = await Promise.all(waiters);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(new Set(results)).toEqual(new Set(['K']));
    expect(await cache.get('k', fn)).toBe('K');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('every waiter gets the very promise of the load, which loading() names', () => {
    const { cache } = setup();
    const load = deferred<Loaded<string>>();
    const first = cache.get('k', () => load.promise);
    expect(cache.get('k', () => load.promise)).toBe(first);
    expect(cache.loading('k')).toBe(first);
    expect(cache.loading('other')).toBeUndefined();
  });

  it('force skips a settled value but joins a load in flight', async () => {
    const { cache, loader, calls } = setup();
    expect(await cache.get('k', loader('k'))).toBe('k#1');
    const forced = [cache.get('k', loader('k'), true), cache.get('k', loader('k'), true), cache.get('k', loader('k'))];
    expect(await Promise.all(forced)).toEqual(['k#2', 'k#2', 'k#2']);
    expect(calls()).toBe(2);
    expect(cache.peek('k')).toBe('k#2');
  });

  it('loading() is undefined once the load has settled', async () => {
    const { cache, loader } = setup();
    const p = cache.get('k', loader('k'));
    expect(cache.loading('k')).toBe(p);
    await p;
    expect(cache.loading('k')).toBeUndefined();
  });
});

describe('ttlCache: failed loads', () => {
  it('a rejection keeps nothing and is every waiter’s answer; the next get loads again', async () => {
    const { cache, loader, calls } = setup();
    const load = deferred<Loaded<string>>();
    const fn = vi.fn(() => load.promise);
    const waiters = Array.from({ length: 10 }, () => cache.get('k', fn));
    const error = new Error('boom');
    load.reject(error);
    const outcomes = await Promise.allSettled(waiters);
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason === error)).toBe(true);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(cache.size).toBe(0);
    expect(await cache.get('k', loader('k'))).toBe('k#1');
    expect(calls()).toBe(1);
  });

  it('a load that fails has let go of its key before any waiter hears of it', async () => {
    // cache.ts relies on this: a waiter that is rejected while loading() still names its load
    // knows the load never settled (Cloudflare Workers: it belonged to an ended request).
    const { cache } = setup();
    const load = deferred<Loaded<string>>();
    const p = cache.get('k', () => load.promise);
    const seen = p.catch(() => ({ loading: cache.loading('k'), size: cache.size }));
    load.reject(new Error('boom'));
    expect(await seen).toEqual({ loading: undefined, size: 0 });
  });

  it('a load that throws synchronously rejects and keeps nothing', async () => {
    const { cache, loader } = setup();
    const p = cache.get('k', () => {
      throw new Error('sync');
    });
    await expect(p).rejects.toThrow('sync');
    expect(cache.size).toBe(0);
    expect(cache.loading('k')).toBeUndefined();
    expect(await cache.get('k', loader('k'))).toBe('k#1');
  });
});

describe('ttlCache: delete() and clear() during a load', () => {
  it.each(['delete', 'clear'] as const)('%s: the waiters get the value, and it is not kept', async (how) => {
    const { cache } = setup();
    const load = deferred<Loaded<string>>();
    const waiters = [cache.get('k', () => load.promise), cache.get('k', () => load.promise)];
    if (how === 'delete') cache.delete('k');
    else cache.clear();
    expect(cache.size).toBe(0);
    load.resolve(['K', 100]);
    expect(await Promise.all(waiters)).toEqual(['K', 'K']);
    expect(cache.peek('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('a load forgotten by delete() does not overwrite or drop the newer load of its key', async () => {
    const { cache } = setup();
    const old = deferred<Loaded<string>>();
    const newer = deferred<Loaded<string>>();
    const pOld = cache.get('k', () => old.promise);
    cache.delete('k');
    const pNew = cache.get('k', () => newer.promise);
    expect(pNew).not.toBe(pOld);
    old.resolve(['OLD', 100]);
    expect(await pOld).toBe('OLD');
    expect(cache.loading('k')).toBe(pNew); // still the newer load's key
    newer.resolve(['NEW', 100]);
    expect(await pNew).toBe('NEW');
    expect(cache.peek('k')).toBe('NEW');
  });

  it('a forgotten load that fails does not drop the newer value of its key', async () => {
    const { cache, loader } = setup();
    const old = deferred<Loaded<string>>();
    const pOld = cache.get('k', () => old.promise);
    cache.delete('k');
    expect(await cache.get('k', loader('k'))).toBe('k#1');
    old.reject(new Error('late failure'));
    await expect(pOld).rejects.toThrow('late failure');
    expect(cache.peek('k')).toBe('k#1');
  });

  it('delete() of a settled key and clear() of all', async () => {
    const { cache, loader } = setup();
    await cache.get('a', loader('a'));
    await cache.get('b', loader('b'));
    cache.delete('a');
    expect(cache.size).toBe(1);
    cache.delete('missing');
    expect(cache.size).toBe(1);
    cache.clear();
    expect(cache.size).toBe(0);
  });
});

describe('ttlCache: no timers', () => {
  it('creates no timer, whatever it does', async () => {
    const timeout = vi.spyOn(globalThis, 'setTimeout');
    const interval = vi.spyOn(globalThis, 'setInterval');
    const { clock, cache, loader } = setup(2);
    await cache.get('a', loader('a', 10));
    await cache.get('b', loader('b', 10));
    await cache.get('c', loader('c', 10)); // evicts
    await Promise.allSettled([cache.get('d', () => Promise.reject(new Error('x'))), cache.get('c', loader('c'), true)]);
    clock.now += 100; // everything expires
    cache.peek('b');
    await cache.get('b', loader('b', 10));
    cache.delete('b');
    cache.clear();
    await flush();
    expect(timeout).not.toHaveBeenCalled();
    expect(interval).not.toHaveBeenCalled();
  });
});

describe('createStsCache over ttlCache', () => {
  const credentials = (id: string, lifetimeMs: number | undefined) =>
    createCredentials({
      accessKeyId: id,
      accessKeySecret: 's',
      securityToken: 't',
      expiration: lifetimeMs === undefined ? undefined : new Date(Date.now() + lifetimeMs),
      source: 'test',
    });

  it('keeps credentials without an expiration until evicted', async () => {
    const clock = { now: Date.now() };
    const cache = createStsCache({ clock: () => clock.now });
    const load = vi.fn(async () => credentials('STS.forever', undefined));
    const first = await cache.get('k', load);
    clock.now += 365 * 24 * 3600_000;
    expect(await cache.get('k', load)).toBe(first);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('hands out a result already past its advisory point without keeping it', async () => {
    const cache = createStsCache();
    let n = 0;
    // 10 minutes left and a 20-minute advisory window: its advisory point has passed (ttl < 0).
    const load = async () => credentials(`STS.${++n}`, 10 * 60_000);
    const got = await cache.get('k', load, { advisoryWindowMs: 20 * 60_000 });
    expect(got.accessKeyId).toBe('STS.1');
    expect(cache.size).toBe(0);
  });

  it.each([0, -1, Number.NaN])('refuses max: %s', (max) => {
    expect(() => createStsCache({ max })).toThrow(/createStsCache: max must be a positive number/);
  });

  it('recovers from a joined load that fails without settling (Cloudflare Workers), loading once itself', async () => {
    // In workerd, awaiting a promise made by a request that has ended rejects at once while
    // that promise stays pending forever. Simulated here: the first load never settles, and
    // the second caller's wait on it (raceAbort's then(), as it passes a signal) is rejected.
    const cache = createStsCache();
    const dead = vi.fn(() => new Promise<never>(() => {}));
    void cache.get('k', dead);
    expect(cache.size).toBe(1);

    const then = Promise.prototype.then;
    let rejected = 0;
    const spy = vi.spyOn(Promise.prototype, 'then').mockImplementation(function (this: Promise<unknown>, ok, fail) {
      if (rejected === 0 && typeof fail === 'function') {
        rejected++;
        queueMicrotask(() => fail(new Error('This promise was created by a request that has since ended, so it can never settle')));
        return then.call(this, () => {}, () => {}) as Promise<never>;
      }
      return then.call(this, ok, fail) as Promise<never>;
    });
    const fresh = vi.fn(async () => credentials('STS.fresh', 3600_000));
    let pending: Promise<unknown>;
    try {
      pending = cache.get('k', fresh, { signal: new AbortController().signal });
    } finally {
      spy.mockRestore();
    }
    expect(await pending).toMatchObject({ accessKeyId: 'STS.fresh' });
    expect(rejected).toBe(1);
    expect(dead).toHaveBeenCalledTimes(1);
    expect(fresh).toHaveBeenCalledTimes(1);
    // The dead load is forgotten; the fresh result is kept.
    expect(cache.size).toBe(1);
    expect(await cache.get('k', fresh)).toMatchObject({ accessKeyId: 'STS.fresh' });
    expect(fresh).toHaveBeenCalledTimes(1);
  });

  it('a joined load that fails and settles is every waiter’s answer: no second load', async () => {
    const cache = createStsCache();
    const gate = deferred<never>();
    const load = vi.fn(() => gate.promise);
    const waiters = [cache.get('k', load), cache.get('k', load, { signal: new AbortController().signal })];
    gate.reject(new Error('denied'));
    const outcomes = await Promise.allSettled(waiters);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(load).toHaveBeenCalledTimes(1);
    expect(cache.size).toBe(0);
  });
});
