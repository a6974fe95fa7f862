/**
 * The second level of the STS cache: a store shared by many processes and hosts (Redis, a
 * folder on one host), read on an in-process miss, so a fleet makes one STS call per role
 * and refresh instead of one per process. Never a point of failure: a store that fails,
 * hangs, or holds garbage, values of another key or expired ones, is passed over and STS is
 * called directly; the caller never sees an error because of it.
 *
 * Universal code.
 */
import type { Credentials } from './credentials.js';
import { unrefTimeout } from './internal/abort.js';
import { monotonicNow } from './internal/clock.js';
import { recordIssuedLifetime } from './internal/issued-lifetime.js';
import { logSafely } from './internal/log.js';
import { describeFailure } from './internal/redact.js';
import { createSealer, SEALED_PREFIX, type SealKey, type Sealer } from './internal/seal.js';
import { decodeStored, encodeStored, MAX_STORED_CHARS, type StoredEntry } from './internal/stored-credentials.js';
import { defaultAdvisoryWindow, windowOf, type WindowSize } from './refresh.js';
import type { Logger } from './types.js';

/**
 * Where {@link createStsCache} shares STS results across processes: four operations over
 * opaque strings. `alicred/redis` (`redisStsStore`) and `alicred/node` (`fileStsStore`) provide
 * two; anything with these operations works (a memcached or database table, a test double).
 * The cache bounds every call by its `storeTimeoutMs` and survives any failure of them, so an
 * implementation may simply throw or hang. Values are at most 16 KiB; the cache validates
 * (and, with an `encryptionKey`, authenticates) whatever `get` returns.
 *
 * @example
 * ```ts
 * import { createStsCache, fromRamRole, fromStatic, type StsCacheStore } from 'alicred';
 * import { startEmulator } from 'alicred/testing';
 *
 * // A store in memory (one process; real ones are shared): values expire, the lease is
 * // "set if absent" with a time limit, release deletes only with the right token.
 * const values = new Map<string, { value: string; until: number }>();
 * const live = (key: string) => { const v = values.get(key); return v && v.until > Date.now() ? v.value : undefined; };
 * const store: StsCacheStore = {
 *   keyPrefix: 'alicred:sts:',
 *   async get(key) { return live(key); },
 *   async set(key, value, ttlMs) { values.set(key, { value, until: Date.now() + ttlMs }); },
 *   async lease(key, ttlMs) {
 *     if (live(`${key}:lease`) !== undefined) return undefined;
 *     const token = crypto.randomUUID();
 *     values.set(`${key}:lease`, { value: token, until: Date.now() + ttlMs });
 *     return token;
 *   },
 *   async release(key, token) { if (live(`${key}:lease`) === token) values.delete(`${key}:lease`); },
 * };
 *
 * const alice = { accessKeyId: 'LTAI5tAlice000000000001', accessKeySecret: 'alice-secret' };
 * const emu = await startEmulator({ users: [{ name: 'alice', ...alice }], roles: [{ name: 'app', trustedUsers: ['alice'] }] });
 * const cache = createStsCache({ store, logger: console });
 * const provider = fromRamRole({ source: fromStatic(alice), roleArn: emu.roleArn('app'), sts: { endpoint: emu.stsEndpoint }, cache });
 * await provider();
 * provider.close();
 * await emu.close();
 * ```
 */
