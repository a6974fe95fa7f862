/**
 * alicred/redis — the shared STS cache store on Redis, for a whole fleet: hand
 * `redisStsStore({ client })` to `createStsCache({ store })`. Works with an ioredis client or a
 * node-redis (v4 and later) client, told apart by shape; it imports neither (duck typing), so
 * alicred has no dependency on them and this module type-checks without them.
 *
 * Universal code (no Node built-in): it runs wherever the client does.
 *
 * @packageDocumentation
 */
import type { StsCacheStore } from '../cache-store.js';
import { ConfigError } from '../errors.js';

/**
 * The parts of an ioredis client (`new Redis()`, `new Cluster()`) the store uses: `status`,
 * `get`, `set(key, value, 'PX', ms, 'NX')` and `eval(script, numKeys, ...)`.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { IoRedisLikeClient } from 'alicred/redis';
 * const client: IoRedisLikeClient = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
 * ```
 */
export type IoRedisLikeClient = {
  /** `ready` when connected; `wait`, `connecting`, `reconnecting`, `end`... otherwise. */
  readonly status: string;
  get(...args: never[]): Promise<unknown>;
  set(...args: never[]): Promise<unknown>;
  eval(...args: never[]): Promise<unknown>;
};

/**
 * The parts of a node-redis client (`createClient()`, v4 and later) the store uses: `isOpen`,
 * `isReady`, `get`, `set(key, value, { PX, NX })` and `eval(script, { keys, arguments })`.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import type { NodeRedisLikeClient } from 'alicred/redis';
 * const client: NodeRedisLikeClient = createClient({ url: 'redis://127.0.0.1:6379' });
 * ```
 */
export type NodeRedisLikeClient = {
  /** True from `connect()` until `close()` / `destroy()` (also while reconnecting). */
  readonly isOpen: boolean;
  /** True while connected. */
  readonly isReady?: boolean;
  get(...args: never[]): Promise<unknown>;
  set(...args: never[]): Promise<unknown>;
  eval(...args: never[]): Promise<unknown>;
};

/**
 * Options of {@link redisStsStore}.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisStsStore, type RedisStsStoreOptions } from 'alicred/redis';
 * // One Redis for several fleets: each under its own prefix.
 * const options: RedisStsStoreOptions = { client: new Redis({ lazyConnect: true }), keyPrefix: 'billing:alicred:sts:' };
 * const store = redisStsStore(options);
 * ```
 */
export type RedisStsStoreOptions = {
  /** A connected (or connecting) ioredis or node-redis client; the store never closes it. */
  client: IoRedisLikeClient | NodeRedisLikeClient;
  /** Prefix of every key the store writes. Default `alicred:sts:`. */
  keyPrefix?: string;
};

/** Deletes the lease only if it still holds our token: KEYS[1] lease key, ARGV[1] token. */
const RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

type Calls = {
  get(key: string): Promise<unknown>;
  set(key: string, value: string, ttlMs: number, onlyIfAbsent: boolean): Promise<unknown>;
  release(key: string, token: string): Promise<unknown>;
  /** Throws when the client is closed, or has lost a connection it had (no queueing then). */
  check(): void;
};

