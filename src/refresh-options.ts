/**
 * The refresh engine's vocabulary: its options and events, the provider it returns, the
 * default windows, and the checks its options pass when a provider is made. A caller's option
 * can be wrong or absurd (NaN, negative, a window longer than any credential the source can
 * give), and that is a {@link ConfigError} naming the option now, not a refresh storm later.
 */
import type { Credentials } from './credentials.js';
import { ConfigError } from './errors.js';
import { MAX_TIMER_MS } from './internal/validate-options.js';
import type { CredentialProvider, Logger } from './types.js';

const MINUTE = 60_000;

/**
 * A window size in ms, fixed or derived from the credential's lifetime (ms).
 *
 * @example
 * ```ts
 * import { refreshing, type WindowSize } from 'alicred';
 * import { fakeCredentialSource } from 'alicred/testing';
 * // Refresh in the background once a third of the lifetime is left, wait only in the last minute.
 * const advisory: WindowSize = (lifetimeMs) => lifetimeMs / 3;
 * const mandatory: WindowSize = 60_000;
 * const provider = refreshing(fakeCredentialSource({ lifetimeMs: 3600_000 }), { advisoryWindowMs: advisory, mandatoryWindowMs: mandatory });
 * provider.close();
 * ```
 */
export type WindowSize = number | ((lifetimeMs: number) => number);

/**
 * Something that happened inside a refreshing provider; for metrics and timelines.
 *
 * @example
 * ```ts
 * import { refreshing, type RefreshEvent } from 'alicred';
 * import { fakeCredentialSource } from 'alicred/testing';
 * const counts = new Map<RefreshEvent['type'], number>();
 * const provider = refreshing(fakeCredentialSource({ lifetimeMs: 900_000 }), {
 *   onEvent: (event) => {
 *     counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
 *     if (event.type === 'refresh-failed' && !event.servingCached) console.error('no usable credentials', event.error);
 *   },
 * });
 * await provider();
 * counts.get('refreshed'); // 1
 * provider.close();
 * ```
 */
export type RefreshEvent =
  | { type: 'refresh-start'; reason: 'cold' | 'mandatory' | 'advisory' | 'timer' | 'forced' | 'min-validity' }
  | { type: 'refreshed'; accessKeyId: string; expiration: Date | undefined; source: string }
  | { type: 'not-rotated'; accessKeyId: string; retryInMs: number }
  | { type: 'refresh-failed'; error: unknown; servingCached: boolean; retryInMs: number | undefined };

/**
 * Options of {@link refreshing}. Checked when the provider is made (a ConfigError names a bad one).
 *
 * @example
 * ```ts
 * import { refreshing, type RefreshOptions } from 'alicred';
 * import { fakeCredentialSource } from 'alicred/testing';
 * const options: RefreshOptions = {
 *   advisoryWindowMs: 10 * 60_000,      // start refreshing in the background 10 min before expiry
 *   mandatoryWindowMs: 2 * 60_000,      // callers wait only in the last 2 min
 *   retry: { retries: 3, maxDelayMs: 2000 },
 *   refreshTimeoutMs: 15_000,
 *   logger: console,
 *   name: 'vault',                      // how messages name this provider
 * };
 * const provider = refreshing(fakeCredentialSource({ lifetimeMs: 3600_000 }), options);
 * provider.close();
 * ```
 */
