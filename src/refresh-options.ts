/**
 * Checks the options of `refreshing()` when a provider is made: a caller's option can be
 * wrong or absurd (NaN, negative, a window longer than any credential the source can
 * give), and that is a {@link ConfigError} naming the option now, not a refresh storm later.
 */
import { ConfigError } from './errors.js';
import { MAX_TIMER_MS } from './internal/validate-options.js';

type WindowSize = number | ((lifetimeMs: number) => number);

/** The subset of RefreshOptions checked here (kept structural to avoid an import cycle). */
type CheckedOptions = {
  advisoryWindowMs?: WindowSize;
  mandatoryWindowMs?: WindowSize;
  backgroundTimer?: boolean;
  retry?: false | { retries?: number; minDelayMs?: number; maxDelayMs?: number };
  failureBackoff?: { initialMs?: number; maxMs?: number };
  refreshTimeoutMs?: number;
  maxLifetimeMs?: number;
  clock?: () => number;
  random?: () => number;
  onEvent?: unknown;
  name?: string;
};

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
export function checkRefreshOptions(options: CheckedOptions): void {
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
