/**
 * The shared STS-result cache: many providers (many clients) of one role make one STS
 * call and share its result.
 *
 * Keyed by everything that makes a result interchangeable ({@link stsCacheKey}); the
 * source secret enters the key only as a SHA-256 digest, so a mistyped secret gets its own
 * (failing) call instead of a cached success. An entry lives until the credential's
 * default advisory point, max(L - 15 min, L/2): a provider refreshing ahead of expiry
 * then always gets a new credential, never the one it is trying to replace. With a `store`
 * (cache-store.ts) a second level is shared by many processes and hosts.
 */
import { isStsCacheStore, sharedLoader, type SharedLoad, type StsCacheEncryptionKey, type StsCacheStore } from './cache-store.js';
import type { Credentials } from './credentials.js';
import { ConfigError } from './errors.js';
import { raceAbort } from './internal/abort.js';
import { monotonicNow } from './internal/clock.js';
import { issuedLifetimeOf, recordIssuedLifetime, wantStatedExpirations } from './internal/issued-lifetime.js';
import { ttlCache, type Loaded } from './internal/ttl-cache.js';
import { checkTimeout, positiveNumber } from './internal/validate-options.js';
import { defaultAdvisoryWindow, windowOf, type WindowSize } from './refresh.js';
import type { Logger } from './types.js';

/**
 * Options of {@link createStsCache}.
 *
 * @example
 * ```ts
 * import { createStsCache, fromRamRole, fromStatic, type StsCacheOptions } from 'alicred';
 * // One tenant's roles kept apart from the process-wide cache, at most 50 of them.
 * const options: StsCacheOptions = { max: 50 };
 * const tenantCache = createStsCache(options);
 * const provider = fromRamRole({
 *   source: fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' }),
 *   roleArn: 'acs:ram::1234567890123456:role/tenant-a',
 *   sts: { endpoint: 'http://127.0.0.1:8080' }, // a local emulator; omit in production
 *   cache: tenantCache,
 * });
 * provider.close();
 * ```
 */
export type StsCacheOptions = {
  /** Most entries kept (least recently used go first). Default 500. */
  max?: number;
  /**
   * Clock in ms since the epoch, used to read lifetimes and measure ages. Default: like the
   * refresh engine, `Date.now` for lifetimes and the monotonic `performance.now()` for ages.
   */
  clock?: () => number;
  /**
   * A second level shared by many processes and hosts ({@link StsCacheStore}: `redisStsStore`
   * from `alicred/redis`, `fileStsStore` from `alicred/node`). On an in-process miss the store
   * is read; a stored credential is served only before the requester's advisory point (the
   * same rule as in-process). Otherwise one process takes the store's lease (forced refreshes
   * too), calls STS and writes the result; the others look again, with jitter, for up to
   * `leaseWaitMs`, then call STS themselves. A store that fails, hangs or holds garbage is
   * passed over: STS is called directly and `logger` gets one warning per outage, then one when
   * it answers again; never an error, never an expired value because of the store.
   */
  store?: StsCacheStore;
  /** Seals stored values (AES-256-GCM, bound to their key); see {@link StsCacheEncryptionKey}. Needs `store`. */
  encryptionKey?: StsCacheEncryptionKey;
  /** Receives the store's warnings (outage, recovery, values ignored); never secrets. */
  logger?: Logger;
  /** Time limit of each store operation, ms. Default 250. */
  storeTimeoutMs?: number;
  /** How long a process waits for another's STS call (the lease holder's) before making its own, ms. Default 2000. */
  leaseWaitMs?: number;
};

/**
 * A cache of STS results with single-flight loading.
 *
 * @example
 * ```ts
 * import { createStsCache, type StsCache } from 'alicred';
 * import { fakeCredentialSource } from 'alicred/testing';
 * const cache: StsCache = createStsCache();
 * const load = fakeCredentialSource({ lifetimeMs: 3600_000 });
 * // Ten concurrent callers of one key: one load, one result.
 * await Promise.all(Array.from({ length: 10 }, () => cache.get('role-a', () => load())));
 * load.calls;         // 1
 * cache.delete('role-a'); // e.g. after the role's policy changed
 * cache.size;         // 0
 * ```
 */