export type RefreshOptions = {
  /** Background refresh starts when this little time is left. Default `min(15 min, L/2)`. */
  advisoryWindowMs?: WindowSize;
  /** Callers wait for a refresh when this little time is left. Default `min(5 min, L/10)`. */
  mandatoryWindowMs?: WindowSize;
  /**
   * Refresh with a (never process-holding) timer at the advisory point, so a busy caller never
   * waits. The timer refreshes only a provider called or peeked since its last refresh; an
   * idle one goes quiet and its next call refreshes. Default true.
   */
  backgroundTimer?: boolean;
  /** Retries of one refresh for retryable failures; `false` for none. Default 2 retries, 200 ms–5 s apart. */
  retry?: false | { retries?: number; minDelayMs?: number; maxDelayMs?: number };
  /** After a failed refresh with a usable value, wait this long before the next try (doubles, capped). */
  failureBackoff?: { initialMs?: number; maxMs?: number };
  /** Gives up one refresh (all its retries) after this long. Default 60 s. */
  refreshTimeoutMs?: number;
  /**
   * The longest lifetime the source can give (ms), when known (role providers pass
   * `durationSeconds`): windows and `minValidityMs` that no credential could meet are refused
   * up front instead of calling the source on every request.
   */
  maxLifetimeMs?: number;
  /** Receives warnings about failed background refreshes. A logger that throws is ignored. */
  logger?: Logger;
  /**
   * The engine's one clock, in ms since the epoch. By default alicred reads the wall clock
   * (`Date.now`) only when a credential arrives, to learn its lifetime, and measures time
   * since then with the monotonic `performance.now()`, so wall-clock jumps (NTP steps, a
   * laptop waking up, a user changing the date) neither expire a good credential early nor
   * keep a dead one alive. An injected clock (simulated time in tests and benchmarks) is
   * used for both and must not run backwards.
   */
  clock?: () => number;
  /** Random number in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
  /** Name used in messages. Default: the `source` of the first credentials, or `refreshing`. */
  name?: string;
  /** Observability hook; must not throw (what it throws is ignored). */
  onEvent?: (event: RefreshEvent) => void;
};

/**
 * A provider that caches and refreshes; see {@link refreshing}.
 *
 * @example
 * ```ts
 * import { refreshing, type RefreshingProvider } from 'alicred';
 * import { fakeCredentialSource } from 'alicred/testing';
 * const provider: RefreshingProvider = refreshing(fakeCredentialSource({ lifetimeMs: 900_000 }));
 * provider.peek();          // undefined: nothing fetched yet, and peek() never does I/O
 * await provider();
 * provider.peek()?.source;  // 'fake': usable now, read synchronously (e.g. in a hot signing path)
 * provider.close();         // at shutdown: stops the background timer
 * ```
 */
export type RefreshingProvider = CredentialProvider & {
  /**
   * The cached credentials if they are usable right now (outside the mandatory window),
   * else `undefined`. Synchronous, no I/O.
   */
  peek(): Credentials | undefined;
  /** Stops the background timer. Calls still work afterwards, without a timer. */
  close(): void;
};


/**
 * Default advisory window: half the lifetime, at most 15 minutes.
 *
 * @example
 * ```ts
 * import { defaultAdvisoryWindow, refreshing } from 'alicred';
 * import { fakeCredentialSource } from 'alicred/testing';
 * defaultAdvisoryWindow(900_000);    // 450000: a 900 s token refreshes after 450 s
 * defaultAdvisoryWindow(43_200_000); // 900000: 15 min for a 12 h one
 * // Start a little earlier than the default for short tokens:
 * const provider = refreshing(fakeCredentialSource(), { advisoryWindowMs: (l) => defaultAdvisoryWindow(l) * 1.2 });
 * provider.close();
 * ```
 */
export const defaultAdvisoryWindow = (lifetimeMs: number): number => Math.min(15 * MINUTE, lifetimeMs / 2);
/**
 * Default mandatory window: a tenth of the lifetime, at most 5 minutes.
 *
 * @example
 * ```ts
 * import { defaultMandatoryWindow } from 'alicred';
 * defaultMandatoryWindow(900_000);   // 90000: callers of a 900 s token wait only in its last 90 s
 * defaultMandatoryWindow(3_600_000); // 300000: 5 min for 1 h and longer
 * ```
 */
export const defaultMandatoryWindow = (lifetimeMs: number): number => Math.min(5 * MINUTE, lifetimeMs / 10);

/**
 * A window (ms) for a credential of `lifetimeMs`: the size given (a number, or a function of
 * the lifetime), else the fallback; anything not a positive finite number counts as 0.
 *
 * @internal
 */
