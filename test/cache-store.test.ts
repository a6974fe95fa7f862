/**
 * The shared level of the STS cache (src/cache-store.ts) over an in-memory store that several
 * caches share, as processes share Redis: one load between them, the lease and its waiters,
 * forced refreshes, the advisory rule for stored values, a store that throws, hangs or holds
 * garbage (never an error, never an expired value, one warning per outage), sealing with
 * key rotation, and what is stored (STS's statement, not a locally corrected expiry).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  createCredentials,
  createStsCache,
  createStsClient,
  fromRamRole,
  fromStatic,
  type StsCacheOptions,
  type StsCacheStore,
} from '../src/index.js';
import { fakeCredentialSource, startEmulator, type Emulator } from '../src/testing/index.js';

const SECOND = 1000;
const T0 = Date.UTC(2026, 10, 27, 12);

/** A store in memory on a hand-moved clock, with switchable failures and a log of operations. */
function memoryStore(now: () => number = () => Date.now(), keyPrefix = 'test:') {
  const values = new Map<string, { value: string; until: number }>();
  const state = { mode: 'ok' as 'ok' | 'throw' | 'hang', ops: [] as string[], leases: 0 };
  const live = (key: string) => {
    const v = values.get(key);
    return v !== undefined && v.until > now() ? v.value : undefined;
  };
  const gate = async (op: string) => {
    state.ops.push(op);
    if (state.mode === 'throw') throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    if (state.mode === 'hang') await new Promise(() => {});
  };
  const store: StsCacheStore = {
    keyPrefix,
    async get(key) {
      await gate('get');
      return live(key);
    },
    async set(key, value, ttlMs) {
      await gate('set');
      expect(ttlMs).toBeGreaterThan(0);
      values.set(key, { value, until: now() + ttlMs });
    },
    async lease(key, ttlMs) {
      await gate('lease');
      if (live(`${key}:lease`) !== undefined) return undefined;
      const token = `t${++state.leases}`;
      values.set(`${key}:lease`, { value: token, until: now() + ttlMs });
      return token;
    },
    async release(key, token) {
      await gate('release');
      if (live(`${key}:lease`) === token) values.delete(`${key}:lease`);
    },
  };
  /** Waits until the background writes (set, release) have landed. */
  const settled = () => new Promise((resolve) => setTimeout(resolve, 20));
  return { store, state, values, live, settled };
}

/** A clock the test moves, and caches and a loader on it. */
function world(options: Partial<StsCacheOptions> = {}) {
  const clock = { now: T0 };
  const mem = memoryStore(() => clock.now);
  const warnings: string[] = [];
  const logger = { warn: (m: string) => warnings.push(m) };
  const cache = (extra: Partial<StsCacheOptions> = {}) =>
    createStsCache({ store: mem.store, clock: () => clock.now, logger, leaseWaitMs: 500, ...options, ...extra });
  const load = fakeCredentialSource({ lifetimeMs: 900 * SECOND, clock: () => clock.now });
  return { clock, mem, warnings, cache, load };
}

/** A stored record as the cache writes it, for planting values by hand. */
function record(fields: Record<string, unknown> = {}, now = T0): string {
  return JSON.stringify({
    v: 1,
    accessKeyId: 'STS.planted',
    accessKeySecret: 'planted-secret',
    securityToken: 'planted-token',
    source: 'sts:AssumeRole',
    expiration: new Date(now + 900 * SECOND).toISOString(),
    serverTime: new Date(now).toISOString(),
    lifetimeMs: 900 * SECOND,
    storedAt: new Date(now).toISOString(),
    ...fields,
  });
}

