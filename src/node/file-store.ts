/**
 * The shared STS cache store in a folder: many processes on one host (workers of a server,
 * cron jobs, CLI runs) share STS results without a server. Files are named by a hash of the
 * key, written 0600 into a 0700 folder of the current user, replaced atomically, opened
 * without following links; the lease is an exclusive lock file judged stale by its age.
 *
 * Node only (node:fs, node:path).
 *
 * @module
 */
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { StsCacheStore } from '../cache-store.js';
import { ConfigError } from '../errors.js';

/**
 * Options of {@link fileStsStore}.
 *
 * @example
 * ```ts
 * import { fileStsStore, type FileStsStoreOptions } from 'alicred/node';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * const options: FileStsStoreOptions = { dir: join(tmpdir(), `alicred-sts-${process.getuid?.() ?? 'user'}`) };
 * const store = fileStsStore(options);
 * ```
 */
export type FileStsStoreOptions = {
  /**
   * The folder (created 0700 if missing). Refused, with one warning from the cache and STS
   * called directly, when it is a symbolic link, not owned by the current user, or open to
   * group or others.
   */
  dir: string;
  /** Mixed into every file name's hash, like a Redis key prefix; and the salt of a passphrase. Default `alicred:sts:`. */
  keyPrefix?: string;
};

/** Largest file read: the cache refuses values over 16 KiB anyway, and reports them. */
const MAX_FILE_BYTES = 64 * 1024;
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
/** Never block on a FIFO someone put there (a regular file ignores the flag). */
const NONBLOCK = constants.O_NONBLOCK ?? 0;
const READ_FLAGS = constants.O_RDONLY | NOFOLLOW | NONBLOCK;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW;

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Creates `path` exclusively (0600, no link followed) holding `text`; false when it exists. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, CREATE_FLAGS, 0o600);
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(text, 'utf8');
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(path, { force: true }).catch(() => {});
    throw error;
  }
  await handle.close();
  return true;
}

