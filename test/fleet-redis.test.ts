/**
 * A fleet on a real Redis: our own redis-server (127.0.0.1, free port, no persistence), the
 * emulator with fast-expiring tokens, and 8 worker processes × 3 roles sharing STS results
 * through redisStsStore, with ioredis and with node-redis. One AssumeRole per role for the
 * first round and about one per role per refresh; redis-server killed mid-run (zero failed
 * calls, one warning per process, every process on its own) and started again (sharing
 * resumes, one "answers again" per process). Then the store itself on real Redis: TTL, lease,
 * compare-and-delete release, sealed values, garbage planted with SET.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createStsCache, fromRamRole, fromStatic, type StsCacheStore } from '../src/index.js';
import { redisStsStore } from '../src/stores/redis.js';
import { startEmulator, type Emulator } from '../src/testing/index.js';
import { bundleWorker, sleep, startFleet, waitUntil, type WorkerConfig } from './fleet/harness.js';
import { startRedisServer, type RedisServer } from './fleet/redis-server.js';

const WORKERS = 8;
const ROLES = ['fleet-a', 'fleet-b', 'fleet-c'];
/** 900 s sessions living 5 s (whole seconds: 4 to 5 s): a refresh every 2 to 2.5 s. */
const TIME_SCALE = 180;
const SHORTEST_CYCLE_MS = 2000;
const LONGEST_CYCLE_MS = 2500;
const KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const alice = { name: 'alice', accessKeyId: 'LTAI5tFleetAlice0000001', accessKeySecret: 'fleet-alice-secret-0123456789' };

/** The most AssumeRole calls 3 roles sharing perfectly may make in `ms`: one per role and refresh, one cycle of slack. */
const sharedBound = (ms: number) => ROLES.length * (Math.ceil(ms / SHORTEST_CYCLE_MS) + 1);

let redis: RedisServer;
let emu: Emulator;
let bundle: { path: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  redis = await startRedisServer();
  emu = await startEmulator({ users: [alice], roles: ROLES.map((name) => ({ name, trustedUsers: ['alice'] })), timeScale: TIME_SCALE });
  bundle = await bundleWorker();
});

afterAll(async () => {
  await redis?.stop();
  await emu?.close();
  await bundle?.cleanup();
});

describe.each(['ioredis', 'node-redis'] as const)('a fleet of %s clients', (kind) => {
  it('8 processes × 3 roles: one STS call per role and refresh; Redis killed and restarted without a failed call', async () => {
    await redis.restart(); // empty, whatever the other client left
    const calls = () => emu.callCount('AssumeRole');
    const base = calls();
    const configs = Array.from({ length: WORKERS }, (_, id): WorkerConfig => ({
      id,
      endpoint: emu.stsEndpoint,
      user: alice,
      roleArns: ROLES.map((r) => emu.roleArn(r)),
      durationSeconds: 900,
      store: { kind, port: redis.port },
      encryptionKey: KEY,
      leaseWaitMs: 2000,
      storeTimeoutMs: 1000, // generous: the whole suite may be running on a small machine
      intervalMs: 150,
    }));
    const fleet = await startFleet(bundle.path, configs);
    try {
      fleet.go();
      await waitUntil(() => fleet.workers.every((w) => w.rounds >= 1), 10_000, 'the first round');
      // The first round: 24 cold providers, 3 STS calls.
      expect(calls() - base).toBe(ROLES.length);

      // Several refreshes, shared.
      let mark = calls();
      let since = Date.now();
      await sleep(3 * LONGEST_CYCLE_MS);
      const shared = calls() - mark;
      expect(shared).toBeGreaterThanOrEqual(ROLES.length * 2); // it did refresh, several times
      expect(shared).toBeLessThanOrEqual(sharedBound(Date.now() - since));
      expect(fleet.failures()).toEqual([]);
      expect(fleet.workers.flatMap((w) => w.warnings)).toEqual([]);

      // Redis dies: every process calls STS on its own, warns once, and no call fails.
      await redis.kill();
      mark = calls();
      since = Date.now();
      await sleep(3 * LONGEST_CYCLE_MS);
      const alone = calls() - mark;
      expect(alone).toBeGreaterThan(2 * sharedBound(Date.now() - since));
      for (const w of fleet.workers) {
        expect(w.warnings.filter((m) => /sts cache store failed/.test(m)), `worker ${w.config.id}`).toHaveLength(1);
      }
      expect(fleet.failures()).toEqual([]);

      // Back (empty): every process says so once, and sharing resumes.
      await redis.restart();
      await waitUntil(
        () => fleet.workers.every((w) => w.warnings.some((m) => /store answers again/.test(m))),
        20_000,
        'every worker to find the store again',
      );
      await sleep(2 * LONGEST_CYCLE_MS); // one cycle to fall back in step
      mark = calls();
      since = Date.now();
      await sleep(3 * LONGEST_CYCLE_MS);
      expect(calls() - mark).toBeLessThanOrEqual(sharedBound(Date.now() - since));

      const okBefore = fleet.totals().ok;
      await fleet.stop();
      expect(fleet.failures()).toEqual([]);
      expect(fleet.totals().failed).toBe(0);
      expect(fleet.totals().ok).toBeGreaterThanOrEqual(okBefore);
      expect(fleet.totals().ok).toBeGreaterThan(WORKERS * ROLES.length * 50);
      for (const w of fleet.workers) {
        expect(w.warnings.filter((m) => /sts cache store failed/.test(m)), `worker ${w.config.id}: ${w.warnings.join(' | ')}`).toHaveLength(1);
        expect(w.warnings.filter((m) => /store answers again/.test(m)), `worker ${w.config.id}: ${w.warnings.join(' | ')}`).toHaveLength(1);
        expect(w.warnings).toHaveLength(2);
      }
      // What is in Redis is sealed: no secret of any credential issued.
      const reader = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
      await reader.connect();
      const keys = (await reader.keys('alicred:sts:*')).filter((k) => !k.endsWith(':lease'));
      expect(keys.length).toBe(ROLES.length);
      const values = await Promise.all(keys.map((k) => reader.get(k)));
      reader.disconnect();
      for (const value of values) {
        expect(value!.startsWith('a1:')).toBe(true);
        for (const issued of emu.issued()) {
          expect(value).not.toContain(issued.accessKeySecret);
          expect(value).not.toContain(issued.securityToken.slice(0, 40));
        }
      }
    } finally {
      await fleet.stop();
    }
  }, 120_000);
});