function randomToken(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

function ioredisCalls(client: IoRedisLikeClient): Calls {
  const c = client as unknown as {
    readonly status: string;
    get(key: string): Promise<unknown>;
    set(key: string, value: string, px: 'PX', ms: number, nx?: 'NX'): Promise<unknown>;
    eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
  };
  let seenReady = false;
  return {
    get: (key) => c.get(key),
    set: (key, value, ms, nx) => (nx ? c.set(key, value, 'PX', ms, 'NX') : c.set(key, value, 'PX', ms)),
    release: (key, token) => c.eval(RELEASE_SCRIPT, 1, key, token),
    check() {
      const status = c.status;
      if (status === 'ready') seenReady = true;
      // Before the first connection commands wait in ioredis's queue (the cache's time limit
      // bounds them); once a connection is lost, none is queued to run late.
      else if (status === 'end' || seenReady) throw new Error(`redis client is not connected (status ${status})`);
    },
  };
}

function nodeRedisCalls(client: NodeRedisLikeClient): Calls {
  const c = client as unknown as {
    readonly isOpen: boolean;
    readonly isReady?: boolean;
    get(key: string): Promise<unknown>;
    set(key: string, value: string, options: Record<string, unknown>): Promise<unknown>;
    eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  };
  let seenReady = false;
  return {
    get: (key) => c.get(key),
    // `expiration` / `condition` for v5 and later, `PX` / `NX` for v4 (each ignores the other's).
    set: (key, value, ms, nx) =>
      c.set(key, value, nx ? { expiration: { type: 'PX', value: ms }, PX: ms, condition: 'NX', NX: true } : { expiration: { type: 'PX', value: ms }, PX: ms }),
    release: (key, token) => c.eval(RELEASE_SCRIPT, { keys: [key], arguments: [token] }),
    check() {
      const ready = c.isReady ?? c.isOpen;
      if (ready) seenReady = true;
      else if (!c.isOpen || seenReady) throw new Error(`redis client is not connected (${c.isOpen ? 'reconnecting' : 'closed'})`);
    },
  };
}

/**
 * The shared STS cache store on Redis: values under `<keyPrefix><cache key>` with the
 * credential's remaining lifetime as TTL (`SET … PX`), the single-flight lease
 * `SET <key>:lease <token> NX PX`, released by a compare-and-delete Lua script (`EVAL`). The
 * cache key holds the source AccessKeyId and the request parameters, the source secret only
 * as a digest; the values hold STS credentials: give the cache an `encryptionKey` unless the
 * Redis is as trusted as the processes.
 *
 * A client that has lost its connection gets no commands (ioredis and node-redis would queue
 * them to run after reconnecting): the cache calls STS directly meanwhile, with one warning.
 * Keep an `error` listener on a node-redis client (it emits connection errors as events).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createStsCache, fromRamRole, fromStatic } from 'alicred';
 * import { redisStsStore } from 'alicred/redis';
 * import { startEmulator } from 'alicred/testing';
 *
 * const alice = { accessKeyId: 'LTAI5tAlice000000000001', accessKeySecret: 'alice-secret' };
 * const emu = await startEmulator({ users: [{ name: 'alice', ...alice }], roles: [{ name: 'app', trustedUsers: ['alice'] }] });
 * const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
 * client.on('error', () => {}); // it reconnects by itself; the cache reports an outage once
 * // Every process of the fleet: one AssumeRole per role and refresh between them all.
 * const cache = createStsCache({
 *   store: redisStsStore({ client }),
 *   encryptionKey: 'qK3n0cYl3xD8m5oW2vT9pR6sU1zA4bF7eH0jL2nQ5tw=', // openssl rand -base64 32, from your secret store
 *   logger: console,
 * });
 * const provider = fromRamRole({ source: fromStatic(alice), roleArn: emu.roleArn('app'), sts: { endpoint: emu.stsEndpoint }, cache });
 * await provider(); // with no Redis listening: one warning, and STS is called directly
 * provider.close();
 * client.disconnect();
 * await emu.close();
 * ```
 */
export function redisStsStore(options: RedisStsStoreOptions): StsCacheStore & { readonly keyPrefix: string } {
  const fail = (field: string, rule: string): never => {
    throw new ConfigError(`redisStsStore: ${field} ${rule}`, { provider: 'sts-cache', field });
  };
  const client = options?.client as Partial<IoRedisLikeClient & NodeRedisLikeClient> | undefined;
  const keyPrefix = options?.keyPrefix ?? 'alicred:sts:';
  if (typeof keyPrefix !== 'string') fail('keyPrefix', 'must be a string');
  if (typeof client !== 'object' || client === null || !['get', 'set', 'eval'].every((m) => typeof client[m as 'get'] === 'function')) {
    return fail('client', 'must be an ioredis or node-redis client (with get, set and eval)');
  }
  let calls: Calls;
  if (typeof client.isOpen === 'boolean') calls = nodeRedisCalls(client as NodeRedisLikeClient);
  else if (typeof client.status === 'string') calls = ioredisCalls(client as IoRedisLikeClient);
  else return fail('client', 'is neither an ioredis client (status) nor a node-redis client (isOpen)');
  const ms = (ttlMs: number) => Math.max(1, Math.ceil(ttlMs));
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' ? value : value instanceof Uint8Array ? new TextDecoder().decode(value) : undefined;
  return Object.freeze({
    keyPrefix,
    async get(key: string) {
      calls.check();
      return text(await calls.get(keyPrefix + key));
    },
    async set(key: string, value: string, ttlMs: number) {
      calls.check();
      await calls.set(keyPrefix + key, value, ms(ttlMs), false);
    },
    async lease(key: string, ttlMs: number) {
      calls.check();
      const token = randomToken();
      return (await calls.set(`${keyPrefix}${key}:lease`, token, ms(ttlMs), true)) === 'OK' ? token : undefined;
    },
    async release(key: string, token: string) {
      calls.check();
      await calls.release(`${keyPrefix}${key}:lease`, token);
    },
  });
}
