/**
 * How long a credential lived when it was issued, as far as the STS cache saw it load. A
 * credential handed out again from the cache has aged; the refresh engine sizes its windows
 * from this lifetime, not from the time left, so a 900 s token that is 400 s old still gets a
 * 900 s token's windows. Kept in one process-wide slot, like the default cache, so the ESM and
 * CJS builds loaded together agree.
 */
import type { Credentials } from '../credentials.js';

/** A per-credential registry in a process-wide slot (shared by the ESM and CJS builds). */
function globalRegistry<V>(slot: symbol): () => WeakMap<Credentials, V> {
  return () => {
    const slots = globalThis as unknown as Record<symbol, unknown>;
    const existing = slots[slot];
    if (existing instanceof WeakMap) return existing as WeakMap<Credentials, V>;
    const created = new WeakMap<Credentials, V>();
    Object.defineProperty(globalThis, slot, { value: created, configurable: true, writable: true });
    return created;
  };
}

const registry = /* @__PURE__ */ globalRegistry<number>(Symbol.for('alicred.issuedLifetimes'));

/**
 * Records the lifetime (ms) a credential had when it was loaded.
 *
 * @internal
 */
export function recordIssuedLifetime(credentials: Credentials, lifetimeMs: number): void {
  if (Number.isFinite(lifetimeMs) && lifetimeMs > 0) registry().set(credentials, lifetimeMs);
}

/**
 * The lifetime (ms) recorded for a credential, if any.
 *
 * @internal
 */
export function issuedLifetimeOf(credentials: Credentials): number | undefined {
  return registry().get(credentials);
}

/**
 * What STS itself said about a credential: its `Expiration` and the time on the server's clock
 * when it answered (its `Date` plus any `Age`), both ms since the epoch on the SERVER's clock;
 * `serverTime` is undefined when the answer had no usable `Date`. The shared cache store keeps
 * these instead of the locally corrected expiry, so a reader on another host (another clock)
 * judges the credential against STS's own statement, not against the writer's clock.
 *
 * @internal
 */
export type StatedExpiration = { readonly expiration: number; readonly serverTime: number | undefined };

const STATED_SLOT = Symbol.for('alicred.statedExpirations');
const statedRegistry = /* @__PURE__ */ globalRegistry<StatedExpiration>(STATED_SLOT);

/**
 * Records what STS stated about `credentials` (the STS client does this for every answer).
 *
 * @internal
 */
export function recordStatedExpiration(credentials: Credentials, stated: StatedExpiration): void {
  // Kept only once a cache with a store asked for them (wantStatedExpirations): a process that
  // shares nothing pays nothing per credential.
  const existing = (globalThis as unknown as Record<symbol, unknown>)[STATED_SLOT];
  if (existing instanceof WeakMap && Number.isFinite(stated.expiration)) existing.set(credentials, stated);
}

/**
 * From now on, this process records what STS states about each credential (a cache with a
 * store calls this when it is made).
 *
 * @internal
 */
export function wantStatedExpirations(): void {
  statedRegistry();
}

/**
 * What STS stated about `credentials`, if they came from the STS client.
 *
 * @internal
 */
export function statedExpirationOf(credentials: Credentials): StatedExpiration | undefined {
  return statedRegistry().get(credentials);
}