/** The text of regular file `path` (no link followed, no FIFO waited on), undefined when missing or too large. */
async function readSmallFile(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (error) {
    const code = codeOf(error);
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new Error(`${path} is a symbolic link: refused`);
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.size > MAX_FILE_BYTES) return undefined;
    return await handle.readFile('utf8');
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * The shared STS cache store in folder `dir`, for the processes of one host: hand it to
 * `createStsCache({ store })`. Each value is a file `<sha256 of prefix+key>.v` holding its
 * expiry and the value, written to a temporary file in the same folder and renamed over the
 * old one; the lease is `<hash>.lease`, created with O_EXCL and taken over once older (by
 * mtime, not by a PID that may have been reused) than the lease time, so a process killed
 * while holding it delays the others by at most that. Every file is opened with O_NOFOLLOW.
 *
 * The folder is checked before first use: created 0700 if missing; refused if it is a
 * symbolic link, owned by another user, or open to group or others. A refused or failing
 * folder is a store outage: one warning from the cache, STS called directly, never an error.
 *
 * @example
 * ```ts
 * import { createStsCache, fileStsStore, fromRamRole, fromStatic } from 'alicred/node';
 * import { startEmulator } from 'alicred/testing';
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 *
 * const alice = { accessKeyId: 'LTAI5tAlice000000000001', accessKeySecret: 'alice-secret' };
 * const emu = await startEmulator({ users: [{ name: 'alice', ...alice }], roles: [{ name: 'app', trustedUsers: ['alice'] }] });
 * // Every worker process of this host: one AssumeRole per role and refresh between them all.
 * const cache = createStsCache({ store: fileStsStore({ dir: join(mkdtempSync(join(tmpdir(), 'app-')), 'sts') }), logger: console });
 * const provider = fromRamRole({ source: fromStatic(alice), roleArn: emu.roleArn('app'), sts: { endpoint: emu.stsEndpoint }, cache });
 * await provider();
 * provider.close();
 * await emu.close();
 * ```
 */
export function fileStsStore(options: FileStsStoreOptions): StsCacheStore & { readonly dir: string; readonly keyPrefix: string } {
  const fail = (field: string, rule: string): never => {
    throw new ConfigError(`fileStsStore: ${field} ${rule}`, { provider: 'sts-cache', field });
  };
  if (typeof options?.dir !== 'string' || options.dir === '') fail('dir', 'must be a folder path');
  const keyPrefix = options.keyPrefix ?? 'alicred:sts:';
  if (typeof keyPrefix !== 'string') fail('keyPrefix', 'must be a string');
  const dir = resolve(options.dir);
  let checked: Promise<void> | undefined;

  async function checkFolder(): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      if (codeOf(error) !== 'EEXIST') throw error; // a file there: refused below
    });
    const info = await lstat(dir);
    if (info.isSymbolicLink()) throw new Error(`${dir} is a symbolic link: refused`);
    if (!info.isDirectory()) throw new Error(`${dir} is not a folder: refused`);
    const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
    if (uid !== undefined && info.uid !== uid) throw new Error(`${dir} belongs to uid ${info.uid}, not to this user (${uid}): refused`);
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new Error(`${dir} is open to group or others (mode ${(info.mode & 0o777).toString(8)}; make it 700): refused`);
    }
  }
  /** The folder check, once it passed; a failed check is made again at the next operation. */
  const ready = (): Promise<void> => {
    checked ??= checkFolder().catch((error: unknown) => {
      checked = undefined;
      throw error;
    });
    return checked;
  };
  const pathOf = async (key: string, suffix: string): Promise<string> => {
    await ready();
    return join(dir, `${await sha256Hex(keyPrefix + key)}${suffix}`);
  };

  /** Removes the lease at `path` if it is still the stale one we saw (same inode); true when gone. */
  async function removeStale(path: string, ino: number): Promise<boolean> {
    const aside = `${path}.${randomHex(6)}.stale`;
    try {
      await rename(path, aside);
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return true;
      throw error;
    }
    const moved = await lstat(aside).catch(() => undefined);
    // We took a fresh lease someone created after our look: put it back unless a newer exists.
    if (moved !== undefined && moved.ino !== ino) await link(aside, path).catch(() => {});
    await rm(aside, { force: true });
    return moved === undefined || moved.ino === ino;
  }

  return Object.freeze({
    dir,
    keyPrefix,
    async get(key: string) {
      const path = await pathOf(key, '.v');
      const text = await readSmallFile(path);
      if (text === undefined) return undefined;
      const newline = text.indexOf('\n');
      const until = Number(text.slice(0, newline));
      if (newline < 0 || !(until > Date.now())) return undefined;
      return text.slice(newline + 1);
    },
    async set(key: string, value: string, ttlMs: number) {
      const path = await pathOf(key, '.v');
      const temp = join(dir, `.${randomHex(8)}.tmp`);
      if (!(await createExclusive(temp, `${Math.floor(Date.now() + ttlMs)}\n${value}`))) throw new Error('temporary file name taken');
      try {
        await rename(temp, path);
      } catch (error) {
        await rm(temp, { force: true }).catch(() => {});
        throw error;
      }
    },
    async lease(key: string, ttlMs: number) {
      const path = await pathOf(key, '.lease');
      const token = randomHex(16);
      for (let attempt = 0; attempt < 3; attempt++) {
        if (await createExclusive(path, token)) return token;
        const info = await lstat(path).catch(() => undefined);
        if (info === undefined) continue; // let go meanwhile: try again
        if (info.isSymbolicLink()) throw new Error(`${path} is a symbolic link: refused`);
        if (Date.now() - info.mtimeMs <= ttlMs) return undefined;
        // Stale: its holder died or hung. Take it over (with everyone else who saw it so).
        if (!(await removeStale(path, info.ino))) return undefined;
      }
      return undefined;
    },
    async release(key: string, token: string) {
      const path = await pathOf(key, '.lease');
      if ((await readSmallFile(path)) === token) await rm(path, { force: true });
    },
  });
}
