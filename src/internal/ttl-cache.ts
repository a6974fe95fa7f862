/**
 * The STS cache's storage: a bounded map that evicts the least recently used key, keeps each
 * value for the time its load dictates, and shares one load among concurrent callers of a key.
 * Only what cache.ts needs, in a few hundred bytes (lru-cache was 5.9 KB gzip).
 *
 * No timers: an expired value is dropped when next touched, so nothing keeps a Node process
 * alive or outlives a Workers request.
 *
 * Universal code.
 *
 * @internal
 */

/** A load in flight, or a settled value kept while the clock reads less than `until`. */
type Slot<V> = { load: Promise<V> } | { load?: undefined; value: V; until: number };

/**
 * What a load resolves: the value, and for how many ms (on the cache's clock) to keep it;
 * `ttl <= 0` (or NaN) hands the value to the waiters without keeping it.
 *
 * @internal
 */
export type Loaded<V> = readonly [value: V, ttl: number];

/**
 * A bounded, expiring, single-flight map (see {@link ttlCache}).
 *
 * @internal
 */
export type TtlCache<V> = {
  /**
   * The unexpired value of `key`, else the load in flight for it, else a new load by `load`
   * shared with every caller until it settles. `force` skips a settled value but joins a load.
   * A load that rejects keeps nothing: its waiters get the rejection, the next get loads anew.
   */
  get(key: string, load: () => Promise<Loaded<V>>, force?: boolean): Promise<V>;
  /** The unexpired settled value of `key`, without touching its recency. */
  peek(key: string): V | undefined;
  /** The load in flight for `key`, if any (its identity tells callers whether it is the one they joined). */
  loading(key: string): Promise<V> | undefined;
  /** Forgets `key`. Its load in flight still answers its waiters, but its result is not kept. */
  delete(key: string): void;
  /** Forgets every key, on the same terms as `delete`. */
  clear(): void;
  /** Keys held: loads in flight, and expired values not touched since they expired. */
  readonly size: number;
};

/**
 * Creates a cache of at most `max` keys whose ages are read from `now` (ms, monotonic).
 * A load in flight counts towards `max` and is evicted like any other key: its waiters still
 * get its result, which is then not kept (a later get of the key loads again).
 *
 * @internal
 */
export function ttlCache<V>(max: number, now: () => number): TtlCache<V> {
  // Insertion order is recency order: the first key is the least recently used.
  const map = new Map<string, Slot<V>>();
  const put = (key: string, slot: Slot<V>) => {
    map.delete(key);
    map.set(key, slot);
    if (map.size > max) map.delete(map.keys().next().value as string);
  };
  return {
    get(key, load, force) {
      const hit = map.get(key);
      if (hit && (hit.load || (!force && now() < hit.until))) {
        put(key, hit);
        return hit.load || Promise.resolve(hit.value);
      }
      const slot = {} as { load: Promise<V> };
      put(key, slot); // before load() runs, so a synchronous throw is cleaned up below
      slot.load = (async () => {
        try {
          const [value, ttl] = await load();
          // Only if this load still owns the key: a delete(), clear() or eviction meanwhile
          // means the caller wanted it gone, and a newer load may own the key now.
          if (ttl > 0 && map.get(key) === slot) put(key, { value, until: now() + ttl });
          return value;
        } finally {
          if (map.get(key) === slot) map.delete(key);
        }
      })();
      return slot.load;
    },
    peek(key) {
      const slot = map.get(key);
      if (!slot || slot.load) return undefined;
      if (now() < slot.until) return slot.value;
      map.delete(key);
      return undefined;
    },
    loading: (key) => map.get(key)?.load,
    delete: (key) => void map.delete(key),
    clear: () => map.clear(),
    get size() {
      return map.size;
    },
  };
}