describe('createStsCache with a store: sharing', () => {
  it('two processes make one load: the second is served from the store, with the same expiry', async () => {
    const { clock, mem, cache, load } = world();
    const a = cache();
    const b = cache();
    const first = await a.get('k', () => load());
    await mem.settled();
    clock.now += 100 * SECOND;
    const second = await b.get('k', () => load());
    expect(load.calls).toBe(1);
    expect(second.accessKeyId).toBe(first.accessKeyId);
    expect(second.accessKeySecret).toBe(first.accessKeySecret);
    expect(second.securityToken).toBe(first.securityToken);
    expect(second.expiration!.getTime()).toBe(first.expiration!.getTime());
    // In-process from now on: no store read until the advisory point (450 s of 900 s).
    const reads = mem.state.ops.filter((o) => o === 'get').length;
    clock.now += 340 * SECOND;
    expect(await b.get('k', () => load())).toBe(second);
    expect(mem.state.ops.filter((o) => o === 'get').length).toBe(reads);
  });

  it("serves a stored value only before the requester's advisory point", async () => {
    const { clock, mem, cache, load } = world();
    await cache().get('k', () => load());
    await mem.settled();
    clock.now += 500 * SECOND; // 400 s left: inside the default window (450 s)
    const fresh = await cache().get('k', () => load());
    expect(load.calls).toBe(2);
    expect(fresh.accessKeyId).toBe('STS.fake-2');
    await mem.settled();
    // A requester with a 60 s window takes a value with 440 s left; one with 450 s does not.
    clock.now += 460 * SECOND - 1;
    expect((await cache().get('k', () => load(), { advisoryWindowMs: 60 * SECOND })).accessKeyId).toBe('STS.fake-2');
    expect((await cache().get('k', () => load())).accessKeyId).toBe('STS.fake-3');
  });

  it('concurrent misses in five processes: one lease, one load; the others poll and get its value', async () => {
    const { mem, cache } = world();
    const load = fakeCredentialSource({ lifetimeMs: 900 * SECOND, delayMs: 60 });
    const caches = Array.from({ length: 5 }, () => cache());
    const results = await Promise.all(caches.map((c) => c.get('k', () => load())));
    expect(load.calls).toBe(1);
    expect(new Set(results.map((r) => r.accessKeyId)).size).toBe(1);
    expect(mem.state.leases).toBe(1);
    await mem.settled();
    expect(mem.live('k:lease')).toBeUndefined(); // released
  });

  it('a lease holder that died: the others take the lease over when it expires, within leaseWaitMs', async () => {
    const { mem, cache, load } = world();
    const realNow = memoryStore(); // real time for the lease's expiry
    const c = createStsCache({ store: realNow.store, leaseWaitMs: 400 });
    await realNow.store.lease('k', 60_000); // a holder that never writes nor lets go
    const started = Date.now();
    const got = await c.get('k', () => load());
    const waited = Date.now() - started;
    expect(got.accessKeyId).toBe('STS.fake-1');
    expect(waited).toBeGreaterThanOrEqual(380);
    expect(waited).toBeLessThan(1500);
    // A lease that expires (ttl = leaseWaitMs) is taken over before the waiter gives up.
    const d = createStsCache({ store: realNow.store, leaseWaitMs: 2000 });
    await realNow.store.lease('j', 150);
    const before = Date.now();
    await d.get('j', () => load());
    expect(Date.now() - before).toBeLessThan(1000);
    expect(realNow.state.leases).toBe(3);
    void mem;
    void cache;
  });

  it('a load that fails lets go of the lease at once: a waiter in another process loads', async () => {
    const { cache } = world();
    const failing = fakeCredentialSource({ lifetimeMs: 900 * SECOND, delayMs: 30 });
    failing.failNext(1);
    const ok = fakeCredentialSource({ lifetimeMs: 900 * SECOND, delayMs: 30 });
    const started = Date.now();
    const [a, b] = await Promise.allSettled([cache().get('k', () => failing()), cache({ leaseWaitMs: 5000 }).get('k', () => ok())]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('fulfilled');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('forced refreshes skip the stored value, make one load between processes, and replace it for everyone', async () => {
    const { mem, cache } = world();
    const load = fakeCredentialSource({ lifetimeMs: 900 * SECOND, delayMs: 40 });
    const [a, b, c] = [cache(), cache(), cache()];
    const first = await a.get('k', () => load());
    await mem.settled();
    expect((await b.get('k', () => load())).accessKeyId).toBe(first.accessKeyId);
    const forced = await Promise.all([a, b].map((x) => x.get('k', () => load(), { forceRefresh: true })));
    expect(load.calls).toBe(2);
    expect(forced[0]!.accessKeyId).toBe('STS.fake-2');
    expect(forced[1]!.accessKeyId).toBe('STS.fake-2');
    await mem.settled();
    expect((await c.get('k', () => load())).accessKeyId).toBe('STS.fake-2');
    expect(load.calls).toBe(2);
  });

  it('without a store the cache behaves as before, and bad store options are ConfigErrors', () => {
    expect(() => createStsCache({ store: {} as StsCacheStore })).toThrow(ConfigError);
    expect(() => createStsCache({ encryptionKey: 'x'.repeat(40) })).toThrow(/needs a store/);
    const { mem } = world();
    expect(() => createStsCache({ store: mem.store, storeTimeoutMs: 0 })).toThrow(/storeTimeoutMs/);
    expect(() => createStsCache({ store: mem.store, leaseWaitMs: -1 })).toThrow(/leaseWaitMs/);
  });
});

describe('createStsCache with a store: never a point of failure', () => {
  it('a store that throws: STS directly, one warning per outage, one on recovery, no error', async () => {
    const { clock, mem, cache, warnings } = world();
    const load = fakeCredentialSource({ lifetimeMs: 900 * SECOND, clock: () => clock.now });
    const caches = [cache(), cache()];
    mem.state.mode = 'throw';
    for (let round = 0; round < 4; round++) {
      for (const c of caches) c.delete('k');
      const got = await Promise.all(caches.map((c) => c.get('k', () => load())));
      expect(got.every((g) => g.accessKeyId.startsWith('STS.fake-'))).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(load.calls).toBe(8); // every process on its own
    expect(warnings.filter((w) => /failed/.test(w))).toHaveLength(2); // one per cache (process)
    expect(warnings[0]).toMatch(/ECONNREFUSED.*calling STS directly/);
    mem.state.mode = 'ok';
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the first backoff
    for (const c of caches) c.delete('k');
    await caches[0]!.get('k', () => load());
    await mem.settled();
    await caches[1]!.get('k', () => load());
    expect(warnings.filter((w) => /store answers again/.test(w))).toHaveLength(2); // one per cache
    expect(load.calls).toBe(9); // shared again: the second cache read the first one's

    // A second outage warns again, once.
    mem.state.mode = 'throw';
    caches[0]!.delete('k');
    await caches[0]!.get('k', () => load(), { forceRefresh: true });
    expect(warnings.filter((w) => /failed/.test(w))).toHaveLength(3);
  });

  it('a store that hangs: every operation is cut at storeTimeoutMs, then the store is left alone for a while', async () => {
    const { mem, cache, warnings } = world({ storeTimeoutMs: 100 });
    const load = fakeCredentialSource({ lifetimeMs: 900 * SECOND });
    const c = cache();
    mem.state.mode = 'hang';
    let started = Date.now();
    expect((await c.get('k', () => load())).accessKeyId).toBe('STS.fake-1');
    expect(Date.now() - started).toBeLessThan(400);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/no answer within 100 ms/);
    const ops = mem.state.ops.length;
    c.delete('k');
    started = Date.now();
    await c.get('k', () => load());
    expect(Date.now() - started).toBeLessThan(50); // backing off: not asked
    expect(mem.state.ops.length).toBe(ops);
    expect(warnings).toHaveLength(1);
  });

  it.each([
    ['not JSON', 'STS.x secret token'],
    ['an array', '[1,2,3]'],
    ['an empty object', '{}'],
    ['another version', record({ v: 2 })],
    ['a missing secret', record({ accessKeySecret: undefined })],
    ['a secret with spaces', record({ accessKeySecret: 'two words' })],
    ['no token', record({ securityToken: '' })],
    ['a bad date', record({ expiration: 'tomorrow' })],
    ['a local-time date', record({ expiration: '2026-11-27T12:15:00' })],
    ['a lifetime over 12 h', record({ lifetimeMs: 13 * 3600 * SECOND })],
    ['a negative lifetime', record({ lifetimeMs: -5 })],
    ['an expiration before the server time', record({ expiration: new Date(T0 - 1).toISOString() })],
    ['an oversized value', record({ securityToken: 'A'.repeat(17 * 1024) })],
    ['a number', 42],
  ])('ignores a stored value that is garbage: %s', async (_name, planted) => {
    const { mem, cache, load, warnings } = world();
    mem.values.set('k', { value: planted as string, until: Number.POSITIVE_INFINITY });
    const got = await cache().get('k', () => load());
    expect(got.accessKeyId).toBe('STS.fake-1');
    expect(load.calls).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ignored/);
    expect(warnings[0]).not.toMatch(/planted-secret|two words/);
  });

  it.each([
    ['expired', record({}, T0 - 901 * SECOND)],
    ['expired by its lifetime though the stated expiration says otherwise', record({ storedAt: new Date(T0 - 900 * SECOND).toISOString(), serverTime: undefined })],
    ['written in our future (not yet usable)', record({}, T0 + 60 * SECOND)],
    ['written in our future, with no STS time', record({ serverTime: undefined }, T0 + 60 * SECOND)],
  ])('never serves a stored value that is %s', async (_name, planted) => {
    const { mem, cache, load, warnings } = world();
    mem.values.set('k', { value: planted, until: Number.POSITIVE_INFINITY });
    expect((await cache().get('k', () => load(), { advisoryWindowMs: 1 })).accessKeyId).toBe('STS.fake-1');
    expect(warnings).toEqual([]);
  });

  it('a valid planted record is served with the time it has left, as the smaller of both estimates', async () => {
    const { clock, mem, cache, load } = world();
    // STS said 900 s at T0; written at T0 by a writer whose clock was 100 s behind ours.
    mem.values.set('k', { value: record({ storedAt: new Date(T0 - 100 * SECOND).toISOString() }), until: Infinity });
    clock.now = T0 + 60 * SECOND;
    const got = await cache().get('k', () => load(), { advisoryWindowMs: 1 });
    expect(got.accessKeyId).toBe('STS.planted');
    // min(900 - 60, 900 - 160) = 740 s
    expect(got.expiration!.getTime() - clock.now).toBe(740 * SECOND);
    expect(load.calls).toBe(0);
  });
});

describe('createStsCache with a store: sealing', () => {
  const key32 = () => crypto.getRandomValues(new Uint8Array(32));
  const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

  it('sealed values carry no secret in clear; a reader without the key gets nothing usable', async () => {
    const { mem, cache, load, warnings } = world();
    const key = key32();
    const first = await cache({ encryptionKey: key }).get('k', () => load());
    await mem.settled();
    const raw = mem.live('k')!;
    expect(raw.startsWith('a1:')).toBe(true);
    for (const secret of [first.accessKeySecret, first.securityToken!, first.accessKeyId]) expect(raw).not.toContain(secret);
    // The same key, as base64, opens it.
    expect((await cache({ encryptionKey: b64(key) }).get('k', () => load())).accessKeyId).toBe('STS.fake-1');
    const other = await cache().get('k', () => load());
    expect(other.accessKeyId).toBe('STS.fake-2');
    expect(warnings.some((w) => /sealed values and this cache has no encryptionKey/.test(w))).toBe(true);
    // What the keyless one wrote (in clear) is no use to the others either.
    await mem.settled();
    expect((await cache({ encryptionKey: key }).get('k', () => load())).accessKeyId).toBe('STS.fake-3');
  });

  it('a value planted without the key, or moved to another key, is ignored (and warned once)', async () => {
    const { mem, cache, load, warnings } = world();
    const key = key32();
    mem.values.set('k', { value: record(), until: Infinity });
    expect((await cache({ encryptionKey: key }).get('k', () => load())).accessKeyId).toBe('STS.fake-1');
    await mem.settled();
    // A sealed value copied under another key does not open there (the key is its additional data).
    mem.values.set('j', mem.values.get('k')!);
    const c = cache({ encryptionKey: key });
    expect((await c.get('j', () => load())).accessKeyId).toBe('STS.fake-2');
    // Tampered: one character changed.
    const sealed = mem.live('k')!;
    mem.values.set('i', { value: sealed.slice(0, 20) + (sealed[20] === 'A' ? 'B' : 'A') + sealed.slice(21), until: Infinity });
    expect((await c.get('i', () => load())).accessKeyId).toBe('STS.fake-3');
    expect(warnings.filter((w) => /does not open/.test(w)).length).toBe(2); // once per cache
  });

  it('key rotation: the first key seals, every key opens', async () => {
    const { mem, cache, load } = world();
    const [oldKey, newKey] = [key32(), key32()];
    await cache({ encryptionKey: oldKey }).get('k', () => load());
    await mem.settled();
    // Rolled out: new first, old still accepted.
    expect((await cache({ encryptionKey: [newKey, oldKey] }).get('k', () => load())).accessKeyId).toBe('STS.fake-1');
    await cache({ encryptionKey: [newKey, oldKey] }).get('j', () => load());
    await mem.settled();
    expect((await cache({ encryptionKey: [newKey] }).get('j', () => load())).accessKeyId).toBe('STS.fake-2');
    expect((await cache({ encryptionKey: [oldKey] }).get('j', () => load())).accessKeyId).toBe('STS.fake-3');
  });

  it('a passphrase is stretched once per cache with the key prefix as salt', async () => {
    const { mem, cache, load } = world();
    const passphrase = 'correct horse battery staple, and then some more';
    const a = cache({ encryptionKey: passphrase });
    const started = Date.now();
    await a.get('k', () => load());
    await mem.settled();
    expect((await cache({ encryptionKey: passphrase }).get('k', () => load())).accessKeyId).toBe('STS.fake-1');
    expect(Date.now() - started).toBeLessThan(10_000);
    // Another prefix, another key: the value does not open there.
    const other = memoryStore(() => T0, 'other:');
    other.values.set('k', mem.values.get('k')!);
    const c = createStsCache({ store: other.store, clock: () => T0, encryptionKey: passphrase });
    expect((await c.get('k', () => load())).accessKeyId).toBe('STS.fake-2');
  });

  it('refuses keys that are not 32 bytes, their base64, or a passphrase of 32+ characters', () => {
    const { mem } = world();
    for (const bad of [new Uint8Array(31), 'short passphrase', [], [key32(), 'too short'], 42]) {
      expect(() => createStsCache({ store: mem.store, encryptionKey: bad as never })).toThrow(ConfigError);
    }
    expect(() => createStsCache({ store: mem.store, encryptionKey: b64(key32()) })).not.toThrow();
  });
});

describe('createStsCache with a store: what is stored', () => {
  let emu: Emulator;
  const alice = { name: 'alice', accessKeyId: 'LTAI5tStoreAlice0000001', accessKeySecret: 'alice-secret-for-store' };
  beforeAll(async () => {
    emu = await startEmulator({ users: [alice], roles: [{ name: 'app', trustedUsers: ['alice'] }] });
  });
  afterAll(async () => {
    await emu.close();
  });

  it("stores STS's own Expiration and Date, not the expiry corrected onto the writer's clock", async () => {
    const mem = memoryStore();
    // STS's clock runs 10 minutes ahead of ours: the writer corrects, the store keeps STS's word.
    emu.inject({ action: 'AssumeRole', clockOffsetMs: 600 * SECOND });
    const provider = fromRamRole({
      source: fromStatic(alice),
      roleArn: emu.roleArn('app'),
      durationSeconds: 900,
      sts: { endpoint: emu.stsEndpoint },
      cache: createStsCache({ store: mem.store }),
    });
    const mine = await provider();
    provider.close();
    await mem.settled();
    const [key] = [...mem.values.keys()].filter((k) => !k.endsWith(':lease'));
    const stored = JSON.parse(mem.live(key!)!) as Record<string, string | number>;
    const stated = Date.parse(stored.expiration as string);
    expect(stated - mine.expiration!.getTime()).toBeGreaterThan(590 * SECOND);
    expect(Date.parse(stored.serverTime as string) - Date.now()).toBeGreaterThan(590 * SECOND);
    expect(stored.lifetimeMs).toBeGreaterThan(895 * SECOND);
    expect(stored.lifetimeMs).toBeLessThanOrEqual(900 * SECOND);
    // Another process (correct clock) gets the real time left, not 10 minutes more.
    const other = await createStsCache({ store: mem.store }).get(key!, async () => {
      throw new Error('must come from the store');
    });
    expect(Math.abs(other.expiration!.getTime() - mine.expiration!.getTime())).toBeLessThan(2 * SECOND);
  });

  it.each([
    ['ahead', 300 * SECOND],
    ['behind', -300 * SECOND],
  ])('a writer whose clock is %s cannot lengthen a credential for the others', async (_name, offset) => {
    const mem = memoryStore();
    const writerClock = () => Date.now() + offset;
    const sts = createStsClient({ endpoint: emu.stsEndpoint, clock: writerClock });
    const source = await fromStatic(alice)();
    const writer = createStsCache({ store: mem.store, clock: writerClock });
    await writer.get('k', () => sts.assumeRole(source, { roleArn: emu.roleArn('app'), roleSessionName: 'writer', durationSeconds: 900 }));
    await mem.settled();
    const own = fakeCredentialSource({ lifetimeMs: 900 * SECOND });
    const read = await createStsCache({ store: mem.store }).get('k', () => own(), { advisoryWindowMs: 1 });
    const realExpiry = emu.issued().at(-1)!.expiration.getTime();
    if (offset > 0) {
      // Written in our future: not yet usable, so not used at all.
      expect(read.accessKeyId).toBe('STS.fake-1');
    } else {
      // Its lag shortens the time left (the smaller estimate), never lengthens it.
      expect(read.accessKeyId).toBe(emu.issued().at(-1)!.accessKeyId);
      expect(read.expiration!.getTime()).toBeLessThanOrEqual(realExpiry + 1);
      expect(read.expiration!.getTime()).toBeGreaterThan(realExpiry - 302 * SECOND);
    }
  });

  it('credentials without expiration or token are not shared', async () => {
    const mem = memoryStore();
    const c = createStsCache({ store: mem.store });
    await c.get('k', async () => createCredentials({ accessKeyId: 'LTAI5tLong', accessKeySecret: 's', source: 'x' }));
    await mem.settled();
    expect(mem.live('k')).toBeUndefined();
  });
});