export type StsCacheStore = {
  /**
   * The namespace the store writes under (e.g. Redis's `alicred:sts:`). Sealed values are bound
   * to `keyPrefix + key`, and a passphrase is stretched with it as salt. Default ''.
   */
  readonly keyPrefix?: string;
  /** The value stored under `key`, or undefined (null is taken as undefined). */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` for `ttlMs` (the credential's remaining lifetime). */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /**
   * Takes the single-flight lease of `key` for `ttlMs` if nobody holds it: a token when this
   * caller got it (it then calls STS and writes the result), undefined when another holds it.
   */
  lease(key: string, ttlMs: number): Promise<string | undefined>;
  /** Gives the lease back if it is still held with `token` (compare-and-delete). */
  release(key: string, token: string): Promise<void>;
};

/**
 * The `encryptionKey` of {@link createStsCache}: 32 random bytes (a `Uint8Array`, or their
 * standard padded base64: 44 characters ending in `=`, as `openssl rand -base64 32` prints),
 * or a passphrase of at least 32 characters (stretched once with PBKDF2-SHA-256, 600 000
 * rounds, salted with the store's key prefix); or a list of those: the first seals, every one
 * opens (rotation: put the new key first, drop the old one once every process has it).
 *
 * @example
 * ```ts
 * import { createStsCache, type StsCacheEncryptionKey, type StsCacheStore } from 'alicred';
 * declare const store: StsCacheStore; // e.g. redisStsStore({ client }) from alicred/redis
 * // Rotation: values are sealed with the new key; those sealed with the old one still open.
 * const encryptionKey: StsCacheEncryptionKey = [
 *   'qK3n0cYl3xD8m5oW2vT9pR6sU1zA4bF7eH0jL2nQ5tw=', // new: openssl rand -base64 32
 *   'dG8gYmUgcmV0aXJlZCBhZnRlciB0aGUgcm9sbG91dCE=', // old
 * ];
 * const cache = createStsCache({ store, encryptionKey });
 * ```
 */
export type StsCacheEncryptionKey = SealKey | readonly SealKey[];

/**
 * What the in-process cache asks of the shared level on a miss.
 *
 * @internal
 */
export type SharedLoadRequest = {
  /** A forced refresh: no stored value that was there when it began is good enough. */
  readonly forced: boolean;
  /** The requester's advisory window: a stored value inside it is not served. */
  readonly advisoryWindowMs: WindowSize | undefined;
  /** An AccessKeyId not to be served (the in-process value a forced refresh replaces). */
  readonly exclude: string | undefined;
};

/**
 * Loads one key through the shared level: the stored value, or one STS call by the lease
 * holder, or (store away, lease holder silent) `load` here.
 *
 * @internal
 */
export type SharedLoad = (key: string, load: () => Promise<Credentials>, request: SharedLoadRequest) => Promise<StoredEntry>;

/**
 * Options of {@link sharedLoader}, already checked by createStsCache.
 *
 * @internal
 */
export type SharedLoaderOptions = {
  store: StsCacheStore;
  encryptionKey: StsCacheEncryptionKey | undefined;
  logger: Logger | undefined;
  storeTimeoutMs: number;
  leaseWaitMs: number;
  /** Wall clock (ms since the epoch). */
  clock: () => number;
};

/** First pause between looks at the store while another process holds the lease; doubles up to the cap. */
const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 250;
/** After a failure the store is left alone for this long, doubling up to the cap (jittered 50–100 %). */
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
const FAILED: unique symbol = Symbol('failed');

/**
 * True for an object with the four store operations.
 *
 * @internal
 */
export function isStsCacheStore(value: unknown): value is StsCacheStore {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  return ['get', 'set', 'lease', 'release'].every((m) => typeof s[m] === 'function');
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => unrefTimeout(resolve, ms));
}

/**
 * The shared level over `options.store`: outage tracking (one warning when the store stops
 * answering, one when it answers again, nothing asked of it for a jittered backoff in
 * between), sealing, the lease and the polling of its waiters.
 *
 * @internal
 */
export function sharedLoader(options: SharedLoaderOptions): SharedLoad {
  const { store, logger, storeTimeoutMs, leaseWaitMs, clock } = options;
  const prefix = typeof store.keyPrefix === 'string' ? store.keyPrefix : '';
  const sealer: Sealer | undefined = options.encryptionKey === undefined ? undefined : createSealer(options.encryptionKey, prefix);
  const leaseTtlMs = Math.max(100, Math.ceil(leaseWaitMs));
  let down = false;
  let failures = 0;
  let retryAt = 0;
  const warned = new Set<string>();

  const warnOnce = (kind: string, message: string): void => {
    if (warned.has(kind)) return;
    warned.add(kind);
    logSafely(logger, 'warn', `alicred: sts cache store: ${message}`);
  };

  /** One store operation, bounded in time; FAILED (and the outage noted) when it throws or hangs. */
  async function call<T>(what: string, operation: () => Promise<T>): Promise<T | typeof FAILED> {
    if (down && monotonicNow() < retryAt) return FAILED;
    const probe = down;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const pending = Promise.resolve().then(operation);
      pending.catch(() => {}); // it may still reject after the timeout
      const timeout = new Promise<never>((_, reject) => {
        timer = unrefTimeout(() => reject(new Error(`no answer within ${storeTimeoutMs} ms`)), storeTimeoutMs);
      });
      const value = await Promise.race([pending, timeout]);
      failures = 0;
      // Only an operation begun during the outage says the store is back (one begun before it
      // may still finish well): one message per outage.
      if (down && probe) {
        down = false;
        logSafely(logger, 'warn', 'alicred: sts cache store answers again: sharing STS results across processes again');
      }
      return value;
    } catch (error) {
      failures++;
      retryAt = monotonicNow() + Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (failures - 1)) * (0.5 + Math.random() / 2);
      if (!down) {
        down = true;
        logSafely(logger, 'warn', `alicred: sts cache store failed (${what}: ${describeFailure(error, [])}); calling STS directly until it answers again`);
      }
      return FAILED;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** The stored value of `key` if it is a valid, unexpired record that opens; never throws. */
  async function read(key: string): Promise<StoredEntry | undefined> {
    const raw = await call('get', () => store.get(key));
    if (raw === FAILED || raw === undefined || raw === null) return undefined;
    try {
      if (typeof raw !== 'string' || raw.length > MAX_STORED_CHARS) {
        warnOnce('garbage', 'a stored value is not a credentials record (wrong type or over 16 KiB): ignored');
        return undefined;
      }
      let text = raw;
      if (sealer) {
        const opened = await sealer.open(raw, prefix + key);
        if (opened === undefined) {
          warnOnce('sealed', 'a stored value does not open with any encryptionKey (another key, tampered or not sealed): ignored');
          return undefined;
        }
        text = opened;
      } else if (raw.startsWith(SEALED_PREFIX)) {
        warnOnce('no-key', 'the store holds sealed values and this cache has no encryptionKey: ignored');
        return undefined;
      }
      const reading = decodeStored(text, clock());
      if (reading.kind === 'garbage') warnOnce('garbage', 'a stored value is not a valid credentials record: ignored');
      return reading.kind === 'ok' ? reading.entry : undefined;
    } catch (error) {
      warnOnce('open', `a stored value could not be read (${describeFailure(error, [])}): ignored`);
      return undefined;
    }
  }

  /** Writes what `load` gave (when it is shareable), then gives back the lease; never throws. */
  async function persist(key: string, entry: StoredEntry, token: string | undefined): Promise<void> {
    try {
      const text = encodeStored(entry.credentials, entry.lifetimeMs, clock());
      const ttlMs = Math.floor(entry.remainingMs);
      if (text !== undefined && ttlMs > 0) {
        const value = sealer ? await sealer.seal(text, prefix + key) : text;
        if (value.length <= MAX_STORED_CHARS) await call('set', () => store.set(key, value, ttlMs));
      }
    } catch (error) {
      warnOnce('seal', `a value could not be sealed (${describeFailure(error, [])}): not shared`);
    } finally {
      if (token !== undefined) await call('release', () => store.release(key, token));
    }
  }

  /** `load` here; the result is written to the store in the background (the caller does not wait). */
  async function loadHere(key: string, load: () => Promise<Credentials>, token: string | undefined): Promise<StoredEntry> {
    let credentials: Credentials;
    try {
      credentials = await load();
    } catch (error) {
      if (token !== undefined) void call('release', () => store.release(key, token));
      throw error;
    }
    const expiresAt = credentials.expiration?.getTime();
    const lifetimeMs = expiresAt === undefined ? Number.POSITIVE_INFINITY : expiresAt - clock();
    recordIssuedLifetime(credentials, lifetimeMs);
    const entry: StoredEntry = { credentials, lifetimeMs, remainingMs: lifetimeMs };
    void persist(key, entry, token);
    return entry;
  }

  return async function sharedLoad(key, load, request) {
    const excluded = new Set<string>(request.exclude === undefined ? [] : [request.exclude]);
    const usable = (entry: StoredEntry | undefined): entry is StoredEntry =>
      entry !== undefined &&
      !excluded.has(entry.credentials.accessKeyId) &&
      entry.remainingMs > windowOf(request.advisoryWindowMs, defaultAdvisoryWindow, entry.lifetimeMs);

    const first = await read(key);
    // A forced refresh wants a credential newer than any it could have: not this one.
    if (first !== undefined && request.forced) excluded.add(first.credentials.accessKeyId);
    if (usable(first)) return first;
    const deadline = monotonicNow() + leaseWaitMs;
    for (let wait = FIRST_POLL_MS; ; wait = Math.min(wait * 2, MAX_POLL_MS)) {
      const token = await call('lease', () => store.lease(key, leaseTtlMs));
      if (token === FAILED) return loadHere(key, load, undefined);
      if (typeof token === 'string' && token !== '') {
        // The holder before us may have written and let go between our look and our lease.
        const again = await read(key);
        if (usable(again)) {
          void call('release', () => store.release(key, token));
          return again;
        }
        return loadHere(key, load, token);
      }
      // Another process holds the lease: look again (with jitter) until it writes, lets go, or
      // our patience runs out; its lease expires by then if it died holding it.
      const left = deadline - monotonicNow();
      if (left <= 0) return loadHere(key, load, undefined);
      await pause(Math.min(left, wait * (0.5 + Math.random() / 2)));
      const polled = await read(key);
      if (usable(polled)) return polled;
    }
  };
}