describe('redisStsStore on a real Redis', () => {
  const clients = {
    async ioredis() {
      const client = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
      await client.connect();
      return { store: redisStsStore({ client }), close: async () => client.disconnect(), raw: client };
    },
    async 'node-redis'() {
      const client = createClient({ socket: { host: '127.0.0.1', port: redis.port } });
      client.on('error', () => {});
      await client.connect();
      return { store: redisStsStore({ client, keyPrefix: 'nr:' }), close: async () => void client.destroy(), raw: client };
    },
  };

  it.each(['ioredis', 'node-redis'] as const)('%s: values with a TTL, the lease (NX, PX), release only with our token', async (kind) => {
    const { store, close } = await clients[kind]();
    try {
      expect(await store.get('k')).toBeUndefined();
      await store.set('k', 'v1', 300);
      expect(await store.get('k')).toBe('v1');
      const token = await store.lease('k', 300);
      expect(token).toMatch(/^[0-9a-f]{32}$/);
      expect(await store.lease('k', 300)).toBeUndefined();
      await store.release('k', 'not-ours');
      expect(await store.lease('k', 300)).toBeUndefined();
      await store.release('k', token!);
      const again = await store.lease('k', 100);
      expect(again).toBeDefined();
      await sleep(350);
      expect(await store.get('k')).toBeUndefined(); // expired
      expect(await store.lease('k', 100)).toBeDefined(); // the old lease expired too
    } finally {
      await close();
    }
  });

  it('keys carry the prefix; the cache key (no secret) follows it', async () => {
    const { store, close, raw } = await clients.ioredis();
    try {
      const provider = fromRamRole({
        source: fromStatic(alice),
        roleArn: emu.roleArn('fleet-a'),
        roleSessionName: 'prefix-check',
        sts: { endpoint: emu.stsEndpoint },
        cache: createStsCache({ store }),
      });
      await provider();
      provider.close();
      await sleep(50);
      const keys = await raw.keys('alicred:sts:*prefix-check*');
      expect(keys).toHaveLength(1);
      expect(keys[0]).toContain(alice.accessKeyId);
      expect(keys[0]).not.toContain(alice.accessKeySecret);
      expect(await raw.pttl(keys[0]!)).toBeGreaterThan(1000);
    } finally {
      await close();
    }
  });

  it('sealed values: a reader without the key gets nothing usable, a value planted in clear is ignored, rotation opens old values', async () => {
    const { store, close, raw } = await clients.ioredis();
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m) };
    const newKey = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const role = (cache: ReturnType<typeof createStsCache>, session: string) =>
      fromRamRole({ source: fromStatic(alice), roleArn: emu.roleArn('fleet-b'), roleSessionName: session, sts: { endpoint: emu.stsEndpoint }, cache });
    try {
      const before = emu.callCount('AssumeRole');
      const p1 = role(createStsCache({ store, encryptionKey: KEY }), 'sealing');
      const first = await p1();
      p1.close();
      await sleep(50);
      // Without the key: its own STS call.
      const p2 = role(createStsCache({ store, logger }), 'sealing');
      expect((await p2()).accessKeyId).not.toBe(first.accessKeyId);
      p2.close();
      expect(emu.callCount('AssumeRole') - before).toBe(2);
      expect(warnings.some((w) => /no encryptionKey/.test(w))).toBe(true);
      await sleep(50);
      // p2 wrote its value in clear: a keyed reader ignores it.
      const [key] = (await raw.keys('alicred:sts:*sealing*')).filter((k) => !k.endsWith(':lease'));
      expect((await raw.get(key!))!.startsWith('{')).toBe(true);
      const p3 = role(createStsCache({ store, encryptionKey: [newKey, KEY], logger }), 'sealing');
      const third = await p3();
      p3.close();
      expect(emu.callCount('AssumeRole') - before).toBe(3);
      expect(warnings.some((w) => /does not open/.test(w))).toBe(true);
      await sleep(50);
      // Sealed with the new key; a cache with [newKey, KEY] or [newKey] opens it, one with KEY only does not.
      const p4 = role(createStsCache({ store, encryptionKey: [newKey] }), 'sealing');
      expect((await p4()).accessKeyId).toBe(third.accessKeyId);
      p4.close();
      const p5 = role(createStsCache({ store, encryptionKey: KEY, logger }), 'sealing');
      expect((await p5()).accessKeyId).not.toBe(third.accessKeyId);
      p5.close();
    } finally {
      await close();
    }
  });

  it('garbage, oversized and expired values planted with SET are ignored: STS is called, no error', async () => {
    const { store, close, raw } = await clients['node-redis']();
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m) };
    const role = () =>
      fromRamRole({
        source: fromStatic(alice),
        roleArn: emu.roleArn('fleet-c'),
        roleSessionName: 'garbage',
        sts: { endpoint: emu.stsEndpoint },
        cache: createStsCache({ store, logger }),
      });
    try {
      const writer = role();
      await writer();
      writer.close();
      await sleep(50);
      const [key] = (await raw.keys('nr:*garbage*')).filter((k) => !k.endsWith(':lease'));
      const record = JSON.parse((await raw.get(key!))!) as Record<string, unknown>;
      // A well-formed record is shared as is.
      const reader = role();
      expect((await reader()).accessKeyId).toBe(record.accessKeyId);
      reader.close();
      const plants = [
        'garbage',
        JSON.stringify({ ...record, securityToken: 'A'.repeat(20_000) }),
        JSON.stringify({ ...record, expiration: new Date(Date.now() - 1000).toISOString() }),
        JSON.stringify({ ...record, storedAt: new Date(Date.now() - 60_000).toISOString() }), // lived its 5 s long ago
        JSON.stringify({ ...record, storedAt: new Date(Date.now() + 60_000).toISOString() }), // not yet usable
      ];
      for (const plant of plants) {
        await raw.set(key!, plant, { expiration: { type: 'PX', value: 60_000 } });
        const before = emu.callCount('AssumeRole');
        const provider = role();
        const got = await provider();
        provider.close();
        expect(got.accessKeyId).not.toBe(record.accessKeyId);
        expect(emu.callCount('AssumeRole') - before).toBe(1);
      }
      expect(warnings.length).toBeGreaterThanOrEqual(2); // garbage, oversized (once each per cache)
      expect(warnings.join('\n')).not.toContain(String(record.accessKeySecret));
    } finally {
      await close();
    }
  });

  it('accepts both clients without a cast, and refuses anything else', () => {
    const io = new Redis({ lazyConnect: true });
    const nr = createClient();
    const stores: StsCacheStore[] = [redisStsStore({ client: io }), redisStsStore({ client: nr })];
    expect(stores.map((s) => s.keyPrefix)).toEqual(['alicred:sts:', 'alicred:sts:']);
    io.disconnect();
    expect(() => redisStsStore({ client: {} as never })).toThrow(ConfigError);
    expect(() => redisStsStore({ client: { get() {}, set() {}, eval() {} } as never })).toThrow(/neither/);
    expect(() => redisStsStore({ client: io, keyPrefix: 5 as never })).toThrow(/keyPrefix/);
  });
});
