/**
 * fileStsStore (src/node/file-store.ts): a fleet of 8 worker processes × 3 roles on one host
 * sharing STS results through a folder, one more process SIGKILLed while holding the leases
 * (the others take them over by age and no call fails); then the store's own rules: a 0700
 * folder of 0600 files named by hashes, refused folders (a symbolic link, open to others,
 * another user's), no link followed, no FIFO waited on, atomic replacement, the lease.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createStsCache, fileStsStore } from '../src/node/index.js';
import { fakeCredentialSource, startEmulator, type Emulator } from '../src/testing/index.js';
import { bundleWorker, sleep, startFleet, waitUntil, type WorkerConfig } from './fleet/harness.js';

const WORKERS = 8;
const ROLES = ['files-a', 'files-b', 'files-c'];
const TIME_SCALE = 180; // 900 s sessions live 4 to 5 s: a refresh every 2 to 2.5 s
const SHORTEST_CYCLE_MS = 2000;
const LONGEST_CYCLE_MS = 2500;
const alice = { name: 'alice', accessKeyId: 'LTAI5tFilesAlice0000001', accessKeySecret: 'files-alice-secret-0123456789' };
const sharedBound = (ms: number) => ROLES.length * (Math.ceil(ms / SHORTEST_CYCLE_MS) + 1);

let scratch: string;
let emu: Emulator;
let bundle: { path: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'alicred-file-store-'));
  emu = await startEmulator({ users: [alice], roles: ROLES.map((name) => ({ name, trustedUsers: ['alice'] })), timeScale: TIME_SCALE });
  bundle = await bundleWorker();
});

afterAll(async () => {
  await emu?.close();
  await bundle?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

describe('a fleet on one host sharing a folder', () => {
  it('8 processes × 3 roles: one STS call per role and refresh; a process killed holding the leases costs no failed call', async () => {
    const dir = join(scratch, 'fleet', 'sts'); // created by the store, parents too
    const calls = () => emu.callCount('AssumeRole');
    const base = calls();
    const config = (id: number, extra: Partial<WorkerConfig> = {}): WorkerConfig => ({
      id,
      endpoint: emu.stsEndpoint,
      user: alice,
      roleArns: ROLES.map((r) => emu.roleArn(r)),
      durationSeconds: 900,
      store: { kind: 'file', dir },
      leaseWaitMs: 1000,
      storeTimeoutMs: 1000, // generous: the whole suite may be running on a small machine
      intervalMs: 150,
      ...extra,
    });
    const fleet = await startFleet(
      bundle.path,
      Array.from({ length: WORKERS }, (_, id) => config(id)),
    );
    try {
      fleet.go();
      await waitUntil(() => fleet.workers.every((w) => w.rounds >= 1), 10_000, 'the first round');
      expect(calls() - base).toBe(ROLES.length);

      let mark = calls();
      let since = Date.now();
      await sleep(3 * LONGEST_CYCLE_MS);
      const shared = calls() - mark;
      expect(shared).toBeGreaterThanOrEqual(ROLES.length * 2);
      expect(shared).toBeLessThanOrEqual(sharedBound(Date.now() - since));

      // One more process forces a refresh of every role: it takes the leases, and is killed
      // before its STS calls, leaving three lease files behind.
      const doomed = await startFleet(bundle.path, [config(WORKERS, { forceEveryRound: true, hangOnLeaseAfterMs: 0 })]);
      doomed.go();
      await waitUntil(() => doomed.workers[0]!.holding, 10_000, 'the doomed process to hold a lease');
      await sleep(50); // the other roles' leases too
      await doomed.kill(WORKERS);
      const leases = (await readdir(dir)).filter((f) => f.endsWith('.lease'));
      expect(leases.length).toBeGreaterThanOrEqual(1);

      mark = calls();
      since = Date.now();
      await sleep(3 * LONGEST_CYCLE_MS);
      // The leases went stale after leaseWaitMs and were taken over: still shared.
      expect(calls() - mark).toBeLessThanOrEqual(sharedBound(Date.now() - since) + ROLES.length);
      expect(fleet.failures()).toEqual([]);

      await fleet.stop();
      expect(fleet.totals().failed).toBe(0);
      expect(fleet.totals().ok).toBeGreaterThan(WORKERS * ROLES.length * 30);
      expect(fleet.workers.flatMap((w) => w.warnings)).toEqual([]);

      // The folder: 0700; files 0600, named by hashes; no temporary file left behind.
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      const files = await readdir(dir);
      expect(files.filter((f) => f.endsWith('.v'))).toHaveLength(ROLES.length);
      for (const f of files) {
        expect(f).toMatch(/^[0-9a-f]{64}\.(v|lease)$/);
        expect((await stat(join(dir, f))).mode & 0o777).toBe(0o600);
      }
    } finally {
      await fleet.stop();
    }
  }, 120_000);
});

describe('fileStsStore', () => {
  let n = 0;
  const fresh = () => join(scratch, `store-${++n}`);

  it('keeps values until their TTL; the lease is exclusive, taken over by age, released only with its token', async () => {
    const store = fileStsStore({ dir: fresh() });
    expect(await store.get('k')).toBeUndefined();
    await store.set('k', 'value one', 60_000);
    expect(await store.get('k')).toBe('value one');
    await store.set('k', 'value two', 60_000);
    expect(await store.get('k')).toBe('value two');
    await store.set('gone', 'x', 1);
    await sleep(5);
    expect(await store.get('gone')).toBeUndefined();

    const token = await store.lease('k', 10_000);
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(await store.lease('k', 10_000)).toBeUndefined();
    await store.release('k', 'not ours');
    expect(await store.lease('k', 10_000)).toBeUndefined();
    await store.release('k', token!);
    const second = await store.lease('k', 10_000);
    expect(second).toBeDefined();
    // Its holder died: judged by the file's age, not by a PID.
    const [lease] = (await readdir(store.dir)).filter((f) => f.endsWith('.lease'));
    const old = new Date(Date.now() - 11_000);
    await utimes(join(store.dir, lease!), old, old);
    const third = await store.lease('k', 10_000);
    expect(third).toBeDefined();
    expect(third).not.toBe(second);
    await store.release('k', second!); // the old holder, late: not its lease any more
    expect(await store.lease('k', 10_000)).toBeUndefined();
  });

  it('many processes taking a stale lease at once: one wins', async () => {
    const dir = fresh();
    const stores = Array.from({ length: 20 }, () => fileStsStore({ dir }));
    await stores[0]!.lease('k', 10_000);
    const [lease] = (await readdir(dir)).filter((f) => f.endsWith('.lease'));
    const old = new Date(Date.now() - 60_000);
    await utimes(join(dir, lease!), old, old);
    const tokens = await Promise.all(stores.map((s) => s.lease('k', 10_000)));
    expect(tokens.filter((t) => t !== undefined)).toHaveLength(1);
  });

  it('replaces values atomically: concurrent writers, a reader never sees a partial value', async () => {
    const dir = fresh();
    const stores = Array.from({ length: 8 }, () => fileStsStore({ dir }));
    const values = stores.map((_, i) => `${String(i)}:${'x'.repeat(8000 + i)}`);
    const seen = new Set<string>();
    await Promise.all([
      ...stores.map(async (s, i) => {
        for (let round = 0; round < 10; round++) await s.set('k', values[i]!, 60_000);
      }),
      (async () => {
        for (let round = 0; round < 40; round++) {
          const v = await stores[0]!.get('k');
          if (v !== undefined) seen.add(v);
        }
      })(),
    ]);
    for (const v of seen) expect(values).toContain(v);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('creates its folder 0700 and its files 0600, whatever the umask; names are hashes of prefix and key', async () => {
    const dir = join(fresh(), 'a', 'b');
    const previous = process.umask(0o000);
    try {
      const store = fileStsStore({ dir, keyPrefix: 'p:' });
      await store.set('["AssumeRole","LTAI5tVisible"]', 'v', 60_000);
      await store.lease('["AssumeRole","LTAI5tVisible"]', 1000);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      const files = await readdir(dir);
      expect(files).toHaveLength(2);
      const hash = Array.from(
        new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('p:["AssumeRole","LTAI5tVisible"]'))),
        (b) => b.toString(16).padStart(2, '0'),
      ).join('');
      expect(files.sort()).toEqual([`${hash}.lease`, `${hash}.v`]);
      for (const f of files) expect((await stat(join(dir, f))).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it.each([
    ['a symbolic link', async (dir: string) => {
      await mkdir(`${dir}-real`, { mode: 0o700 });
      await symlink(`${dir}-real`, dir);
    }, /symbolic link/],
    ['open to group', async (dir: string) => {
      await mkdir(dir);
      await chmod(dir, 0o750);
    }, /open to group or others \(mode 750/],
    ['open to others', async (dir: string) => {
      await mkdir(dir);
      await chmod(dir, 0o701);
    }, /open to group or others/],
    ['another user\'s', async (dir: string) => {
      await mkdir(dir, { mode: 0o700 });
      await chown(dir, 65534, 65534);
    }, /belongs to uid 65534/],
    ['a file', async (dir: string) => {
      await writeFile(dir, 'not a folder');
    }, /not a folder/],
  ])('refuses a folder that is %s: the cache calls STS directly, with one warning', async (_name, prepare, message) => {
    const dir = fresh();
    await prepare(dir);
    const store = fileStsStore({ dir });
    await expect(store.get('k')).rejects.toThrow(message);
    const warnings: string[] = [];
    const cache = createStsCache({ store, logger: { warn: (m) => warnings.push(m) } });
    const load = fakeCredentialSource({ lifetimeMs: 900_000 });
    expect((await cache.get('k', () => load())).accessKeyId).toBe('STS.fake-1');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(message);
  });

  it('follows no link and waits on no FIFO planted as a value or a lease', async () => {
    const dir = fresh();
    const store = fileStsStore({ dir });
    await store.set('k', 'v', 60_000);
    const [value] = await readdir(dir);
    const target = join(scratch, `outside-${n}`);
    await writeFile(target, `${Date.now() + 60_000}\nfrom outside`);
    await rm(join(dir, value!));
    await symlink(target, join(dir, value!));
    await expect(store.get('k')).rejects.toThrow(/symbolic link/);
    // A lease that is a link is neither followed nor taken over.
    await store.lease('j', 1000);
    const lease = (await readdir(dir)).find((f) => f.endsWith('.lease'))!;
    await rm(join(dir, lease));
    await symlink(target, join(dir, lease));
    await expect(store.lease('j', 1000)).rejects.toThrow(/symbolic link/);
    expect(await readFile(target, 'utf8')).toMatch(/from outside$/);
    // A FIFO where a value should be: read without blocking, and not a value.
    await rm(join(dir, value!));
    execFileSync('mkfifo', [join(dir, value!)]);
    expect(await store.get('k')).toBeUndefined();
    // And an oversized file is not read.
    await rm(join(dir, value!));
    await writeFile(join(dir, value!), `${Date.now() + 60_000}\n${'x'.repeat(70 * 1024)}`, { mode: 0o600 });
    expect(await store.get('k')).toBeUndefined();
    expect((await lstat(dir)).isDirectory()).toBe(true);
  });

  it('refuses options without a folder', () => {
    expect(() => fileStsStore({} as never)).toThrow(ConfigError);
    expect(() => fileStsStore({ dir: '' })).toThrow(ConfigError);
    expect(() => fileStsStore({ dir: fresh(), keyPrefix: 1 as never })).toThrow(/keyPrefix/);
  });
});
