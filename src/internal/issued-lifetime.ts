/**
 * How long a credential lived when it was issued, as far as the STS cache saw it load. A
 * credential handed out again from the cache has aged; the refresh engine sizes its windows
 * from this lifetime, not from the time left, so a 900 s token that is 400 s old still gets a
 * 900 s token's windows. Kept in one process-wide slot, like the default cache, so the ESM and
 * CJS builds loaded together agree.
 */
import type { Credentials } from '../credentials.js';

const SLOT = Symbol.for('alicred.issuedLifetimes');

function registry(): WeakMap<Credentials, number> {
  const slots = globalThis as unknown as Record<symbol, unknown>;
  const existing = slots[SLOT];
  if (existing instanceof WeakMap) return existing as WeakMap<Credentials, number>;
  const created = new WeakMap<Credentials, number>();
  Object.defineProperty(globalThis, SLOT, { value: created, configurable: true, writable: true });
  return created;
}

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
