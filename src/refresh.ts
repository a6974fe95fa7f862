/**
 * The refresh engine: wraps a provider whose credentials expire and makes calling it cheap
 * and safe.
 *
 * Timeline of one credential with lifetime L (obtained at 0, expiring at L):
 *
 * ```
 * 0 ─────── fresh ───────┬──── advisory ────┬── mandatory ──┐ L
 *   cached value,        │ cached value at  │ callers wait  │
 *   no I/O               │ once + ONE back- │ for the ONE   │
 *                        │ ground refresh   │ refresh       │
 *              advisory point        mandatory point
 *          (L - min(15 min, L/2))  (L - min(5 min, L/10))
 * ```
 *
 * Rules: one source call however many callers (single-flight); a timer, holding the provider
 * weakly, refreshes one used since its last refresh at the advisory point plus jitter;
 * retryable failures are retried with backoff and jitter (internal/retry.ts); a failed refresh keeps
 * serving a usable value and backs off; an expired value, or one inside the mandatory window,
 * is never returned. Types, windows and option checks: refresh-options.ts; the mechanics:
 * refresh-engine.ts.
 */
import type { Credentials } from './credentials.js';
import { ConfigError } from './errors.js';
import { RefreshEngine } from './refresh-engine.js';
import { checkRefreshOptions } from './refresh-options.js';
import type { RefreshingProvider, RefreshOptions } from './refresh-options.js';
import type { CredentialProvider, ProviderCallOptions } from './types.js';

// The engine's vocabulary lives in refresh-options.ts; importers of refresh.js keep working.
export { defaultAdvisoryWindow, defaultMandatoryWindow, windowOf } from './refresh-options.js';
export type { RefreshEvent, RefreshingProvider, RefreshOptions, WindowSize } from './refresh-options.js';
export { isRetryableError } from './errors.js';

/**
 * Wraps a provider whose credentials expire (STS, ECS metadata, OIDC...) so that calling
 * it is cheap: one source call serves every concurrent caller, the value is refreshed
 * ahead of expiry without making callers wait, and an expired value is never returned.
 *
 * @example
 * ```ts
 * import { refreshing, createCredentials } from 'alicred';
 *
 * const provider = refreshing(async () => {
 *   const r = await fetch('http://127.0.0.1:8080/credentials').then((x) => x.json());
 *   return createCredentials({
 *     accessKeyId: r.AccessKeyId, accessKeySecret: r.AccessKeySecret,
 *     securityToken: r.SecurityToken, expiration: new Date(r.Expiration), source: 'my-vendor',
 *   });
 * });
 * const creds = await provider();        // fetches once
 * await provider();                      // cached, no I/O
 * provider.peek();                       // synchronous, undefined when not usable
 * provider.close();                      // stops the background timer
 * ```
 */
export function refreshing(source: CredentialProvider, options: RefreshOptions = {}): RefreshingProvider {
  if (typeof source !== 'function') {
    throw new ConfigError('refreshing: source must be a provider function', { provider: 'refresh', field: 'source' });
  }
  checkRefreshOptions(options);
  // A copy: changing the options object afterwards changes nothing.
  return providerOf(new RefreshEngine(source, { ...options }));
}

/** Where a provider function keeps its engine, and its `peek` and `close` once made. */
const ENGINE = Symbol('alicred.engine');
const PEEK = Symbol('alicred.peek');
const CLOSE = Symbol('alicred.close');
type EngineCarrier = {
  [ENGINE]: RefreshEngine;
  [PEEK]?: () => Credentials | undefined;
  [CLOSE]?: () => void;
};

/** Keeps a made method on the provider (where it can still take properties): one identity per provider. */
function keep<K extends typeof PEEK | typeof CLOSE>(provider: EngineCarrier, key: K, made: NonNullable<EngineCarrier[K]>): NonNullable<EngineCarrier[K]> {
  if (Object.isExtensible(provider)) provider[key] = made;
  return made;
}

/**
 * What every refreshing provider inherits: `peek` and `close` as getters on one shared
 * prototype, not two closures per provider (a provider per tenant or per request stays
 * small). Each returns a function bound to its provider's engine, made on first use and kept,
 * so `const { close } = provider`, `signal.addEventListener('abort', provider.close)` and its
 * `removeEventListener` work.
 */
const providerPrototype = /* @__PURE__ */ Object.create(Function.prototype, {
  peek: {
    get(this: EngineCarrier) {
      const engine = this[ENGINE];
      return this[PEEK] ?? keep(this, PEEK, () => engine.peek());
    },
  },
  close: {
    get(this: EngineCarrier) {
      const engine = this[ENGINE];
      return this[CLOSE] ?? keep(this, CLOSE, () => engine.close());
    },
  },
}) as object;

/** @internal The provider function of an engine: a bound call, its engine and the shared prototype. */
export function providerOf(engine: RefreshEngine): RefreshingProvider {
  const provider = engine.call.bind(engine) as ((callOptions?: ProviderCallOptions) => Promise<Credentials>) & EngineCarrier;
  provider[ENGINE] = engine;
  Object.setPrototypeOf(provider, providerPrototype);
  return provider as unknown as RefreshingProvider;
}