export type StsCache = {
  /**
   * Returns the cached credentials for `key`, or runs `load` once for every concurrent
   * caller of that key. `forceRefresh` skips a cached value (still joining a load in flight);
   * `signal` stops only this caller's wait.
   */
  get(key: string, load: () => Promise<Credentials>, options?: StsCacheGetOptions): Promise<Credentials>;
  /** Forgets one key (in this process; a store's copy lives on until it expires or a forced refresh replaces it). */
  delete(key: string): void;
  /** Forgets everything (in this process, likewise). */
  clear(): void;
  /** Number of entries (including loads in flight). */
  readonly size: number;
};

/**
 * Options of one {@link StsCache.get}.
 *
 * @example
 * ```ts
 * import { createStsCache, type StsCacheGetOptions } from 'alicred';
 * const options: StsCacheGetOptions = { advisoryWindowMs: 10 * 60_000, signal: AbortSignal.timeout(5000) };
 * await createStsCache().get('key', async () => { throw new Error('load it here'); }, options).catch(() => {});
 * ```
 */
export type StsCacheGetOptions = {
  /** Skip a cached value (still joining a load in flight). */
  forceRefresh?: boolean;
  /** Stops only this caller's wait; the shared load goes on. */
  signal?: AbortSignal;
  /**
   * The requesting provider's advisory window (its `refresh.advisoryWindowMs`). A load made
   * here is kept until its advisory point by this window; a cached value already inside this
   * window counts as a miss, so a provider refreshing ahead never gets back the value it is
   * replacing. Default `min(15 min, L/2)`.
   */
  advisoryWindowMs?: WindowSize;
};

/**
 * Creates an isolated STS-result cache (tests, multi-tenant servers), or one shared by a
 * fleet through a `store` (see {@link StsCacheOptions.store}). Most code uses the process-wide
 * one, {@link defaultStsCache}. Options are checked here: a bad one is a ConfigError.
 *
 * @example
 * ```ts
 * import { createStsCache, createCredentials } from 'alicred';
 * const cache = createStsCache({ max: 100 });
 * const load = async () => createCredentials({ accessKeyId: 'STS.x', accessKeySecret: 's', securityToken: 't',
 *   expiration: new Date(Date.now() + 3600_000), source: 'ram-role' });
 * const [a, b] = await Promise.all([cache.get('k', load), cache.get('k', load)]); // one load
 * ```
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
 * // Two processes of one host (two caches here): the second makes no STS call.
 * const dir = join(mkdtempSync(join(tmpdir(), 'fleet-')), 'sts');
 * const role = () => fromRamRole({
 *   source: fromStatic(alice),
 *   roleArn: emu.roleArn('app'),
 *   sts: { endpoint: emu.stsEndpoint },
 *   cache: createStsCache({ store: fileStsStore({ dir }), leaseWaitMs: 1000, logger: console }),
 * });
 * const [first, second] = [role(), role()];
 * await first();
 * await new Promise((resolve) => setTimeout(resolve, 50)); // the write happens just after the call
 * await second();
 * emu.callCount('AssumeRole'); // 1
 * first.close();
 * second.close();
 * await emu.close();
 * ```
 */
export function createStsCache(options: StsCacheOptions = {}): StsCache {
  const max = positiveNumber(options.max, 500, { fn: 'createStsCache', provider: 'sts', field: 'max' });
  return stsCache(max, options.clock, sharedLevel(options, options.clock ?? (() => Date.now())));
}

/**
 * The cache itself. Apart from createStsCache so that the process-wide cache (no store) does
 * not pull the store level into a bundle that never uses createStsCache.
 */