export function windowOf(size: WindowSize | undefined, fallback: (l: number) => number, lifetimeMs: number): number {
  const value = size === undefined ? fallback(lifetimeMs) : typeof size === 'number' ? size : size(lifetimeMs);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

function fail(field: string, rule: string, value: unknown): never {
  // Numbers and booleans are safe to show; anything else only by its type.
  const shown = typeof value === 'number' || typeof value === 'boolean' ? String(value) : `a ${value === null ? 'null' : typeof value}`;
  throw new ConfigError(`refreshing: ${field} must be ${rule} (got ${shown})`, { provider: 'refresh', field });
}

function checkMs(field: string, value: unknown, { min = 0, max = MAX_TIMER_MS } = {}): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(field, `a number of milliseconds from ${min} to ${max}`, value);
  }
}

function checkFunction(field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') fail(field, 'a function', value);
}

/**
 * Throws a ConfigError for the first option that is unusable. With `maxLifetimeMs` (the
 * longest credential the source can give, e.g. STS `DurationSeconds`), fixed windows that
 * could never be met are refused too.
 *
 * @internal
 */
export function checkRefreshOptions(options: RefreshOptions): void {
  checkMs('maxLifetimeMs', options.maxLifetimeMs, { min: 1, max: Number.MAX_SAFE_INTEGER });
  for (const field of ['advisoryWindowMs', 'mandatoryWindowMs'] as const) {
    const value = options[field];
    if (typeof value === 'function') continue;
    checkMs(field, value, { max: Number.MAX_SAFE_INTEGER });
    if (typeof value === 'number' && options.maxLifetimeMs !== undefined && value >= options.maxLifetimeMs) {
      throw new ConfigError(
        `refreshing: ${field} (${value} ms) is not shorter than the longest credential this source gives ` +
          `(${options.maxLifetimeMs} ms): every credential would arrive inside it. Use a smaller window or a longer duration`,
        { provider: 'refresh', field },
      );
    }
  }
  if (options.backgroundTimer !== undefined && typeof options.backgroundTimer !== 'boolean') {
    fail('backgroundTimer', 'true or false', options.backgroundTimer);
  }
  const retry = options.retry;
  if (retry !== undefined && retry !== false) {
    if (typeof retry !== 'object' || retry === null) fail('retry', 'false or { retries, minDelayMs, maxDelayMs }', retry);
    if (retry.retries !== undefined && (!Number.isInteger(retry.retries) || retry.retries < 0 || retry.retries > 10)) {
      fail('retry.retries', 'an integer from 0 to 10', retry.retries);
    }
    checkMs('retry.minDelayMs', retry.minDelayMs);
    checkMs('retry.maxDelayMs', retry.maxDelayMs);
  }
  const backoff = options.failureBackoff;
  if (backoff !== undefined) {
    if (typeof backoff !== 'object' || backoff === null) fail('failureBackoff', 'an object { initialMs, maxMs }', backoff);
    checkMs('failureBackoff.initialMs', backoff.initialMs, { min: 1 });
    checkMs('failureBackoff.maxMs', backoff.maxMs, { min: 1 });
  }
  checkMs('refreshTimeoutMs', options.refreshTimeoutMs, { min: 1 });
  checkFunction('clock', options.clock);
  checkFunction('random', options.random);
  checkFunction('onEvent', options.onEvent);
  if (options.name !== undefined && typeof options.name !== 'string') fail('name', 'a string', options.name);
}

/**
 * Checks a call's `minValidityMs`: a non-negative number, and (when the source's longest
 * lifetime is known) one that some credential could meet; else a ConfigError, with no I/O.
 *
 * @internal
 */
export function checkMinValidity(value: unknown, maxLifetimeMs: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    fail('minValidityMs', 'a non-negative number of milliseconds', value);
  }
  if (maxLifetimeMs !== undefined && value >= maxLifetimeMs) {
    throw new ConfigError(
      `${name}: minValidityMs (${value} ms) can never be met: the longest credential it gives lasts ${maxLifetimeMs} ms ` +
        '(raise durationSeconds, or ask for less)',
      { provider: 'refresh', field: 'minValidityMs' },
    );
  }
  return value;
}