function stsCache(max: number, clockOption: (() => number) | undefined, storeLevel: SharedLoad | undefined): StsCache {
  const clock = clockOption ?? (() => Date.now());
  // Ages on the monotonic clock, looked up at each use: immune to wall-clock jumps.
  const entries = ttlCache<Credentials>(Math.max(1, Math.floor(max)), clockOption ?? monotonicNow);

  /** True when the cached value for `key` is inside the requester's advisory window. */
  function tooOldFor(key: string, advisoryWindowMs: WindowSize | undefined): boolean {
    const cached = entries.peek(key);
    const expiresAt = cached?.expiration?.getTime();
    if (cached === undefined || expiresAt === undefined) return false;
    const lifetime = issuedLifetimeOf(cached) ?? expiresAt - clock();
    return expiresAt - clock() <= windowOf(advisoryWindowMs, defaultAdvisoryWindow, lifetime);
  }

  return {
    async get(key, load, callOptions = {}) {
      const { signal, advisoryWindowMs } = callOptions;
      // With a store: the value in-process now is what a forced refresh replaces, store or not.
      const exclude = callOptions.forceRefresh === true ? entries.peek(key)?.accessKeyId : undefined;
      const loadHere = async (): Promise<Loaded<Credentials>> => {
        if (storeLevel) {
          const forced = callOptions.forceRefresh === true;
          const { credentials, lifetimeMs, remainingMs } = await storeLevel(key, load, { forced, advisoryWindowMs, exclude });
          if (!Number.isFinite(remainingMs)) return [credentials, Infinity];
          // Kept until the loading provider's advisory point, by the lifetime it was issued with.
          return [credentials, remainingMs - windowOf(advisoryWindowMs, defaultAdvisoryWindow, lifetimeMs)];
        }
        const credentials = await load();
        const expiresAt = credentials.expiration?.getTime();
        if (expiresAt === undefined) return [credentials, Infinity];
        const lifetime = expiresAt - clock();
        recordIssuedLifetime(credentials, lifetime);
        // Kept until the loading provider's own advisory point. A result already past it
        // (ttl <= 0) is handed to the waiters but not kept.
        return [credentials, lifetime - windowOf(advisoryWindowMs, defaultAdvisoryWindow, lifetime)];
      };
      const forceRefresh = callOptions.forceRefresh === true || tooOldFor(key, advisoryWindowMs);
      const shared = entries.get(key, loadHere, forceRefresh);
      try {
        return await raceAbort(shared, signal);
      } catch (error) {
        // The load we joined failed yet still holds the key, so it never settled: in Cloudflare
        // Workers it belonged to a request that has ended and can never settle. Forget it and
        // load once here. (A load that settles lets go of the key before its waiters hear of
        // it, so anywhere else a failure is every waiter's answer, ours included.)
        if (signal?.aborted || entries.loading(key) !== shared) throw error;
        entries.delete(key);
        return await raceAbort(entries.get(key, loadHere), signal);
      }
    },
    delete(key) {
      // A load in flight still answers its waiters, and its result is not kept.
      entries.delete(key);
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}

/** The store level of a cache, with its options checked; undefined without a store. */
function sharedLevel(options: StsCacheOptions, clock: () => number): SharedLoad | undefined {
  const { store, encryptionKey } = options;
  const site = (field: string) => ({ fn: 'createStsCache', provider: 'sts-cache', field });
  if (store === undefined) {
    if (encryptionKey !== undefined) throw new ConfigError('createStsCache: encryptionKey needs a store', { provider: 'sts-cache', field: 'encryptionKey' });
    return undefined;
  }
  if (!isStsCacheStore(store)) {
    throw new ConfigError('createStsCache: store must have get, set, lease and release methods', { provider: 'sts-cache', field: 'store' });
  }
  // What STS states about each credential is what the store keeps (hosts' clocks differ).
  wantStatedExpirations();
  return sharedLoader({
    store,
    encryptionKey,
    logger: options.logger,
    storeTimeoutMs: options.storeTimeoutMs === undefined ? 250 : checkTimeout(options.storeTimeoutMs, site('storeTimeoutMs')),
    leaseWaitMs: positiveNumber(options.leaseWaitMs, 2000, site('leaseWaitMs')),
    clock,
  });
}

/** Where the process-wide cache lives, shared by every copy of alicred (ESM and CJS builds). */
const DEFAULT_CACHE_SLOT = Symbol.for('alicred.stsCache');

/** The process-wide cache: found in its global slot, or created there on first use (never at import). */
function processStsCache(): StsCache {
  const slots = globalThis as unknown as Record<symbol, unknown>;
  const existing = slots[DEFAULT_CACHE_SLOT];
  if (isStsCache(existing)) return existing;
  const created = stsCache(500, undefined, undefined);
  Object.defineProperty(globalThis, DEFAULT_CACHE_SLOT, { value: created, configurable: true, writable: true });
  return created;
}

function isStsCache(value: unknown): value is StsCache {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as StsCache).get === 'function' &&
    typeof (value as StsCache).delete === 'function' &&
    typeof (value as StsCache).clear === 'function'
  );
}

/**
 * The process-wide STS-result cache that role providers use unless given another. It lives
 * in one global slot (`globalThis[Symbol.for('alicred.stsCache')]`), created on first use, so
 * the ESM and the CJS build loaded in one process share it: one role, one AssumeRole call.
 *
 * @example
 * ```ts
 * import { defaultStsCache } from 'alicred';
 * defaultStsCache.clear(); // e.g. between tests
 * ```
 */
// Pure: the facade makes importing create nothing (the cache is made on first use), so a
// bundle that never touches the STS cache drops it.
export const defaultStsCache: StsCache = /* @__PURE__ */ Object.freeze({
  get: (key: string, load: () => Promise<Credentials>, options?: StsCacheGetOptions) =>
    processStsCache().get(key, load, options),
  delete: (key: string) => processStsCache().delete(key),
  clear: () => processStsCache().clear(),
  get size() {
    return processStsCache().size;
  },
});

/**
 * What identifies an STS result: the caller's identity and every request parameter.
 *
 * @example
 * ```ts
 * import { createStsCache, fromStatic, stsCacheKey, type StsCacheKeyInput } from 'alicred';
 * const source = await fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' })();
 * const input: StsCacheKeyInput = {
 *   source, // its secret enters the key only as a digest
 *   action: 'AssumeRole',
 *   endpoint: 'http://127.0.0.1:8080',
 *   params: { RoleArn: 'acs:ram::1234567890123456:role/app', RoleSessionName: 'app', DurationSeconds: 3600 },
 * };
 * const key = await stsCacheKey(input); // the same input, the same key: a custom STS call can share the cache
 * createStsCache().delete(key);
 * ```
 */
export type StsCacheKeyInput = {
  /** The credentials that sign the request (for AssumeRoleWithOIDC: none). */
  source?: Credentials | undefined;
  /** A secret that also identifies the caller (the OIDC token); enters the key only as a digest. */
  secret?: string | undefined;
  /** The STS action, e.g. `AssumeRole`. */
  action: string;
  /** The STS endpoint the request goes to. */
  endpoint: string;
  /** Every request parameter that changes the result (RoleArn, Policy, DurationSeconds...). */
  params: Record<string, string | number | undefined>;
};

const encoder = /* @__PURE__ */ new TextEncoder();

async function sha256Hex(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', encoder.encode(text));
  let hex = '';
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/**
 * The cache key for one STS request. Contains the source AccessKeyId and a digest of its
 * secret and token, never the secret itself.
 *
 * @example
 * ```ts
 * import { stsCacheKey } from 'alicred';
 * const key = await stsCacheKey({ action: 'AssumeRole', endpoint: 'sts.aliyuncs.com',
 *   params: { RoleArn: 'acs:ram::123:role/reader', RoleSessionName: 'app', DurationSeconds: 3600 } });
 * ```
 */
export async function stsCacheKey(input: StsCacheKeyInput): Promise<string> {
  const params = Object.keys(input.params)
    .filter((k) => input.params[k] !== undefined)
    .sort()
    .map((k) => [k, String(input.params[k])]);
  const source = input.source;
  const secretDigest =
    source || input.secret !== undefined
      ? await sha256Hex(`${source?.accessKeySecret ?? ''}\u0000${source?.securityToken ?? ''}\u0000${input.secret ?? ''}`)
      : '';
  return JSON.stringify([input.action, input.endpoint, source?.accessKeyId ?? '', secretDigest, params]);
}
